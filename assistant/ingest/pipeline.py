"""The ingest pipeline: inputs -> Articles -> chunks written to the store, in batches.

``read_inputs`` turns files, folders and URLs into a stream of Articles (and Failures);
``IngestRun`` writes that stream batch by batch: it skips what is stored and current, refuses an
id that another input of the run (or another file still on disk) already holds, migrates copies
stored under the bare-stem ids of older versions, embeds each distinct chunk text once and
writes it, recording in the store's change feed which articles each batch touches. The caller
holds the write lock and brings the lexical index up to date when ``dirty``.

The store and the embedder are handed in; this module knows them only by the few methods it
calls (``ChunkSink``, ``DocumentEmbedder``), so ingest stays below the search stage.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.config import Settings
from assistant.errors import StoreLockedError
from assistant.ingest.chunking import chunk_article
from assistant.ingest.loaders import is_url, iter_articles
from assistant.models import Article, ArticleState, Chunk, Failure, IngestReport, origin_path

BATCH_ARTICLES = 128

ProgressFn = Callable[[IngestReport, int], None]
"""Called after each batch with the running report and the number of articles seen so far."""


class ChunkSink(Protocol):
    """What the pipeline needs of the store (``assistant.search.store.ChunkStore`` is one)."""

    def claim_embedding_model(self, name: str) -> None: ...
    def article_states(self, article_ids: Sequence[str]) -> dict[str, ArticleState]: ...
    def bump_generation(self) -> str: ...
    def open_change(self, article_ids: Sequence[str]) -> str: ...
    def close_change(self, record: str, article_ids: Sequence[str]) -> None: ...
    def delete_article(self, article_id: str) -> int: ...
    def embeddings_for_texts(self, text_hashes: Sequence[str]) -> dict[str, np.ndarray]: ...
    def write_chunks(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        replacing: Sequence[str] = (),
        chunking: str = "",
    ) -> None: ...


class DocumentEmbedder(Protocol):
    """What the pipeline needs of the embedding model."""

    @property
    def name(self) -> str: ...
    def embed_documents(self, texts: list[str]) -> np.ndarray: ...


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time on an embedded store; a Chroma server handles its own writers."""
    if settings.chroma_url:
        yield
        return
    from filelock import Timeout

    lock = _write_lock_file(settings, settings.lock_timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        msg = (
            f"another process is writing to this store ({lock.lock_file}); wait for it to "
            "finish or use a Chroma server (ASSISTANT_CHROMA_URL) for concurrent writers"
        )
        raise StoreLockedError(msg) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_write_lock(settings: Settings) -> Iterator[bool]:
    """The write lock if it is free right now: yields whether it was had (a server: always)."""
    if settings.chroma_url:
        yield True
        return
    from filelock import Timeout

    lock = _write_lock_file(settings, 0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _write_lock_file(settings: Settings, timeout: float) -> Any:
    from filelock import FileLock

    settings.store_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(settings.store_dir / "write.lock"), timeout=timeout)


@contextmanager
def read_inputs(
    paths: Sequence[str | Path],
    settings: Settings,
    stored: Callable[[list[str]], set[str]],
    stop: threading.Event | None = None,
    *,
    content_ids: bool = False,
    public_only: bool | None = None,
) -> Iterator[tuple[Iterable[Article | Failure], Callable[[IngestReport], None]]]:
    """The articles of ``paths`` and a ``finish(report)`` to call once they are stored.

    URLs are fetched (``stored`` names the articles already stored whole, which are not fetched
    again); ``finish`` keeps the feeds' HTTP validators only then, and adds what the URL reader
    counted to the report. ``stop`` ends reading URLs between two items. ``public_only``: every
    connection (each URL, redirect hop and feed item) to public addresses only (None: the
    setting ``fetch_public_only``).
    """
    if not any(is_url(p) for p in paths):
        yield iter_articles(paths, content_ids=content_ids), lambda report: None
        return
    from assistant.ingest.fetch import Fetcher
    from assistant.ingest.remote import UrlReader

    fetcher = Fetcher(settings, public_only=public_only)
    reader = UrlReader(fetcher, stored, stop)

    def finish(report: IngestReport) -> None:
        fetcher.commit()  # validators only once the articles they stand for are stored
        report.unchanged += reader.unchanged
        report.not_modified = list(reader.not_modified)

    try:
        yield iter_articles(paths, urls=reader, content_ids=content_ids), finish
    finally:
        fetcher.close()


@dataclass
class IngestRun:
    """One ingest of a stream of articles into ``store``; ``run`` returns the report."""

    settings: Settings
    store: ChunkSink
    embedder: DocumentEmbedder
    progress: ProgressFn | None = None
    report: IngestReport = field(default_factory=IngestReport)
    dirty: bool = False  # the store changed: the lexical index must follow
    seen: int = 0
    _batch: dict[str, Article] = field(default_factory=dict)
    _claimed: dict[str, str] = field(default_factory=dict)  # id -> the input that claimed it
    _migrated: set[str] = field(default_factory=set)
    # the chunking settings stored with each chunk: changing them re-chunks on the next ingest
    _chunking: str = field(init=False, default="")

    def __post_init__(self) -> None:
        s = self.settings
        self._chunking = f"tokens={s.chunk_tokens};overlap={s.chunk_overlap};v1"

    def run(self, items: Iterable[Article | Failure]) -> IngestReport:
        self.store.claim_embedding_model(self.embedder.name)
        for item in items:
            if isinstance(item, Failure):
                self.report.failed.append(item)
                continue
            self.seen += 1
            if len(item.text.strip()) < self.settings.min_article_chars:
                self.report.skipped += 1
                continue
            taken = self._claimed.get(item.id)
            if taken is not None:  # two inputs, one id: the first stays, the second is reported
                reason = f"article id {item.id!r} was already read from {taken}; not overwritten"
                self.report.failed.append(failure_at(item, reason))
                continue
            self._claimed[item.id] = item.origin or "another input"
            self._batch[item.id] = item
            if len(self._batch) >= BATCH_ARTICLES:
                self._flush()
        self._flush()
        return self.report

    def _flush(self) -> None:
        if not self._batch:
            return
        batch = self._batch
        legacy = [a.legacy_id for a in batch.values() if a.legacy_id]
        states = self.store.article_states([*batch, *legacy])
        todo: list[tuple[Article, list[Chunk], bool]] = []
        drop: list[str] = []
        for aid, art in batch.items():
            state = states.get(aid)
            old = legacy_copy(art, states, self._claimed, self._migrated)
            if state is not None and state.is_current(art.content_hash, self._chunking):
                self.report.unchanged += 1
                drop += [old] if old else []
                continue
            conflict = origin_conflict(art, state)
            if conflict is not None:
                self.report.failed.append(conflict)
                continue
            chunks = chunk_article(art, self.settings.chunk_tokens, self.settings.chunk_overlap)
            if not chunks:
                self.report.skipped += 1
                continue
            drop += [old] if old else []
            todo.append((art, chunks, state is not None or old is not None))
        if (todo or drop) and not self.dirty:
            self.store.bump_generation()  # readers must not trust the old index now
            self.dirty = True
        changed = [art.id for art, _, _ in todo] + drop  # recorded in the store's change feed
        record = self.store.open_change(changed) if changed else ""
        if todo:
            self._write(todo)
        for old_id in drop:  # after the new copy is written: a crash loses nothing
            self.store.delete_article(old_id)
        if record:
            self.store.close_change(record, changed)
        batch.clear()
        if self.progress:
            self.progress(self.report, self.seen)

    def _write(self, todo: list[tuple[Article, list[Chunk], bool]]) -> None:
        """Embed what is new (identical texts once) and write the batch."""
        report = self.report
        all_chunks = [c for _, chunks, _ in todo for c in chunks]
        vectors = self.store.embeddings_for_texts([c.text_hash for c in all_chunks])
        fresh: dict[str, str] = {}
        for c in all_chunks:
            if c.text_hash not in vectors:
                fresh.setdefault(c.text_hash, c.text)
        if fresh:
            t0 = time.perf_counter()
            embedded = self.embedder.embed_documents(list(fresh.values()))
            report.seconds_embedding += time.perf_counter() - t0
            report.chunks_embedded += len(fresh)
            vectors.update(zip(fresh.keys(), embedded, strict=True))
        matrix = np.stack([vectors[c.text_hash] for c in all_chunks])
        replacing = [article.id for article, _, existed in todo if existed]
        self.store.write_chunks(all_chunks, matrix, replacing, self._chunking)
        report.chunks_added += len(all_chunks)
        report.updated += len(replacing)
        report.new += len(todo) - len(replacing)


def failure_at(article: Article, reason: str) -> Failure:
    """A Failure naming the file (and line) an article came from."""
    origin = article.origin or article.id
    head, sep, tail = origin.rpartition(":")
    if sep and tail.isdigit():
        return Failure(path=head, line=int(tail), reason=reason)
    return Failure(path=origin, reason=reason)


def origin_conflict(article: Article, state: ArticleState | None) -> Failure | None:
    """A file whose path-derived id already belongs to another file that still exists.

    Ids from a path (``a/story.txt``) can collide across runs: ``x/a/story.txt`` ingested from
    ``x/`` and ``y/a/story.txt`` from ``y/``. The stored copy is replaced only by the same file,
    or when its file is gone (the folder was moved). Ids from an input id or a url name the
    article itself, so any file may update them.
    """
    if article.id_from != "path" or state is None or not state.origins:
        return None
    here = origin_path(article.origin)
    if here in state.origins:
        return None
    others = sorted(o for o in state.origins if os.path.isfile(o))
    if not others:
        return None
    reason = (
        f"article id {article.id!r} already holds {others[0]}, a different file; not overwritten "
        f"(give the file an id or url in front matter, or `assistant delete {article.id}` first)"
    )
    return failure_at(article, reason)


def legacy_copy(
    article: Article,
    states: dict[str, ArticleState],
    claimed: dict[str, str],
    migrated: set[str],
) -> str | None:
    """The id of this file's copy under its old bare-stem id, if an old store holds one.

    Older versions named a text or HTML file's article by its stem and recorded no origin. Such
    a copy is this article when it has the same content or title; it is dropped once the new
    copy is written (one file takes it over; an input of this run with that id keeps it).
    """
    old = article.legacy_id
    if not old or old == article.id or old in claimed or old in migrated:
        return None
    state = states.get(old)
    if state is None or state.origins:
        return None
    if article.content_hash not in state.hashes and article.title not in state.titles:
        return None
    migrated.add(old)
    return old
