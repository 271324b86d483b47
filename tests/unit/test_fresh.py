"""Following other writers of an embedded store: their chunks are embedded here in the
background; past FRESH_MAX the client is reopened instead, between two questions."""

from __future__ import annotations

import threading

import numpy as np

from assistant.models import Article
from assistant.search.fresh import FreshVectors


def test_chunks_of_other_writers_are_embedded_and_many_mean_reopen(
    make_assistant, monkeypatch
) -> None:
    a = make_assistant()
    a.ingest_articles([Article(id="x", title="X", text="The harbour cranes stood idle. " * 20)])
    a.search("harbour cranes")  # opens the client, reads the label
    release = threading.Event()

    class SlowEmbedder:  # holds the background embedding until the test lets it go
        def embed_documents(self, texts: list[str]) -> np.ndarray:
            release.wait(30)
            return a.retriever.embedder.embed_documents(texts)

    fresh = FreshVectors(a.store, SlowEmbedder())  # type: ignore[arg-type]
    other = {"c1": "A zeppelin landed at the fairground.", "c2": "An airship over the town."}
    monkeypatch.setattr(a.store, "written_by_others", lambda limit: dict(other))
    assert fresh.vectors() == {}  # the work starts in the background, the question never waits
    release.set()
    fresh.wait(30)
    got = fresh.vectors()
    assert set(got) == {"c1", "c2"}
    assert np.allclose(got["c1"], a.retriever.embedder.embed_documents([other["c1"]])[0])

    a.store.bump_generation()
    a.store.generation()  # the next question reads the new label
    monkeypatch.setattr(a.store, "written_by_others", lambda limit: None)  # more than FRESH_MAX
    opened = a.store.opened_at
    fresh.vectors()
    fresh.wait(30)
    assert fresh.vectors() == {}  # reopened between two questions: the new client has them all
    assert a.store.opened_at != opened
