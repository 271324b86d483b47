"""Running the servers: ``assistant serve`` (uvicorn + the FastAPI app) and ``assistant mcp``
(stdio, or streamable HTTP with uvicorn). Both refuse to listen beyond loopback without a key."""

from __future__ import annotations

from collections.abc import Callable

from assistant.api.keys import Keys, check_bind
from assistant.config import Settings
from assistant.service import Assistant


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    debug: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the HTTP API until Ctrl-C / SIGTERM; ``say`` gets the one line saying where."""
    import uvicorn

    from assistant.api.app import create_app

    host = host or settings.api_host
    port = port or settings.api_port
    keys = Keys.from_settings(settings)
    check_bind(host, keys)
    url = _url(host, port)
    access = "API keys required" if keys.required else "no API key: loopback only"

    def ready() -> None:
        say(f"serving the news assistant on {url} ({access}); API docs at {url}/docs")

    app = create_app(settings, Assistant(settings), keys, ready=ready)
    uvicorn.run(
        app, host=host, port=port, log_level="info" if debug else "warning", access_log=debug
    )


def serve_mcp(
    settings: Settings,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 8001,
    debug: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the MCP tools over stdio (the client starts this process) or streamable HTTP."""
    from assistant.api.app import warm_up
    from assistant.api.mcp_tools import build_mcp, http_app

    keys = Keys.from_settings(settings)
    if http:
        check_bind(host, keys)
    assistant = Assistant(settings)
    warm_up(assistant)
    server = build_mcp(assistant, debug)
    if not http:
        server.run("stdio")
        return
    import uvicorn

    app = http_app(server, keys, host, settings.api_max_body)
    access = "API keys required" if keys.required else "no API key: loopback only"
    say(f"serving the news assistant's MCP tools on {_url(host, port)}/mcp ({access})")
    uvicorn.run(
        app, host=host, port=port, log_level="info" if debug else "warning", access_log=debug
    )
