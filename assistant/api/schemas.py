"""The few shapes the HTTP API has of its own; everything else it sends is one of the project's
models (Answer, Passage, Timeline, Stats, IngestReport, Article), the same as ``--json``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.models import Answer, Article, Passage


class IngestBody(BaseModel):
    """``POST /v1/articles`` as JSON: article records and/or URLs to fetch."""

    model_config = ConfigDict(extra="forbid")

    articles: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Article records: {"id", "title", "text", "url"?, "published"? '
        '(YYYY-MM-DD), "source"?, "authors"?, ...}; extra keys are kept as metadata. A '
        "failure names the record by its position (line 1 = the first).",
    )
    urls: list[str] = Field(
        default_factory=list,
        description="http(s) URLs of article pages or RSS/Atom feeds; public addresses only.",
    )


class Deleted(BaseModel):
    """``DELETE /v1/articles/{id}``: the article and how many chunks went with it."""

    deleted: str
    chunks: int


class Health(BaseModel):
    """``GET /healthz``."""

    status: str = Field(description="'ok' when the store answered and the index is loaded.")
    store: str = Field(description="'reachable', or why not.")
    indexed_chunks: int = Field(description="Chunks in the keyword index.")
    mode: str = Field(description="'llm' or 'extractive'.")
    backend: str = Field(description="Which model answers (keys redacted).")
    version: str


def passage_json(passage: Passage) -> dict[str, Any]:
    """A passage as ``search --json`` prints it (the raw cosine score left out)."""
    return passage.model_dump(mode="json", exclude={"dense_score"})


def answer_json(answer: Answer) -> dict[str, Any]:
    """An Answer as ``ask --json`` prints it."""
    data = answer.model_dump(mode="json")
    data["passages"] = [passage_json(p) for p in answer.passages]
    return data


def article_json(article: Article) -> dict[str, Any]:
    """A stored article for clients: its file path on the server is left out."""
    return article.model_dump(mode="json", exclude={"origin", "legacy_id", "id_from"})
