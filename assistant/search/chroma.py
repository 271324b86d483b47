"""Chroma plumbing for :mod:`assistant.search.store`: the client, a retrying collection, where clauses.

:func:`make_client` opens the embedded ``PersistentClient`` in ``settings.store_dir`` or an
``HttpClient`` to the server of ``ASSISTANT_CHROMA_URL``; :class:`RetryingCollection` retries a collection's
calls on Chroma's transient internal errors; :func:`chunk_metadata` and :func:`build_where` turn
chunks and search filters into Chroma metadata and where clauses. With ``store.py`` the only module
that imports chromadb.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.models import Chunk, date_to_int

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


def make_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            msg = f"ASSISTANT_CHROMA_URL is not a URL: {settings.chroma_url!r}"
            raise StoreError(msg)
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(
                host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings
            )
        except Exception as exc:
            msg = f"cannot reach the Chroma server at {settings.chroma_url}: {exc}"
            raise StoreError(msg) from exc
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(settings.store_dir / "chroma"), settings=chroma_settings
    )


def chunk_metadata(chunk: Chunk, chunking: str = "") -> dict[str, Any]:
    """Chroma metadata for a chunk (no None values; dates also as sortable ints)."""
    meta: dict[str, Any] = {
        "chunking": chunking,
        "article_id": chunk.article_id,
        "chunk_index": chunk.index,
        "chunk_count": chunk.count,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "content_hash": chunk.content_hash,
        "text_hash": chunk.text_hash,
    }
    if chunk.origin:
        meta["origin"] = chunk.origin
    if chunk.source:
        meta["source"] = chunk.source
    if chunk.url:
        meta["url"] = chunk.url
    if chunk.published:
        meta["published"] = chunk.published.isoformat()
        meta["published_int"] = date_to_int(chunk.published)
    return meta


def where_in(key: str, values: Sequence[str]) -> Any:
    """``{key: {"$in": values}}`` (typed Any: Chroma's Where type has no list[str] variant)."""
    return {key: {"$in": list(values)}}


def build_where(
    since: dt.date | None, until: dt.date | None, sources: Sequence[str] | None
) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if since:
        clauses.append({"published_int": {"$gte": date_to_int(since)}})
    if until:
        clauses.append({"published_int": {"$lte": date_to_int(until)}})
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class RetryingCollection:
    """A collection whose calls are retried a few times on Chroma's transient internal errors.

    A Chroma server answers "Error creating hnsw segment reader: Nothing found on disk" for a short
    while when several processes write to a new collection at once; the next try succeeds.
    """

    def __init__(self, inner: Any, tries: int = 6) -> None:
        self._inner = inner
        self._tries = tries

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            from chromadb.errors import InternalError
            from tenacity import (
                Retrying,
                retry_if_exception_type,
                retry_if_not_exception_message,
                stop_after_attempt,
                wait_exponential,
            )

            retrying = Retrying(
                # "Error finding id": a chunk deleted by a concurrent writer; retrying waits in vain
                retry=retry_if_exception_type(InternalError)
                & retry_if_not_exception_message(match=r"(?s).*Error finding id"),
                stop=stop_after_attempt(self._tries),
                wait=wait_exponential(multiplier=0.2),  # 0.2 s, 0.4 s, 0.8 s, ...
                reraise=True,
            )
            return retrying(attr, *args, **kwargs)

        return call
