"""What every route needs: the server's state (one Assistant, the keys, the writer lock) and the
caller's role, checked from the key the request carries (:mod:`assistant.api.keys`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.keys import Keys, Role
from assistant.api.problems import ApiError
from assistant.config import Settings
from assistant.service import Assistant


@dataclass
class ServerState:
    """One per server: the Assistant every request shares (its models are loaded once), the
    keys, and the lock that lets one ingest or delete run at a time in this process (the
    store's own write lock still orders this server against other processes)."""

    settings: Settings
    assistant: Assistant
    keys: Keys
    writer: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock, or refuse with 429 when another write is running."""
        if not self.writer.acquire(blocking=False):
            msg = "Another ingest or delete is running on this server; retry when it is done."
            raise ApiError(429, msg, {"Retry-After": "5"})
        try:
            yield
        finally:
            self.writer.release()


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(server_state)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (ASSISTANT_API_KEYS), as OpenAI clients send theirs.",
)
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def caller_role(
    state: State,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Role:
    """The role of the caller's key (read-write for everyone when no key is configured)."""
    if not state.keys.required:
        return Role.WRITE
    key = bearer.credentials if bearer is not None else header
    if not key:
        msg = "An API key is required: send it as 'Authorization: Bearer KEY'."
        raise ApiError(401, msg, {"WWW-Authenticate": "Bearer"})
    role = state.keys.role_of(key)
    if role is None:
        raise ApiError(401, "The API key is not valid.", {"WWW-Authenticate": "Bearer"})
    return role


def require_write(role: Annotated[Role, Depends(caller_role)]) -> Role:
    if role is not Role.WRITE:
        msg = "This key may only read: ingesting and deleting articles need a read-write key."
        raise ApiError(403, msg)
    return role


Reader = Depends(caller_role)
Writer = Depends(require_write)
