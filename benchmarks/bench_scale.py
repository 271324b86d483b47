"""What one node holds: query latency, memory and disk of existing stores of several sizes.

    python -m benchmarks.bench_scale --questions ../shared/data/realtimeqa-dev/questions.jsonl \
        --stores /work/bench/rt /work/bench/big100k /work/bench/big300k [--backend onnx-int8]

The stores are built beforehand (``benchmarks/build_store.py`` copies a real store's chunks and
vectors under new ids). Each store is measured in a process of its own (honest resident memory):
the first question (which opens the lexical index — built once if the store has none — and loads
the model), then every question of the set in each query kind (dense, BM25, fused, fused with a
30-day date window, fused with an outlet filter); p50/p95 include embedding the question.
Writes benchmarks/results/scale.json. Never a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import folder_bytes, peak_rss_mb, rss_mb, table, write_result


def measure_store(store: Path, questions: Path, backend: str, limit: int) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.service import Assistant
    from benchmarks.bench_query import measure

    rows = [json.loads(x) for x in questions.open(encoding="utf-8") if x.strip()][:limit]
    settings = Settings(store_dir=store, embed_backend=backend, _env_file=None)
    assistant = Assistant(settings, chat_model=None)
    t0 = time.perf_counter()
    chunks = assistant.store.count()
    assistant.search("warm up the index and the model", k=5)
    first_s = time.perf_counter() - t0
    sources = list(assistant.stats().sources)[:5]
    kinds = measure(assistant, rows, sources)
    # what a reader pays when another process wrote to the embedded store: the client is opened
    # again and Chroma reads its vector index from disk (ChunkStore.written_by_others)
    t0 = time.perf_counter()
    assistant.store.reopen()
    assistant.search(rows[0]["question"], k=5, mode="dense")
    reopen_s = time.perf_counter() - t0
    return {
        "store": str(store),
        "chunks": chunks,
        "first_query_s": round(first_s, 2),
        "reopen_and_query_s": round(reopen_s, 2),
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chroma_mb": round(folder_bytes(store / "chroma") / 2**20, 1),
        "lexical_mb": round(folder_bytes(settings.lexical_dir) / 2**20, 1),
        "kinds": kinds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--stores", type=Path, nargs="+", required=True)
    ap.add_argument("--backend", default="onnx-int8", choices=["torch", "onnx", "onnx-int8"])
    ap.add_argument("--limit", type=int, default=200, help="Questions per query kind.")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the per-store child process
    args = ap.parse_args()

    if args.one:
        print(json.dumps(measure_store(args.one, args.questions, args.backend, args.limit)))
        return
    results = []
    for store in args.stores:
        cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--questions", str(args.questions)]
        cmd += ["--stores", str(store), "--backend", args.backend, "--limit", str(args.limit)]
        out = subprocess.run([*cmd, "--one", str(store)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{store}: failed\n{out.stderr[-3000:]}", file=sys.stderr)
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        rows = [{**k, "chunks": res["chunks"]} for k in res["kinds"]]
        print(table(rows, ["chunks", "query", "p50_ms", "p95_ms", "n"]))
        summary = {k: v for k, v in res.items() if k != "kinds"}
        print(json.dumps(summary), flush=True)
    path = write_result("scale", {"backend": args.backend, "results": results})
    print(f"written {path}")


if __name__ == "__main__":
    main()
