"""Following the news in the chat: a URL in the upload box, 'also reported by' on source cards,
the timeline view — all escaped like the rest of the page."""

from __future__ import annotations

import datetime as dt

from assistant.models import Passage, StoryCopy, Timeline, TimelineEvent
from assistant.service import Assistant
from tests.newsserver import Route, news_server, page, story
from tests.ui.test_app import bodies, make_app, visible
from tests.unit.test_stories import _articles
from tests.unit.test_timeline import LATER
from ui.cards import card_html
from ui.timeline import timeline_html

EVIL = "Evil <script>window.__pwned=1</script> **News**"


def test_source_card_says_also_reported_by_with_escaped_names_and_safe_links() -> None:
    passage = Passage(
        n=1, chunk_id="c", article_id="a", title="T", text="Body.", start=0, end=5,
        also_in=[
            StoryCopy(article_id="b", source=EVIL, url="javascript:alert(1)"),
            StoryCopy(article_id="c", source="Daily Planet", url="https://planet.example/7"),
        ],
    )  # fmt: skip
    html = card_html(1, 1, passage, [])
    assert "also reported by" in visible(html)
    assert "<script>" not in html and "javascript:" not in html
    assert EVIL in visible(html)
    assert 'href="https://planet.example/7"' in html


def test_timeline_html_escapes_everything() -> None:
    event = TimelineEvent(
        date=dt.date(2022, 6, 5), article_id="x<y", title=EVIL, source=EVIL,
        url="javascript:alert(1)", quote='He said "<b>no</b>" [1].', start=0, end=10,
    )  # fmt: skip
    html = timeline_html(Timeline(query="q", events=[event]))
    assert "<script>" not in html and "<b>" not in html and "javascript:" not in html
    assert "2022-06-05" in visible(html) and '"<b>no</b>"' in visible(html)


def test_timeline_view_shows_the_events_in_date_order(make_assistant) -> None:
    assistant: Assistant = make_assistant(refuse_threshold=-1.0)
    assistant.ingest_articles(_articles() + LATER)
    at = make_app(assistant)
    at.text_input(key="timeline_query").set_value("plastic treaty Geneva").run()
    at.button(key="timeline").click().run()
    assert not at.exception, at.exception
    [view] = [b for b in bodies(at) if 'class="qa-timeline"' in b]
    expected = assistant.timeline("plastic treaty Geneva", k=10)
    dates = [e.date.isoformat() for e in expected.events]
    shown = visible(view)
    assert dates and all(d in shown for d in dates)
    assert [shown.index(d) for d in dates] == sorted(shown.index(d) for d in dates)
    assert "also reported by" in shown  # the wire story's other outlet


def test_upload_box_takes_a_url_and_the_assistant_fetches_it(make_assistant) -> None:
    assistant: Assistant = make_assistant(refuse_threshold=-1.0, fetch_timeout=2.0)
    with news_server() as server:
        server.routes["/news/a.html"] = Route(
            body=page("Harbour reopens", story("harbour"), "Coast Herald", "2022-06-17")
        )
        at = make_app(assistant)
        at.sidebar.text_input[0].set_value(f"{server.base}/news/a.html").run()
        at.sidebar.button(key="ingest-url").click().run()
        assert not at.exception, at.exception
        assert "1 new" in " ".join(s.value for s in at.sidebar.success)
        at.sidebar.text_input[0].set_value("not a url").run()
        at.sidebar.button(key="ingest-url").click().run()
        assert "not an http(s) URL" in " ".join(
            c.value.replace("\\", "") for c in at.sidebar.caption
        )
    assert assistant.stats().articles == 1
