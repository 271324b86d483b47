"""Two writers replacing one article at once (server mode has no write lock): every order in
which their upserts and their clean-ups can interleave ends with exactly one complete version."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from assistant.ingest.chunking import chunk_article
from assistant.models import Article
from tests.fakes import HashEmbedder


def _version(tag: str, n: int) -> Article:
    text = " ".join(f"{tag} sentence {j} about the harbour strike." for j in range(n))
    return Article(id="story", title="Harbour strike", text=text)


STEPS = ["A.upsert", "B.upsert", "A.settle", "B.settle"]
ORDERS = [
    order
    for order in itertools.permutations(STEPS)
    if order.index("A.upsert") < order.index("A.settle")
    and order.index("B.upsert") < order.index("B.settle")
]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_every_interleaving_ends_with_one_complete_version(make_assistant, order) -> None:
    a = make_assistant(chunk_tokens=40, chunk_overlap=5)
    a.ingest_articles([_version("old", 30)])
    store, embed = a.store, HashEmbedder()
    chunks = {
        "A": chunk_article(_version("alpha", 45), 40, 5),
        "B": chunk_article(_version("beta", 60), 40, 5),
    }
    for step in order:
        who, what = step.split(".")
        if what == "upsert":
            vectors = np.asarray(embed.embed_documents([c.text for c in chunks[who]]))
            store.write_chunks(chunks[who], vectors)  # the upsert alone: no clean-up yet
        else:
            store._settle(["story"])
    got = store.collection.get(where={"article_id": "story"}, include=["metadatas"])
    hashes = {m["content_hash"] for m in got["metadatas"]}
    assert len(hashes) == 1, (order, hashes)
    (winner,) = hashes
    expected = next(c for c in chunks.values() if c[0].content_hash == winner)
    assert sorted(got["ids"]) == sorted(c.id for c in expected)


def test_a_version_still_being_written_is_not_taken_over_a_complete_one(make_assistant) -> None:
    a = make_assistant(chunk_tokens=40, chunk_overlap=5)
    a.ingest_articles([_version("old", 30)])
    old_ids = set(a.store.article_chunk_ids("story"))
    half = chunk_article(_version("newer", 45), 40, 5)
    vectors = np.asarray(HashEmbedder().embed_documents([c.text for c in half]))
    a.store.write_chunks(half[:2], vectors[:2])  # another writer, half-way through its upsert
    a.store._settle(["story"])
    assert set(a.store.article_chunk_ids("story")) >= old_ids  # the complete old one stays
