"""The saved BM25 index under concurrency: writers in real processes, readers never see a mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.search.lexical import LexicalIndex
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(300)

WORKER = r"""
import json, sys, time
from pathlib import Path
from assistant.search.lexical import LexicalIndex

role, folder, tag, rounds = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def rows(generation, n):
    ids = [f"{generation}/{j}" for j in range(n)]
    docs = [f"report {generation} number {j} about harbour cranes" for j in range(n)]
    metas = [{"article_id": f"{generation}/a{j}", "published_int": 20220601 + j % 20,
              "source": tag, "text_hash": f"{generation}:{j}"} for j in range(n)]
    return [(ids, docs, metas)]

if role == "writer":
    for k in range(rounds):
        n = 50 + 37 * k + 11 * len(tag)
        generation = f"{tag}-{k}-{n}"
        LexicalIndex.build(rows(generation, n), generation).save(folder)
    print(json.dumps({"wrote": rounds}))
else:
    seen, missing, mixed = set(), 0, []
    deadline = time.monotonic() + 120
    while not (folder / "CURRENT").exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # start reading once the first writer has switched to a version
    for _ in range(rounds):
        index = LexicalIndex.load(folder)
        if index is None:
            missing += 1
            continue
        n = int(index.generation.rsplit("-", 1)[1])
        ok = (len(index) == n == len(index.published) == len(index.article_ids)
              and all(cid.startswith(index.generation + "/") for cid in index.ids)
              and all(a.startswith(index.generation + "/") for a in index.article_ids)
              and all(h.startswith(index.generation + ":") for h in index.text_hashes))
        hits = index.search("harbour cranes report", 5)
        ok = ok and bool(hits) and all(h.id.startswith(index.generation + "/") for h in hits)
        if not ok:
            mixed.append(index.generation)
        seen.add(index.generation)
        if time.monotonic() > deadline:
            break
    print(json.dumps({"seen": sorted(seen), "missing": missing, "mixed": mixed}))
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


def test_concurrent_saves_and_loads_never_mix_versions(tmp_path: Path) -> None:
    folder = tmp_path / "lexical" / "news"
    procs = [start("writer", folder, tag, 6) for tag in ("alpha", "beta", "gamma")]
    procs += [start("reader", folder, f"r{i}", 400) for i in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=280)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    readers = [r for r in results if "seen" in r]
    assert all(not r["mixed"] for r in readers), readers
    assert sum(len(r["seen"]) for r in readers) >= 2, readers  # they did read while writes ran
    final = LexicalIndex.load(folder)
    assert final is not None and final.generation.endswith(f"-{len(final)}")
    versions = sorted(p.name for p in (folder / "versions").iterdir())
    assert len(versions) <= 2, versions  # old versions are cleaned up, the previous one kept


def test_an_unversioned_index_of_an_older_version_still_loads(tmp_path: Path) -> None:
    rows = [(["c1"], ["harbour cranes"], [{"article_id": "a1", "text_hash": "h1"}])]
    index = LexicalIndex.build(rows, "g1")
    folder = tmp_path / "lexical"
    folder.mkdir()
    index._write_files(folder)  # the layout before versions: files directly in the folder
    loaded = LexicalIndex.load(folder)
    assert loaded is not None and loaded.ids == ["c1"]
    LexicalIndex.build(rows, "g2").save(folder)
    again = LexicalIndex.load(folder)
    assert again is not None and again.generation == "g2"
    assert not (folder / "meta.json").exists()
