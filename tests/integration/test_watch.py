"""``assistant watch``: a real subprocess interrupted with SIGINT, restarted, no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import UsageError
from assistant.ingest.watch import parse_every, read_feeds
from assistant.service import Assistant
from tests.conftest import ROOT
from tests.fakes import HashEmbedder
from tests.newsserver import news_server, slow_site

ITEMS = 6
WORKER = [sys.executable, "-m", "tests.integration.watch_worker"]


def _env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_STORE_DIR=str(store), PYTHONPATH=str(ROOT))
    return env


def _stored(store: Path) -> tuple[list[str], list[str]]:
    a = Assistant(
        Settings(store_dir=store, _env_file=None), embedder=HashEmbedder(), chat_model=None
    )
    ids = [cid for page, _, _ in a.store.iter_all() for cid in page]
    articles = [
        m["article_id"]
        for _, _, metas in a.store.iter_all()
        for m in metas
        if m["chunk_index"] == 0
    ]
    return ids, articles


def test_watch_stopped_with_sigint_resumes_without_duplicates(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with news_server() as server:
        slow_site(server, ITEMS, delay=0.6)
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(f"# the wire\n{server.base}/slow.xml\n\n", encoding="utf-8")
        pages = [f"/slow/{i}.html" for i in range(ITEMS)]

        proc = subprocess.Popen(
            [*WORKER, str(feeds), "1h"], cwd=ROOT, env=_env(store),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while sum(server.count(p) for p in pages) < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output
        assert "stopping after the current item" in output and "(stopped)" in output
        _, first = _stored(store)
        assert 1 <= len(first) < ITEMS  # what was read landed, whole; the rest did not

        again = subprocess.run(
            [*WORKER, str(feeds), "1h", "1"], cwd=ROOT, env=_env(store),
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"{ITEMS - len(first)} new" in again.stdout
        ids, articles = _stored(store)
        assert sorted(articles) == sorted(f"{server.base}{p}" for p in pages)
        assert len(ids) == len(set(ids))
        assert all(server.count(p) == 1 for p in pages)  # no item fetched twice


def test_feeds_file_and_interval_parsing(tmp_path: Path) -> None:
    assert parse_every("15m") == 900 and parse_every("30s") == 30 and parse_every("2h") == 7200
    with pytest.raises(UsageError):
        parse_every("soon")
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(
        "# comment\nhttps://a.example/feed.xml  # inline comment\n\nftp://x\nhttps://a.example/feed.xml\n",
        encoding="utf-8",
    )
    urls, problems = read_feeds(feeds)
    assert urls == ["https://a.example/feed.xml"]
    assert len(problems) == 1 and "not an http(s) URL" in problems[0]
    with pytest.raises(UsageError):
        read_feeds(tmp_path / "missing.txt")


def test_watch_survives_a_dead_and_a_malformed_feed_and_repolls_add_nothing(
    tmp_path: Path, make_assistant
) -> None:
    from assistant.ingest.watch import run_watch
    from tests.integration.servers import free_port
    from tests.newsserver import Route

    assistant = make_assistant(fetch_timeout=2.0, fetch_retries=0)
    with news_server() as server:
        slow_site(server, 2, delay=0)
        server.routes["/bad.xml"] = Route(body=b"<rss><<<", content_type="application/rss+xml")
        dead = f"http://127.0.0.1:{free_port()}/feed.xml"
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(f"{dead}\n{server.base}/bad.xml\n{server.base}/slow.xml\n", "utf-8")
        lines: list[str] = []
        code = run_watch(assistant, feeds, 0.05, max_polls=3, out=lines.append, err=lines.append)
    assert code == 0
    polls = [line for line in lines if " poll " in line]
    assert len(polls) == 3
    assert "2 new" in polls[0] and "0 new" in polls[1] and "0 new" in polls[2]
    failed = [line for line in lines if line.startswith("failed:")]
    assert len(failed) == 6  # the two bad feeds, once per poll, one line each
    assert any(dead in line and "connection failed" in line for line in failed)
    assert any("bad.xml" in line for line in failed)
    assert assistant.stats().articles == 2
