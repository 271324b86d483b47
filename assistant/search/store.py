"""The vector store: with :mod:`assistant.search.chroma` (client, retrying proxy, metadata and where
clauses) the only module that imports chromadb.

Embedded ``PersistentClient`` in ``settings.store_dir`` by default, ``HttpClient`` to a Chroma server
when ``ASSISTANT_CHROMA_URL`` is set. Vectors are always computed by our own embedder and passed in;
Chroma's default embedding function (which downloads a model) is never used.

Each chunk record carries its article's id, content hash and chunk count, so the store itself tells
whether an article is present, current and complete. The collection metadata holds the embedding
model name (mixing vector spaces is refused). The change feed beside it (:mod:`assistant.search.
changes`) records which articles each write touched and holds the *generation* label that changes
on every write, which the lexical index uses to notice that it is behind.

Writers that replace the same article at once (server mode has no write lock) cannot lose it:
each, after writing its version, keeps the complete version with the newest write stamp and
deletes every other chunk of the article, so all of them converge on one complete version.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings
from assistant.errors import EmbeddingMismatchError, StoreError
from assistant.models import Article, ArticleState, Chunk
from assistant.search.changes import ChangeFeed, now_us
from assistant.search.chroma import RetryingCollection, chunk_metadata, make_client, where_in

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

MODEL_KEY = "embedding_model"
WRITTEN_KEY = "written"  # the write stamp of a chunk's version (not part of its content)


@dataclass
class Hit:
    id: str
    text: str
    meta: dict[str, Any]
    distance: float


class ChunkStore:
    """Chunks with their vectors in one Chroma collection."""

    def __init__(self, settings: Settings, client: ClientAPI | None = None) -> None:
        self.settings = settings
        self._client = client
        self._collection: Any = None  # a Collection behind a retrying proxy
        self._feed: ChangeFeed | None = None
        self._opened_at = 0  # when this process opened its embedded client (feed stamp)
        self._label = ""  # the generation label last read

    @property
    def feed(self) -> ChangeFeed:
        if self._feed is None:
            self._feed = ChangeFeed(self.client, self.settings.collection)
        return self._feed

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            self._opened_at = now_us()
            self._client = make_client(self.settings)
        return self._client

    @property
    def collection(self) -> Collection:  # the proxy has the same methods
        if self._collection is None:
            try:
                self._collection = RetryingCollection(
                    self.client.get_or_create_collection(
                        self.settings.collection,
                        embedding_function=None,
                        configuration={"hnsw": {"space": "cosine"}},
                    )
                )
            except StoreError:
                raise
            except Exception as exc:
                where = self.settings.chroma_url or str(self.settings.store_dir)
                msg = f"cannot open collection {self.settings.collection!r} at {where}: {exc}"
                raise StoreError(msg) from exc
        return self._collection

    # --- collection-level metadata ---------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        _ = self.collection  # created on first use
        col = self.client.get_collection(self.settings.collection)  # fresh: others may write
        return dict(col.metadata or {})

    def embedding_model(self) -> str | None:
        _ = self.collection
        return self._metadata().get(MODEL_KEY)

    def claim_embedding_model(self, name: str) -> None:
        """Record the model on first write; refuse to mix vector spaces afterwards."""
        current = self.embedding_model()
        if current == name:
            return
        if current is not None or self.count() > 0:
            msg = (
                f"collection {self.settings.collection!r} was built with embeddings "
                f"{current or 'unknown'!r}, not {name!r}; use another ASSISTANT_COLLECTION or "
                "delete the store and ingest again"
            )
            raise EmbeddingMismatchError(msg)
        self._set_metadata({MODEL_KEY: name})

    def generation(self) -> str:
        self._label = self.feed.generation()
        return self._label

    @property
    def opened_at(self) -> int:
        """When this process opened its embedded client (a feed stamp; 0 = not open)."""
        return self._opened_at

    @property
    def label(self) -> str:
        """The generation label as last read (``generation`` reads it anew)."""
        return self._label

    def written_by_others(self, limit: int) -> dict[str, str] | None:
        """Embedded store: the chunks (id -> text) other processes wrote since this one opened
        its client; None when there are more than ``limit`` (then reopening is cheaper).

        Chroma's embedded vector index lives in each process and is not reloaded when another
        process writes (chroma-core/chroma#3792): its queries miss those chunks and reading
        their vectors fails, so the retriever embeds them itself (``assistant.search.fresh``)."""
        if self.settings.chroma_url or not self._opened_at:
            return {}
        # one machine, one clock: no margin needed between the records and our opening
        change = self.feed.catch_up(self._opened_at, others_only=True, margin_us=0)
        texts: dict[str, str] = {}
        for ids, docs, _ in self.chunks_of_articles(sorted(change.articles)):
            texts.update(zip(ids, docs, strict=True))
            if len(texts) > limit:
                return None
        return texts

    def reopen(self) -> None:
        """Close this process's client and open it again on next use."""
        if self._client is not None:
            with suppress(Exception):
                self._client.close()  # type: ignore[attr-defined]
        self._client, self._collection, self._feed, self._opened_at = None, None, None, 0

    def bump_generation(self) -> str:
        token = new_generation()
        self.set_generation(token)
        return token

    def set_generation(self, token: str) -> None:
        """Label the store's current content (the lexical index carries the label it mirrors)."""
        self.feed.set_generation(token)

    def open_change(self, article_ids: Sequence[str]) -> str:
        """Record in the change feed that these articles are about to change."""
        return self.feed.open(article_ids)

    def close_change(self, record: str, article_ids: Sequence[str]) -> None:
        self.feed.done(record, article_ids)

    def _set_metadata(self, update: dict[str, Any]) -> None:
        meta = self._metadata()
        meta.update(update)
        self.collection.modify(metadata=meta)
        self._collection = None  # re-read with the new metadata next time

    # --- reads ---------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.collection.count())

    def article_states(self, article_ids: Sequence[str]) -> dict[str, ArticleState]:
        states: dict[str, ArticleState] = {}
        ids = list(dict.fromkeys(article_ids))
        for i in range(0, len(ids), 500):
            got = self.collection.get(
                where=where_in("article_id", ids[i : i + 500]), include=["metadatas"]
            )
            per: dict[str, list[dict[str, Any]]] = {}
            for meta in got["metadatas"] or []:
                per.setdefault(str(meta["article_id"]), []).append(dict(meta))
            for aid, metas in per.items():
                states[aid] = ArticleState(
                    hashes=frozenset(str(m.get("content_hash", "")) for m in metas),
                    chunkings=frozenset(str(m.get("chunking", "")) for m in metas),
                    origins=frozenset(str(m["origin"]) for m in metas if m.get("origin")),
                    titles=frozenset(str(m.get("title", "")) for m in metas),
                    chunks=len(metas),
                    expected=int(metas[0].get("chunk_count", -1)),
                )
        return states

    def stored_whole(self, article_ids: list[str]) -> set[str]:
        """Those of ``article_ids`` stored whole (a half-written one is read again)."""
        states = self.article_states(article_ids)
        return {aid for aid, state in states.items() if state.chunks == state.expected}

    def embeddings_for_texts(self, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for identical chunk texts (identical text = one embedding)."""
        found: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(text_hashes))
        for i in range(0, len(hashes), 500):
            got = self.collection.get(
                where=where_in("text_hash", hashes[i : i + 500]),
                include=["metadatas", "embeddings"],
            )
            embs = got.get("embeddings")
            if embs is None:
                continue
            for meta, emb in zip(got["metadatas"] or [], embs, strict=False):
                found.setdefault(str(meta["text_hash"]), np.asarray(emb, dtype=np.float32))
        return found

    def embeddings_for_ids(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of these chunks; ids deleted meanwhile (a concurrent writer replaced
        their article) are left out."""
        if not ids:
            return {}
        from chromadb.errors import InternalError

        try:
            got = self.collection.get(ids=list(ids), include=["embeddings"])
        except InternalError:  # "Error finding id": one of them was deleted since it was ranked
            if len(ids) == 1:
                return {}
            found: dict[str, np.ndarray] = {}
            for cid in ids:
                found.update(self.embeddings_for_ids([cid]))
            return found
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embs, strict=False)}

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Hit]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        docs = got["documents"] or []
        metas = got["metadatas"] or []
        return {
            i: Hit(i, d or "", dict(m or {}), 0.0)
            for i, d, m in zip(got["ids"], docs, metas, strict=False)
        }

    def query_ids(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunk ids with cosine distances only (fetching metadata is the slow part)."""
        if n <= 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
        )
        dists = (res["distances"] or [[]])[0]
        return [(i, float(d)) for i, d in zip(res["ids"][0], dists, strict=False)]

    def iter_all(
        self, batch: int = 5000
    ) -> Iterator[tuple[list[str], list[str], list[dict[str, Any]]]]:
        """All chunks, in pages: (ids, documents, metadatas)."""
        offset = 0
        while True:
            got = self.collection.get(
                include=["documents", "metadatas"], limit=batch, offset=offset
            )
            ids = list(got["ids"])
            if not ids:
                return
            docs = [d or "" for d in (got["documents"] or [])]
            metas = [dict(m or {}) for m in (got["metadatas"] or [])]
            yield ids, docs, metas
            offset += len(ids)

    def chunks_of_articles(
        self, article_ids: Sequence[str], batch: int = 200
    ) -> Iterator[tuple[list[str], list[str], list[dict[str, Any]]]]:
        """The stored chunks of these articles, in pages: (ids, documents, metadatas)."""
        ids = list(dict.fromkeys(article_ids))
        for i in range(0, len(ids), batch):
            got = self.collection.get(
                where=where_in("article_id", ids[i : i + batch]),
                include=["documents", "metadatas"],
            )
            if got["ids"]:
                docs = [d or "" for d in (got["documents"] or [])]
                yield list(got["ids"]), docs, [dict(m or {}) for m in (got["metadatas"] or [])]

    def article_chunk_ids(self, article_id: str) -> list[str]:
        got = self.collection.get(where={"article_id": article_id}, include=[])
        return list(got["ids"])

    def stats(self) -> dict[str, Any]:
        """Counts from one row per article (its first chunk), not a scan of every chunk."""
        articles = 0
        sources: Counter[str] = Counter()
        dates: list[str] = []
        offset = 0
        while True:
            got = self.collection.get(
                where={"chunk_index": 0}, include=["metadatas"], limit=5000, offset=offset
            )
            metas = got["metadatas"] or []
            if not metas:
                break
            offset += len(metas)
            for m in metas:
                articles += 1
                sources[str(m.get("source") or "unknown")] += 1
                if m.get("published"):
                    dates.append(str(m["published"]))
        return {
            "articles": articles,
            "chunks": self.count(),
            "sources": dict(sources.most_common()),
            "earliest": min(dates) if dates else None,
            "latest": max(dates) if dates else None,
        }

    # --- writes --------------------------------------------------------------------------------

    def write_chunks(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        replacing: Sequence[str] = (),
        chunking: str = "",
    ) -> None:
        """Upsert chunks (of any number of articles), then settle each article of ``replacing``
        on one complete version (:meth:`_settle`).

        New chunk ids differ from old ones whenever the content changed, so a crash between the two
        steps leaves old + new chunks, which ``article_states`` reports as not current and the next
        ingest repairs; a crash inside an upsert leaves an article short of its chunk count, which
        is reported the same way. Articles that were not in the store have nothing stale.
        """
        if not chunks:
            return
        ids = [c.id for c in chunks]
        metas = [chunk_metadata(c, chunking) for c in chunks]
        # Chunks already stored with the same metadata (a resumed ingest) are not written again:
        # a process killed while upserting ids that are present can wedge Chroma's compaction
        # (chroma-core/chroma#7678, open for 1.5.9), and rewriting them gains nothing.
        present = self._stored_metadata(ids)
        todo = [i for i, cid in enumerate(ids) if _content(present.get(cid)) != metas[i]]
        stamp = now_us()
        for m in metas:
            m[WRITTEN_KEY] = stamp
        max_batch = self.client.get_max_batch_size()
        for j in range(0, len(todo), max_batch):
            part = todo[j : j + max_batch]
            self.collection.upsert(
                ids=[ids[i] for i in part],
                embeddings=vectors[part],
                documents=[chunks[i].text for i in part],
                metadatas=[metas[i] for i in part],
            )
        if replacing:
            self._settle(list(replacing))

    def _settle(self, article_ids: list[str]) -> None:
        """Keep, of each article, the complete version written last and delete the rest.

        A version is the chunks of one content hash (chunk ids contain it); it is complete when
        all ``chunk_count`` of its chunks are present. Every writer settles after its own upsert,
        so the newest complete version is never deleted and the others always are: two writers
        replacing one article end with exactly one complete version of it. A version that is not
        complete yet (another writer still upserting) is left alone unless a complete one is
        newer."""
        got = self.collection.get(where=where_in("article_id", article_ids), include=["metadatas"])
        versions: dict[tuple[str, str], dict[str, Any]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            m: dict[str, Any] = dict(meta or {})
            key = (str(m.get("article_id", "")), f"{m.get('content_hash')}|{m.get('chunking')}")
            v = versions.setdefault(key, {"ids": [], "count": 0, "stamp": 0})
            v["ids"].append(cid)
            v["count"] = int(m.get("chunk_count") or 0)
            v["stamp"] = max(v["stamp"], int(m.get(WRITTEN_KEY) or 0))
        stale: list[str] = []
        for aid in article_ids:
            mine = {k: v for k, v in versions.items() if k[0] == aid}
            complete = [v for v in mine.values() if len(set(v["ids"])) == v["count"]]
            if not complete:
                continue
            keep = max(complete, key=lambda v: (v["stamp"], sorted(v["ids"])))
            stale += [c for v in mine.values() if v is not keep for c in v["ids"]]
        if stale:
            self.collection.delete(ids=stale)

    def article(self, article_id: str) -> Article | None:
        """The stored article ``article_id`` (None when there is none), rebuilt from its chunks:
        title, outlet, date, url and the text that citation offsets index. While a writer
        replaces it, the complete version written last is the one read (the rule of
        :meth:`_settle`). Whitespace between
        two chunks is not stored; it comes back as spaces (one character) or line breaks
        (more), so every offset still points at the same characters."""
        rows: list[Any] = [
            (int(meta.get("start", 0)), int(meta.get("end", 0)), doc, meta)
            for _ids, docs, metas in self.chunks_of_articles([article_id])
            for doc, meta in zip(docs, metas, strict=True)
            if meta.get("article_id") == article_id
        ]
        if not rows:
            return None
        versions: dict[str, list[Any]] = {}
        for row in rows:
            versions.setdefault(str(row[3].get("content_hash", "")), []).append(row)
        rows = max(
            versions.values(),
            key=lambda v: (
                len(v) == int(v[0][3].get("chunk_count") or 0),
                max(int(r[3].get(WRITTEN_KEY) or 0) for r in v),
            ),
        )
        rows.sort(key=lambda row: row[0])
        parts: list[str] = []
        length = 0
        for start, _end, doc, _meta in rows:
            if start > length:
                gap = start - length
                parts.append(" " if gap == 1 else "\n" * gap)
                length = start
            if start + len(doc) > length:
                parts.append(doc[length - start :])
                length = start + len(doc)
        meta = rows[0][3]
        published = meta.get("published")
        return Article(
            id=article_id,
            title=str(meta.get("title") or ""),
            text="".join(parts),
            url=meta.get("url") or None,
            published=datetime.date.fromisoformat(str(published)) if published else None,
            source=meta.get("source") or None,
            origin=meta.get("origin") or None,
        )

    def _stored_metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            got = self.collection.get(ids=list(ids[i : i + 500]), include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[cid] = dict(meta or {})
        return found

    def delete_article(self, article_id: str) -> int:
        ids = self.article_chunk_ids(article_id)
        if ids:
            self.collection.delete(ids=ids)
        return len(ids)


def new_generation() -> str:
    """A fresh generation token."""
    return uuid.uuid4().hex


def _content(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored chunk's metadata without its write stamp (what the content decides)."""
    if meta is None:
        return None
    return {k: v for k, v in meta.items() if k != WRITTEN_KEY}
