"""News ranking: recency from the question's date, explicit dates, undated articles, filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assistant.models import Article
from assistant.search.ranking import Candidate, RankWeights, reference_date, score_candidates

FLOODS = (
    "Heavy rain flooded the river valley and the council opened emergency shelters for "
    "families whose homes were under water, officials said on {day}."
)


def _article(aid: str, published: dt.date | None, text: str, title: str = "") -> Article:
    return Article(
        id=aid,
        title=title or f"Valley update {aid}",
        text=text,
        published=published,
        source="Valley Herald",
    )


def _corpus() -> list[Article]:
    return [
        _article("old", dt.date(2021, 3, 2), FLOODS.format(day="Tuesday")),
        _article("recent", dt.date(2022, 6, 28), FLOODS.format(day="Monday")),
        _article(
            "other",
            dt.date(2022, 6, 29),
            "The city marathon drew record crowds on a sunny morning; runners praised the "
            "new route along the harbour and the organisers promised another race next year.",
        ),
    ]


def test_recent_article_beats_old_one_with_the_same_words(make_assistant) -> None:
    a = make_assistant()
    a.ingest_articles(_corpus())
    asked = dt.date(2022, 6, 30)
    top = a.search("Which valley flooded?", k=3, until=asked, as_of=asked)
    assert top[0].article_id == "recent"
    assert [p.article_id for p in top].index("old") > 0
    # asked back in 2021, the 2022 article does not exist yet and the old one is the news
    before = dt.date(2021, 3, 3)
    top = a.search("Which valley flooded?", k=3, until=before, as_of=before)
    assert top[0].article_id == "old"


def test_recency_is_relative_to_the_question_not_to_today(make_assistant) -> None:
    """Without a date the newest article is the reference: an archive keeps a recent end."""
    a = make_assistant()
    a.ingest_articles(_corpus())
    top = a.search("Which valley flooded?", k=3)  # asked "today", years after the corpus
    assert top[0].article_id == "recent"


def test_same_ranking_without_recency_is_text_only(make_assistant) -> None:
    a = make_assistant(rank_recency=0.0)
    a.ingest_articles(_corpus())
    asked = dt.date(2022, 6, 30)
    scores = {p.article_id: p.score for p in a.search("valley flooded", k=3, as_of=asked)}
    # same words, no recency: the two flood stories score (nearly) the same
    assert scores["recent"] == pytest.approx(scores["old"], abs=0.05)


def test_question_naming_a_year_searches_that_year(make_assistant) -> None:
    a = make_assistant()
    a.ingest_articles(_corpus())
    answer = a.ask("Which valley flooded in 2021?", as_of=dt.date(2022, 6, 30))
    assert answer.date_filter == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert answer.passages and answer.passages[0].article_id == "old"


def test_undated_article_is_not_pushed_out_of_reach(make_assistant) -> None:
    a = make_assistant()
    docs = [*_corpus(), _article("undated", None, FLOODS.format(day="Sunday"))]
    for i in range(6):  # recent stories that only share a word or two with the question
        docs.append(
            _article(
                f"filler{i}",
                dt.date(2022, 6, 29),
                f"The valley school choir number {i} sang at the town hall concert, and the "
                "audience asked for an encore before the evening ended.",
            )
        )
    a.ingest_articles(docs)
    asked = dt.date(2022, 6, 30)
    ids = [p.article_id for p in a.search("Which valley flooded?", k=3, as_of=asked)]
    assert "undated" in ids


def test_undated_corpus_ranks_on_text_alone() -> None:
    candidates = [
        Candidate("a", bm25=3.0, cosine=0.5, title="", published=None),
        Candidate("b", bm25=1.0, cosine=0.6, title="", published=None),
    ]
    weights = RankWeights()
    with_date = score_candidates("q", candidates, weights, dt.date(2022, 1, 1))
    without = score_candidates("q", candidates, weights, None)
    assert with_date == without
    assert with_date["a"] == pytest.approx(1.0 + 0.5 * 0.5)
    assert reference_date(dt.date(2022, 1, 1), candidates) is None


def test_headline_words_count(make_assistant) -> None:
    a = make_assistant(rank_recency=0.0, rank_dense=0.0, rank_title=0.4)
    day = dt.date(2022, 6, 1)
    body = "Officials met on Monday and talked about the plan for the harbour and the bridge."
    a.ingest_articles(
        [
            _article("headline", day, body, title="Harbour bridge plan approved"),
            _article("plain", day, body.replace("Monday", "Friday"), title="Council news"),
        ]
    )
    top = a.search("harbour bridge plan", k=2, as_of=day)
    assert top[0].article_id == "headline"


def test_exclude_and_a_filter_that_passes_few_chunks(make_assistant) -> None:
    a = make_assistant()
    docs = _corpus()
    docs += [
        _article(f"n{i}", dt.date(2022, 5, 1), f"Filler story {i} about gardens and rain.")
        for i in range(30)
    ]
    docs.append(
        Article(
            id="gazette",
            title="Gazette flood report",
            text=FLOODS.format(day="Friday"),
            published=dt.date(2022, 6, 20),
            source="Hill Gazette",
        )
    )
    a.ingest_articles(docs)
    only = a.search("Which valley flooded?", k=5, sources=["Hill Gazette"])
    assert [p.article_id for p in only] == ["gazette"]
    left = a.search("Which valley flooded?", k=5, exclude={"recent", "gazette"})
    ids = [p.article_id for p in left]
    assert "recent" not in ids and "gazette" not in ids and ids[0] == "old"


@pytest.mark.slow
def test_real_model_prefers_the_story_of_the_week(tmp_path: Path) -> None:
    """With the bundled model and the calibrated weights: the same story a year apart."""
    from assistant.config import Settings
    from assistant.service import Assistant

    a = Assistant(Settings(store_dir=tmp_path / "s", _env_file=None), chat_model=None)
    a.ingest_articles(_corpus())
    asked = dt.date(2022, 7, 1)
    top = a.search("Which valley was flooded this week?", k=3, until=asked, as_of=asked)
    assert top[0].article_id == "recent"
    assert top[-1].article_id != "recent"


def test_as_of_drops_later_articles_and_keeps_undated_ones(make_assistant) -> None:
    a = make_assistant()
    a.ingest_articles(
        [
            _article("undated", None, FLOODS.format(day="Sunday")),
            _article("later", dt.date(2022, 7, 2), FLOODS.format(day="Saturday")),
            _article("earlier", dt.date(2022, 6, 1), FLOODS.format(day="Monday")),
        ]
    )
    asked = dt.date(2022, 6, 30)
    ids = {p.article_id for p in a.search("Which valley flooded?", k=5, as_of=asked)}
    assert ids == {"undated", "earlier"}
    answer = a.ask("Which valley flooded?", as_of=asked)
    assert {p.article_id for p in answer.passages} == {"undated", "earlier"}
    # an explicit window still needs a date inside it
    ids = {p.article_id for p in a.search("valley flooded", k=5, until=asked)}
    assert ids == {"earlier"}


def test_the_fitted_weights_ship_with_the_package_and_settings_override_them_one_by_one(
    make_assistant,
) -> None:
    from importlib import resources

    from assistant.search.ranking import fitted_weights, weights_of

    shipped = json.loads(
        resources.files("assistant.search").joinpath("ranking.json").read_text(encoding="utf-8")
    )
    fitted = fitted_weights()
    assert vars(fitted) == {k: float(v) for k, v in shipped["weights"].items()}
    assert shipped["fitted_on"]
    assert weights_of() == fitted
    assert weights_of(dense=0.0).dense == 0.0 and weights_of(dense=0.0).title == fitted.title
    a = make_assistant(rank_title=0.0)
    assert a.retriever.weights == weights_of(title=0.0)
