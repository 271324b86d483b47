"""URLs and feeds against a real HTTP server on 127.0.0.1: every bad case is one line, the good
items land, and polling again adds nothing (an unchanged feed answers 304)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.newsserver import NewsServer, Route, news_server, page, rss, story

CAP = 20_000


@pytest.fixture
def site() -> Iterator[NewsServer]:
    with news_server() as server:
        base = server.base
        r = server.routes
        r["/robots.txt"] = Route(
            body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
        )
        r["/news/harbour.html"] = Route(
            body=page("Harbour reopens", story("harbour"), "Coast Herald", "2022-06-17")
        )
        r["/news/grain.html"] = Route(body=page("Grain ships leave port", story("grain")))
        r["/news/bridge.html"] = Route(
            body=page("Bridge repairs begin", story("bridge"), "Page Named Outlet")
        )
        r["/slow.html"] = Route(body=page("Slow", story("slow")), delay=4.0)
        r["/big.html"] = Route(body=page("Big", story("big") * 2 + ["x" * (CAP + 10)]))
        r["/data.json"] = Route(body=b'{"a": 1}', content_type="application/json")
        r["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"})
        r["/loop-b"] = Route(status=302, headers={"Location": "/loop-a"})
        r["/private/secret.html"] = Route(body=page("Secret", story("secret")))
        r["/moved.html"] = Route(status=301, headers={"Location": "/news/harbour.html"})
        items = [
            ("Grain ships leave port after talks", "/news/grain.html", "2022-06-18"),
            ("Bridge repairs begin", "/news/bridge.html", "2022-06-19"),
            ("Missing story", "/missing.html", "2022-06-19"),
            ("Slow story", "/slow.html", "2022-06-19"),
            ("Big story", "/big.html", "2022-06-19"),
            ("Data", "/data.json", "2022-06-19"),
            ("Loop", "/loop-a", "2022-06-19"),
            ("Secret", "/private/secret.html", "2022-06-19"),
        ]
        r["/world.rss"] = Route(
            body=rss("Northwind World", items, base), content_type="application/rss+xml"
        )
        r["/broken.xml"] = Route(
            body=b"<?xml version='1.0'?><rss><channel><title>Broken</title><<<item>>",
            content_type="application/rss+xml",
        )
        good = [
            ("Grain ships leave port after talks", "/news/grain.html", "2022-06-18"),
            ("Bridge repairs begin", "/news/bridge.html", "2022-06-19"),
        ]
        r["/tagged.rss"] = Route(
            body=rss("Tagged Wire", good, base),
            content_type="application/rss+xml",
            etag='"v1"',
        )
        yield server


@pytest.fixture
def web_assistant(make_assistant):  # type: ignore[no-untyped-def]
    return make_assistant(
        fetch_timeout=1.0, fetch_max_bytes=CAP, fetch_retries=1, fetch_backoff=0.01
    )


def _reasons(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.path: f.reason for f in report.failed}


def test_feed_with_bad_items_lands_the_good_ones_and_names_each_failure(site, web_assistant):
    base = site.base
    report = web_assistant.ingest([f"{base}/world.rss", f"{base}/broken.xml"])
    reasons = _reasons(report)
    assert report.new == 2
    assert set(reasons) == {
        f"{base}/missing.html",
        f"{base}/slow.html",
        f"{base}/big.html",
        f"{base}/data.json",
        f"{base}/loop-a",
        f"{base}/private/secret.html",
        f"{base}/broken.xml",
    }
    assert "404" in reasons[f"{base}/missing.html"]
    assert "timed out" in reasons[f"{base}/slow.html"]
    assert "too large" in reasons[f"{base}/big.html"]
    assert "content type application/json" in reasons[f"{base}/data.json"]
    assert "redirects" in reasons[f"{base}/loop-a"]
    assert "robots.txt" in reasons[f"{base}/private/secret.html"]
    assert "broken feed XML" in reasons[f"{base}/broken.xml"]
    assert all("\n" not in r for r in reasons.values())
    assert site.count("/private/secret.html") == 0  # robots.txt is asked first
    hits = web_assistant.search("grain ships port", k=3)
    grain = next(p for p in hits if p.url == f"{base}/news/grain.html")
    assert grain.article_id == f"{base}/news/grain.html"
    assert grain.title == "Grain ships leave port after talks"  # the item's title
    assert str(grain.published) == "2022-06-18"  # the item's date
    assert grain.source == "Northwind World"  # the page names no outlet: the channel's title
    bridge = next(p for p in web_assistant.search("bridge repairs", k=3) if "bridge" in p.url)
    assert bridge.source == "Page Named Outlet"  # the page's own outlet wins


def test_every_request_names_the_tool(site, web_assistant):
    web_assistant.ingest([f"{site.base}/news/harbour.html"])
    agents = {h.headers.get("User-Agent", "") for h in site.hits}
    assert agents and all(a.startswith("news-assistant/") for a in agents)


def test_page_url_lands_with_title_date_outlet_and_a_second_run_adds_nothing(site, web_assistant):
    url = f"{site.base}/moved.html"  # a redirect to the page
    first = web_assistant.ingest([url])
    assert (first.new, first.failed) == (1, [])
    [p] = web_assistant.search("harbour reopens", k=1)
    assert (p.title, p.source, str(p.published)) == (
        "Harbour reopens",
        "Coast Herald",
        "2022-06-17",
    )
    second = web_assistant.ingest([url])
    assert (second.new, second.updated, second.failed) == (0, 0, [])


def test_unchanged_feed_costs_one_304_on_the_second_poll(site, web_assistant):
    feed = f"{site.base}/tagged.rss"
    first = web_assistant.ingest([feed])
    assert (first.new, first.failed) == (2, [])
    page_hits = site.count("/news/grain.html") + site.count("/news/bridge.html")
    second = web_assistant.ingest([feed])
    assert (second.new, second.updated, second.failed) == (0, 0, [])
    assert second.not_modified == [feed]
    last = [h for h in site.hits if h.path == "/tagged.rss"][-1]
    assert last.status == 304 and last.headers.get("If-None-Match") == '"v1"'
    assert site.count("/news/grain.html") + site.count("/news/bridge.html") == page_hits


def test_repoll_of_a_changed_feed_fetches_only_new_items(site, web_assistant):
    feed = f"{site.base}/tagged.rss"
    web_assistant.ingest([feed])
    site.routes["/news/new.html"] = Route(body=page("Ferry strike ends", story("ferry")))
    items = [
        ("Grain ships leave port after talks", "/news/grain.html", "2022-06-18"),
        ("Bridge repairs begin", "/news/bridge.html", "2022-06-19"),
        ("Ferry strike ends", "/news/new.html", "2022-06-20"),
    ]
    site.routes["/tagged.rss"] = Route(
        body=rss("Tagged Wire", items, site.base), content_type="application/rss+xml", etag='"v2"'
    )
    report = web_assistant.ingest([feed])
    assert (report.new, report.unchanged, report.failed) == (1, 2, [])
    assert site.count("/news/grain.html") == 1 and site.count("/news/new.html") == 1


def test_failed_items_are_tried_again_on_the_next_poll(site, web_assistant):
    base = site.base
    web_assistant.ingest([f"{base}/world.rss"])
    site.routes["/missing.html"] = Route(body=page("Missing story", story("found")))
    site.routes["/slow.html"].delay = 0
    report = web_assistant.ingest([f"{base}/world.rss"])
    assert report.new == 2  # the 404 and the timeout now answer
    assert report.unchanged == 2


def test_server_errors_are_retried_with_backoff_honouring_retry_after(site, web_assistant):
    path = "/flaky.html"
    site.routes[path] = Route(status=503, headers={"Retry-After": "0"})
    report = web_assistant.ingest([f"{site.base}{path}"])
    assert site.count(path) == 2  # one try and one retry
    assert "HTTP 503" in report.failed[0].reason
    site.routes[path] = Route(status=429, headers={"Retry-After": "3600"})
    report = web_assistant.ingest([f"{site.base}{path}"])
    assert "Retry-After" in report.failed[0].reason  # not waited for an hour


def test_files_and_urls_mix_in_one_ingest(site, web_assistant, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Local council meets\n\n" + " ".join(story("council")), encoding="utf-8")
    report = web_assistant.ingest([str(note), f"{site.base}/news/harbour.html"])
    assert (report.new, report.failed) == (2, [])


def test_cli_ingest_of_urls_prints_one_line_per_failure_and_a_second_run_says_0_new(
    site, web_assistant, monkeypatch
):
    from typer.testing import CliRunner

    from assistant.cli import commands as cli

    monkeypatch.setattr(cli, "_assistant", lambda: web_assistant)
    urls = [f"{site.base}/tagged.rss", f"{site.base}/news/harbour.html", f"{site.base}/nope.html"]
    first = CliRunner().invoke(cli.app, ["ingest", *urls])
    assert first.exit_code == 1  # one input failed, the others landed
    assert first.stdout.startswith("3 new")
    assert first.stderr.strip() == f"failed: {site.base}/nope.html: HTTP 404 Not Found"
    second = CliRunner().invoke(cli.app, ["ingest", *urls[:2]])
    assert second.exit_code == 0 and second.stdout.startswith("0 new, 0 updated")
    assert f"not modified since the last poll: {site.base}/tagged.rss" in second.stderr


def test_cli_watch_stops_after_max_polls(site, web_assistant, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from assistant.cli import commands as cli

    monkeypatch.setattr(cli, "_assistant", lambda: web_assistant)
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{site.base}/tagged.rss\n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["watch", str(feeds), "--every", "1s", "--max-polls", "1"])
    assert result.exit_code == 0, result.output
    assert "poll 1: 2 new" in result.stdout
    bad = CliRunner().invoke(cli.app, ["watch", str(feeds), "--every", "soon"])
    assert bad.exit_code == 2 and "--every must be a duration" in bad.stderr
