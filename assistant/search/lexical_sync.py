"""Keeping a process's lexical index in step with the store, at the cost of what changed.

The store's generation token labels its content; the index carries the label of the content it
mirrors (:mod:`assistant.search.lexical`). After a write, the writer — holding the store's write
lock — replaces the chunks of the articles it touched in the index and only then gives the store
the new label, so any process that reads the label finds an index commit that matches it.

A reader whose index does not carry the store's label first moves to the index's newest commit
(another process of this store folder wrote it); if the labels still differ the index no longer
mirrors the store (a writer crashed half-way, or in server mode another machine wrote) and it is
rebuilt from the store — but never while a writer is at work: then the reader keeps answering
from the last whole commit and looks again on its next question.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.search.lexical import LexicalIndex, stderr_progress
from assistant.search.store import ChunkStore, new_generation

log = logging.getLogger(__name__)


class LexicalSync:
    """One process's handle on the lexical index of a store."""

    def __init__(self, settings: Settings, store: ChunkStore) -> None:
        self.settings = settings
        self.store = store
        self._index: LexicalIndex | None = None

    @property
    def index(self) -> LexicalIndex:
        if self._index is None:
            self._index = _open(self.settings.lexical_dir)
        return self._index

    def current(self) -> LexicalIndex:
        """The index, matching the store's content whenever no writer is half-way."""
        index = self.index
        generation = self.store.generation()
        if index.generation == generation:
            return index
        index.refresh()
        if index.generation != generation:
            with self._no_writer() as free:
                if free:
                    self._rebuild(index)
        return index

    def after_write(self, article_ids: Collection[str], before: str) -> None:
        """The writer's step (under the write lock): ``article_ids`` changed since the store was
        labelled ``before``. When the index mirrored that content only they are re-read;
        otherwise (or in server mode, where another machine may have written meanwhile) the
        index is rebuilt from the store."""
        index = self.index
        index.refresh()
        token = new_generation()
        if index.generation == before and before and not self.settings.chroma_url:
            index.replace_articles(
                article_ids, self.store.chunks_of_articles(list(article_ids)), token
            )
            self.store.set_generation(token)
        else:
            self._rebuild(index)

    def _rebuild(self, index: LexicalIndex) -> None:
        """Everything from the store; labelled with the store's label as read before reading
        (a write that lands meanwhile changes the label, and the next reader catches up)."""
        token = self.store.generation() or new_generation()
        if not self.store.generation():
            self.store.set_generation(token)
        total = self.store.count()
        progress = stderr_progress("Building the keyword index") if total >= 5000 else None
        index.rebuild(self.store.iter_all(), token, total, progress)

    def _no_writer(self) -> _TryLock:
        return _TryLock(self.settings)


class _TryLock:
    """The store's write lock if it is free right now (embedded mode); server mode has none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock: Any = None

    def __enter__(self) -> bool:
        if self.settings.chroma_url:
            return True
        from filelock import FileLock, Timeout

        self.settings.store_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.settings.store_dir / "write.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        self._lock = lock
        return True

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()


def _open(folder: Path) -> LexicalIndex:
    """The index in ``folder``; in a temporary folder when that one cannot be written (a
    read-only store still answers)."""
    try:
        return LexicalIndex(folder)
    except (OSError, ValueError) as exc:
        log.debug("lexical index in %s unavailable (%s); using a temporary one", folder, exc)
    return LexicalIndex(Path(tempfile.mkdtemp(prefix="assistant-lexical-")) / folder.name)
