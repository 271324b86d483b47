"""The facade the CLI, the UI, the evaluation (and Python users) call: ``Assistant``.

It wires the stages — ingest (``assistant.ingest``), search (``assistant.search``) and answering
(``assistant.answering``) — holds the write lock, and exposes their work as methods. The work
itself is done in the stages: the ingest pipeline in ``assistant.ingest.pipeline``, ranking in
``assistant.search.retrieve``, answers in ``assistant.answering.answer``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from assistant.config import Settings
from assistant.errors import EmptyStoreError, UsageError
from assistant.ingest.addresses import AddressPolicy, NotPublicError, UnresolvableHostError
from assistant.ingest.pipeline import IngestRun, ProgressFn, read_inputs, write_lock
from assistant.models import (
    Answer,
    Article,
    Failure,
    IngestReport,
    Passage,
    Request,
    RequestOptions,
    Stats,
    Timeline,
)
from assistant.resources import ui_app as ui_app_path
from assistant.search.embeddings import Embedder, LazyEmbedder, get_embedder, reading_embedder
from assistant.search.lexical import LexicalIndex
from assistant.search.lexical_sync import LexicalSync
from assistant.search.retrieve import MODES, Retrieved, Retriever, search_dated
from assistant.search.store import ChunkStore
from assistant.text import clean_question, strip_markers
from assistant.text.urls import same_page_key

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

    from assistant.answering.answer import Answerer

# strip_markers: for scoring answers against gold text (evaluation); same_page_key: whether two
# article ids name one page (evaluation, with ingest's URL normalisation); ui_app_path: the chat's
# Streamlit script, wherever the package is installed (CLI); AddressPolicy and its errors: the
# one check of the addresses a URL points to (the API refuses a private URL before fetching).
# Re-exported for the front doors.
__all__ = ["SEARCH_MODES", "Assistant", "ProgressFn", "Retrieved", "clean_question"]
__all__ += ["same_page_key", "strip_markers", "ui_app_path"]
__all__ += ["AddressPolicy", "NotPublicError", "UnresolvableHostError"]

Day = dt.date | None
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
        self._lexical = LexicalSync(self.settings, self.store)
        self._answerer: Answerer | None = None
        self.retriever = Retriever(self.settings, self.store, self.embedder_proxy, self.lexical)

    # --- parts ---------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # 'auto' follows the runtime the collection was built with
            self._embedder = get_embedder(self.settings, self.store.embedding_model)
        return self._embedder

    @property
    def reading_embedder(self) -> Embedder:
        """Full-precision embeddings for answer-side scoring (``embeddings.reading_embedder``)."""
        if self._embedder_injected:
            return self.embedder
        return reading_embedder(self.settings, self.embedder)

    @property
    def embedder_proxy(self) -> Embedder:
        return LazyEmbedder(lambda: self.embedder)

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            from assistant.answering.answer import build_answerer

            self._answerer = build_answerer(
                self.settings, self._chat_model_arg, self.reading_embedder, self.embedder.name,
                idf=lambda token: self.lexical().idf(token),
            )  # fmt: skip
        return self._answerer

    @property
    def mode(self) -> str:
        if self._chat_model_arg is True:
            return "llm" if self.settings.llm_configured else "extractive"
        return "llm" if self._chat_model_arg else "extractive"

    def lexical(self) -> LexicalIndex:
        """The BM25 index, current with the store (``assistant.search.lexical_sync``)."""
        return self._lexical.current()

    # --- ingest --------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[str | Path],
        progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
        *,
        content_ids: bool = False,
        public_only: bool | None = None,
    ) -> IngestReport:
        """Load files/folders/URLs and index them; bad inputs are reported, the rest lands.
        ``stop`` (set e.g. on Ctrl-C) ends reading URLs between two items; what was read lands.
        ``content_ids``: a file without an id or url of its own is named by its content, not
        its path (uploads, whose temporary paths mean nothing). ``public_only``: fetch from
        public addresses only — each URL, every redirect hop and every feed item; one that
        points to a private address is a failure (None: ``settings.fetch_public_only``)."""
        with read_inputs(
            paths,
            self.settings,
            self.store.stored_whole,
            stop,
            content_ids=content_ids,
            public_only=public_only,
        ) as (articles, finish):
            report = self.ingest_articles(articles, progress)
            finish(report)
        return report

    def ingest_articles(
        self, items: Iterable[Article | Failure], progress: ProgressFn | None = None
    ) -> IngestReport:
        """Write a stream of articles (see ``assistant.ingest.pipeline``) under the write lock."""
        started = time.perf_counter()
        with write_lock(self.settings):
            run = IngestRun(self.settings, self.store, self.embedder, progress)
            report = run.run(items)
            if run.dirty:
                self._lexical.after_write()
        report.seconds = time.perf_counter() - started
        if progress:
            progress(report, run.seen)
        return report

    def delete(self, article_id: str) -> int:
        """Remove an article from every index; returns the number of chunks removed."""
        with write_lock(self.settings):
            if not self.store.article_chunk_ids(article_id):
                return 0
            self.store.bump_generation()  # readers do not trust their index until it catches up
            record = self.store.open_change([article_id])
            removed = self.store.delete_article(article_id)
            self.store.close_change(record, [article_id])
            self._lexical.after_write()
        return removed

    # --- query ---------------------------------------------------------------------------------

    def stats(self) -> Stats:
        model = self.store.embedding_model() or self.settings.embeddings
        return Stats(
            **self.store.stats(), embedding_model=model, collection=self.settings.collection
        )

    def search(
        self,
        question: str,
        k: int | None = None,
        since: Day = None,
        until: Day = None,
        sources: Sequence[str] | None = None,
        mode: str | None = None,
        as_of: Day = None,
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

    def retrieve(self, request: Request | str, **options: Unpack[RequestOptions]) -> Retrieved:
        """What an answer gets to read: the standalone question (follow-ups resolved), the
        passages (date phrases applied, nothing published after ``as_of``), the date filter
        used and the timings. :meth:`stream` answers from exactly this."""
        req = Request.of(request, **options)
        question = clean_question(req.question)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.answerer.condense(question, req.history)
        timings["condense"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        passages, date_filter = search_dated(
            self.search, standalone, req.as_of or dt.date.today(), req.since, req.until,
            k=req.k, sources=req.sources, exclude=req.exclude,
        )  # fmt: skip
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        return Retrieved(standalone, passages, date_filter, timings)

    def stream(
        self, request: Request | str, **options: Unpack[RequestOptions]
    ) -> Iterator[str | Answer]:
        """Yield answer tokens as they arrive, then the final ``Answer``.

        ``request``: a :class:`~assistant.models.Request`, or the question with the request's
        fields as keywords (``history``, ``as_of``, ``k``, ``since``, ``until``, ``sources``,
        ``exclude`` — article ids left out, how the evaluation builds uncovered questions)."""
        req = Request.of(request, **options)
        question = clean_question(req.question)
        started = time.perf_counter()
        standalone, passages, date_filter, timings = self.retrieve(req)
        today = req.as_of or dt.date.today()
        yield from self.answerer.stream(
            question, standalone, passages, today, timings, date_filter, started
        )

    def ask(self, request: Request | str, **options: Unpack[RequestOptions]) -> Answer:
        """The final ``Answer`` of :meth:`stream` (same arguments)."""
        *_, answer = self.stream(request, **options)  # tokens, then the Answer
        assert isinstance(answer, Answer)
        return answer

    def choose(
        self, question: str, choices: Sequence[str], passages: Sequence[Passage], as_of: Day = None
    ) -> tuple[str, dict[str, float]]:
        """Pick the choice the passages support best (LLM when configured, else extractive)."""
        return self.answerer.pick_choice(question, list(choices), list(passages), as_of)

    def describe_backend(self) -> str:
        """Which model answers: the configured LLM (key redacted), one handed in, or none."""
        if self.mode == "extractive":
            return "extractive (no LLM configured)"
        if self._chat_model_arg is True:
            from assistant.answering.llm import describe_backend

            return describe_backend(self.settings)
        return "chat model supplied by the application"

    def record_feedback(self, answer: Answer, verdict: str, n: int | None = None) -> None:
        """Append a reader's verdict ('up', 'down', 'unsupported' for citation ``n``) to the
        feedback file; an OSError (read-only folder, full disk) propagates to the caller."""
        from assistant.answering.feedback import append_feedback

        append_feedback(self.settings, answer, verdict, n)  # type: ignore[arg-type]

    def judge_model(self) -> BaseChatModel:
        """The configured LLM, as a judge of answers (evaluation's ``--judge``)."""
        from assistant.answering.llm import judge_model

        return judge_model(self.settings)

    def judge(self, answer: Answer, model: BaseChatModel) -> dict[str, Any]:
        """LLM-as-judge verdicts on each cited sentence of ``answer`` (answering.judging)."""
        from assistant.answering.judging import judge_answer

        return judge_answer(model, answer)

    def timeline(self, query: str, since: Day = None, until: Day = None, k: int = 10) -> Timeline:
        """One dated, quoted event per story about ``query`` (copies merged), oldest first."""
        from assistant.search.timeline import build_timeline

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
        items until Ctrl-C or ``max_polls`` polls (see ``assistant.ingest.watch``); returns 0."""
        from assistant.ingest.watch import parse_every, run_watch

        seconds = parse_every(every) if isinstance(every, str) else float(every)
        return run_watch(self, Path(feeds_file), seconds, max_polls, out=out, err=err)

    def article(self, article_id: str) -> Article | None:
        """The stored article ``article_id`` (None when there is none), rebuilt from its chunks
        (:meth:`~assistant.search.store.ChunkStore.article`)."""
        return self.store.article(article_id)
