"""The single entry point used by the CLI, the UI and the evaluation: ``Assistant``."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings
from assistant.embeddings import Embedder, get_embedder
from assistant.errors import EmptyStoreError, StoreLockedError, UsageError
from assistant.lexical import LexicalIndex
from assistant.models import (
    Answer,
    Article,
    Chunk,
    Failure,
    IngestReport,
    Passage,
    Stats,
    Timeline,
    Turn,
    origin_path,
)
from assistant.retrieve import MODES, Retriever
from assistant.store import ArticleState, ChunkStore

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

    from assistant.answer import Answerer

ProgressFn = Callable[[IngestReport, int], None]
"""Called after each batch with the running report and the number of articles seen so far."""

MAX_QUESTION_CHARS = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
BATCH_ARTICLES = 128
SEARCH_MODES: tuple[str, ...] = tuple(MODES)
"""Retrieval modes ``search(mode=...)`` accepts (for the CLI's --mode)."""


class Assistant:
    """Ingest articles, search them, and answer questions with verified citations.

    Heavy parts (embedding model, Chroma client, chat model) are created on first use and can be
    injected, so tests pass real local ones and the UI shares one per process.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        chat_model: BaseChatModel | bool | None = True,
        chroma_client: ClientAPI | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._embedder_injected = embedder is not None
        self._chat_model_arg = chat_model
        self.store = ChunkStore(self.settings, chroma_client)
        self._lexical: LexicalIndex | None = None
        self._answerer: Answerer | None = None
        self.retriever = Retriever(self.settings, self.store, self.embedder_proxy, self.lexical)

    # --- parts ---------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            stored = None
            if self.settings.embed_backend == "auto" and self.settings.embeddings == "local":
                stored = self.store.embedding_model()
            self._embedder = get_embedder(self.settings, stored)
        return self._embedder

    @property
    def reading_embedder(self) -> Embedder:
        """Embeddings for answer-side scoring (sentences, choices, citation support).

        They are computed fresh and never compared with stored vectors, so with the local model
        they use full precision whatever runtime the collection was built with: on the same int8
        collection, RealTimeQA dev's choices were picked right 0.709 of the time this way and 0.696
        with int8 answer-side embeddings.
        """
        if self._embedder_injected or self.settings.embeddings != "local":
            return self.embedder
        backend = "torch" if self.settings.embed_backend == "torch" else "onnx"
        return get_embedder(self.settings.model_copy(update={"embed_backend": backend}))

    @property
    def embedder_proxy(self) -> Embedder:
        return _LazyEmbedder(self)

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            from assistant.answer import Answerer
            from assistant.llm import build_chat_model

            chat = self._chat_model_arg
            if chat is True:
                chat = build_chat_model(self.settings)
            self._answerer = Answerer(
                self.settings,
                chat or None,
                self.reading_embedder,
                embedding_model=self.embedder.name,
                idf=lambda token: self.lexical().idf(token),
            )
        return self._answerer

    @property
    def mode(self) -> str:
        if self._chat_model_arg is True:
            return "llm" if self.settings.llm_configured else "extractive"
        return "llm" if self._chat_model_arg else "extractive"

    @property
    def chunking(self) -> str:
        """Chunking settings stored with each chunk: changing them re-chunks on the next ingest."""
        return f"tokens={self.settings.chunk_tokens};overlap={self.settings.chunk_overlap};v1"

    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt from the store whenever the store's generation moved on."""
        generation = self.store.generation()
        if self._lexical is not None and self._lexical.generation == generation:
            return self._lexical
        folder = self.settings.lexical_dir
        loaded = LexicalIndex.load(folder)
        if loaded is not None and loaded.generation == generation:
            self._lexical = loaded
            return loaded
        self._lexical = LexicalIndex.build(self.store.iter_all(), generation)
        with suppress(OSError):  # a read-only store folder still answers, it rebuilds next time
            self._lexical.save(folder)
        return self._lexical

    # --- ingest --------------------------------------------------------------------------------

    def _write_lock(self) -> AbstractContextManager[Any]:
        """One writer at a time on an embedded store; a Chroma server handles its own writers."""
        if self.settings.chroma_url:
            return nullcontext()
        from filelock import FileLock, Timeout

        self.settings.store_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(
            str(self.settings.store_dir / "write.lock"), timeout=self.settings.lock_timeout
        )

        class _Guard:
            def __enter__(self) -> None:
                try:
                    lock.acquire()
                except Timeout as exc:
                    msg = (
                        "another process is writing to this store "
                        f"({lock.lock_file}); wait for it to finish or use a Chroma server "
                        "(ASSISTANT_CHROMA_URL) for concurrent writers"
                    )
                    raise StoreLockedError(msg) from exc

            def __exit__(self, *exc: object) -> None:
                lock.release()

        return _Guard()

    def ingest(
        self,
        paths: Sequence[str | Path],
        progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
        *,
        content_ids: bool = False,
    ) -> IngestReport:
        """Load files/folders/URLs and index them; bad inputs are reported, the rest lands.

        ``stop`` (set e.g. on Ctrl-C) ends reading URLs between two items; what was read lands.
        ``content_ids``: a file without an id or url of its own is named by its content, not
        its path (uploads, whose temporary paths mean nothing).
        """
        from assistant.ingest import iter_articles

        if not any(
            isinstance(p, str) and p.lower().startswith(("http://", "https://")) for p in paths
        ):
            return self.ingest_articles(iter_articles(paths, content_ids=content_ids), progress)
        from assistant.ingest.fetch import Fetcher
        from assistant.ingest.remote import UrlReader

        fetcher = Fetcher(self.settings)
        reader = UrlReader(fetcher, self._stored_articles, stop)
        try:
            articles = iter_articles(paths, urls=reader, content_ids=content_ids)
            report = self.ingest_articles(articles, progress)
            fetcher.commit()  # validators only once the articles they stand for are stored
        finally:
            fetcher.close()
        report.unchanged += reader.unchanged
        report.not_modified = list(reader.not_modified)
        return report

    def _stored_articles(self, article_ids: list[str]) -> set[str]:
        """Those of ``article_ids`` stored whole (a half-written one is read again)."""
        states = self.store.article_states(article_ids)
        return {aid for aid, state in states.items() if state.chunks == state.expected}

    def ingest_articles(
        self, items: Iterable[Article | Failure], progress: ProgressFn | None = None
    ) -> IngestReport:
        from assistant.ingest import chunk_article

        report = IngestReport()
        started = time.perf_counter()
        seen = 0
        with self._write_lock():
            self.store.claim_embedding_model(self.embedder.name)
            dirty = False
            batch: dict[str, Article] = {}

            claimed: dict[str, str] = {}  # id -> the input that claimed it in this run
            migrated: set[str] = set()

            def flush() -> None:
                nonlocal dirty
                if not batch:
                    return
                legacy = [a.legacy_id for a in batch.values() if a.legacy_id]
                states = self.store.article_states([*batch, *legacy])
                todo: list[tuple[Article, list[Chunk], bool]] = []
                drop: list[str] = []
                for aid, art in batch.items():
                    state = states.get(aid)
                    old = _legacy_copy(art, states, claimed, migrated)
                    if state is not None and state.is_current(art.content_hash, self.chunking):
                        report.unchanged += 1
                        drop += [old] if old else []
                        continue
                    conflict = _origin_conflict(art, state)
                    if conflict is not None:
                        report.failed.append(conflict)
                        continue
                    chunks = chunk_article(
                        art, self.settings.chunk_tokens, self.settings.chunk_overlap
                    )
                    if not chunks:
                        report.skipped += 1
                        continue
                    drop += [old] if old else []
                    todo.append((art, chunks, state is not None or old is not None))
                if (todo or drop) and not dirty:
                    self.store.bump_generation()  # readers must not trust the old index now
                    dirty = True
                if todo:
                    self._write(todo, report)
                for old_id in drop:  # after the new copy is written: a crash loses nothing
                    self.store.delete_article(old_id)
                batch.clear()
                if progress:
                    progress(report, seen)

            for item in items:
                if isinstance(item, Failure):
                    report.failed.append(item)
                    continue
                seen += 1
                if len(item.text.strip()) < self.settings.min_article_chars:
                    report.skipped += 1
                    continue
                taken = claimed.get(item.id)
                if taken is not None:  # two inputs, one id: the first stays, the second is reported
                    reason = (
                        f"article id {item.id!r} was already read from {taken}; not overwritten"
                    )
                    report.failed.append(_failure_at(item, reason))
                    continue
                claimed[item.id] = item.origin or "another input"
                batch[item.id] = item
                if len(batch) >= BATCH_ARTICLES:
                    flush()
            flush()
            if dirty:
                generation = self.store.bump_generation()
                self._lexical = LexicalIndex.build(self.store.iter_all(), generation)
                self._lexical.save(self.settings.lexical_dir)
        report.seconds = time.perf_counter() - started
        if progress:
            progress(report, seen)
        return report

    def _write(self, todo: list[tuple[Article, list[Chunk], bool]], report: IngestReport) -> None:
        """Embed what is new (identical texts once) and write the batch."""
        all_chunks = [c for _, chunks, _ in todo for c in chunks]
        vectors: dict[str, np.ndarray] = self.store.embeddings_for_texts(
            [c.text_hash for c in all_chunks]
        )
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
        self.store.write_chunks(all_chunks, matrix, replacing, self.chunking)
        report.chunks_added += len(all_chunks)
        report.updated += len(replacing)
        report.new += len(todo) - len(replacing)

    def delete(self, article_id: str) -> int:
        """Remove an article from every index; returns the number of chunks removed."""
        with self._write_lock():
            removed = self.store.delete_article(article_id)
            if removed:
                generation = self.store.bump_generation()
                self._lexical = LexicalIndex.build(self.store.iter_all(), generation)
                self._lexical.save(self.settings.lexical_dir)
        return removed

    # --- query ---------------------------------------------------------------------------------

    def stats(self) -> Stats:
        raw = self.store.stats()
        return Stats(
            articles=raw["articles"],
            chunks=raw["chunks"],
            sources=raw["sources"],
            earliest=raw["earliest"],
            latest=raw["latest"],
            embedding_model=self.store.embedding_model() or self.settings.embeddings,
            collection=self.settings.collection,
        )

    def search(
        self,
        question: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        mode: str | None = None,
        as_of: dt.date | None = None,
        exclude: Collection[str] | None = None,
    ) -> list[Passage]:
        """Ranked passages. ``as_of``: the day the question is asked — nothing published after
        it is searched (undated articles are kept) and recency is measured from it (default:
        ``until``, else the newest article). ``exclude``: article ids left out."""
        question = clean_question(question)
        if since and until and since > until:
            msg = f"--since {since} is after --until {until}"
            raise UsageError(msg)
        if len(self.lexical()) == 0:  # the index mirrors the store and is already in memory
            msg = "no articles are indexed yet: run `assistant ingest PATH` first"
            raise EmptyStoreError(msg)
        return self.retriever.search(question, k, since, until, sources, mode, as_of, exclude)

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        as_of: dt.date | None = None,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        *,
        exclude: Collection[str] | None = None,
    ) -> tuple[str, list[Passage], tuple[dt.date | None, dt.date | None] | None, dict[str, float]]:
        """What an answer gets to read: the standalone question (follow-ups resolved), the
        passages (date phrases applied, nothing published after ``as_of``), the date filter
        used and the timings. :meth:`stream` answers from exactly this."""
        from assistant.dates import resolve_dates

        question = clean_question(question)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.answerer.condense(question, list(history or []))
        timings["condense"] = (time.perf_counter() - t0) * 1000

        today = as_of or dt.date.today()
        phrase = resolve_dates(standalone, today)
        lo = since or (phrase.since if phrase else None)
        hi = until or (phrase.until if phrase else None)
        # as_of: nothing published after the question was asked can answer it (undated kept)
        t0 = time.perf_counter()
        passages = self.search(standalone, k, lo, hi, sources, as_of=today, exclude=exclude)
        if not passages and phrase and not (since or until):
            lo, hi = None, None  # the date phrase matched nothing: search without it
            passages = self.search(standalone, k, lo, hi, sources, as_of=today, exclude=exclude)
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        return standalone, passages, ((lo, hi) if (lo or hi) else None), timings

    def stream(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        as_of: dt.date | None = None,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        *,
        exclude: Collection[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield answer tokens as they arrive, then the final ``Answer``.

        ``exclude``: article ids left out of the search (how the evaluation builds questions
        whose topic the collection does not cover)."""
        question = clean_question(question)
        t_total = time.perf_counter()
        standalone, passages, date_filter, timings = self.retrieve(
            question, history, as_of, k, since, until, sources, exclude=exclude
        )
        today = as_of or dt.date.today()

        final: Answer | None = None
        for item in self.answerer.stream(question, standalone, passages, as_of or today, timings):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        if final is None:  # pragma: no cover - the answerer always ends with an Answer
            msg = "the answerer produced no answer"
            raise RuntimeError(msg)
        timings["total"] = (time.perf_counter() - t_total) * 1000
        yield final.model_copy(
            update={
                "timings_ms": {**final.timings_ms, **timings},
                "as_of": today,
                "date_filter": date_filter,
            }
        )

    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        as_of: dt.date | None = None,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        *,
        exclude: Collection[str] | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for item in self.stream(
            question, history, as_of, k, since, until, sources, exclude=exclude
        ):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def choose(
        self,
        question: str,
        choices: Sequence[str],
        passages: Sequence[Passage],
        as_of: dt.date | None = None,
    ) -> tuple[str, dict[str, float]]:
        """Pick the choice the passages support best (LLM when configured, else extractive)."""
        return self.answerer.pick_choice(question, list(choices), list(passages), as_of)

    # --- for the UI, CLI and evaluation, which import only this module (and models/errors) ---

    def describe_backend(self) -> str:
        """Which model answers: the configured LLM (key redacted), one handed in, or none."""
        if self.mode == "extractive":
            return "extractive (no LLM configured)"
        if self._chat_model_arg is True:
            from assistant.llm import describe_backend

            return describe_backend(self.settings)
        return "chat model supplied by the application"

    def record_feedback(self, answer: Answer, verdict: str, n: int | None = None) -> None:
        """Append a reader's verdict ('up', 'down', 'unsupported' for citation ``n``) to the
        feedback file; an OSError (read-only folder, full disk) propagates to the caller."""
        from assistant.feedback import append_feedback

        append_feedback(self.settings, answer, verdict, n)  # type: ignore[arg-type]

    def judge_model(self) -> BaseChatModel:
        """The configured LLM, as a judge of answers (evaluation's ``--judge``)."""
        from assistant.llm import build_chat_model

        model = build_chat_model(self.settings) if self.settings.llm_configured else None
        if model is None:
            msg = "--judge needs an LLM: set OPENAI_API_KEY or ASSISTANT_LLM_BASE_URL"
            raise UsageError(msg)
        return model

    def judge(self, answer: Answer, model: BaseChatModel) -> dict[str, Any]:
        """LLM-as-judge verdicts on each cited sentence of ``answer`` (see assistant.judging)."""
        from assistant.judging import judge_answer

        return judge_answer(model, answer)

    def timeline(
        self,
        query: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
        k: int = 10,
    ) -> Timeline:
        """One dated, quoted event per story about ``query`` (copies merged), oldest first."""
        from assistant.timeline import build_timeline

        return build_timeline(self, clean_question(query), since, until, k)

    def watch(
        self,
        feeds_file: str | Path,
        every: str | float = "15m",
        max_polls: int | None = None,
        out: Callable[[str], Any] = print,
        err: Callable[[str], Any] = print,
    ) -> int:
        """Poll the feeds of ``feeds_file`` every ``every`` ('15m', or seconds) and ingest new
        items until Ctrl-C or ``max_polls`` polls (see ``assistant.watch``); returns 0."""
        from assistant.watch import parse_every, run_watch

        seconds = parse_every(every) if isinstance(every, str) else float(every)
        return run_watch(self, Path(feeds_file), seconds, max_polls, out=out, err=err)


class _LazyEmbedder:
    """Defers loading the model until a query actually needs a vector."""

    def __init__(self, owner: Assistant) -> None:
        self._owner = owner

    @property
    def name(self) -> str:
        return self._owner.embedder.name

    @property
    def dim(self) -> int:
        return self._owner.embedder.dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._owner.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._owner.embedder.embed_query(text)


def _failure_at(article: Article, reason: str) -> Failure:
    """A Failure naming the file (and line) an article came from."""
    origin = article.origin or article.id
    head, sep, tail = origin.rpartition(":")
    if sep and tail.isdigit():
        return Failure(path=head, line=int(tail), reason=reason)
    return Failure(path=origin, reason=reason)


def _origin_conflict(article: Article, state: ArticleState | None) -> Failure | None:
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
    return _failure_at(article, reason)


def _legacy_copy(
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


def strip_markers(text: str) -> str:
    """``text`` without citation markers ``[n]`` (for scoring answers against gold text)."""
    from assistant.citations import strip_markers as strip

    return strip(text)


def ui_app_path() -> Path:
    """The Streamlit script of the chat, wherever the package is installed."""
    from assistant.resources import ui_app

    return ui_app()


def clean_question(question: str) -> str:
    """Control characters removed, whitespace collapsed, length capped; empty is a usage error."""
    text = _ANSI.sub(" ", question)  # terminal escape sequences pasted along with a question
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        msg = "the question is empty: ask something about the articles"
        raise UsageError(msg)
    return text[:MAX_QUESTION_CHARS]
