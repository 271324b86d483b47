"""Dense search over what other processes just wrote to an embedded store.

Chroma's embedded client keeps its vector index in each process and never reloads it when another
process writes (chroma-core/chroma#3792). Reopening the client reads the whole index from disk
again — seconds at a million chunks — so instead, whenever the store's generation label moves on,
a background thread reads the chunks other processes wrote since this one opened its client
(``ChunkStore.written_by_others``) and embeds them, and the retriever scores them exactly beside
the index: a cost that follows what changed, not the archive, and none of it on the question's
path. Until their vectors are ready the new articles are found by BM25 (the lexical index is
current); the next question finds them by meaning too. Past ``FRESH_MAX`` such chunks (another
process ingested a lot) the client is reopened instead, between two questions.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from assistant.search.embeddings import Embedder
from assistant.search.store import ChunkStore

log = logging.getLogger(__name__)

FRESH_MAX = 2_000  # chunks other processes wrote that are embedded here; past it: reopen


class FreshVectors:
    def __init__(self, store: ChunkStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._label = ""  # the label whose changes were looked for
        self._opened_at = 0  # the client the vectors belong beside
        self._reopen = False

    def vectors(self) -> dict[str, np.ndarray]:
        """The vectors ready so far; starts looking when the label moved on (never waits)."""
        busy = self._worker is not None and self._worker.is_alive()
        if not busy:
            if self._reopen:  # many chunks came from elsewhere: read the index anew
                self._reopen = False
                self.store.reopen()
            if self._opened_at != self.store.opened_at:  # a new client has them all
                with self._lock:
                    self._vectors = {}
                self._opened_at = self.store.opened_at
            label = self.store.label
            if label and label != self._label and self.store.opened_at:
                self._label = label
                self._worker = threading.Thread(target=self._follow, daemon=True)
                self._worker.start()
        with self._lock:
            return dict(self._vectors)

    def _follow(self) -> None:
        try:
            texts = self.store.written_by_others(FRESH_MAX)
            if texts is None:
                self._reopen = True
                return
            todo = {cid: t for cid, t in texts.items() if cid not in self._vectors}
            if not todo:
                return
            vecs = np.asarray(self.embedder.embed_documents(list(todo.values())), dtype=np.float32)
        except Exception:
            log.debug("following other writers failed", exc_info=True)
            return
        with self._lock:
            self._vectors.update(zip(todo, vecs, strict=True))

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background work is done (tests, benchmarks)."""
        if self._worker is not None:
            self._worker.join(timeout)
