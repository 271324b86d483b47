"""What a re-poll of an unchanged feed costs: bytes and seconds, with and without validators.

A local server (127.0.0.1, the one the tests use) serves an RSS feed of N items, each linking to
an article page. The feed is ingested once (first poll: every page fetched, embedded), then
polled again unchanged: once from a server that sends an ETag (the second poll is one 304) and
once from a server that does not (the feed is downloaded again; the items, already stored, are
not). Timed in process (``Assistant.ingest``) and as a fresh ``assistant ingest URL`` command.

    python -m benchmarks.bench_feeds [--items 50] [--embedder hash|local]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from tests.newsserver import NewsServer, Route, page, rss, story


def _site(server: NewsServer, items: int, etag: bool) -> str:
    entries = [(f"Story {i}", f"/news/{i}.html", f"2022-07-{1 + i % 28:02d}") for i in range(items)]
    server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    server.routes["/feed.xml"] = Route(
        body=rss("Bench Wire", entries, server.base),
        content_type="application/rss+xml",
        etag='"feed-v1"' if etag else None,
    )
    for i, (title, path, _) in enumerate(entries):
        server.routes[path] = Route(body=page(title, story(f"topic {i}", 8), "Bench Wire"))
    return f"{server.base}/feed.xml"


def _bytes(server: NewsServer, since: int) -> int:
    """Response body bytes sent since hit number ``since``."""
    total = 0
    for hit in server.hits[since:]:
        route = server.routes.get(hit.path.split("?")[0])
        if route is not None and hit.status == 200:
            total += len(route.body)
    return total


def run(items: int, etag: bool, embedder: str) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.service import Assistant

    server = NewsServer().start()
    try:
        url = _site(server, items, etag)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(store_dir=Path(tmp), _env_file=None)
            kwargs: dict[str, Any] = {"chat_model": None}
            if embedder == "hash":
                from tests.fakes import HashEmbedder

                kwargs["embedder"] = HashEmbedder()
            assistant = Assistant(settings, **kwargs)
            t0 = time.perf_counter()
            first = assistant.ingest([url])
            first_s = time.perf_counter() - t0
            mark = len(server.hits)
            first_bytes = _bytes(server, 0)
            t0 = time.perf_counter()
            second = assistant.ingest([url])
            second_s = time.perf_counter() - t0
            second_hits = server.hits[mark:]
            second_bytes = _bytes(server, mark)
            mark = len(server.hits)
            env = {**os.environ, "ASSISTANT_STORE_DIR": tmp}
            cmd = [sys.executable, "-m", "assistant.cli", "ingest", url]
            t0 = time.perf_counter()
            cli = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            cli_s = time.perf_counter() - t0
    finally:
        server.stop()
    return {
        "items": items,
        "server_sends_etag": etag,
        "first_poll": {"new": first.new, "seconds": round(first_s, 3), "body_bytes": first_bytes},
        "second_poll": {
            "new": second.new,
            "unchanged": second.unchanged,
            "not_modified": len(second.not_modified),
            "requests": [f"{h.path} {h.status}" for h in second_hits],
            "body_bytes": second_bytes,
            "seconds_in_process": round(second_s, 3),
        },
        "second_poll_cli": {
            "seconds": round(cli_s, 3),
            "output": cli.stdout.strip(),
            "requests": len(server.hits) - mark,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--embedder", choices=("hash", "local"), default="local")
    args = parser.parse_args()
    runs = [run(args.items, etag, args.embedder) for etag in (True, False)]
    for r in runs:
        s = r["second_poll"]
        print(
            f"ETag={r['server_sends_etag']}: first poll {r['first_poll']['body_bytes']:,} B "
            f"in {r['first_poll']['seconds']:.2f}s; second poll {s['body_bytes']:,} B, "
            f"{len(s['requests'])} requests, {s['seconds_in_process'] * 1000:.0f} ms in process, "
            f"{r['second_poll_cli']['seconds']:.2f}s as a command"
        )
    print("wrote", write_result("feeds", {"embedder": args.embedder, "runs": runs}))


if __name__ == "__main__":
    main()
