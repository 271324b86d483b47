"""Retrieval quality side by side: BM25 only, dense only, the earlier RRF default and the default.

    python -m benchmarks.bench_retrieval \\
        --corpus ../shared/data/realtimeqa-dev/articles.jsonl \\
        --questions ../shared/data/realtimeqa-dev/questions.jsonl --store /tmp/rt-store \\
        --squad-corpus ../shared/data/squad2-dev/articles.jsonl \\
        --squad-questions ../shared/data/squad2-dev/questions.jsonl --squad-store /tmp/sq-store

Ingests each corpus into its store first (idempotent: a second run embeds nothing), then asks each
question with gold evidence as of its date (nothing published later is searched; recency is
measured from that date) and reports Hit@1/5/10, MRR@10 and nDCG@10 of the evidence articles.

Dated question sets are split by week: questions dated up to --split (2022-07-15 for RealTimeQA
dev) are the half the ranking weights were fitted on, later ones the held-out half that is
reported; both are printed. Writes benchmarks/results/retrieval[-NAME].json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_result

MODES = ("lexical", "dense", "rrf", "fused")
LABELS = {
    "lexical": "BM25 only",
    "dense": "dense only",
    "rrf": "previous default (RRF)",
    "fused": "default (news ranking)",
}
COLUMNS = ["half", "mode", "questions", "hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "p50_ms"]


def evaluate(assistant: Any, cases: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    from assistant.evaluation.metrics import dedupe_articles, hit_at_k, mrr_at_k, ndcg_at_k

    hits: dict[int, float] = {1: 0.0, 5: 0.0, 10: 0.0}
    mrr = ndcg = 0.0
    latencies: list[float] = []
    for case in cases:
        day = dt.date.fromisoformat(case["date"]) if case.get("date") else None
        t0 = time.perf_counter()
        passages = assistant.search(case["question"], k=30, until=day, as_of=day, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked = dedupe_articles(p.article_id for p in passages)[:10]
        for k in hits:
            hits[k] += hit_at_k(ranked, case["evidence"], k)
        mrr += mrr_at_k(ranked, case["evidence"], 10)
        ndcg += ndcg_at_k(ranked, case["evidence"], 10)
    n = len(cases) or 1
    latencies.sort()
    return {
        "mode": LABELS[mode],
        "questions": len(cases),
        **{f"hit@{k}": round(v / n, 4) for k, v in hits.items()},
        "mrr@10": round(mrr / n, 4),
        "ndcg@10": round(ndcg / n, 4),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
    }


def open_store(corpus: Path, store: Path, backend: str, collection: str) -> Any:
    from assistant.config import Settings
    from assistant.service import Assistant

    settings = Settings(
        store_dir=store,
        collection=collection,
        embed_backend=backend,
        max_per_article=1,
        _env_file=None,
    )
    assistant = Assistant(settings, chat_model=None)
    t0 = time.perf_counter()
    report = assistant.ingest([corpus])
    print(
        f"{corpus}: {report.new} new, {report.unchanged} unchanged, {report.chunks_embedded} "
        f"embedded in {time.perf_counter() - t0:.1f}s"
    )
    return assistant


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [c for c in cases if c.get("evidence") and c.get("answerable", True)]


def halves(cases: list[dict[str, Any]], split: str) -> dict[str, list[dict[str, Any]]]:
    dated = [c for c in cases if c.get("date")]
    if not dated:
        return {"all (undated)": cases}
    return {
        f"fit (<= {split})": [c for c in dated if c["date"] <= split],
        f"report (> {split})": [c for c in dated if c["date"] > split],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True, help="Store folder (reused across runs).")
    ap.add_argument("--squad-corpus", type=Path, help="An undated corpus (squad2-dev), optional.")
    ap.add_argument("--squad-questions", type=Path)
    ap.add_argument("--squad-store", type=Path)
    ap.add_argument("--split", default="2022-07-15", help="Last question date of the fit half.")
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx", "onnx-int8"])
    ap.add_argument("--collection", default="news")
    ap.add_argument("--name", default="", help="Suffix of the result file.")
    args = ap.parse_args()

    sets = [("realtimeqa", args.corpus, args.questions, args.store)]
    if args.squad_corpus and args.squad_questions and args.squad_store:
        sets.append(("squad2", args.squad_corpus, args.squad_questions, args.squad_store))
    rows: list[dict[str, Any]] = []
    for name, corpus, questions, store in sets:
        assistant = open_store(corpus, store, args.backend, args.collection)
        for half, cases in halves(load_cases(questions), args.split).items():
            for mode in MODES:
                rows.append(
                    {"set": name, "half": f"{name} {half}", **evaluate(assistant, cases, mode)}
                )
    print(table(rows, COLUMNS))
    name = "retrieval" + (f"-{args.name}" if args.name else "")
    path = write_result(
        name,
        {
            "corpus": str(args.corpus),
            "questions": str(args.questions),
            "squad_corpus": str(args.squad_corpus) if args.squad_corpus else None,
            "split": args.split,
            "backend": args.backend,
            "results": rows,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
