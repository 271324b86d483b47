"""benchmarks/build_store.py: copies of a store's articles under consistent new ids, resumable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.ingest import chunk_article, iter_articles
from assistant.search.store import ChunkStore
from assistant.service import Assistant
from benchmarks.build_store import build, load_source, plan
from tests.fakes import HashEmbedder


def _corpus(path: Path) -> Path:
    rows = []
    for i, words in enumerate((90, 160, 40)):
        text = " ".join(f"w{i}x{j % 37} story{i} item{j}." for j in range(words))
        rows.append(
            {
                "id": f"art{i}",
                "title": f"Story number {i}",
                "text": text,
                "url": f"https://news.example/{i}",
                "published": f"2022-06-1{i}",
                "source": "Example News",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_copies_get_the_ids_ingest_would_give_and_a_rerun_resumes(
    tmp_path: Path, make_assistant: Callable[..., Assistant], settings: Settings
) -> None:
    corpus = _corpus(tmp_path / "c.jsonl")
    small = make_assistant(chunk_tokens=40, chunk_overlap=8)
    assert small.ingest([corpus]).chunks_added > 3
    src = load_source(settings.store_dir, settings.collection, tmp_path / "cache")
    assert [aid for aid, _ in src.articles] == ["art0", "art1", "art2"]
    again = load_source(settings.store_dir, settings.collection, tmp_path / "cache")  # cached
    assert again.ids == src.ids and np.allclose(again.embeddings, src.embeddings)

    big = Settings(store_dir=tmp_path / "big", collection=settings.collection, _env_file=None)
    size = 3 * len(src) + 2  # three whole copies and part of a fourth
    first = build(src, big, len(src) + 3, batch=4, log=lambda _: None)  # stopped early
    assert first.start_count == 0
    done = build(src, big, size, batch=4, log=lambda _: None)  # resumes
    assert done.start_count == ChunkStore(big).count() - done.added > 0

    store = ChunkStore(big)
    total = plan(src, size)[-1][2]
    assert store.count() == total >= size
    assert store.embedding_model() == "test-hash-256"  # the Assistant picks the same embedder
    stored = set(store.collection.get(include=[])["ids"])
    expected: set[str] = set()
    for art in iter_articles([corpus]):
        for copy in range(4):
            new = art.model_copy(update={"id": art.id if copy == 0 else f"{art.id}~{copy}"})
            expected |= {c.id for c in chunk_article(new, 40, 8)}  # type: ignore[arg-type]
    assert stored <= expected and len(stored) == total
    states = store.article_states(["art1~2", "art0~3"])
    chunking = "tokens=40;overlap=8;v1"
    assert all(s.chunks == s.expected and s.chunkings == {chunking} for s in states.values())

    got = store.collection.get(ids=[src.ids[0]], include=["embeddings"])
    copy_id = next(i for i in stored if i not in set(src.ids))
    copy_vec = np.asarray(store.collection.get(ids=[copy_id], include=["embeddings"])["embeddings"])
    assert np.isclose(np.linalg.norm(copy_vec), 1.0, atol=1e-4)
    assert np.allclose(got["embeddings"][0], src.embeddings[0], atol=1e-6)  # copy 0 unchanged

    searcher = Assistant(big, embedder=HashEmbedder(), chat_model=False)
    hits = searcher.search("story1 item7", k=10)
    assert {p.article_id for p in hits} & {"art1", "art1~1", "art1~2"}
