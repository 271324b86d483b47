"""Typed records that cross module borders.

Everything the CLI, UI and evaluation exchange with the library is one of these models, so the JSON
printed by ``--json`` and the objects a Python user gets are the same thing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Unpack


def sha1(text: str) -> str:
    """Hex SHA-1 of a string (UTF-8); used for stable ids and content hashes, not for security."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


IdFrom = Literal["input", "url", "path", "content"]
"""Where an article's id came from: the input's own id, its url, its file path, its content."""


def content_id(title: str, text: str) -> str:
    """The id of an article known only by its content: ``sha1:`` + hash of title and text."""
    return "sha1:" + sha1(title + "\x1f" + text)


def origin_path(origin: str | None) -> str:
    """The absolute path of the file in an article's origin (``path`` or ``path:line``)."""
    if not origin:
        return ""
    head, sep, tail = origin.rpartition(":")
    if sep and tail.isdigit():
        origin = head
    return os.path.abspath(origin)


def date_to_int(day: dt.date | None) -> int | None:
    """2022-06-17 -> 20220617, a sortable number Chroma ``where`` filters can compare."""
    if day is None:
        return None
    return day.year * 10000 + day.month * 100 + day.day


class Article(BaseModel):
    """One news article as loaded from a file, before chunking."""

    id: str
    title: str = ""
    text: str
    url: str | None = None
    published: dt.date | None = None
    source: str | None = Field(default=None, description="Outlet, e.g. 'Tasnim' or 'www.cnn.com'.")
    place: str | None = Field(default=None, description="Dateline place, e.g. 'TEHRAN'.")
    authors: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Extra keys from the input.")
    origin: str | None = Field(default=None, description="File (and line) the article came from.")
    id_from: IdFrom = Field(default="input", description="Where the id came from.")
    legacy_id: str | None = Field(
        default=None, description="The bare-stem id older versions gave this file (migrated)."
    )

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index: text and the metadata shown with it."""
        parts = [
            self.title,
            self.text,
            self.url or "",
            self.published.isoformat() if self.published else "",
            self.source or "",
            self.place or "",
        ]
        return sha1("\x1f".join(parts))


@dataclass(frozen=True)
class ArticleState:
    """What the store holds of one article (ingest decides from it what to write)."""

    hashes: frozenset[str]
    chunks: int
    expected: int
    chunkings: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()

    def is_current(self, content_hash: str, chunking: str = "") -> bool:
        """Same content, all chunks present, and cut with the same chunking settings."""
        return (
            self.hashes == {content_hash}
            and self.chunks == self.expected
            and (not chunking or self.chunkings == {chunking})
        )


class Chunk(BaseModel):
    """A span of an article's text, the unit that is embedded and retrieved."""

    id: str
    article_id: str
    index: int
    count: int = Field(description="Number of chunks of the article (to detect half-written ones).")
    text: str
    start: int = Field(description="Offset of the chunk's first character in the article text.")
    end: int = Field(description="Offset one past the chunk's last character in the article text.")
    title: str = ""
    source: str | None = None
    published: dt.date | None = None
    url: str | None = None
    content_hash: str = ""
    origin: str = Field(default="", description="Absolute path of the file it came from.")

    @property
    def text_hash(self) -> str:
        return sha1(self.text)


class StoryCopy(BaseModel):
    """Another article carrying the same story (a wire copy, lightly edited)."""

    article_id: str
    source: str | None = None
    url: str | None = None
    published: dt.date | None = None


class Passage(BaseModel):
    """A retrieved chunk, numbered as shown to the reader and the LLM."""

    n: int
    chunk_id: str
    article_id: str
    title: str = ""
    source: str | None = None
    published: dt.date | None = None
    url: str | None = None
    text: str
    start: int
    end: int
    score: float = 0.0
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = Field(default=None, description="Cosine similarity to the query.")
    rank: int | None = Field(
        default=None,
        description="Position in the retrieval ranking (1 = best), kept when the "
        "answer renumbers its sources in citation order.",
    )
    also_in: list[StoryCopy] = Field(
        default_factory=list,
        description="Near-duplicate copies of the same story from other outlets (shown once).",
    )


class SearchResult(BaseModel):
    """What a search returns (``assistant search --json``, ``GET /v1/search``, ``search_news``)."""

    query: str
    passages: list[Passage]


class Citation(BaseModel):
    """One cited claim: the sentence, where its support lies in the article, and how strong it is."""

    n: int
    article_id: str
    chunk_id: str
    title: str = ""
    source: str | None = None
    published: dt.date | None = None
    url: str | None = None
    quote: str
    start: int = Field(description="Offset of the quote in the article text.")
    end: int
    supported: bool
    support: float
    sentence: str = Field(default="", description="The answer sentence this citation backs.")


class MarkerSpan(BaseModel):
    """A citation marker such as ``[1, 2]`` in an answer: where it is and what it names."""

    start: int = Field(description="Offset of the marker in ``Answer.answer``.")
    end: int
    numbers: list[int] = Field(default_factory=list, description="Passage numbers it names.")


class AnswerSentence(BaseModel):
    """One sentence of an answer, with the markers that follow it, and whether it is backed."""

    start: int = Field(description="Offset of the sentence in ``Answer.answer``.")
    end: int = Field(description="Offset one past its last character (its markers included).")
    citations: list[int] = Field(default_factory=list, description="Passage numbers it cites.")
    supported: bool = Field(
        default=True, description="False when it is a claim no cited passage supports."
    )
    markers: list[MarkerSpan] = Field(default_factory=list)


class ShortAnswer(BaseModel):
    """The phrase that answers (a name, a date, a number with its unit, ...), inside the quote of
    citation ``n``; ``start``/``end`` index the article's text like a citation's."""

    text: str
    n: int
    start: int
    end: int


Outcome = Literal["answer", "hedged", "refused"]
"""What an answer is: ``answer`` (the short answer, cited), ``hedged`` (a candidate and its quote
that may answer: the reader should check the quote) or ``refused`` (the articles don't say)."""

HEDGE_LEAD = "The articles may answer this — check the quote."
"""The first sentence of a hedged answer (the CLI, the chat and the export show it too)."""


class Reason(BaseModel):
    """One machine-readable reason for an answer's outcome, e.g. ``{"code": "answerability",
    "value": 0.36, "threshold": 0.37}``: numbers for ``--json``, ``--debug`` and the evaluation,
    never for the sentence a user reads. The codes are listed in assistant/answering/outcome.py."""

    code: str
    value: float | None = None
    threshold: float | None = None
    items: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    mode: Literal["llm", "extractive"]
    refused: bool = Field(default=False, description='Always ``outcome == "refused"``.')
    outcome: Outcome = Field(
        default="answer",
        description="answer (short answer first, cited), hedged (a candidate and its quote, "
        "unsure: check the quote) or refused (the articles don't say).",
    )
    confidence: float | None = Field(
        default=None,
        description="Estimated probability that the short answer (or, without one, the answer) "
        "is right; see assistant/answering/outcome.py. None for refusals.",
    )
    reasons: list[Reason] = Field(
        default_factory=list, description="Why the outcome is what it is (codes with values)."
    )
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    invalid_markers: int = Field(default=0, description="Markers [n] removed (no such passage).")
    unsupported_sentences: list[str] = Field(default_factory=list)
    as_of: dt.date | None = None
    date_filter: tuple[dt.date | None, dt.date | None] | None = None
    model: str = ""
    usage: dict[str, int] = Field(default_factory=dict)
    choice: str | None = Field(default=None, description="Picked choice for multiple-choice asks.")
    answerability: float | None = Field(
        default=None,
        description="Calibrated probability that the passages hold the answer "
        "(assistant/answering/answerability.py); None when nothing was retrieved.",
    )
    short_answer: ShortAnswer | None = Field(
        default=None, description="Extractive answers: the phrase that answers, shown first."
    )
    sentences: list[AnswerSentence] = Field(
        default_factory=list,
        description="Sentence spans of ``answer`` with their citations; empty = not computed.",
    )

    @model_validator(mode="after")
    def _refused_is_the_outcome(self) -> Answer:
        """``refused`` and ``outcome`` say the same (answers built with ``refused=True`` only,
        as before outcomes existed, are refusals)."""
        if self.refused and self.outcome != "refused":
            self.outcome = "refused"
        self.refused = self.outcome == "refused"
        return self


class Turn(BaseModel):
    """One exchange of a conversation, used to rewrite follow-up questions."""

    question: str
    answer: str = ""
    standalone: str = Field(default="", description="The question as it was searched.")
    short_answer: str = Field(default="", description="The short answer the turn established.")


class RequestOptions(TypedDict, total=False):
    """The keyword options of ``Assistant.ask`` / ``stream`` / ``retrieve`` (a :class:`Request`)."""

    history: Sequence[Turn] | None
    as_of: dt.date | None
    k: int | None
    since: dt.date | None
    until: dt.date | None
    sources: Sequence[str] | None
    exclude: Collection[str] | None


class Request(BaseModel):
    """One question as the service takes it: what is asked, in which conversation, as of which
    day, with which filters and how many passages."""

    model_config = ConfigDict(extra="forbid")

    question: str
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    as_of: dt.date | None = Field(
        default=None,
        description="The day the question is asked (default today): nothing published later "
        "is searched and recency is measured from it.",
    )
    k: int | None = Field(default=None, description="Passages to read (default: settings.k).")
    since: dt.date | None = None
    until: dt.date | None = None
    sources: list[str] | None = Field(default=None, description="Only these outlets.")
    exclude: list[str] = Field(default_factory=list, description="Article ids left out.")

    @classmethod
    def of(cls, question: str | Request, **options: Unpack[RequestOptions]) -> Request:
        """A Request from a question and keyword options (a Request is taken as it is)."""
        given: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if isinstance(question, Request):
            return cls.model_validate({**question.model_dump(), **given}) if given else question
        return cls(question=question, **given)


class EvalCase(BaseModel):
    id: str
    question: str
    answer: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    answerable: bool = True
    date: dt.date | None = None


class Failure(BaseModel):
    """One input that could not be ingested: where and why, in one line."""

    path: str
    line: int | None = None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


class IngestReport(BaseModel):
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = Field(default=0, description="Articles with no usable text (stubs, empty).")
    failed: list[Failure] = Field(default_factory=list)
    chunks_added: int = 0
    chunks_embedded: int = Field(default=0, description="Embeddings computed (dedup skips some).")
    seconds: float = 0.0
    seconds_embedding: float = 0.0
    not_modified: list[str] = Field(
        default_factory=list, description="URLs whose server answered 304 (nothing new)."
    )


class Stats(BaseModel):
    articles: int
    chunks: int
    sources: dict[str, int]
    earliest: dt.date | None
    latest: dt.date | None
    embedding_model: str
    collection: str


class TimelineEvent(BaseModel):
    """One story on a timeline: its date and one quoted sentence (offsets index article text)."""

    date: dt.date
    article_id: str
    title: str = ""
    source: str | None = None
    url: str | None = None
    quote: str
    start: int = Field(description="Offset of the quote in the article text.")
    end: int
    also_in: list[StoryCopy] = Field(default_factory=list)


class Timeline(BaseModel):
    query: str
    events: list[TimelineEvent] = Field(default_factory=list)
