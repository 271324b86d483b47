"""Timelines: one dated, quoted sentence per story, in date order, copies merged, exact offsets."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assistant.models import Article
from tests.unit.test_stories import _articles

LATER = [
    Article(
        id="ratify-1",
        title="First countries ratify plastic treaty",
        text="Five countries ratified the plastic treaty on Monday, the secretariat in Geneva "
        "said. The plastic treaty needs forty ratifications before it enters into force.",
        source="Wire",
        published="2022-09-02",
    ),
    Article(
        id="talks-0",
        title="Plastic treaty talks open",
        text="Talks on a plastic treaty opened in Geneva on Monday with negotiators from twelve "
        "countries. The plastic treaty talks are expected to last a week.",
        source="Wire",
        published="2022-06-05",
    ),
    Article(
        id="undated",
        title="Plastic treaty explainer",
        text="What is in the plastic treaty? The plastic treaty covers single-use plastics, "
        "packaging and reporting duties for the countries that sign it.",
        source="Explainers",
    ),
]


def _store(make_assistant):  # type: ignore[no-untyped-def]
    assistant = make_assistant()
    articles = _articles() + LATER
    assistant.ingest_articles(articles)
    return assistant, {a.id: a for a in articles}


def test_events_are_dated_in_order_with_exact_quotes_and_copies_merged(make_assistant) -> None:
    assistant, by_id = _store(make_assistant)
    timeline = assistant.timeline("plastic treaty Geneva", k=10)
    events = timeline.events
    dates = [e.date for e in events]
    assert dates == sorted(dates)
    ids = [e.article_id for e in events]
    assert "undated" not in ids  # cannot be placed on a timeline
    assert {"talks-0", "ratify-1"} <= set(ids)
    assert len({"wire-1", "planet-7"} & set(ids)) == 1  # one event for the wire story
    story = next(e for e in events if e.article_id in {"wire-1", "planet-7"})
    assert [c.article_id for c in story.also_in] == list(
        {"wire-1", "planet-7"} - {story.article_id}
    )
    for e in events:
        article = by_id[e.article_id]
        assert article.text[e.start : e.end] == e.quote
        assert e.date == article.published and e.source == article.source


def test_timeline_cli_json_and_date_bounds(make_assistant, monkeypatch) -> None:
    from assistant.cli import commands as cli

    assistant, _ = _store(make_assistant)
    monkeypatch.setattr(cli, "_assistant", lambda: assistant)
    result = CliRunner().invoke(
        cli.app, ["timeline", "plastic treaty", "--since", "2022-06-10", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "plastic treaty"
    assert data["events"] and all(e["date"] >= "2022-06-10" for e in data["events"])
    keys = {"date", "article_id", "title", "source", "url", "quote", "start", "end"}
    assert all(keys <= set(e) for e in data["events"])
    text = CliRunner().invoke(cli.app, ["timeline", "plastic treaty"])
    assert text.exit_code == 0 and "2022-06-05" in text.stdout
