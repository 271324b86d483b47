"""The FastAPI application: routes, error handlers, limits, and one Assistant for all requests.

``create_app(settings)`` builds it; ``assistant serve`` runs it with uvicorn
(:mod:`assistant.api.server`). At start-up the embedding model, the answerer and the keyword
index are loaded once, so the first question is as quick as the others and no two requests
build them at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import docs, openai_compat, problems, routes
from assistant.api.deps import ServerState
from assistant.api.keys import Keys
from assistant.api.problems import error_json
from assistant.config import Settings, __version__
from assistant.errors import AssistantError
from assistant.service import Assistant

DESCRIPTION = """Ask questions about a collection of news articles and get answers with
numbered, verified citations — the same objects `assistant ask --json` prints.

* `/v1/ask`, `/v1/search`, `/v1/timeline`, `/v1/stats`, `/v1/articles`: the assistant's own API.
* `/v1/chat/completions`, `/v1/models`: OpenAI-compatible, for OpenAI clients and chat apps.

Send the key as `Authorization: Bearer KEY` (or `X-API-Key: KEY`) when the server has keys.
Errors are `{"error": {"message", "type"}}`."""

# Paths the busy limit leaves alone: a probe or the docs must answer while the server is busy.
_UNLIMITED = ("/healthz", "/openapi.json", *docs.PATHS)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        detail = (
            f"The request body is too large: at most {limit} bytes "
            "(ASSISTANT_API_MAX_BODY on the server)."
        )
        super().__init__(413, detail)


class Limits:
    """The request-size and busy limits. A body whose declared length is over ``max_body``
    gets 413 before any route runs; one that turns out too long while it is read (no length
    declared) stops the reading with the same 413. Beyond ``max_concurrent`` requests at
    once, 429. (FastAPI's own ``max_body_size`` answers a declared length in plain text,
    not in the API's error JSON, hence this.)"""

    def __init__(self, app: ASGIApp, max_body: int, max_concurrent: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_concurrent = max_concurrent
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            message = (
                f"The request body is too large: {int(length)} bytes, at most "
                f"{self.max_body} bytes (ASSISTANT_API_MAX_BODY on the server)."
            )
            await _reply(send, 413, message, {"connection": "close"})
            return
        if scope["path"] in _UNLIMITED or scope["path"].startswith(docs.STATIC + "/"):
            await self.app(scope, self._counted(receive), send)
            return
        if self.active >= self.max_concurrent:
            message = f"The server is busy ({self.active} requests at once); retry in a moment."
            await _reply(send, 429, message, {"retry-after": "1"})
            return
        self.active += 1  # one event loop: no lock needed
        try:
            await self.app(scope, self._counted(receive), send)
        finally:
            self.active -= 1

    def _counted(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        return counted


async def _reply(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = json.dumps(error_json(status, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def warm_up(assistant: Assistant) -> None:
    """Load the embedding model, the answerer and the keyword index (an empty or unreadable
    store is not an error here: /healthz and the requests say so)."""
    _ = assistant.embedder
    _ = assistant.answerer
    with suppress(AssistantError):
        assistant.lexical()


def create_app(
    settings: Settings | None = None,
    assistant: Assistant | None = None,
    keys: Keys | None = None,
    ready: Callable[[], None] | None = None,
) -> FastAPI:
    """The API over ``assistant`` (default: ``Assistant(settings)``); ``ready`` is called once
    the models are loaded and requests are answered."""
    settings = settings or (assistant.settings if assistant else Settings())
    assistant = assistant or Assistant(settings)
    state = ServerState(settings, assistant, keys or Keys.from_settings(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(warm_up, assistant)
        if ready is not None:
            ready()
        yield

    app = FastAPI(
        title="News assistant",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by docs.install with local assets: they work offline
        redoc_url=None,
    )
    app.state.server = state
    problems.install(app)
    docs.install(app)
    app.include_router(routes.router, tags=["Assistant"])
    app.include_router(openai_compat.router)
    app.include_router(routes.health_router, tags=["Health"])
    app.add_middleware(
        Limits, max_body=settings.api_max_body, max_concurrent=settings.api_max_concurrent
    )
    return app
