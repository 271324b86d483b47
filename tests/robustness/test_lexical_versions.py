"""The lexical index under concurrency and across versions: writers in real processes, readers
only ever see whole commits; an index of an older version is replaced once, never half-read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.search.lexical import SCHEMA_VERSION, Filters, LexicalIndex
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus.jsonl"

pytestmark = pytest.mark.timeout(300)

ARTICLES = [f"a{i}" for i in range(5)]

WORKER = r"""
import json, sys, time
from pathlib import Path
from assistant.search.lexical import LexicalIndex

role, folder, tag, rounds = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ARTICLES = [f"a{i}" for i in range(5)]

def pages(generation, n):
    ids, docs, metas = [], [], []
    for aid in ARTICLES:
        for j in range(n):
            ids.append(f"{aid}/{generation}/{j}")
            docs.append(f"report {generation} number {j} about harbour cranes")
            metas.append({"article_id": aid, "published_int": 20220601 + j % 20,
                          "source": tag, "text_hash": f"{generation}:{aid}:{j}"})
    return [(ids, docs, metas)]

index = LexicalIndex(folder)
if role == "writer":
    for k in range(rounds):
        n = 2 + k + len(tag) % 3
        generation = f"{tag}-{k}-{n}"
        index.replace_articles(ARTICLES, pages(generation, n), generation)
    print(json.dumps({"wrote": rounds}))
else:
    seen, mixed = set(), []
    deadline = time.monotonic() + 120
    while not index.generation and time.monotonic() < deadline:
        time.sleep(0.005)  # start reading once the first writer has committed
        index.refresh()
    for _ in range(rounds):
        index.refresh()
        generation = index.generation
        if not generation:
            continue  # nothing committed yet
        n = int(generation.rsplit("-", 1)[1])
        ids = index.chunk_ids()
        ok = (len(index) == len(ids) == n * len(ARTICLES)
              and all(f"/{generation}/" in cid for cid in ids))
        hits = index.search("harbour cranes report", 5)
        ok = ok and bool(hits) and all(f"/{generation}/" in h.id for h in hits)
        if not ok:
            mixed.append(generation)
        seen.add(generation)
        if time.monotonic() > deadline:
            break
    print(json.dumps({"seen": sorted(seen), "mixed": mixed}))
"""


def start(role: str, folder: Path, tag: str, rounds: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, role, str(folder), tag, str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_concurrent_writers_and_readers_see_whole_commits_only(tmp_path: Path) -> None:
    """Three processes replace the same five articles over and over while two read: every
    reader snapshot holds exactly one writer's version of every article, labelled with it."""
    folder = tmp_path / "lexical" / "news"
    LexicalIndex(folder)  # created once, as the service does before anyone writes
    procs = [start("writer", folder, tag, 6) for tag in ("alpha", "beta", "gamma")]
    procs += [start("reader", folder, f"r{i}", 300) for i in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=280)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    readers = [r for r in results if "seen" in r]
    assert all(not r["mixed"] for r in readers), readers
    assert sum(len(r["seen"]) for r in readers) >= 2, readers  # they did read while writes ran
    final = LexicalIndex(folder)
    n = int(final.generation.rsplit("-", 1)[1])
    assert len(final) == n * len(ARTICLES)


def test_replacing_articles_touches_only_them(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    rows = [
        (
            ["x/0", "y/0", "y/1"],
            ["harbour cranes idle", "zeppelin landed", "zeppelin left"],
            [
                {"article_id": "x", "published_int": 20220601},
                {"article_id": "y"},
                {"article_id": "y"},
            ],
        )
    ]
    index.rebuild(rows, "g1")
    assert index.chunk_ids() == {"x/0", "y/0", "y/1"} and index.generation == "g1"
    new_y = [(["y/9"], ["an airship over the fairground"], [{"article_id": "y"}])]
    index.replace_articles(["y"], new_y, "g2")
    assert index.chunk_ids() == {"x/0", "y/9"} and index.generation == "g2"
    assert [h.id for h in index.search("airship", 5)] == ["y/9"]
    assert index.search("zeppelin", 5) == []  # the old version is gone
    # filters are answered by the engine: dated, undated, excluded
    assert index.count(Filters.of(since=_day("2022-05-01"))) == 1
    assert index.count(Filters.of(cutoff=_day("2022-05-01"))) == 1  # undated y/9 passes
    assert index.count(Filters.of(exclude=["x"])) == 1
    assert index.idf("harbour") < index.idf("neverseenword")
    index.replace_articles(["y"], [], "g3")  # a deleted article
    assert index.chunk_ids() == {"x/0"}


def test_an_index_of_the_older_layout_is_replaced_once(make_assistant, settings) -> None:
    """The bm25s layout of earlier versions (versions/, CURRENT) is rebuilt as a tantivy index
    on first open and removed; the new index answers."""
    a = make_assistant()
    a.ingest([CORPUS])
    folder = settings.lexical_dir
    (folder / "versions" / "old").mkdir(parents=True)
    (folder / "versions" / "old" / "meta.json").write_text("{}")
    (folder / "CURRENT").write_text("old")
    shutil.rmtree(folder / SCHEMA_VERSION)  # as an older version left it: no tantivy index
    a.store.client.delete_collection(a.store.feed.name)  # and no change feed
    fresh = make_assistant()
    assert fresh.search("Otters", mode="lexical")[0].article_id == "a3"
    assert sorted(p.name for p in folder.iterdir()) == [SCHEMA_VERSION]


def test_an_ingest_reads_back_only_what_it_wrote(make_assistant, monkeypatch) -> None:
    """Adding an article to a store does not read the whole store again, and another open
    Assistant sees it on its next question without rebuilding."""
    from assistant.models import Article
    from assistant.search.store import ChunkStore

    writer, reader = make_assistant(), make_assistant()
    writer.ingest([CORPUS])
    assert reader.search("Otters", mode="lexical")[0].article_id == "a3"

    def no_full_read(*args, **kwargs):
        raise AssertionError("the whole store was read")

    monkeypatch.setattr(ChunkStore, "iter_all", no_full_read)
    monkeypatch.setattr(LexicalIndex, "rebuild", no_full_read)
    writer.ingest_articles(
        [Article(id="z", title="Zeppelin", text="A zeppelin landed at the fairground today.")]
    )
    assert reader.search("zeppelin fairground", mode="lexical")[0].article_id == "z"
    assert writer.delete("z") > 0
    assert all(p.article_id != "z" for p in reader.search("zeppelin fairground", mode="lexical"))


def _day(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)
