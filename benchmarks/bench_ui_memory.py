"""Memory of the chat (the Streamlit process) serving a large store, driven by a real browser.

    python -m benchmarks.bench_ui_memory --store /tmp/bench-query/store-100000 \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl [-n 10]

Starts `streamlit run ui/app.py` against the store (extractive mode, no LLM), asks -n questions in
Debian's Chromium through Playwright, and samples the resident memory of the Streamlit process
every 0.2 s: after start-up, after each answer, and the peak. Writes
benchmarks/results/ui_memory.json. The store is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_result

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


class RssSampler:
    """Polls the RSS of one process (and its children) in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> float:
        total = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # a child that just ended
                continue
        return round(total / 2**20, 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.now())
            except Exception:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def _wait_health(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(url)


def _ask(page: Any, expect: Any, question: str, before: int) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    done = page.get_by_test_id("stChatMessage").filter(has=page.locator(".qa-answer[data-mode]"))
    expect(done).to_have_count(before + 1, timeout=300_000)
    expect(page.get_by_test_id("stChatInputStopButton")).to_have_count(0, timeout=60_000)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--collection", default="news")
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("-n", type=int, default=10, help="Questions to ask.")
    ap.add_argument("--port", type=int, default=8599)
    args = ap.parse_args()

    from playwright.sync_api import expect, sync_playwright

    questions = [json.loads(x)["question"] for x in args.questions.open() if x.strip()][: args.n]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(
        ASSISTANT_STORE_DIR=str(args.store),
        ASSISTANT_COLLECTION=args.collection,
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
        "--server.port", str(args.port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, cwd=args.store, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    rows: list[dict[str, Any]] = []
    try:
        url = f"http://127.0.0.1:{args.port}"
        _wait_health(f"{url}/_stcore/health", proc)
        sampler = RssSampler(proc.pid)
        rows.append({"step": "started", "rss_mb": sampler.now(), "seconds": None})
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=120_000)
            expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=300_000)
            rows.append(
                {"step": "page loaded (stats shown)", "rss_mb": sampler.now(), "seconds": None}
            )
            for i, q in enumerate(questions):
                t0 = time.perf_counter()
                _ask(page, expect, q, i)
                rows.append(
                    {
                        "step": f"answer {i + 1}",
                        "rss_mb": sampler.now(),
                        "seconds": round(time.perf_counter() - t0, 2),
                    }
                )
            browser.close()
        sampler.stop()
        rows.append({"step": "peak", "rss_mb": sampler.peak, "seconds": None})
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    from assistant.config import Settings
    from assistant.search.store import ChunkStore

    chunks = ChunkStore(
        Settings(store_dir=args.store, collection=args.collection, _env_file=None)
    ).count()
    print(f"store: {chunks} chunks")
    print(table(rows, ["step", "rss_mb", "seconds"]))
    path = write_result(
        "ui_memory", {"store_chunks": chunks, "questions": len(questions), "rows": rows}
    )
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
