"""Keeping a process's lexical index in step with the store, at the cost of what changed.

The store's *generation* label changes with every write; the index carries the label of the
content it mirrors and the change-feed cursor up to which it has applied changes
(:mod:`assistant.search.changes`). A process whose index does not carry the store's label first
moves to the index's newest commit (another process of this index folder may have caught up);
if the labels still differ it catches up itself: it re-reads from the store only the articles the
feed names since its cursor, in one commit. Only an empty index, or one older than the feed's
pruning, is built from the whole store (the cold-start path, with a progress bar).

The same path serves every case: a writer after its own write (holding the write lock), a reader
of an embedded store after another process wrote, a process in server mode whose index folder
nobody else updates, and a writer that crashed half-way (its open record names its articles).
An embedded store's reader never catches up while a writer holds the write lock: it answers from
the last whole commit and looks again on its next question.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import suppress
from pathlib import Path

from assistant.config import Settings
from assistant.ingest.pipeline import try_write_lock
from assistant.search.lexical import LexicalIndex, stderr_progress
from assistant.search.store import ChunkStore

log = logging.getLogger(__name__)
UNLABELLED = "unlabelled"  # a store written before labels existed (or never written)


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
        label = self.store.generation() or UNLABELLED
        if index.generation == label:
            return index
        index.refresh()
        if index.generation != label:
            with try_write_lock(self.settings) as free:
                if free:
                    self._catch_up(index, label)
        return index

    def after_write(self) -> None:
        """The writer's step once its writes are done (under the write lock, if any): a new
        label for the store, and the index brought to it (the feed names what was written)."""
        label = self.store.bump_generation()
        self._catch_up(self.index, label)
        with suppress(Exception):  # old records are only a convenience for far-behind readers
            self.store.feed.prune()

    def _catch_up(self, index: LexicalIndex, label: str) -> None:
        index.refresh()
        if index.generation == label:
            return
        feed = self.store.feed
        if index.generation and index.cursor:
            change = feed.catch_up(index.cursor)
            if not change.behind_pruning:
                articles = sorted(change.articles)
                pages = self.store.chunks_of_articles(articles)
                index.replace_articles(articles, pages, label, change.cursor)
                return
        cursor = feed.latest()  # taken before reading: what lands meanwhile is caught up later
        total = self.store.count()
        progress = stderr_progress("Building the keyword index") if total >= 5000 else None
        index.rebuild(self.store.iter_all(), label, cursor, total, progress)


def _open(folder: Path) -> LexicalIndex:
    """The index in ``folder``; in a temporary folder when that one cannot be written (a
    read-only store still answers)."""
    try:
        return LexicalIndex(folder)
    except (OSError, ValueError) as exc:
        log.debug("lexical index in %s unavailable (%s); using a temporary one", folder, exc)
    return LexicalIndex(Path(tempfile.mkdtemp(prefix="assistant-lexical-")) / folder.name)
