"""The store's change feed: which articles were written or deleted, kept in Chroma beside the
chunks (a small collection ``<name>__changes``), so any process — on this machine or another, in
server mode — can bring its lexical index up to date by re-reading just those articles.

Every write of a batch of articles is recorded twice under one record id: *open* before the first
chunk is written and *done* after the last, each time stamped with the writer's clock. A reader
keeps a cursor (the newest stamp it has applied) and asks for records stamped after it, less a
margin for clocks and for records that become visible late; re-reading an article twice is
harmless, so the overlap costs little and two writers never lose each other's records (each
writes its own). While a record is *open* the cursor does not pass it, so an article half-written
when a reader looked is looked at again; an open record older than ``ABANDONED_S`` belongs to a
writer that died and no longer holds readers back (the next ingest of that article repairs it).

The feed also holds the store's *generation* label as a record of its own (not in the
collection's metadata, where two writers updating different keys can undo each other).
Records older than ``KEEP_S`` are pruned; a reader whose cursor is older than what was pruned
rebuilds its index from the whole store (the cold-start path).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import StoreError
from assistant.search.chroma import RetryingCollection

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

SUFFIX = "__changes"
MARGIN_US = 120 * 1_000_000  # records stamped up to this long before the cursor are read again
ABANDONED_S = 3600.0  # an open record this old belongs to a writer that is gone
KEEP_S = 14 * 86400.0  # change records are kept this long
GENERATION_ID = "~generation"
PRUNED_ID = "~pruned"
_VECTOR = [[1.0]]  # Chroma stores a vector with every record; the feed needs none


PROCESS = uuid.uuid4().hex[:12]  # names this process's own records in the feed


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Catchup:
    """What a reader must re-read to move its cursor from ``since`` to ``cursor``."""

    articles: frozenset[str]
    cursor: int
    behind_pruning: bool  # the cursor is older than the oldest kept record: rebuild instead


class ChangeFeed:
    def __init__(self, client: ClientAPI, collection: str) -> None:
        self.client = client
        self.name = collection + SUFFIX
        self._records: Any = None

    @property
    def records(self) -> Any:
        if self._records is None:
            try:
                raw = self.client.get_or_create_collection(self.name, embedding_function=None)
            except Exception as exc:
                msg = f"cannot open the change feed {self.name!r}: {exc}"
                raise StoreError(msg) from exc
            self._records = RetryingCollection(raw)
        return self._records

    # --- the generation label ------------------------------------------------------------------

    def generation(self) -> str:
        got = self.records.get(ids=[GENERATION_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return str((metas[0] or {}).get("value", "")) if metas else ""

    def set_generation(self, token: str) -> None:
        self._put(GENERATION_ID, "", {"kind": "label", "value": token, "at": now_us()})

    # --- changes -------------------------------------------------------------------------------

    def open(self, article_ids: Sequence[str]) -> str:
        """Record that these articles are about to change; returns the record's id."""
        record = f"{now_us():020d}-{uuid.uuid4().hex[:12]}"
        self._change(record, article_ids, "open")
        return record

    def done(self, record: str, article_ids: Sequence[str]) -> None:
        """Record that the change opened as ``record`` is complete (stamped now)."""
        self._change(record, article_ids, "done")

    def _change(self, record: str, article_ids: Sequence[str], state: str) -> None:
        articles = json.dumps(sorted(set(article_ids)))
        meta = {"kind": "change", "state": state, "at": now_us(), "by": PROCESS}
        self._put(record, articles, meta)

    def _put(self, record: str, document: str, meta: dict[str, Any]) -> None:
        self.records.upsert(
            ids=[record], embeddings=np.asarray(_VECTOR, dtype=np.float32), documents=[document],
            metadatas=[meta],
        )  # fmt: skip

    def latest(self) -> int:
        """A cursor for "everything up to now" (taken before a full read of the store)."""
        return now_us() - MARGIN_US

    def catch_up(
        self, since: int, others_only: bool = False, margin_us: int = MARGIN_US
    ) -> Catchup:
        """The articles changed after ``since`` (less ``margin_us``) and the cursor to keep;
        ``others_only``: leave out what this process wrote."""
        pruned = self._pruned_before()
        if since < pruned:
            return Catchup(frozenset(), since, behind_pruning=True)
        where: Any = {"$and": [{"kind": "change"}, {"at": {"$gt": since - margin_us}}]}
        articles: set[str] = set()
        newest, oldest_open = since, None
        stale = now_us() - int(ABANDONED_S * 1e6)
        offset = 0
        while True:
            got = self.records.get(
                where=where, include=["documents", "metadatas"], limit=1000, offset=offset
            )
            if not got["ids"]:
                break
            offset += len(got["ids"])
            for record, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            ):
                m = dict(meta or {})
                if others_only and m.get("by") == PROCESS:
                    continue
                articles.update(json.loads(doc or "[]"))
                at = int(m.get("at") or 0)
                newest = max(newest, at)
                if m.get("state") == "open" and at > stale:
                    started = int(record.split("-", 1)[0])
                    oldest_open = started if oldest_open is None else min(oldest_open, started)
        cursor = newest if oldest_open is None else min(newest, oldest_open - 1)
        return Catchup(frozenset(articles), max(cursor, since), behind_pruning=False)

    def _pruned_before(self) -> int:
        got = self.records.get(ids=[PRUNED_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return int((metas[0] or {}).get("at", 0)) if metas else 0

    def prune(self, keep_s: float = KEEP_S) -> int:
        """Drop change records older than ``keep_s``; readers behind them rebuild."""
        limit = now_us() - int(keep_s * 1e6)
        old = self.records.get(
            where={"$and": [{"kind": "change"}, {"at": {"$lt": limit}}]}, include=[]
        )
        if not old["ids"]:
            return 0
        self._put(PRUNED_ID, "", {"kind": "label", "at": limit})  # before deleting: never a gap
        self.records.delete(ids=list(old["ids"]))
        return len(old["ids"])
