"""The HTTP API under load: N clients asking at once while one client ingests, against the same
asks made in-process on the same store (threads over one Assistant, one thread ingesting).

    python -m benchmarks.bench_api --store /tmp/rt-store \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl \
        --corpus ../shared/data/bbc-news/articles.jsonl --clients 4 --n 10

The store is copied twice (``--work``), once for each run, so both start from the same state
and the given store is left as it was. The HTTP run starts ``assistant serve`` on a free port
in its own process; its clients are httpx clients in threads of this one, as the in-process run's
askers are threads. Reported per run: asks, errors, throughput (asks per second of wall time),
p50/p95 latency, and how long the ingest took and what it wrote; then HTTP / in-process ratios.
``--out FILE`` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.common import machine, table

Ask = Callable[[dict[str, Any]], str]
"""Ask one question (a question-set row); returns an error message, or '' when it went well."""


def load_questions(path: Path) -> list[dict[str, Any]]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [r for r in rows if r.get("question")]


def load_records(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def run_load(
    questions: list[dict[str, Any]],
    clients: int,
    per_client: int,
    ask_factory: Callable[[], Ask],
    ingest: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """``clients`` threads asking ``per_client`` questions each while ``ingest`` runs."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    ingest_out: dict[str, Any] = {}

    def asker(index: int) -> None:
        ask = ask_factory()
        for j in range(per_client):
            row = questions[(index * per_client + j) % len(questions)]
            started = time.perf_counter()
            error = ask(row)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if error:
                    errors.append(error)

    def writer() -> None:
        started = time.perf_counter()
        try:
            ingest_out.update(ingest())
        except Exception as exc:  # reported, not raised: the asks' figures still count
            ingest_out["error"] = f"{type(exc).__name__}: {exc}"
        ingest_out["seconds"] = round(time.perf_counter() - started, 2)

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(clients)]
    ingesting = threading.Thread(target=writer)
    started = time.perf_counter()
    ingesting.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ingesting.join()
    return {
        "asks": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(latencies) / wall, 3) if wall else 0.0,
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else 0.0,
        "p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else 0.0,
        "ingest": ingest_out,
    }


# --- over HTTP ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: Path, clients: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_API_")}
    env.update(
        ASSISTANT_STORE_DIR=str(store),
        ASSISTANT_API_MAX_CONCURRENT=str(clients + 8),
        ASSISTANT_API_MAX_BODY=str(200_000_000),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"assistant serve exited: {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    msg = f"assistant serve did not answer within 300 s: {log.read_text()[-2000:]}"
    raise TimeoutError(msg)


def http_run(
    store: Path, questions: list[dict[str, Any]], records: list[dict[str, Any]], args: Any
) -> dict[str, Any]:
    proc, url = start_server(store, args.clients, store.parent / "serve.log")
    try:

        def ask_factory() -> Ask:
            http = httpx.Client(base_url=url, timeout=600)

            def ask(row: dict[str, Any]) -> str:
                body = {"question": row["question"], "as_of": row.get("date")}
                response = http.post("/v1/ask", json={k: v for k, v in body.items() if v})
                return (
                    ""
                    if response.status_code == 200
                    else f"{response.status_code}: {response.text[:200]}"
                )

            return ask

        def ingest() -> dict[str, Any]:
            if not records:
                return {}
            with httpx.Client(base_url=url, timeout=3600) as http:
                response = http.post("/v1/articles", json={"articles": records})
            if response.status_code != 200:
                return {"error": f"{response.status_code}: {response.text[:200]}"}
            report = response.json()
            return {"new": report["new"], "failed": len(report["failed"]),
                    "chunks_embedded": report["chunks_embedded"]}  # fmt: skip

        return run_load(questions, args.clients, args.n, ask_factory, ingest)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- in-process ----------------------------------------------------------------------------------


def inprocess_run(
    store: Path, questions: list[dict[str, Any]], corpus: Path | None, args: Any
) -> dict[str, Any]:
    import datetime as dt

    from assistant.api.app import warm_up
    from assistant.config import Settings
    from assistant.models import Request
    from assistant.service import Assistant

    assistant = Assistant(Settings(store_dir=store))
    warm_up(assistant)  # as the server does at start-up

    def ask_factory() -> Ask:
        def ask(row: dict[str, Any]) -> str:
            day = dt.date.fromisoformat(row["date"]) if row.get("date") else None
            try:
                assistant.ask(Request(question=row["question"], as_of=day))
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
            return ""

        return ask

    def ingest() -> dict[str, Any]:
        if corpus is None:
            return {}
        report = assistant.ingest([corpus], content_ids=True)
        return {"new": report.new, "failed": len(report.failed),
                "chunks_embedded": report.chunks_embedded}  # fmt: skip

    return run_load(questions, args.clients, args.n, ask_factory, ingest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="A store folder (copied).")
    parser.add_argument("--questions", type=Path, required=True, help="Question set JSONL.")
    parser.add_argument("--clients", type=int, default=4, help="Clients asking at once.")
    parser.add_argument("--n", type=int, default=5, help="Questions each client asks.")
    parser.add_argument("--corpus", type=Path, help="Corpus JSONL one client ingests meanwhile.")
    parser.add_argument("--work", type=Path, help="Where the store copies go (default: a tmp dir).")
    parser.add_argument("--out", type=Path, help="Write the figures here as JSON.")
    args = parser.parse_args(argv)

    questions = load_questions(args.questions)
    records = load_records(args.corpus) if args.corpus else []
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-api-"))
    runs: dict[str, dict[str, Any]] = {}
    for name in ("http", "in-process"):
        copy = work / name / "store"
        shutil.rmtree(copy.parent, ignore_errors=True)
        shutil.copytree(args.store, copy)
        print(f"{name}: {args.clients} clients x {args.n} asks"
              + (f", ingesting {len(records)} articles" if records else ""), file=sys.stderr)  # fmt: skip
        if name == "http":
            runs[name] = http_run(copy, questions, records, args)
        else:
            runs[name] = inprocess_run(copy, questions, args.corpus, args)

    http, local = runs["http"], runs["in-process"]
    ratio = {
        "throughput": round(http["throughput_per_s"] / local["throughput_per_s"], 3)
        if local["throughput_per_s"] else None,
        "p50": round(http["p50_ms"] / local["p50_ms"], 3) if local["p50_ms"] else None,
        "p95": round(http["p95_ms"] / local["p95_ms"], 3) if local["p95_ms"] else None,
    }  # fmt: skip
    rows = [
        {"run": name, **{k: v for k, v in r.items() if k not in ("ingest", "first_errors")},
         "ingest_s": r["ingest"].get("seconds"), "ingested": r["ingest"].get("new")}
        for name, r in runs.items()
    ]  # fmt: skip
    print(table(rows, ["run", "asks", "errors", "wall_s", "throughput_per_s", "p50_ms", "p95_ms",
                       "ingest_s", "ingested"]))  # fmt: skip
    print(f"\nHTTP / in-process: throughput x{ratio['throughput']}, p50 x{ratio['p50']}, "
          f"p95 x{ratio['p95']}")  # fmt: skip
    for name, r in runs.items():
        for error in r["first_errors"]:
            print(f"{name} error: {error}", file=sys.stderr)
        if "error" in r["ingest"]:
            print(f"{name} ingest error: {r['ingest']['error']}", file=sys.stderr)
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
              "runs": runs, "ratio": ratio}  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["errors"] for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
