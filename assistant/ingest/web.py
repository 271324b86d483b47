"""Web formats: HTML pages (main text by trafilatura) and RSS/Atom feeds (feedparser)."""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from assistant.ingest.decoding import BINARY, EMPTY, decode_bytes
from assistant.ingest.metadata import (
    clean_text,
    clean_title,
    parse_date,
    parse_dateline,
    split_authors,
)
from assistant.models import Article, Failure, IdFrom, content_id

_SAMPLE = 65536
# Page furniture removed before extraction, so that a page without an article gives no text
# (trafilatura's fallbacks would otherwise return the menu or the footer).
_PRUNE = [
    "//nav",
    "//footer",
    "//aside",
    "//form",
    "//header[not(ancestor::article) and not(ancestor::main)]",
    "//*[@role='navigation' or @role='banner' or @role='contentinfo' or @role='dialog']",
    "//*[contains(@class,'cookie') or contains(@id,'cookie') or contains(@class,'consent')]",
    "//*[starts-with(@class,'ad-') or contains(@class,' ad-') or @class='ad' or "
    "contains(@id,'gpt-ad') or contains(@class,'advert')]",
]


# --- HTML --------------------------------------------------------------------------------------


def _blocks_to_paragraphs(text: str, title: str) -> str:
    """One block per line (trafilatura) -> paragraphs; a leading copy of the title is dropped."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if lines and title and clean_title(lines[0]).casefold() == title.casefold():
        lines = lines[1:]
    return "\n\n".join(lines)


def _host(url: str | None) -> str | None:
    return urlparse(url).hostname if url else None


def load_html(path: Path, file_id: str | None = None) -> Iterator[Article | Failure]:
    """One news page: main text without navigation, ads or footers; title, date, outlet, url.

    Its id is its url (canonical link), else ``file_id`` (its path), else a content hash.
    """
    result = html_to_article(path.read_bytes(), ident=file_id, origin=str(path))
    if isinstance(result, str):
        yield Failure(path=str(path), reason=result)
        return
    if result.id != path.stem:  # older versions used the bare stem: see loaders.with_legacy_id
        result.legacy_id = path.stem
    yield result


def html_to_article(
    data: bytes,
    ident: str | None,
    origin: str,
    url: str | None = None,
    default_source: str | None = None,
) -> Article | str:
    """An Article from a page's bytes, or the reason there is none.

    ``url`` is where the page was fetched from, and ``ident`` then its id (the normalised url);
    a file has no ``url``: its id is the page's canonical url, else ``ident`` (its path), else a
    content hash. ``default_source`` names the outlet when the page does not (a feed's title).
    """
    text, problem = decode_bytes(data[:_SAMPLE])
    if text is None:
        return problem or EMPTY
    try:
        import trafilatura  # slow to import: only when a page is loaded
    except ImportError as exc:
        return f"cannot read HTML: trafilatura unavailable ({_short(exc)})"
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    options: dict[str, Any] = {"url": url} if url else {}
    doc: Any = trafilatura.bare_extraction(  # a Document (a dict only with as_dict=True)
        data,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        prune_xpath=_PRUNE,
        **options,
    )
    del data
    if doc is None or not (doc.text or "").strip():
        return "no article text found in the HTML"
    title = clean_title(doc.title or "")
    body = clean_text(_blocks_to_paragraphs(doc.text or "", title))
    if not body:
        return "no article text found in the HTML"
    place, dateline_source = parse_dateline(body)
    canonical = (doc.url or "").strip() or None
    page_url = url or canonical
    sitename = clean_title(doc.sitename or "")
    netloc = urlparse(page_url).netloc.casefold() if page_url else ""
    hosts = {netloc, netloc.split(":")[0]}
    if default_source and sitename.casefold() in hosts | {h.removeprefix("www.") for h in hosts}:
        sitename = ""  # trafilatura's stand-in (the host name) is not an outlet's own name
    id_from: IdFrom
    if url:
        article_id, id_from = ident or url, "url"
    elif canonical:
        article_id, id_from = canonical, "url"
    elif ident:
        article_id, id_from = ident, "path"
    else:
        article_id, id_from = content_id(title, body), "content"
    try:
        return Article(
            id=article_id,
            id_from=id_from,
            title=title,
            text=body,
            url=page_url,
            published=parse_date(doc.date),
            source=sitename or default_source or _host(page_url) or dateline_source,
            place=place,
            authors=split_authors(doc.author),
            metadata=_html_metadata(doc),
            origin=origin,
        )
    except ValidationError as exc:
        return f"invalid article ({exc.errors()[0]['msg']})"


def _html_metadata(doc: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key in ("description", "language", "hostname"):
        value = getattr(doc, key, None)
        if isinstance(value, str) and value:
            extra[key] = value
    for key in ("categories", "tags"):
        value = getattr(doc, key, None)
        if value:
            extra[key] = [str(v) for v in value]
    return extra


# --- HTML fragments (feed summaries) -----------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "table", "tr", "section", "article", "header", "footer", "figure", "figcaption", "hr",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "svg"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: block elements become paragraphs, scripts are dropped."""
    if "<" not in fragment:
        return clean_text(html.unescape(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    paragraphs = (" ".join(p.split()) for p in "".join(collector.parts).split("\n\n"))
    return clean_text("\n\n".join(p for p in paragraphs if p))


# --- RSS / Atom --------------------------------------------------------------------------------


def _entry_text(entry: Any) -> str:
    """The longest of the entry's content blocks and summary, as plain text."""
    candidates = [c.get("value", "") for c in entry.get("content", []) or []]
    candidates.append(entry.get("summary", "") or "")
    texts = [html_to_text(c) for c in candidates if c and c.strip()]
    return max(texts, key=len, default="")


def _entry_date(entry: Any) -> dt.date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    for key in ("published", "updated", "created"):
        day = parse_date(entry.get(key))
        if day:
            return day
    return None


def _entry_article(entry: Any, source: str | None, origin: str) -> Article | str:
    text = _entry_text(entry)
    title = clean_title(html_to_text(entry.get("title", "") or ""))
    if not text:
        return "has no summary or content"
    link = entry.get("link") or None
    ident = link or entry.get("id") or content_id(title, text)
    id_from: IdFrom = "url" if link else "input" if entry.get("id") else "content"
    place, dateline_source = parse_dateline(text)
    names = [a.get("name", "") for a in entry.get("authors", []) or [] if isinstance(a, dict)]
    try:
        return Article(
            id=ident,
            id_from=id_from,
            title=title,
            text=text,
            url=link,
            published=_entry_date(entry),
            source=source or dateline_source,
            place=place,
            authors=split_authors(names or entry.get("author")),
            metadata={"feed_entry_id": entry["id"]} if entry.get("id") else {},
            origin=origin,
        )
    except ValidationError as exc:
        return f"invalid article ({exc.errors()[0]['msg']})"


def parse_feed(data: bytes) -> tuple[str | None, list[Any]] | str:
    """``(channel title, entries)`` of an RSS/Atom document, or why it gives no entries.

    Entries read from broken XML carry the parser's complaint under ``"_broken"``.
    """
    text, problem = decode_bytes(data[:_SAMPLE])
    if text is None and problem in (EMPTY, BINARY):
        return problem
    import feedparser

    feed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    entries = list(feed.get("entries", []))
    if not entries:
        if feed.get("bozo"):
            error = feed.get("bozo_exception")
            return f"broken feed XML ({_short(error)}) and no entries could be read"
        if not feed.get("version"):
            return "not an RSS or Atom feed"
        return "feed has no entries"
    source = clean_title(feed.get("feed", {}).get("title", "") or "") or None
    if feed.get("bozo") and not isinstance(
        feed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        for entry in entries:
            entry["_broken"] = f"broken feed XML ({_short(feed.get('bozo_exception'))})"
    return source, entries


def entry_article(entry: Any, source: str | None, origin: str) -> Article | str:
    """An Article from a feed entry's own title, date and summary/content."""
    return _entry_article(entry, source, origin)


def entry_title(entry: Any) -> str:
    return clean_title(html_to_text(entry.get("title", "") or ""))


def entry_date(entry: Any) -> dt.date | None:
    return _entry_date(entry)


def load_feed(path: Path, file_id: str | None = None) -> Iterator[Article | Failure]:
    """Each entry of an RSS or Atom feed; a feed too broken to give any entry is one Failure.

    Entries take their ids from their links (else their content), never from the file."""
    parsed = parse_feed(path.read_bytes())
    if isinstance(parsed, str):
        yield Failure(path=str(path), reason=parsed)
        return
    source, entries = parsed
    for number, entry in enumerate(entries, start=1):
        result = _entry_article(entry, source, str(path))
        if isinstance(result, str):
            yield Failure(path=str(path), reason=f"feed entry {number}: {result}")
        else:
            yield result


def _short(error: object) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:160]
