"""Calibrate and measure the answer/refuse decision on a set with unanswerable questions.

    python -m benchmarks.bench_refusal --corpus ../shared/data/squad2-dev/articles.jsonl \
        --questions ../shared/data/squad2-dev/questions.jsonl --store /tmp/squad-store

For every question: the relevance signal the assistant refuses on (best passage's cosine
similarity) and the decision ``ask`` actually made with the configured threshold. Prints the
balanced accuracy (mean of the recall on answerable and on unanswerable questions) of the configured
threshold and of a sweep, so the default can be set from data. Writes results/refusal.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_result


def balanced_accuracy(refused: list[bool], answerable: list[bool]) -> dict[str, float]:
    ans = [not r for r, a in zip(refused, answerable, strict=True) if a]
    una = [r for r, a in zip(refused, answerable, strict=True) if not a]
    recall_answer = float(np.mean(ans)) if ans else 0.0
    recall_refuse = float(np.mean(una)) if una else 0.0
    return {
        "answered_when_answerable": round(recall_answer, 4),
        "refused_when_unanswerable": round(recall_refuse, 4),
        "balanced_accuracy": round((recall_answer + recall_refuse) / 2, 4),
        "accuracy": round(
            float(np.mean([r != a for r, a in zip(refused, answerable, strict=True)])), 4
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--backend", default=None, help="Embedding runtime (default: settings).")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.service import Assistant

    update: dict[str, Any] = {"store_dir": args.store}
    if args.backend:
        update["embed_backend"] = args.backend
    settings = Settings(_env_file=None).model_copy(update=update)
    assistant = Assistant(settings, chat_model=None)
    report = assistant.ingest([args.corpus])
    print(f"ingest: {report.new} new, {report.unchanged} unchanged")

    cases = [json.loads(x) for x in args.questions.open(encoding="utf-8") if x.strip()]
    best_scores: list[float] = []
    decided: list[bool] = []
    answerable: list[bool] = []
    t0 = time.perf_counter()
    for case in cases:
        answer = assistant.ask(case["question"])
        scores = [p.dense_score or 0.0 for p in answer.passages]
        best_scores.append(max(scores) if scores else 0.0)
        decided.append(answer.refused)
        answerable.append(bool(case.get("answerable", True)))
    seconds = time.perf_counter() - t0

    configured = {
        "threshold": settings.refuse_threshold,
        "source": "ask()",
        **balanced_accuracy(decided, answerable),
    }
    sweep = []
    for t in np.arange(0.10, 0.71, 0.05):
        refused = [s < t for s in best_scores]
        sweep.append({"threshold": round(float(t), 2), **balanced_accuracy(refused, answerable)})
    best = max(sweep, key=lambda r: r["balanced_accuracy"])
    cols = [
        "threshold",
        "answered_when_answerable",
        "refused_when_unanswerable",
        "balanced_accuracy",
        "accuracy",
    ]
    print(table([configured], ["source", *cols]))
    print()
    print(table(sweep, cols))
    print(
        f"\nbest threshold on this set: {best['threshold']} "
        f"(balanced accuracy {best['balanced_accuracy']}); {len(cases)} questions, "
        f"{sum(not a for a in answerable)} unanswerable, {seconds / len(cases) * 1000:.0f} ms/question"
    )
    path = write_result(
        "refusal",
        {
            "corpus": str(args.corpus),
            "configured": configured,
            "sweep": sweep,
            "best": best,
            "questions": len(cases),
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
