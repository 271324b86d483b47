"""Serving other tools: an HTTP API, OpenAI-compatible chat, and MCP — a front door over
:mod:`assistant.service`, like the CLI and the chat.

It imports only the service, the models, the errors and the settings (an import-linter
contract in pyproject.toml). ``assistant serve`` runs :func:`assistant.api.server.serve`
(FastAPI on uvicorn: :mod:`~assistant.api.routes` for ``/v1/ask``, ``/v1/search``,
``/v1/timeline``, ``/v1/stats``, ``/v1/articles`` and ``/healthz``,
:mod:`~assistant.api.openai_compat` for ``/v1/chat/completions`` and ``/v1/models``);
``assistant mcp`` runs :func:`assistant.api.server.serve_mcp` (:mod:`~assistant.api.mcp_tools`).
Keys and where a server may listen are in :mod:`~assistant.api.keys`, the error JSON in
:mod:`~assistant.api.problems`, the public-address check of URL ingest in
:mod:`~assistant.api.urls`.
"""
