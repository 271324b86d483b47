"""Writers that replace the same article at once, in real processes, on the embedded store and on
a real `chroma run`: the article always ends as exactly one complete version; a reader never
finds it missing; another process's lexical index catches up through the change feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.servers import chroma_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

WORKER = r"""
import json, sys, time
from assistant.config import Settings
from assistant.models import Article
from assistant.service import Assistant
from tests.fakes import HashEmbedder

role, tag, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = Assistant(Settings(), embedder=HashEmbedder(), chat_model=None)

def version(k):
    # each version has its own length, so its chunk count tells it apart
    n = 40 + 23 * k + (7 if tag == "beta" else 0)
    words = " ".join(f"{tag}{k}word{j} harbour crane strike" for j in range(n))
    return Article(id="story", title="Harbour strike", source="Wire", text=words)

if role == "writer":
    for k in range(rounds):
        a.ingest_articles([version(k), Article(id=f"{tag}-{k}", title="Other",
                                               text=f"Unrelated {tag} story number {k}. " * 30)])
    print(json.dumps({"wrote": rounds}))
else:
    missing, checks = 0, 0
    deadline = time.monotonic() + 240
    while not a.store.article_chunk_ids("story") and time.monotonic() < deadline:
        time.sleep(0.02)
    for _ in range(rounds):
        checks += 1
        if not a.store.article_chunk_ids("story"):
            missing += 1
        hits = a.search("harbour crane strike", k=3, mode="lexical")
        if not any(p.article_id == "story" for p in hits):
            missing += 1
    print(json.dumps({"checks": checks, "missing": missing}))
"""


def _run(env: dict[str, str], rounds: int = 8) -> None:
    def start(role: str, tag: str, n: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, role, tag, str(n)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = start("writer", "seed", 1)  # the article exists before the race starts
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    procs = [start("writer", "alpha", rounds), start("writer", "beta", rounds)]
    procs.append(start("reader", "r", 80))
    outs = [p.communicate(timeout=500) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    reader = json.loads(outs[2][0].strip().splitlines()[-1])
    assert reader["checks"] > 0 and reader["missing"] == 0, reader


def _check(settings_kwargs: dict[str, object], rounds: int = 8) -> None:
    from assistant.config import Settings
    from assistant.service import Assistant
    from tests.fakes import HashEmbedder

    a = Assistant(Settings(**settings_kwargs, _env_file=None), embedder=HashEmbedder())
    # the store's own records survived the writers' concurrent updates
    assert a.store.embedding_model() == HashEmbedder().name and a.store.generation()
    got = a.store.collection.get(where={"article_id": "story"}, include=["metadatas"])
    metas = got["metadatas"] or []
    hashes = {m["content_hash"] for m in metas}
    assert len(hashes) == 1, hashes  # one version, never a mix
    assert len(metas) == metas[0]["chunk_count"] == len(set(got["ids"]))  # and complete
    assert a.store.article_states(["story"])["story"].is_current(next(iter(hashes)))
    # every writer's other articles landed: nothing of another writer was lost
    for tag in ("alpha", "beta"):
        for k in range(rounds):
            assert a.store.article_chunk_ids(f"{tag}-{k}"), (tag, k)
    stored = {cid for ids, _, _ in a.store.iter_all() for cid in ids}
    assert a.lexical().chunk_ids() == stored


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def test_two_writers_one_reader_on_the_embedded_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _run(_env(tmp_path, ASSISTANT_STORE_DIR=str(store)))
    _check({"store_dir": store})


def test_two_writers_one_reader_on_a_chroma_server(tmp_path: Path) -> None:
    with chroma_server(tmp_path / "chroma") as url:
        # each process has its own index folder, as on separate machines: only the feed
        # tells them what the others wrote
        for name in ("w1", "w2", "r"):
            (tmp_path / name).mkdir()
        env = _env(tmp_path, ASSISTANT_CHROMA_URL=url, ASSISTANT_STORE_DIR=str(tmp_path / "all"))
        _run(env)
        _check({"chroma_url": url, "store_dir": tmp_path / "check"})


def test_a_process_behind_catches_up_from_the_feed_not_the_whole_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server mode: a process whose index is behind re-reads only the articles written since."""
    from assistant.config import Settings
    from assistant.models import Article
    from assistant.search.lexical import LexicalIndex
    from assistant.search.store import ChunkStore
    from assistant.service import Assistant
    from tests.fakes import HashEmbedder

    with chroma_server(tmp_path / "chroma") as url:

        def make(folder: str) -> Assistant:
            s = Settings(chroma_url=url, store_dir=tmp_path / folder, _env_file=None)
            return Assistant(s, embedder=HashEmbedder(), chat_model=None)

        writer, reader = make("writer"), make("reader")
        writer.ingest_articles(
            [
                Article(id=f"n{i}", title=f"Story {i}", text=f"Council story {i}. " * 40)
                for i in range(30)
            ]
        )
        assert reader.search("council story", mode="lexical")  # cold start: the whole store
        monkeypatch.setattr(ChunkStore, "iter_all", _fail)
        monkeypatch.setattr(LexicalIndex, "rebuild", _fail)
        writer.ingest_articles([Article(id="z", title="Zeppelin", text="A zeppelin landed. " * 20)])
        assert writer.delete("n3") > 0
        assert reader.search("zeppelin landed", mode="lexical")[0].article_id == "z"
        ids = reader.lexical().chunk_ids()
        assert not any(cid in ids for cid in writer.store.article_chunk_ids("n3"))
        assert ids == {
            c for i in range(30) if i != 3 for c in writer.store.article_chunk_ids(f"n{i}")
        } | set(writer.store.article_chunk_ids("z"))


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("the whole store was read")


READER = r"""
import sys, time
from pathlib import Path
from assistant.config import Settings
from assistant.service import Assistant
from tests.fakes import HashEmbedder

flag = Path(sys.argv[1])
a = Assistant(Settings(), embedder=HashEmbedder(), chat_model=None)
assert a.search("council budget", k=3, mode="dense")  # the vector index is now loaded
flag.write_text("ready")
while not flag.with_suffix(".written").exists():
    time.sleep(0.05)
# BM25 finds it at once; by meaning once its vectors are computed here (in the background)
top = a.search("zeppelin landed fairground airship", k=3, mode="lexical")
print("lexical", top[0].article_id if top else "-")
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    top = a.search("zeppelin landed fairground airship", k=3, mode="dense")
    if top and top[0].article_id == "z":
        break
    time.sleep(0.1)
for mode in ("dense", "fused"):
    top = a.search("zeppelin landed fairground airship", k=3, mode=mode)
    print(mode, top[0].article_id if top else "-")
"""


def test_an_open_process_finds_articles_another_wrote_by_meaning_too(tmp_path: Path) -> None:
    """Embedded Chroma keeps its vector index per process and does not reload it when another
    process writes; the reader must still find the new article in dense and fused search."""
    from assistant.config import Settings
    from assistant.models import Article
    from assistant.service import Assistant
    from tests.fakes import HashEmbedder

    store = tmp_path / "store"
    settings = Settings(store_dir=store, _env_file=None)
    writer = Assistant(settings, embedder=HashEmbedder(), chat_model=None)
    writer.ingest_articles(
        [
            Article(id=f"c{i}", title="Council", text=f"The council budget vote {i}. " * 30)
            for i in range(20)
        ]
    )
    flag = tmp_path / "flag"
    env = _env(tmp_path, ASSISTANT_STORE_DIR=str(store))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(flag)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not flag.exists() and time.monotonic() < deadline and reader.poll() is None:
        time.sleep(0.05)
    writer.ingest_articles(
        [
            Article(
                id="z",
                title="Zeppelin",
                text="A zeppelin landed at the fairground, an airship. " * 10,
            )
        ]
    )
    flag.with_suffix(".written").write_text("done")
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err[-3000:]
    assert "lexical z" in out and "dense z" in out and "fused z" in out, out
