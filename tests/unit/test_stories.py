"""One story, many outlets: a wire copy is shown once, with the other outlets in also_in."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assistant.models import Article
from assistant.search.stories import group, similarity, sketch

WIRE = [
    "GENEVA (Wire) — Negotiators from twelve countries agreed on Tuesday to a new treaty on "
    "plastic waste after nine days of talks that ran through the night.",
    "The agreement obliges signatories to cut the production of single-use plastics by a third "
    "by 2030 and to report their progress every two years to a new secretariat in Geneva.",
    "Environmental groups welcomed the deal but said the targets fell short of what scientists "
    "had called for, and warned that enforcement would depend on national courts.",
    "Industry representatives said the timetable was demanding but workable, and several "
    "companies announced plans to redesign their packaging before the deadline.",
    "The treaty will enter into force once forty countries have ratified it, which officials "
    "expect to happen within eighteen months.",
]


def _copy() -> str:
    """The same wire story as another outlet runs it: outlet swapped, a sentence trimmed, one
    added."""
    paras = list(WIRE)
    paras[0] = paras[0].replace("(Wire)", "(Daily Planet)")
    paras[3] = "Industry representatives said the timetable was demanding but workable."
    paras.append("The Daily Planet will follow the ratification debates in parliament.")
    return "\n\n".join(paras)


SAME_TOPIC = "\n\n".join(
    [
        "Plastic waste in the oceans has doubled over the last decade, a study published on "
        "Monday in a leading journal found, with most of it coming from fishing gear.",
        "The researchers sampled water at two hundred sites and said the treaty talks in Geneva "
        "should address abandoned nets, which kill seabirds and turtles.",
        "Governments have so far focused on bags and bottles, the authors wrote, while the "
        "fishing industry has faced few rules on what it leaves at sea.",
    ]
)


def _articles() -> list[Article]:
    return [
        Article(
            id="wire-1",
            title="Plastic treaty agreed",
            text="\n\n".join(WIRE),
            source="Wire",
            url="https://wire.example/1",
            published="2022-06-14",
        ),
        Article(
            id="planet-7",
            title="Nations strike deal to curb plastic",
            text=_copy(),
            source="Daily Planet",
            url="https://planet.example/7",
            published="2022-06-15",
        ),
        Article(
            id="study-3",
            title="Ocean plastic doubles",
            text=SAME_TOPIC,
            source="Science Desk",
            published="2022-06-13",
        ),
    ]


def test_sketches_tell_a_copy_from_another_article_on_the_same_topic() -> None:
    original, copy, other = (sketch(a.text) for a in _articles())
    assert similarity(original, copy) >= 0.5
    assert similarity(original, other) < 0.2
    assert group([original, other, copy]) == [0, 1, 0]


def test_a_wire_copy_shows_once_with_also_in(make_assistant) -> None:
    assistant = make_assistant()
    assistant.ingest_articles(_articles())
    passages = assistant.search("plastic treaty agreed Geneva negotiators", k=5)
    ids = [p.article_id for p in passages]
    assert ("wire-1" in ids) != ("planet-7" in ids)  # exactly one copy of the story
    assert "study-3" in ids
    shown = next(p for p in passages if p.article_id in {"wire-1", "planet-7"})
    [copy] = shown.also_in
    assert copy.article_id == ({"wire-1", "planet-7"} - {shown.article_id}).pop()
    assert copy.source in {"Wire", "Daily Planet"} and copy.url and copy.published
    assert next(p for p in passages if p.article_id == "study-3").also_in == []
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))


def test_search_and_ask_json_carry_also_in(make_assistant, monkeypatch) -> None:
    from assistant.cli import commands as cli

    assistant = make_assistant()
    assistant.ingest_articles(_articles())
    monkeypatch.setattr(cli, "_assistant", lambda: assistant)
    runner = CliRunner()
    for command in (["search"], ["ask"]):
        result = runner.invoke(
            cli.app, [*command, "What plastic treaty did negotiators agree in Geneva?", "--json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        copies = [c for p in data["passages"] for c in p["also_in"]]
        assert {c["article_id"] for c in copies} & {"wire-1", "planet-7"}
        assert set(copies[0]) == {"article_id", "source", "url", "published"}


def test_fold_ranked_drops_the_copies_chunks_before_the_cut(make_assistant) -> None:
    from assistant.search.stories import fold_ranked

    assistant = make_assistant()
    assistant.ingest_articles(_articles())
    ids = [cid for page, _, _ in assistant.store.iter_all() for cid in page]
    hits = assistant.store.get_chunks(ids)
    order = sorted(ids, key=lambda c: (hits[c].meta["article_id"] != "planet-7", c))
    kept, copies = fold_ranked(order, assistant.store)
    kept_articles = {hits[c].meta["article_id"] for c in kept}
    assert kept_articles == {"planet-7", "study-3"}  # the wire copy ranked lower is dropped
    assert [c.article_id for c in copies["planet-7"]] == ["wire-1"]
    assert kept == [c for c in order if hits[c].meta["article_id"] != "wire-1"]


def test_the_lead_is_the_first_two_chunks_read_by_id(make_assistant) -> None:
    from assistant.ingest import chunk_article
    from assistant.search.stories import LEAD_CHUNKS, lead_texts

    assistant = make_assistant(chunk_tokens=40, chunk_overlap=8)
    article = Article(id="long", title="t", text="\n\n".join(WIRE * 2))
    assistant.ingest_articles([article])
    chunks = chunk_article(article, 40, 8)
    assert len(chunks) > LEAD_CHUNKS
    leads, article_of = lead_texts(assistant.store, [chunks[-1].id])
    text, _ = leads["long"]
    expected = article.text[chunks[0].start : chunks[LEAD_CHUNKS - 1].end]
    assert " ".join(text.split()) == " ".join(expected.split())
    assert article_of == {chunks[-1].id: "long"}


def test_the_same_text_published_months_apart_is_not_a_copy() -> None:
    import datetime as dt

    a = sketch("\n\n".join(WIRE))
    assert group([a, a.copy()], dates=[dt.date(2022, 6, 1), dt.date(2022, 6, 3)]) == [0, 0]
    assert group([a, a.copy()], dates=[dt.date(2021, 3, 1), dt.date(2022, 6, 3)]) == [0, 1]
    assert group([a, a.copy()], dates=[None, dt.date(2022, 6, 3)]) == [0, 1]
    assert group([a, a.copy()], dates=[None, None]) == [0, 0]


def test_folding_copies_still_leaves_k_stories(make_assistant) -> None:
    """Two copies of one story ranked first and second: k=2 still shows two stories."""
    assistant = make_assistant(max_per_article=1)
    assistant.ingest_articles(_articles())
    passages = assistant.search("plastic treaty agreed Geneva negotiators", k=2)
    ids = [p.article_id for p in passages]
    assert len(passages) == 2 and "study-3" in ids
    assert [p.n for p in passages] == [1, 2]
