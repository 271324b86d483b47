"""Question sets in: read and validate a question-set JSONL file, and name the collection an
eval corpus is ingested into.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from assistant.errors import UsageError
from assistant.models import EvalCase, sha1

_COLLECTION_BAD = re.compile(r"[^a-zA-Z0-9._-]+")


def load_cases(path: Path, limit: int | None = None) -> list[EvalCase]:
    """Read a question-set JSONL file; a bad line is a usage error naming the line."""
    if not path.is_file():
        msg = f"question set {path} not found"
        raise UsageError(msg)
    cases: list[EvalCase] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError("not a JSON object")
                if isinstance(record.get("answer"), str):
                    record["answer"] = [record["answer"]]
                case = EvalCase.model_validate(record)
            except (ValueError, TypeError, ValidationError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if isinstance(exc, ValidationError):
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first.get("loc", ()))
                    reason = f"{where}: {first.get('msg', '')}"
                msg = f"{path}:{lineno}: not a question record ({reason})"
                raise UsageError(msg) from None
            if not any(ch.isalnum() for ch in case.question):
                msg = f"{path}:{lineno}: the question is empty"
                raise UsageError(msg)
            if case.id in seen:
                msg = f"{path}:{lineno}: question id {case.id!r} appears twice"
                raise UsageError(msg)
            seen.add(case.id)
            cases.append(case)
            if limit is not None and len(cases) >= limit:
                break
    if not cases:
        msg = f"question set {path} has no questions"
        raise UsageError(msg)
    return cases


def corpus_collection(corpus: Path) -> str:
    """The collection an eval corpus is ingested into: ``eval_<stem>_<hash of its path>``.

    Valid for Chroma (3-512 chars of [a-zA-Z0-9._-], alphanumeric at both ends).
    """
    stem = _COLLECTION_BAD.sub("_", corpus.stem).strip("._-")[:40] or "corpus"
    return f"eval_{stem}_{sha1(str(corpus.resolve()))[:8]}"
