"""Answer or refuse: build the two kinds of "not in the articles", fit the decision, report it.

    python -m benchmarks.bench_refusal \\
        --realtimeqa ../shared/data/realtimeqa-dev --rt-store /tmp/rt-store \\
        --squad ../shared/data/squad2-dev --sq-store /tmp/sq-store

Question sets (each split into a fit half and a report half):

- *off-corpus* (built from RealTimeQA dev): every question with gold evidence, asked twice: once
  against the whole collection (answerable) and once with its evidence articles and every article
  containing an accepted answer left out of the search (the topic is not covered: must refuse).
  Split by week: questions dated up to 2022-07-15 fit, later ones report.
- *near-miss* (SQuAD 2.0 dev): the topic is covered, the answer is not (124 of 250 questions).
  Split by a hash of the question id (even = fit).
- *RealTimeQA, all questions* (marked answerable by the data set; 205 have no gold article, so
  some are truly not covered): the share refused.

For every question the signals of :mod:`assistant.answering.answerability` are computed on exactly the
passages ``ask`` would read (``Assistant.retrieve``) and the stored calibration is measured
(``benchmarks/fit_news.py`` fits it; its dev rows are these). Writes
benchmarks/results/refusal.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_result

SPLIT = "2022-07-15"


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return " " + " ".join(re.findall(r"[a-z0-9']+", text)) + " "


def containing(texts: dict[str, str], answers: list[str]) -> set[str]:
    """Ids of the articles whose (normalised) title and text contain an accepted answer."""
    needles = [_norm(a) for a in answers if _norm(a).strip()]
    return {aid for aid, hay in texts.items() if any(n in hay for n in needles)}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def open_assistant(store: Path) -> Any:
    from assistant.config import Settings
    from assistant.service import Assistant

    return Assistant(Settings(store_dir=store, _env_file=None), chat_model=None)


def rows_for(
    assistant: Any, cases: list[dict[str, Any]], label: str, exclude_map: dict[str, set[str]]
) -> list[dict[str, Any]]:
    from assistant.answering.answerability import signals

    index = assistant.lexical()
    out = []
    for c in cases:
        day = dt.date.fromisoformat(c["date"]) if c.get("date") else None
        exclude = exclude_map.get(c["id"])
        _, passages, _, _ = assistant.retrieve(c["question"], as_of=day, exclude=exclude)
        feats = signals(c["question"], passages, index.idf)
        out.append({"set": label, "id": c["id"], "date": c.get("date"), "features": feats,
                    "answerable": c["answerable"]})  # fmt: skip
    return out


def collect(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    rt = open_assistant(args.rt_store)
    texts = {
        str(a["id"]): _norm(f"{a.get('title', '')} {a.get('text', '')}")
        for a in read_jsonl(args.realtimeqa / "articles.jsonl")
    }
    questions = read_jsonl(args.realtimeqa / "questions.jsonl")
    with_evidence = [q for q in questions if q.get("evidence")]
    excluded = {
        q["id"]: set(q["evidence"]) | containing(texts, q.get("answer", [])) for q in with_evidence
    }
    intact = [dict(q, answerable=True) for q in with_evidence]
    removed = [dict(q, answerable=False, id=q["id"] + "#off") for q in with_evidence]
    rows += rows_for(rt, intact, "off-corpus", {})
    rows += rows_for(
        rt, removed, "off-corpus", {q["id"] + "#off": excluded[q["id"]] for q in with_evidence}
    )
    rows += rows_for(rt, [dict(q, answerable=True) for q in questions], "realtimeqa-all", {})
    sq = open_assistant(args.sq_store)
    squad = [
        dict(q, answerable=q.get("answerable", True))
        for q in read_jsonl(args.squad / "questions.jsonl")
    ]
    rows += rows_for(sq, squad, "near-miss", {})
    for r in rows:
        if r["date"]:
            r["half"] = "fit" if r["date"] <= SPLIT else "report"
        else:
            r["half"] = "fit" if zlib.crc32(r["id"].encode()) % 2 == 0 else "report"
    return rows


def by_half_and_set(
    rows: list[dict[str, Any]],
) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """(half, set, rows) of each half and question set that has rows."""
    for half in ("fit", "report"):
        for name in ("off-corpus", "near-miss", "realtimeqa-all"):
            sel = [r for r in rows if r["set"] == name and r["half"] == half]
            if sel:
                yield half, name, sel


def measure(rows: list[dict[str, Any]], calibration: Any) -> list[dict[str, Any]]:
    from assistant.answering.answerability import probability

    out = []
    for half, name, sel in by_half_and_set(rows):
        p = np.array([probability(r["features"], calibration) for r in sel])
        y = np.array([r["answerable"] for r in sel])
        for mode, cut in (
            ("extractive", calibration.answer_at),
            ("llm floor", calibration.floor),
        ):
            refused = p < cut
            row = {"half": half, "set": name, "mode": mode, "n": len(sel)}
            row["answerable refused"] = round(float(refused[y].mean()), 3) if y.any() else None
            row["unanswerable refused"] = (
                round(float(refused[~y].mean()), 3) if (~y).any() else None
            )
            if y.any() and (~y).any():
                row["balanced accuracy"] = round(
                    (1 - row["answerable refused"] + row["unanswerable refused"]) / 2, 3
                )
            out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--realtimeqa", type=Path, required=True, help="Folder with articles/questions.jsonl"
    )
    ap.add_argument("--rt-store", type=Path, required=True, help="Store with the RealTimeQA corpus")
    ap.add_argument("--squad", type=Path, required=True, help="Folder with squad2-dev")
    ap.add_argument("--sq-store", type=Path, required=True, help="Store with the squad2 corpus")
    ap.add_argument("--family", default="all-MiniLM-L6-v2", help="Embedding family measured")
    args = ap.parse_args()

    from assistant.answering.answerability import LEXICAL_MODEL, Calibration, calibration_for

    rows = collect(args)
    results = {}
    for family in (args.family, LEXICAL_MODEL):
        name, calibration = calibration_for(family)
        if name != family:
            continue
        measured = measure(rows, Calibration.model_validate(calibration.model_dump()))
        print(f"\n{family}: answer_at {calibration.answer_at}, floor {calibration.floor}")
        print(
            table(
                measured,
                [
                    "half",
                    "set",
                    "mode",
                    "n",
                    "answerable refused",
                    "unanswerable refused",
                    "balanced accuracy",
                ],
            )
        )
        results[family] = {"calibration": calibration.model_dump(), "results": measured}
    path = write_result("refusal", {"split": SPLIT, "families": results})
    print(f"written {path}")


if __name__ == "__main__":
    main()
