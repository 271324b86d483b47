"""Ingest, idempotency, deletion and hybrid retrieval on a real embedded Chroma in tmp_path."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from assistant.errors import EmbeddingMismatchError, EmptyStoreError, UsageError
from assistant.models import Article
from assistant.search.retrieve import rrf
from tests.conftest import ROOT
from tests.fakes import HashEmbedder

CORPUS = ROOT / "tests" / "fixtures" / "corpus.jsonl"


def test_ingest_then_stats(make_assistant) -> None:
    a = make_assistant()
    report = a.ingest([CORPUS])
    assert (report.new, report.updated, report.unchanged, report.failed) == (4, 0, 0, [])
    stats = a.stats()
    assert stats.articles == 4
    assert stats.chunks == report.chunks_added >= 4
    assert stats.sources == {"Metro Daily": 3, "Weather Wire": 1}
    assert (stats.earliest, stats.latest) == (dt.date(2022, 5, 20), dt.date(2022, 7, 3))
    assert stats.embedding_model == "test-hash-256"


def test_reingest_unchanged_embeds_nothing(make_assistant, embedder: HashEmbedder) -> None:
    a = make_assistant()
    a.ingest([CORPUS])
    before = embedder.texts_embedded
    report = a.ingest([CORPUS])
    assert report.unchanged == 4 and report.new == 0 and report.chunks_embedded == 0
    assert embedder.texts_embedded == before


def test_changed_article_replaces_its_chunks(make_assistant, tmp_path: Path) -> None:
    a = make_assistant()
    a.ingest([CORPUS])
    old_ids = set(a.store.article_chunk_ids("a4"))
    changed = tmp_path / "changed.jsonl"
    changed.write_text(
        json.dumps(
            {
                "id": "a4",
                "title": "Library closes for renovation",
                "text": "The central library will close for a zinc roof renovation in August.",
                "published": "2022-05-21",
                "source": "Metro Daily",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    report = a.ingest([changed])
    assert report.updated == 1 and report.new == 0
    new_ids = set(a.store.article_chunk_ids("a4"))
    assert new_ids and not (new_ids & old_ids)
    # the lexical index follows: the old wording is gone, the new one is found
    assert [p.article_id for p in a.search("weekdays opening hours 10 p.m.", mode="lexical")] != [
        "a4"
    ]
    assert a.search("zinc roof renovation", mode="lexical")[0].article_id == "a4"


def test_delete_removes_from_every_index(make_assistant) -> None:
    a = make_assistant()
    a.ingest([CORPUS])
    assert a.delete("a3") > 0
    for mode in ("dense", "lexical", "rrf", "fused"):
        ids = {p.article_id for p in a.search("Otters championship final Costa", k=10, mode=mode)}
        assert "a3" not in ids
    assert a.stats().articles == 3
    assert a.delete("a3") == 0


def test_search_reports_ranks_scores_and_offsets(make_assistant) -> None:
    a = make_assistant()
    a.ingest([CORPUS])
    passages = a.search("Which team won the championship final?", k=3, mode="rrf")
    top = passages[0]
    assert top.article_id == "a3"
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    assert top.dense_rank is not None and top.lexical_rank is not None
    assert top.score == pytest.approx(
        1 / (60 + top.dense_rank) + 1 / (60 + top.lexical_rank), abs=1e-6
    )
    assert all(p.score >= q.score for p, q in itertools.pairwise(passages))
    assert top.end - top.start == len(top.text)
    assert top.source == "Metro Daily" and top.published == dt.date(2022, 7, 3)


@pytest.mark.parametrize("mode", ["fused", "rrf", "dense", "lexical"])
def test_filters_apply_in_every_mode(make_assistant, mode: str) -> None:
    a = make_assistant()
    a.ingest([CORPUS])
    q = "council library heat championship"
    since = {p.article_id for p in a.search(q, k=10, since=dt.date(2022, 6, 15), mode=mode)}
    assert since and since <= {"a2", "a3"}
    until = {p.article_id for p in a.search(q, k=10, until=dt.date(2022, 6, 14), mode=mode)}
    assert until and until <= {"a1", "a4"}
    outlet = {p.article_id for p in a.search(q, k=10, sources=["Weather Wire"], mode=mode)}
    assert outlet == {"a2"}


def test_bad_date_range_and_empty_store(make_assistant) -> None:
    a = make_assistant()
    with pytest.raises(EmptyStoreError, match="assistant ingest"):
        a.search("anything")
    a.ingest([CORPUS])
    with pytest.raises(UsageError):
        a.search("heat", since=dt.date(2022, 7, 1), until=dt.date(2022, 6, 1))
    with pytest.raises(UsageError):
        a.search("?!  ...")


def _long_article(aid: str, topic: str, paragraphs: int = 12) -> Article:
    body = "\n\n".join(
        f"Paragraph {i} about the {topic} says the {topic} committee met again on day {i} "
        f"and discussed the {topic} budget, the {topic} schedule and the {topic} staff in detail. "
        f"Members asked many further questions about the {topic} plans for the coming year."
        for i in range(paragraphs)
    )
    return Article(
        id=aid, title=f"{topic} report", text=body, source="Test", published=dt.date(2022, 1, 1)
    )


def test_at_most_two_chunks_per_article(make_assistant) -> None:
    a = make_assistant(chunk_tokens=60, chunk_overlap=10)
    other = Article(  # another story on the topic (a copy of "long" would be folded into also_in)
        id="other",
        title="harbour budget vote",
        text="The harbour committee budget was approved by the council after a long debate. "
        "Councillors said the harbour needs new cranes, and the committee agreed to buy two.",
        source="Test",
    )
    a.ingest_articles([_long_article("long", "harbour"), other])
    assert len(a.store.article_chunk_ids("long")) > 3
    passages = a.search("harbour committee budget", k=5)
    per: dict[str, int] = {}
    for p in passages:
        per[p.article_id] = per.get(p.article_id, 0) + 1
    assert per["long"] == 2 and per.get("other", 0) >= 1


def test_identical_texts_embedded_once_and_shown_once(
    make_assistant, embedder: HashEmbedder
) -> None:
    a = make_assistant()
    text = (
        "Officials confirmed the bridge over the Kestrel river will reopen on Friday after repairs."
    )
    a.ingest_articles(
        [
            Article(id="https://www.news.example/bridge", title="Bridge reopens", text=text),
            Article(id="https://edition.news.example/bridge", title="Bridge reopens", text=text),
        ]
    )
    assert embedder.texts_embedded == 1
    assert a.stats().articles == 2
    passages = a.search("When will the Kestrel bridge reopen?", k=5)
    assert [p.text for p in passages].count(passages[0].text) == 1


def test_embedding_model_change_is_refused(make_assistant, settings) -> None:
    from assistant.service import Assistant

    make_assistant().ingest([CORPUS])
    other = Assistant(settings, embedder=HashEmbedder(name="other-model"), chat_model=None)
    with pytest.raises(EmbeddingMismatchError, match="test-hash-256"):
        other.ingest([CORPUS])


def test_second_process_sees_writes_of_the_first(make_assistant) -> None:
    """Two Assistants on one store (as with a shared Chroma server): the lexical index follows."""
    reader = make_assistant()
    writer = make_assistant()
    writer.ingest([CORPUS])
    assert reader.search("Otters", mode="lexical")[0].article_id == "a3"
    writer.ingest_articles(
        [Article(id="z", title="Zeppelin", text="A zeppelin landed at the fairground today.")]
    )
    assert reader.search("zeppelin fairground", mode="lexical")[0].article_id == "z"


def test_half_written_article_is_repaired(make_assistant) -> None:
    """A crash between writing new chunks and removing old ones is noticed and mended."""
    a = make_assistant(chunk_tokens=60, chunk_overlap=10)
    articles = [_long_article("long", "harbour"), _long_article("short", "garden", 1)]
    a.ingest_articles(articles)
    ids = a.store.article_chunk_ids("long")
    assert len(ids) > 2
    a.store.collection.delete(ids=ids[:1])  # as if killed halfway through an article
    state = a.store.article_states(["long"])["long"]
    assert not state.is_current(articles[0].content_hash)
    report = a.ingest_articles(articles)
    assert report.updated == 1 and report.unchanged == 1
    assert sorted(a.store.article_chunk_ids("long")) == sorted(ids)
    assert len(a.lexical()) == len(ids) + len(a.store.article_chunk_ids("short"))


def test_rrf_hand_computed() -> None:
    scores = rrf([["a", "b"], ["b", "c"]], k=60)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["c"] == pytest.approx(1 / 62)


@pytest.mark.slow
def test_real_minilm_finds_the_al_shammari_paragraph(tmp_path: Path) -> None:
    from assistant.config import Settings
    from assistant.service import Assistant

    a = Assistant(Settings(store_dir=tmp_path / "s", _env_file=None), chat_model=None)
    report = a.ingest([ROOT / "seeds"])
    assert report.new == 1
    passages = a.search("Who did Hatami talk to?", k=3)
    assert "telephone conversation with his new Iraqi counterpart" in passages[0].text
    assert "Al-Shammari" in passages[0].text


def test_changing_chunk_settings_rechunks_and_reuses_vectors(make_assistant, embedder) -> None:
    a = make_assistant(chunk_tokens=60, chunk_overlap=10)
    a.ingest_articles([_long_article("long", "harbour")])
    small = set(a.store.article_chunk_ids("long"))
    b = make_assistant(chunk_tokens=120, chunk_overlap=10)
    report = b.ingest_articles([_long_article("long", "harbour")])
    assert report.updated == 1
    big = set(b.store.article_chunk_ids("long"))
    assert len(big) < len(small)
    again = b.ingest_articles([_long_article("long", "harbour")])
    assert again.unchanged == 1 and again.chunks_embedded == 0


def test_selective_filter_falls_back_to_chroma_where(make_assistant) -> None:
    """A filter that the wide unfiltered neighbourhood barely meets still finds its article."""
    a = make_assistant(fetch_k=5)
    many = [
        Article(
            id=f"c{i}",
            title=f"Common {i}",
            source="Common Wire",
            text=f"Common story {i} about the regional harbour budget and its committee.",
        )
        for i in range(500)
    ]
    rare = Article(
        id="rare",
        title="Rare",
        source="Rare Post",
        text="A short note on gardening tools and compost heaps in spring.",
    )
    a.ingest_articles([*many, rare])
    passages = a.search("harbour budget committee", k=5, sources=["Rare Post"], mode="dense")
    assert [p.article_id for p in passages] == ["rare"]
