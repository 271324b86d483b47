"""Files and folders -> Articles, lazily; each bad file or line becomes a Failure, not an exception.

``iter_articles`` walks folders (sorted, hidden entries skipped), picks a loader by file extension
and yields each Article or Failure as soon as it is read. Plain text and Markdown are loaded here;
records (JSON, JSONL, CSV) in ``records``; web formats (HTML, RSS/Atom) in ``web``.

Article ids never come from a bare file stem (two ``story.txt`` in different folders are two
articles): an id given in the input (record ``id``, front matter ``id``) wins, else the article's
url, else the file's path relative to the folder given to ingest (``a/story.txt``), or for a file
given directly its name (``story.txt``); uploads use a content hash instead of the path
(``content_ids=True``). Two inputs claiming one id are caught by ``Assistant.ingest_articles``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeGuard

from pydantic import ValidationError

from assistant.ingest.decoding import EMPTY, decode_bytes
from assistant.ingest.metadata import (
    clean_text,
    clean_title,
    date_line,
    find_date,
    parse_date,
    parse_dateline,
    parse_front_matter,
    scalar_metadata,
    split_authors,
)
from assistant.ingest.records import load_csv, load_json, load_jsonl
from assistant.ingest.web import load_feed, load_html
from assistant.models import Article, Failure, IdFrom, content_id

Item = Article | Failure
Loader = Callable[[Path, str | None], Iterator[Item]]
"""``(path, file_id)``: ``file_id`` is the id for an article that has none of its own (no id, no
url) — its relative path — or None to derive that id from the content."""
UrlLoader = Callable[[str], Iterator[Item]]


def load_text(path: Path, file_id: str | None = None) -> Iterator[Item]:
    """A .txt or .md file: front matter, headline, header lines, dateline, body."""
    text, problem = decode_bytes(path.read_bytes())
    if text is None:
        yield Failure(path=str(path), reason=problem or EMPTY)
        return
    result = text_to_article(text, default_id=file_id, origin=str(path))
    if isinstance(result, str):
        yield Failure(path=str(path), reason=result)
    else:
        yield with_legacy_id(result, path)


def with_legacy_id(article: Article, path: Path) -> Article:
    """Note the stem-based id earlier versions gave a text or HTML file, so that re-ingesting
    into an old store replaces that copy instead of adding a second one."""
    if article.id_from in ("url", "path", "content") and article.id != path.stem:
        article.legacy_id = path.stem
    return article


_LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".xhtml": load_html,
    ".jsonl": load_jsonl,
    ".ndjson": load_jsonl,
    ".json": load_json,
    ".csv": load_csv,
    ".rss": load_feed,
    ".atom": load_feed,
    ".xml": load_feed,
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_LOADERS)


def is_url(value: object) -> TypeGuard[str]:
    """An http(s) URL given as an input (files and folders are paths)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def iter_articles(
    paths: Sequence[str | Path],
    urls: UrlLoader | None = None,
    *,
    content_ids: bool = False,
) -> Iterator[Article | Failure]:
    """Yield each Article, or a Failure per bad file/line, from files and folders, lazily.

    A file's own id (when it gives none and has no url) is its path relative to the folder
    given, or its name when the file itself was given; with ``content_ids`` (uploads, whose
    names mean nothing) a hash of the content instead. http(s) URLs among ``paths`` are read by
    ``urls`` (``assistant.ingest.remote.UrlReader``); a page's id is its normalised url.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    for raw in paths:
        # --- URLs (assistant/ingest/remote.py) ---
        if is_url(raw):
            if urls is None:
                yield Failure(path=raw, reason="URLs are read through Assistant.ingest")
            else:
                yield from urls(raw)
            continue
        root = Path(raw)
        for found in _walk(root):
            if isinstance(found, Failure):
                yield found
                continue
            file_id = None if content_ids else relative_id(found, root)
            yield from load_file(found, file_id, content_id=content_ids)


def relative_id(path: Path, root: Path) -> str:
    """``a/story.txt`` for ``in/a/story.txt`` under ``in/``; the name for a file given directly."""
    if path == root:
        return path.name
    return path.relative_to(root).as_posix()


def load_file(
    path: Path, file_id: str | None = None, *, content_id: bool = False
) -> Iterator[Article | Failure]:
    """All articles of one file; errors become Failures (a half-read file keeps what it yielded).

    ``file_id`` defaults to the file's name; ``content_id`` derives it from the content instead.
    """
    if file_id is None and not content_id:
        file_id = path.name
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        kind = suffix or "(no extension)"
        supported = " ".join(SUPPORTED_EXTENSIONS)
        yield Failure(
            path=str(path), reason=f"unsupported file type {kind} (supported: {supported})"
        )
        return
    try:
        yield from loader(path, file_id)
    except FileNotFoundError:
        yield Failure(path=str(path), reason="file not found")
    except PermissionError:
        yield Failure(path=str(path), reason="permission denied")
    except IsADirectoryError:
        yield Failure(path=str(path), reason="is a directory")
    except OSError as exc:
        yield Failure(path=str(path), reason=f"could not read file ({exc.strerror or exc})")
    except Exception as exc:  # the border where errors become data: one bad file stops nothing
        message = " ".join(str(exc).split())[:200]
        yield Failure(path=str(path), reason=f"could not load ({type(exc).__name__}: {message})")


# --- walking -----------------------------------------------------------------------------------


def _walk(path: Path) -> Iterator[Path | Failure]:
    if not _path_ok(path):
        yield Failure(path=str(path), reason="invalid path")
    elif path.is_dir():
        yield from _walk_dir(path, set())
    elif path.is_file():
        yield path
    elif path.exists():
        yield Failure(path=str(path), reason="not a regular file")
    else:
        yield Failure(path=str(path), reason="file not found")


def is_question_set(path: Path) -> bool:
    """A JSONL question set (first record has "question" and no "text"), e.g. an eval file
    kept beside its articles: a folder walk passes over it instead of failing every line."""
    if path.suffix.lower() != ".jsonl":
        return False
    try:
        with path.open("rb") as fh:
            first = next((line for line in fh if line.strip()), b"")
        record = json.loads(first.decode("utf-8-sig", errors="replace"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "question" in record and "text" not in record


def _path_ok(path: Path) -> bool:
    try:
        path.exists()
    except (OSError, ValueError):  # e.g. a NUL byte or a name too long for the file system
        return False
    return True


def _walk_dir(folder: Path, seen: set[str]) -> Iterator[Path | Failure]:
    """Files under ``folder`` in sorted order; hidden entries skipped; no symlink loops."""
    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    try:
        with os.scandir(folder) as entries:
            listing = sorted((e.name, e.is_dir(), e.is_file()) for e in entries)
    except PermissionError:
        yield Failure(path=str(folder), reason="permission denied")
        return
    except OSError as exc:
        yield Failure(path=str(folder), reason=f"could not list folder ({exc.strerror or exc})")
        return
    for name, is_dir, is_file in listing:
        if name.startswith("."):
            continue
        child = folder / name
        if is_dir:
            yield from _walk_dir(child, seen)
        elif is_file and not is_question_set(child):
            yield child


# --- plain text --------------------------------------------------------------------------------

_HEADING = re.compile(r"^#{1,6}\s+|\s+#+\s*$")
_SETEXT = re.compile(r"^(?:=+|-+)\s*$")
_HEADER_FIELD = re.compile(
    r"^(?P<key>published|date|dated|updated|posted|source|outlet|publisher|url|link|by|"
    r"authors?|byline|place|dateline)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_FIELD_ALIASES = {
    **dict.fromkeys(("dated", "posted", "updated", "published"), "date"),
    **dict.fromkeys(("by", "author", "byline"), "authors"),
    **dict.fromkeys(("outlet", "publisher"), "source"),
    "link": "url",
    "dateline": "place",
}
_NAME = r"[A-Z][\w.'’-]*"
_BYLINE = re.compile(
    rf"^[Bb][Yy]:?\s+(?P<names>{_NAME}(?:\s+(?:{_NAME}|and|&|de|van|von|der|da|al|bin))*)"
    r"\s*(?:$|[,|/•–—-])"
)
_MAX_HEADLINE_CHARS = 250
_MAX_HEADER_LINES = 4
_KNOWN_FIELDS = {"id", "title", "date", "published", "published_at", "source", "outlet", "url"}
_KNOWN_FIELDS |= {"link", "author", "authors", "place"}


def _lines(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of up to ``limit`` lines from ``start`` (the text is not split)."""
    pos = start
    for _ in range(limit):
        if pos >= len(text):
            return
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        yield pos, end
        pos = end + 1


def _header_fields(line: str) -> dict[str, str] | None:
    """Fields of a header line under the headline ("Published: ...", "By ...", a date)."""
    if len(line) > 120:
        return None
    if m := _HEADER_FIELD.match(line):
        key = m["key"].lower()
        return {_FIELD_ALIASES.get(key, key): m["value"].strip()}
    fields: dict[str, str] = {}
    if m := _BYLINE.match(line):
        fields["authors"] = m["names"]
        day = find_date(line)
    else:
        day = date_line(line)
    if day is not None:
        fields["date"] = day.isoformat()
    return fields or None


def _headline_and_header(text: str, has_title: bool) -> tuple[str, dict[str, str], int]:
    """``(headline, header fields, body start)``; the headline is the first non-empty line.

    With a front-matter title, only a Markdown heading in first place counts as the headline.
    Up to a few header lines below it (bylines, dates, ``Key: value``) are read and skipped.
    """
    headline = ""
    fields: dict[str, str] = {}
    body_start = 0
    header_lines = 0
    expect_headline = True
    for start, end in _lines(text, 0, 50):
        line = text[start:end].strip()
        if not line:
            continue
        if expect_headline:
            expect_headline = False
            if (not has_title and len(line) <= _MAX_HEADLINE_CHARS) or line.startswith("#"):
                headline = _HEADING.sub("", line).strip()
                body_start = end + 1
                continue
        elif headline and body_start == start and _SETEXT.match(line):
            body_start = end + 1
            continue
        found = _header_fields(line) if header_lines < _MAX_HEADER_LINES else None
        if found is None:
            return headline, fields, start
        fields = {**found, **fields}
        header_lines += 1
        body_start = end + 1
    return headline, fields, body_start


def text_to_article(text: str, default_id: str | None, origin: str) -> Article | str:
    """Build an Article from the text of a .txt/.md file, or return the reason it is unusable.

    Its id: front matter ``id``, else its url, else ``default_id``, else a content hash.
    """
    text = clean_text(text)
    if not text:
        return EMPTY
    front, text = parse_front_matter(text)
    front_title = clean_title(_first_str(front.get("title")))
    headline, header, body_start = _headline_and_header(text, has_title=bool(front_title))
    title = front_title or clean_title(headline)
    body = text[body_start:].strip() if body_start else text
    del text
    if not body:
        if not title:
            return EMPTY
        body, title = title, ""
    place, dateline_source = parse_dateline(body)
    first_line_end = body.find("\n", 0, 300)
    front_date = front.get("date") or front.get("published") or front.get("published_at")
    published = (
        parse_date(_first_str(front_date))
        or parse_date(header.get("date"))
        or find_date(headline)
        or find_date(body[: first_line_end if first_line_end >= 0 else 300])
    )
    authors = front.get("authors") or front.get("author") or header.get("authors")
    url = _first_str(front.get("url") or front.get("link") or header.get("url")).strip() or None
    ident, id_from = choose_id(_first_str(front.get("id")).strip(), url, default_id, title, body)
    try:
        return Article(
            id=ident,
            id_from=id_from,
            title=title,
            text=body,
            url=url,
            published=published,
            source=_first_str(front.get("source") or front.get("outlet") or header.get("source"))
            or dateline_source,
            place=_first_str(front.get("place") or header.get("place")) or place,
            authors=split_authors(authors),
            metadata=scalar_metadata(front, exclude=_KNOWN_FIELDS),
            origin=origin,
        )
    except ValidationError as exc:
        return f"invalid article ({exc.errors()[0]['msg']})"


def _first_str(value: object) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def choose_id(
    given: str | None, url: str | None, file_id: str | None, title: str, text: str
) -> tuple[str, IdFrom]:
    """An article's id and where it came from: given, else url, else file path, else content."""
    if given:
        return given, "input"
    if url:
        return url, "url"
    if file_id:
        return file_id, "path"
    return content_id(title, text), "content"
