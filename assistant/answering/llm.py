"""The only place that builds a chat model: OpenAI, or any OpenAI-compatible server.

``ASSISTANT_LLM_BASE_URL`` points at Ollama (``http://localhost:11434/v1``), vLLM, llama.cpp's
server or LM Studio; ``OPENAI_API_KEY`` alone means OpenAI. With neither, :func:`build_chat_model`
returns ``None`` and the assistant answers extractively. Retries on 429/5xx (with backoff, honouring
``Retry-After``) are done by the openai client (``llm_max_retries``); :func:`llm_error` turns what
is left into one line that says what to do. The API key never appears in a message.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel

from assistant.config import Settings
from assistant.errors import LLMError, UsageError

OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|key)-[A-Za-z0-9_\-*]{6,}|\bBearer\s+\S+", re.IGNORECASE)


def build_chat_model(settings: Settings, **overrides: Any) -> BaseChatModel | None:
    """A streaming ChatOpenAI for the configured server, or ``None`` (extractive mode).

    ``overrides`` are passed to ChatOpenAI (e.g. ``http_client`` in tests, ``max_tokens``).
    """
    if not settings.llm_configured:
        return None
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else PLACEHOLDER_KEY
    custom = settings.llm_base_url is not None
    kwargs: dict[str, Any] = {
        "model": settings.llm_model,
        "base_url": settings.llm_base_url or OPENAI_URL,
        "api_key": key,
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
        "streaming": True,
        # OpenAI reports token usage in the stream when asked; many compatible servers reject it.
        "stream_usage": not custom,
    }
    if custom:
        # ChatOpenAI sends ``max_completion_tokens``; older compatible servers read ``max_tokens``.
        kwargs["extra_body"] = {"max_tokens": settings.llm_max_tokens}
    kwargs.update(overrides)
    return ChatOpenAI(**kwargs)


def judge_model(settings: Settings) -> BaseChatModel:
    """The configured LLM as a judge of answers (evaluation's ``--judge``); a usage error
    when none is configured."""
    model = build_chat_model(settings) if settings.llm_configured else None
    if model is None:
        msg = "--judge needs an LLM: set OPENAI_API_KEY or ASSISTANT_LLM_BASE_URL"
        raise UsageError(msg)
    return model


def describe_backend(settings: Settings) -> str:
    """One line for the UI/CLI: which model answers, and where."""
    if not settings.llm_configured:
        return "extractive (no LLM configured)"
    if settings.llm_base_url:
        return f"{settings.llm_model} at {redact(settings.llm_base_url, settings)}"
    return f"{settings.llm_model} via OpenAI"


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` with the configured key and anything that looks like a key replaced by ``***``."""
    if settings is not None and settings.llm_api_key is not None:
        secret = settings.llm_api_key.get_secret_value()
        if secret and secret != PLACEHOLDER_KEY:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub("***", text)


def _server(settings: Settings) -> str:
    return redact(settings.llm_base_url or OPENAI_URL, settings)


def _detail(exc: BaseException) -> str:
    """The server's own error message, if it sent a JSON body with one."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str) and message.strip():
            return " ".join(message.split())[:200]
    return ""


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return str(seen).splitlines()[0][:120] if str(seen) else type(seen).__name__


def llm_error(exc: BaseException, settings: Settings) -> LLMError:
    """Translate an exception from the chat model into one clear, key-free line."""
    import openai

    server, model = _server(settings), settings.llm_model
    key_var = "ASSISTANT_LLM_API_KEY" if settings.llm_base_url else "OPENAI_API_KEY"
    detail = _detail(exc)
    suffix = f" ({detail})" if detail else ""
    retries = settings.llm_max_retries
    if isinstance(exc, openai.APITimeoutError):
        msg = (
            f"the LLM server at {server} did not answer within {settings.llm_timeout:g} s "
            f"(after {retries} retries) — raise ASSISTANT_LLM_TIMEOUT or use a smaller model"
        )
    elif isinstance(exc, openai.APIConnectionError):
        msg = (
            f"cannot reach the LLM server at {server}: {_root_cause(exc)} — is it running? "
            "(check ASSISTANT_LLM_BASE_URL)"
        )
    elif isinstance(exc, openai.AuthenticationError):
        msg = f"the LLM server at {server} rejected the API key (401) — check {key_var}"
    elif isinstance(exc, openai.PermissionDeniedError):
        msg = f"the API key may not use model {model!r} (403){suffix} — check {key_var}"
    elif isinstance(exc, openai.NotFoundError):
        msg = (
            f"model {model!r} was not found at {server} (404){suffix} — check ASSISTANT_LLM_MODEL "
            "(for Ollama: ollama pull the model first)"
        )
    elif isinstance(exc, openai.RateLimitError):
        msg = (
            f"the LLM server at {server} is rate limiting (429) and still was after {retries} "
            f"retries{suffix} — wait and retry, or raise ASSISTANT_LLM_MAX_RETRIES"
        )
    elif isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        hint = "the server failed; try again later" if code >= 500 else "the request was refused"
        msg = f"the LLM server at {server} answered {code}{suffix} — {hint}"
    else:
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        msg = f"the LLM call failed: {type(exc).__name__}" + (f": {text}" if text else "")
    return LLMError(redact(msg, settings))
