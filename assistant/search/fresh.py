"""Dense search over what other processes just wrote to an embedded store.

Chroma's embedded client keeps its vector index in each process and never reloads it when another
process writes (chroma-core/chroma#3792). Reopening the client reads the whole index from disk
again — seconds at a million chunks — so instead the chunks other processes wrote since this one
opened its client (``ChunkStore.written_by_others``) are embedded here, in a background thread,
and scored exactly beside the index: a cost that follows what changed, not the archive. Until
their vectors are ready the new articles are found by BM25 (the lexical index is current); the
next question finds them by meaning too.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from assistant.search.embeddings import Embedder
from assistant.search.store import ChunkStore

log = logging.getLogger(__name__)


class FreshVectors:
    def __init__(self, store: ChunkStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._opened_at = 0  # when the client the vectors were computed beside was opened

    def vectors(self) -> dict[str, np.ndarray]:
        """The vectors ready so far (never waits for the embedding)."""
        if self._worker is None or not self._worker.is_alive():
            texts = self.store.written_by_others()
            if self._opened_at != self.store.opened_at:  # reopened: its index has them all
                with self._lock:
                    self._vectors = {}
                self._opened_at = self.store.opened_at
            if texts:
                todo = {cid: t for cid, t in texts.items() if cid not in self._vectors}
                if todo:
                    self._worker = threading.Thread(target=self._embed, args=(todo,), daemon=True)
                    self._worker.start()
        with self._lock:
            return dict(self._vectors)

    def _embed(self, texts: dict[str, str]) -> None:
        try:
            vecs = self.embedder.embed_documents(list(texts.values()))
        except Exception:
            log.debug("embedding chunks written by other processes failed", exc_info=True)
            return
        with self._lock:
            self._vectors.update(zip(texts, np.asarray(vecs, dtype=np.float32), strict=True))

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background embedding is done (tests, benchmarks)."""
        if self._worker is not None:
            self._worker.join(timeout)
