"""Retrieval quality side by side: dense-only, BM25-only and fused, on questions with gold evidence.

    python -m benchmarks.bench_retrieval \
        --corpus ../shared/data/realtimeqa-dev/articles.jsonl \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl --store /tmp/rt-store

Ingests the corpus into --store first (idempotent: a second run embeds nothing), then asks each
question with evidence as of its date (nothing published later is searched) and reports Hit@1/5/10
and MRR@10 of the evidence articles. Writes benchmarks/results/retrieval[-NAME].json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_result

MODES = ("dense", "lexical", "fused")


def evaluate(assistant: Any, cases: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    from assistant.evaluation.metrics import dedupe_articles, hit_at_k, mrr_at_k, ndcg_at_k

    hits: dict[int, float] = {1: 0.0, 5: 0.0, 10: 0.0}
    mrr = ndcg = 0.0
    latencies: list[float] = []
    for case in cases:
        until = dt.date.fromisoformat(case["date"]) if case.get("date") else None
        t0 = time.perf_counter()
        passages = assistant.search(case["question"], k=30, until=until, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked = dedupe_articles(p.article_id for p in passages)[:10]
        for k in hits:
            hits[k] += hit_at_k(ranked, case["evidence"], k)
        mrr += mrr_at_k(ranked, case["evidence"], 10)
        ndcg += ndcg_at_k(ranked, case["evidence"], 10)
    n = len(cases) or 1
    latencies.sort()
    return {
        "mode": mode,
        "questions": len(cases),
        **{f"hit@{k}": round(v / n, 4) for k, v in hits.items()},
        "mrr@10": round(mrr / n, 4),
        "ndcg@10": round(ndcg / n, 4),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True, help="Store folder (reused across runs).")
    ap.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    ap.add_argument("--collection", default="news")
    ap.add_argument("--name", default="", help="Suffix of the result file.")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.service import Assistant

    settings = Settings(
        store_dir=args.store,
        collection=args.collection,
        embed_backend=args.backend,
        max_per_article=1,
        _env_file=None,
    )
    assistant = Assistant(settings, chat_model=None)
    t0 = time.perf_counter()
    report = assistant.ingest([args.corpus])
    print(
        f"ingest: {report.new} new, {report.unchanged} unchanged, {report.chunks_embedded} "
        f"embedded in {time.perf_counter() - t0:.1f}s"
    )

    cases = [json.loads(line) for line in args.questions.open(encoding="utf-8") if line.strip()]
    cases = [c for c in cases if c.get("evidence") and c.get("answerable", True)]
    rows = [evaluate(assistant, cases, mode) for mode in MODES]
    print(
        table(
            rows, ["mode", "questions", "hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "p50_ms"]
        )
    )
    best = max(rows, key=lambda r: (r["hit@5"], r["mrr@10"]))
    print(f"\nbest by Hit@5 then MRR@10: {best['mode']}")
    name = "retrieval" + (f"-{args.name}" if args.name else "")
    path = write_result(
        name,
        {
            "corpus": str(args.corpus),
            "questions": str(args.questions),
            "backend": args.backend,
            "results": rows,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
