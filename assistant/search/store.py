"""The vector store: with :mod:`assistant.search.chroma` (client, retrying proxy, metadata and where
clauses) the only module that imports chromadb.

Embedded ``PersistentClient`` in ``settings.store_dir`` by default, ``HttpClient`` to a Chroma server
when ``ASSISTANT_CHROMA_URL`` is set. Vectors are always computed by our own embedder and passed in;
Chroma's default embedding function (which downloads a model) is never used.

Each chunk record carries its article's id, content hash and chunk count, so the store itself tells
whether an article is present, current and complete. The collection metadata holds the embedding
model name (mixing vector spaces is refused) and a *generation* token that changes on every write,
which the lexical index uses to notice that it is stale.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings
from assistant.errors import EmbeddingMismatchError, StoreError
from assistant.models import ArticleState, Chunk
from assistant.search.chroma import RetryingCollection, chunk_metadata, make_client, where_in

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

GENERATION_KEY = "assistant_generation"
MODEL_KEY = "embedding_model"


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

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
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
        return str(self._metadata().get(GENERATION_KEY, ""))

    def bump_generation(self) -> str:
        token = new_generation()
        self.set_generation(token)
        return token

    def set_generation(self, token: str) -> None:
        """Label the store's current content (the lexical index carries the same label)."""
        self._set_metadata({GENERATION_KEY: token})

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
        """Upsert chunks (of any number of articles), then drop stale chunks of ``replacing``.

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
        todo = [i for i, cid in enumerate(ids) if present.get(cid) != metas[i]]
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
            keep = set(ids)
            got = self.collection.get(where=where_in("article_id", list(replacing)), include=[])
            stale = [cid for cid in got["ids"] if cid not in keep]
            if stale:
                self.collection.delete(ids=stale)

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
