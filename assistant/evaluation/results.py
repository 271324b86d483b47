"""The per-question result row (:class:`CaseResult`) and results.jsonl, the file that holds them.

Rows are appended one flushed line at a time while a run goes (:class:`ResultsWriter`), read back
on resume (:func:`read_results`, skipping a torn line) and rewritten in question order at the end
(:func:`write_rows`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError


class CaseResult(BaseModel):
    """One evaluated question: what was retrieved and answered, and the per-question scores."""

    id: str
    index: int = Field(description="Position in the question set (rows are sorted by it).")
    question: str
    date: str | None = None
    answerable: bool = True
    answers: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    run_key: str = ""
    error: str | None = None
    # retrieval
    passages: list[dict[str, Any]] = Field(default_factory=list)
    retrieved_articles: list[str] = Field(default_factory=list)
    evidence_rank: int | None = None
    retrieval: dict[str, float] = Field(default_factory=dict)
    # answer
    answered: bool = False
    mode: str | None = None
    model: str = ""
    answer: str | None = None
    refused: bool | None = None
    outcome: str | None = Field(default=None, description="answer, hedged or refused.")
    confidence: float | None = None
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, description="Why the outcome: codes with values (Answer.reasons)."
    )
    answer_passages: list[str] = Field(default_factory=list, description="Chunk ids shown.")
    answer_retrieval: dict[str, float] = Field(
        default_factory=dict,
        description="Retrieval metrics of the passages the answer received (after follow-up "
        "rewriting and date phrases), in retrieval order.",
    )
    choice: str | None = None
    choice_scores: dict[str, float] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    citation_stats: dict[str, float | int | None] = Field(default_factory=dict)
    unsupported_sentences: list[str] = Field(default_factory=list)
    judge: dict[str, Any] | None = None
    verdicts: dict[str, Any] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)


def read_results(path: Path) -> list[CaseResult]:
    """Rows of a results.jsonl; unreadable lines (a run killed mid-write) are skipped."""
    rows: list[CaseResult] = []
    if not path.is_file():
        return rows
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rows.append(CaseResult.model_validate_json(line))
            except ValidationError:
                continue
    return rows


class ResultsWriter:
    """Appends one flushed JSON line per finished question (thread-safe)."""

    def __init__(self, path: Path, *, fresh: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        if fresh or not path.exists():
            path.write_text("", encoding="utf-8")
        elif path.stat().st_size:
            with path.open("rb") as fh:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":  # a torn last line: start the next row on its own line
                    with path.open("a", encoding="utf-8") as out:
                        out.write("\n")
        self._fh = path.open("a", encoding="utf-8")

    def append(self, row: CaseResult) -> None:
        line = row.model_dump_json() + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def write_rows(path: Path, rows: Iterable[CaseResult]) -> None:
    """Replace results.jsonl with the final rows, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(row.model_dump_json() + "\n")
    tmp.replace(path)
