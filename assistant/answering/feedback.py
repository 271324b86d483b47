"""Reader feedback on answers, appended as JSON lines to ``Settings.feedback_file``.

One line per verdict: ``{"time", "verdict", "question", "standalone_question", "answer", "mode",
"refused", "outcome", "model", "citations": [...], "citation_n"?}`` where ``verdict`` is
``"up"``, ``"down"`` or ``"unsupported"`` (a reader says citation ``citation_n`` does not
support its sentence). The file is only ever appended to, one ``write`` per line, so concurrent
sessions do not interleave half lines. Settings are never written, and the configured API key is masked if an answer happens
to contain it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from assistant.models import Answer

Verdict = Literal["up", "down", "unsupported"]
VERDICTS: tuple[str, ...] = ("up", "down", "unsupported")

_CITATION_FIELDS = (
    "n",
    "article_id",
    "chunk_id",
    "title",
    "source",
    "published",
    "url",
    "quote",
    "start",
    "end",
    "supported",
    "support",
    "sentence",
)


def feedback_record(
    answer: Answer,
    verdict: Verdict,
    citation_n: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The JSON-ready record for one verdict on ``answer`` (citation ``citation_n`` if given)."""
    if verdict not in VERDICTS:
        msg = f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}"
        raise ValueError(msg)
    if verdict == "unsupported" and citation_n is None:
        msg = "an 'unsupported' verdict needs the citation number it is about"
        raise ValueError(msg)
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    record: dict[str, Any] = {
        "time": when.isoformat(timespec="seconds"),
        "verdict": verdict,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.answer,
        "mode": answer.mode,
        "refused": answer.refused,
        "outcome": answer.outcome,
        "model": answer.model,
        "citations": [
            c.model_dump(mode="json", include=set(_CITATION_FIELDS)) for c in answer.citations
        ],
    }
    if citation_n is not None:
        record["citation_n"] = citation_n
    return record


def append_feedback(
    settings: Settings,
    answer: Answer,
    verdict: Verdict,
    citation_n: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append one verdict to ``settings.feedback_file``; returns the record written."""
    record = feedback_record(answer, verdict, citation_n, now)
    line = json.dumps(record, ensure_ascii=False)
    secret = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    if secret and secret in line:
        line = line.replace(secret, "***")
        record = json.loads(line)
    write_line(settings.feedback_file, line)
    return record


def write_line(path: Path, line: str) -> None:
    """Append ``line`` plus a newline with a single O_APPEND write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.replace("\n", " ") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """All records of a feedback file (missing file = none); unreadable lines are skipped."""
    if not path.exists():
        return []
    records: list[dict[str, Any]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return records
