"""The extractive reader (assistant/answering/reader.py) against today's sentence choice, on a question set.

    python -m benchmarks.bench_reader --store /work/bench/sq \
        --questions ../shared/data/squad2-dev/questions.jsonl [--collection news] [--limit N]

For every answerable question the top k=5 passages are retrieved once (``Assistant.search``, as of
the question's date when it has one) from a temporary copy of the store (the store itself is only
read), then both readers answer from the same passages:

- *old*: ``Answerer.best_sentences`` (2 whole sentences), the extractive answer before the reader;
- *new*: the short answer followed by the sentence(s) :func:`assistant.answering.reader.compose` picks.

Reported per half: the share of questions whose accepted answer is in the 5 passages at all
(*in_passages*, the ceiling of any reader), accepted answer *contained* in the answer text (short
answer + sentences), the
short answer's token F1 and exact match (SQuAD normalisation, assistant/evaluation/metrics.py),
the old sentences' F1 for comparison, and sentences quoted per answer. Halves: questions with a
date are split by it (fit <= 2022-07-15, report >= 2022-07-21: RealTimeQA's dev weeks); questions
without one by the parity of the first hex digit of SHA-1(question id) (fit even, report odd).
Constants in reader.py were set on the fit halves only. Writes results/reader-<name>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_result

FIT_UNTIL = dt.date(2022, 7, 15)
REPORT_FROM = dt.date(2022, 7, 21)


def half(case: dict[str, Any]) -> str | None:
    """'fit', 'report' or None (a dated question between the two halves)."""
    from assistant.models import sha1

    if case.get("date"):
        day = dt.date.fromisoformat(case["date"])
        if day <= FIT_UNTIL:
            return "fit"
        return "report" if day >= REPORT_FROM else None
    return "fit" if int(sha1(str(case["id"]))[0], 16) % 2 == 0 else "report"


def retrieve(
    store: Path, collection: str, cases: list[dict[str, Any]], cache: Path | None = None
) -> tuple[Any, list[Any]]:
    """(reading embedder, passages per case) from a temporary copy of the store; with ``cache``,
    passages retrieved by an earlier run (same store and questions) are read from that file."""
    from assistant.config import Settings
    from assistant.models import Passage
    from assistant.service import Assistant

    if cache is not None and cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if [c["id"] for c in cases] == data["ids"]:
            assistant = Assistant(Settings(_env_file=None), chat_model=None)
            found = [[Passage.model_validate(p) for p in ps] for ps in data["passages"]]
            return assistant.reading_embedder, found

    work = Path(tempfile.mkdtemp(prefix="bench-reader-"))
    shutil.copytree(store, work / "store", ignore=shutil.ignore_patterns("write.lock"))
    settings = Settings(_env_file=None).model_copy(
        update={"store_dir": work / "store", "collection": collection}
    )
    assistant = Assistant(settings, chat_model=None)
    out = []
    for case in cases:
        until = dt.date.fromisoformat(case["date"]) if case.get("date") else None
        out.append(assistant.search(case["question"], k=5, until=until))
    shutil.rmtree(work, ignore_errors=True)
    if cache is not None:
        ids = [c["id"] for c in cases]
        dumped = [[p.model_dump(mode="json") for p in ps] for ps in out]
        cache.write_text(json.dumps({"ids": ids, "passages": dumped}), encoding="utf-8")
    return assistant.reading_embedder, out


def score(cases: list[dict[str, Any]], passages: list[Any], embedder: Any) -> list[dict[str, Any]]:
    from assistant.answering.answer import Answerer
    from assistant.answering.reader import answer_type, compose, rank_sentences, short_answer
    from assistant.config import Settings
    from assistant.evaluation import metrics as m

    old_reader = Answerer(Settings(_env_file=None), None, embedder)
    rows = []
    for case, found in zip(cases, passages, strict=True):
        q, gold = case["question"], case["answer"]
        old = " ".join(s.text for s in old_reader.best_sentences(q, found, 2))
        t0 = time.perf_counter()
        ranked = rank_sentences(q, found, embedder)
        short = short_answer(q, ranked)
        quoted = compose(q, ranked, short)
        ms = (time.perf_counter() - t0) * 1000
        phrase = short.text if short else ""
        new = " ".join([phrase, *(ranked[i].text for i in quoted)])
        rows.append(
            {
                "id": case["id"],
                "half": half(case),
                "type": str(answer_type(q)),
                "in_passages": m.contained(" ".join(p.text for p in found), gold),
                "old_contained": m.contained(old, gold),
                "new_contained": m.contained(new, gold),
                "short_f1": m.token_f1(phrase, gold),
                "short_em": m.exact_match(phrase, gold),
                "old_f1": m.token_f1(old, gold),
                "sentences": len(quoted),
                "short": phrase,
                "gold": gold[0] if gold else "",
                "ms": ms,
            }
        )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {"questions": 0}
    keys = [
        "in_passages",
        "old_contained",
        "new_contained",
        "short_f1",
        "short_em",
        "old_f1",
        "sentences",
    ]
    out: dict[str, Any] = {"questions": len(rows)}
    out.update({k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys})
    out["reader_ms_p50"] = round(float(np.median([r["ms"] for r in rows])), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--store", type=Path, required=True, help="Store folder (only read).")
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--collection", default="news")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--name", default=None, help="Result name (default: the question set's).")
    ap.add_argument("--cache", type=Path, default=None, help="Keep retrieved passages here.")
    args = ap.parse_args()

    cases = [json.loads(x) for x in args.questions.open(encoding="utf-8") if x.strip()]
    cases = [c for c in cases if c.get("answerable", True) and c.get("answer")]
    if args.limit:
        cases = cases[: args.limit]
    t0 = time.perf_counter()
    embedder, passages = retrieve(args.store, args.collection, cases, args.cache)
    rows = score(cases, passages, embedder)
    seconds = time.perf_counter() - t0

    halves = {h: summary([r for r in rows if r["half"] == h]) for h in ("fit", "report")}
    by_type: dict[str, dict[str, Any]] = defaultdict(dict)
    for h in ("fit", "report"):
        for kind in sorted({r["type"] for r in rows}):
            by_type[kind][h] = summary([r for r in rows if r["half"] == h and r["type"] == kind])
    cols = [
        "half",
        "questions",
        "in_passages",
        "old_contained",
        "new_contained",
        "short_f1",
        "short_em",
    ]
    cols += ["old_f1", "sentences", "reader_ms_p50"]
    print(table([{"half": h, **s} for h, s in halves.items()], cols))
    print()
    type_rows = [{"half": f"{k} / {h}", **s} for k, v in by_type.items() for h, s in v.items()]
    print(table(type_rows, cols))
    name = args.name or args.questions.parent.name or args.questions.stem
    path = write_result(
        f"reader-{name}",
        {
            "command": "python -m benchmarks.bench_reader "
            f"--store {args.store} --questions {args.questions} --collection {args.collection}",
            "halves": halves,
            "by_type": by_type,
            "seconds": round(seconds, 1),
            "rows": rows,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
