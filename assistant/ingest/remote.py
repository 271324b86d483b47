"""http(s) URLs -> Articles: article pages (trafilatura) and RSS/Atom feeds (each item's page).

``UrlReader(fetcher, known)`` is called with one URL and yields Articles and Failures (the url and
a one-line reason), like a file loader. A page's article id is its normalised url; a feed item's
is its link's. Items already in the store (``known``) are not fetched again, so re-polling a feed
costs its own request only — and one 304 answer when the feed is unchanged: a feed's validators
are kept only when every item of that poll landed (or was already stored), so an item that failed
is tried again next time. The caller commits the validators once the articles are stored.

A ``stop`` event ends the reading between two items (the watch loop sets it on Ctrl-C): what was
read is kept, nothing is half-read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from assistant.ingest.fetch import Fetched, Fetcher, FetchError
from assistant.ingest.loaders import is_url
from assistant.ingest.web import (
    entry_article,
    entry_date,
    entry_title,
    html_to_article,
    parse_feed,
)
from assistant.models import Article, Failure
from assistant.text.urls import normalise_url

KnownFn = Callable[[list[str]], set[str]]
"""Given article ids, return those already stored."""


class UrlReader:
    """Reads URLs into Articles; counts the items it passed over because they were stored."""

    def __init__(
        self,
        fetcher: Fetcher,
        known: KnownFn | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.known = known or (lambda ids: set())
        self.stop = stop or threading.Event()
        self.unchanged = 0
        self.not_modified: list[str] = []
        self._seen: set[str] = set()

    def __call__(self, url: str) -> Iterator[Article | Failure]:
        url = url.strip()
        ident = normalise_url(url)
        if self.stop.is_set():
            return
        stored = self.fetcher.validators.get(url)
        conditional = bool(stored) and (
            stored.get("kind") == "feed" or ident in self.known([ident])  # type: ignore[union-attr]
        )
        try:
            fetched = self.fetcher.get(url, conditional=conditional)
        except FetchError as exc:
            yield Failure(path=url, reason=str(exc))
            return
        if fetched.not_modified:
            self.not_modified.append(url)
            self.unchanged += 1 if stored and stored.get("kind") == "page" else 0
            return
        if fetched.kind == "feed":
            yield from self._feed(url, fetched)
        else:
            yield from self._page(url, ident, fetched)

    # --- a page -------------------------------------------------------------------------------

    def _page(self, url: str, ident: str, fetched: Fetched) -> Iterator[Article | Failure]:
        result = html_to_article(fetched.body, ident=ident, origin=url, url=ident)
        if isinstance(result, str):
            yield Failure(path=url, reason=result)
            return
        self._seen.add(ident)
        self.fetcher.remember(fetched, "page")
        yield result

    # --- a feed -------------------------------------------------------------------------------

    def _feed(self, url: str, fetched: Fetched) -> Iterator[Article | Failure]:
        parsed = parse_feed(fetched.body)
        if isinstance(parsed, str):
            self.fetcher.forget(url)
            yield Failure(path=url, reason=parsed)
            return
        channel, entries = parsed
        links = [_link(e) for e in entries]
        ids = [normalise_url(link) for link in links if link]
        stored = self.known(ids) | (self._seen & set(ids))
        complete = True
        for number, (entry, link) in enumerate(zip(entries, links, strict=True), start=1):
            if self.stop.is_set():
                complete = False
                break
            if not link:  # an item without a page: its own summary is the article
                result = entry_article(entry, channel, url)
                if isinstance(result, str):
                    complete = False
                    broken = f"; {entry['_broken']}" if entry.get("_broken") else ""
                    yield Failure(path=url, reason=f"feed entry {number}: {result}{broken}")
                else:
                    yield result
                continue
            ident = normalise_url(link)
            if ident in stored:
                self.unchanged += 1
                continue
            item = self._item(link, ident, entry, channel)
            if isinstance(item, Failure):
                complete = False
            else:
                self._seen.add(ident)
            yield item
        if complete:
            self.fetcher.remember(fetched, "feed")
        else:
            self.fetcher.forget(url)

    def _item(self, link: str, ident: str, entry: Any, channel: str | None) -> Article | Failure:
        try:
            page = self.fetcher.get(link)
        except FetchError as exc:
            return Failure(path=link, reason=str(exc))
        if page.kind != "page":
            return Failure(path=link, reason=f"not an HTML page ({page.content_type})")
        result = html_to_article(
            page.body, ident=ident, origin=link, url=ident, default_source=channel
        )
        if isinstance(result, str):
            return Failure(path=link, reason=result)
        update: dict[str, Any] = {}
        title = entry_title(entry)
        if title:
            update["title"] = title
        day = entry_date(entry)
        if day:
            update["published"] = day
        if entry.get("id"):
            update["metadata"] = {**result.metadata, "feed_entry_id": str(entry["id"])}
        return result.model_copy(update=update)


def _link(entry: Any) -> str | None:
    link = entry.get("link")
    return link.strip() if isinstance(link, str) and is_url(link) else None


def split_urls(paths: Iterable[Any]) -> tuple[list[str], list[Any]]:
    """(URLs, other paths), each in the order given."""
    urls: list[str] = []
    other: list[Any] = []
    for p in paths:
        (urls if is_url(p) else other).append(p)
    return urls, other
