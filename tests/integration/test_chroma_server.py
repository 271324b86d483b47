"""Ingest and search through a real Chroma server (`chroma run`), from the CLI and from processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.servers import chroma_server

pytestmark = pytest.mark.integration


def _env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_CHROMA_URL=url, ASSISTANT_STORE_DIR=str(tmp_path / "local"), **extra)
    return env


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_cli_ingest_and_search_through_a_chroma_server(tmp_path: Path) -> None:
    with chroma_server(tmp_path / "chroma") as url:
        env = _env(url, tmp_path)
        first = _cli("ingest", "seeds/", env=env)
        assert first.returncode == 0, first.stderr
        assert "1 new" in first.stdout
        again = _cli("ingest", "seeds/", env=env)
        assert "1 unchanged" in again.stdout and "0 embedded" in again.stdout
        found = _cli("search", "Who did Hatami talk to?", "--json", env=env)
        assert found.returncode == 0, found.stderr
        top = json.loads(found.stdout)["passages"][0]
        assert "Al-Shammari" in top["text"] and top["source"] == "Tasnim"
        stats = json.loads(_cli("stats", "--json", env=env).stdout)
        assert stats["articles"] == 1 and stats["collection"] == "news"
    # nothing was written to the local embedded store
    assert not (tmp_path / "local" / "chroma").exists()


def test_concurrent_ingests_and_queries_on_one_server(tmp_path: Path) -> None:
    corpus_a = tmp_path / "a.jsonl"
    corpus_b = tmp_path / "b.jsonl"
    rows = [
        {
            "id": f"art-{i}",
            "title": f"Story {i}",
            "source": "Wire",
            "text": " ".join(
                f"Sentence {j} of story {i} mentions topic{i % 7} and item{j}." for j in range(30)
            ),
        }
        for i in range(60)
    ]
    # overlapping halves: articles 20..39 are in both files
    corpus_a.write_text("\n".join(json.dumps(r) for r in rows[:40]) + "\n", encoding="utf-8")
    corpus_b.write_text("\n".join(json.dumps(r) for r in rows[20:]) + "\n", encoding="utf-8")
    with chroma_server(tmp_path / "chroma") as url:
        env = _env(url, tmp_path)
        cmd = [sys.executable, "-m", "tests.integration.worker"]
        jobs = [
            ["ingest", str(corpus_a)],
            ["ingest", str(corpus_b)],
            ["query", "40", "topic3 item5"],
        ]
        procs = [
            subprocess.Popen(
                [*cmd, *job],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for job in jobs
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        for p, (_stdout, stderr) in zip(procs, outputs, strict=True):
            assert p.returncode == 0, stderr
        assert "queries=" in outputs[2][0]

        from assistant.config import Settings
        from assistant.ingest import chunk_article, iter_articles
        from assistant.service import Assistant
        from tests.fakes import HashEmbedder

        settings = Settings(chroma_url=url, store_dir=tmp_path / "check", _env_file=None)
        expected = {
            c.id
            for art in iter_articles([corpus_a, corpus_b])
            for c in chunk_article(art, settings.chunk_tokens, settings.chunk_overlap)
        }
        checker = Assistant(settings, embedder=HashEmbedder(), chat_model=None)
        stored = [cid for ids, _, _ in checker.store.iter_all() for cid in ids]
        assert len(stored) == len(set(stored)) == len(expected)
        assert set(stored) == expected
        # the lexical index of a fresh process is built from the server and matches it
        assert checker.lexical().chunk_ids() == expected
