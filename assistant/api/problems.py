"""Errors as JSON: ``{"error": {"message": ..., "type": ...}}`` (the OpenAI shape), never a traceback.

The project's errors (:mod:`assistant.errors`) keep their messages, which say how to fix the
problem, and get a status: a bad request 400, an empty store or an unreachable store or LLM 503.
FastAPI's validation errors become 422 (400 when the body is not JSON at all), HTTP exceptions
keep their status, anything unexpected is a 500 with one line and no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (
    AssistantError,
    ConfigError,
    EmptyStoreError,
    LLMError,
    LoaderError,
    StoreError,
    StoreLockedError,
    UsageError,
)

log = logging.getLogger(__name__)

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "service_unavailable",
}


class ErrorBody(BaseModel):
    message: str
    type: str


class ErrorResponse(BaseModel):
    """What every error looks like (the OpenAI API's shape)."""

    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": kind}
    for status, kind in [
        (400, "Bad request"),
        (401, "No key, or an unknown key"),
        (403, "A read-only key asked to write"),
        (413, "Body larger than ASSISTANT_API_MAX_BODY"),
        (422, "Fields of the wrong type or missing"),
        (429, "Busy: retry later"),
        (503, "No articles yet, or the store or the LLM cannot be reached"),
    ]
}
"""The error responses every route may give, for the OpenAPI document."""


class ApiError(Exception):
    """An error the API answers with ``status`` and ``message`` (a plain sentence)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_json(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": TYPES.get(status, "invalid_request_error")}}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_json(status, message), status_code=status, headers=headers)


def status_of(exc: AssistantError) -> int:
    """The HTTP status of one of the project's errors."""
    if isinstance(exc, UsageError | LoaderError):
        return 400
    if isinstance(exc, StoreLockedError):
        return 429
    if isinstance(exc, EmptyStoreError | StoreError | LLMError | ConfigError):
        return 503
    return 500


def message_of(exc: AssistantError) -> str:
    """The error's message as a sentence, with the API's way to fix an empty store."""
    if isinstance(exc, EmptyStoreError):
        return (
            "No articles are indexed yet: add some with POST /v1/articles "
            "(or `assistant ingest PATH` on the server)."
        )
    return _sentence(str(exc))


def describe_validation(errors: list[Any]) -> str:
    """Pydantic's errors as one sentence: which field, what is wrong."""
    parts = []
    for error in errors[:5]:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "The request is not valid: " + "; ".join(parts) + more + "."


def invalid_response(errors: list[Any]) -> JSONResponse:
    """400 for a body that is not JSON at all, 422 for fields of the wrong type or missing."""
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        detail = (bad_json.get("ctx") or {}).get("error", "")
        message = "The request body is not valid JSON" + (f" ({detail})." if detail else ".")
        return error_response(400, message)
    return error_response(422, describe_validation(errors))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON shape above."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(AssistantError)
    async def _assistant(_: Request, exc: AssistantError) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": "5"} if status in (429, 503) else None
        return error_response(status, message_of(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_response(list(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        return invalid_response(list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code) or _sentence(str(exc.detail))
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error: %s: %s", type(exc).__name__, exc)
        message = f"Internal error ({type(exc).__name__}); the server log has the details."
        return error_response(500, message)


_HTTP_MESSAGES = {
    404: "No such endpoint: see /docs for the API.",
    405: "This endpoint does not take that method: see /docs for the API.",
}


def _sentence(text: str) -> str:
    """A message as a sentence: capital first letter, full stop at the end."""
    text = text.strip()
    if not text:
        return "Error."
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
