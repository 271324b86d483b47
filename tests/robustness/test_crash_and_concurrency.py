"""Kill -9 during ingest, concurrent writers and readers on the embedded store."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

WORKER = [sys.executable, "-m", "tests.integration.worker"]


def _corpus(path: Path, start: int, stop: int) -> Path:
    rows = [
        {
            "id": f"story-{i}",
            "title": f"Story {i}",
            "source": f"Outlet {i % 3}",
            "published": f"2022-06-{1 + i % 28:02d}",
            "text": "\n\n".join(
                " ".join(
                    f"Paragraph {p} sentence {j} of story {i} is about topic{(i + j) % 11}."
                    for j in range(6)
                )
                for p in range(8)
            ),
        }
        for i in range(start, stop)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env["ASSISTANT_STORE_DIR"] = str(store)
    return env


def _snapshot(store: Path) -> tuple[list[str], list[str]]:
    from assistant.config import Settings
    from assistant.service import Assistant
    from tests.fakes import HashEmbedder

    a = Assistant(
        Settings(store_dir=store, _env_file=None), embedder=HashEmbedder(), chat_model=None
    )
    ids = [cid for page, _, _ in a.store.iter_all() for cid in page]
    return sorted(ids), sorted(a.lexical().chunk_ids())


def test_kill_9_during_ingest_then_rerun_equals_clean_ingest(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl", 0, 1200)
    clean = tmp_path / "clean"
    started = time.monotonic()
    done = subprocess.run(
        [*WORKER, "ingest", str(corpus)],
        env=_env(clean),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    duration = time.monotonic() - started  # process start included: kills land all over the run
    expected_ids, expected_lex = _snapshot(clean)
    assert len(expected_ids) == len(set(expected_ids)) > 400

    crashed = tmp_path / "crashed"
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen(
            [*WORKER, "ingest", str(corpus)],
            env=_env(crashed),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.12, 0.3) * duration)  # each run resumes: kill early
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 5, "the ingest finished before it could be killed: make the corpus bigger"
    final = subprocess.run(
        [*WORKER, "ingest", str(corpus)],
        env=_env(crashed),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr
    ids, lex = _snapshot(crashed)
    assert ids == expected_ids  # same chunk ids, same count, no duplicates, nothing half-written
    assert lex == expected_lex == expected_ids  # the BM25 index is in step with the store


def test_two_ingests_and_queries_at_once_on_the_embedded_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    a = _corpus(tmp_path / "a.jsonl", 0, 150)
    b = _corpus(tmp_path / "b.jsonl", 100, 250)  # 50 articles in both
    env = _env(store)
    seed = subprocess.run(
        [*WORKER, "ingest", str(_corpus(tmp_path / "s.jsonl", 0, 5))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seed.returncode == 0, seed.stderr
    procs = [
        subprocess.Popen(
            [*WORKER, "ingest", str(a)],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
        subprocess.Popen(
            [*WORKER, "ingest", str(b)],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
        subprocess.Popen(
            [*WORKER, "query", "30", "topic3 story"],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    assert "queries=30" in outs[2][0]
    ids, lex = _snapshot(store)
    assert len(ids) == len(set(ids))
    from assistant.config import Settings
    from assistant.ingest import chunk_article, iter_articles

    s = Settings(_env_file=None)
    expected = sorted(
        {
            c.id
            for art in iter_articles([a, b])
            for c in chunk_article(art, s.chunk_tokens, s.chunk_overlap)
        }
    )
    assert ids == expected and lex == expected


def test_lock_timeout_gives_a_clear_message(tmp_path: Path) -> None:
    from filelock import FileLock

    from assistant.config import Settings
    from assistant.errors import StoreLockedError
    from assistant.service import Assistant
    from tests.fakes import HashEmbedder

    settings = Settings(store_dir=tmp_path / "s", lock_timeout=0.2, _env_file=None)
    settings.store_dir.mkdir(parents=True)
    with FileLock(str(settings.store_dir / "write.lock")):
        a = Assistant(settings, embedder=HashEmbedder(), chat_model=None)
        with pytest.raises(StoreLockedError, match="another process is writing"):
            a.ingest([_corpus(tmp_path / "c.jsonl", 0, 2)])
