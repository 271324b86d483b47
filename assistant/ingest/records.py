"""Record files in the corpus format: JSONL (streamed line by line), JSON, CSV (streamed by row).

A record is ``{"id", "title", "text", "url"?, "published"?, "source"?, "authors"?, ...}``; extra
keys whose values are scalars or lists of scalars are kept in ``Article.metadata``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.ingest.decoding import (
    BINARY,
    EMPTY,
    decode_bytes,
    decode_line,
    looks_binary,
    sniff_encoding,
)
from assistant.ingest.metadata import (
    clean_text,
    clean_title,
    parse_date,
    parse_dateline,
    scalar_metadata,
    split_authors,
)
from assistant.models import Article, Failure, IdFrom, content_id

_TEXT_KEYS = ("text", "body", "content")
_DATE_KEYS = ("published", "date", "published_at")
_SOURCE_KEYS = ("source", "outlet")
_URL_KEYS = ("url", "link")
_AUTHOR_KEYS = ("authors", "author")
_KNOWN_KEYS = {"id", "title", "place", *_TEXT_KEYS, *_DATE_KEYS, *_SOURCE_KEYS, *_URL_KEYS}
_KNOWN_KEYS |= set(_AUTHOR_KEYS)
_HEAD = 65536
_LIST_KEYS = ("articles", "items", "data", "records", "entries")

csv.field_size_limit(2**31 - 1)  # article bodies are often longer than csv's 128 KiB default


def _first(record: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def _as_str(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("title")
    if value is None or isinstance(value, dict | list):
        return None
    return clean_title(str(value)) or None


def record_to_article(record: object, origin: str) -> Article | str:
    """An Article from one corpus record, or the reason the record is unusable."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {_kind(record)}"
    raw_text = _first(record, _TEXT_KEYS)
    if raw_text is None:
        if "question" in record:
            return "a question, not an article (no 'text')"
        return "missing 'text'" if "text" not in record else "empty 'text'"
    if not isinstance(raw_text, str):
        return f"'text' is {_kind(raw_text)}, not a string"
    text = clean_text(raw_text)
    if not text:
        return "empty 'text'"
    title = clean_title(str(record.get("title") or ""))
    url = _as_str(_first(record, _URL_KEYS))
    raw_date = _first(record, _DATE_KEYS)
    published = parse_date(raw_date)
    place, dateline_source = parse_dateline(text)
    raw_id = record.get("id")
    ident = str(raw_id).strip() if isinstance(raw_id, str | int) else ""
    metadata = scalar_metadata(record, exclude=_KNOWN_KEYS)
    if raw_date is not None and published is None:
        metadata["published_raw"] = str(raw_date)
    id_from: IdFrom = "input" if ident else "url" if url else "content"
    try:
        return Article(
            id=ident or url or content_id(title, text),
            id_from=id_from,
            title=title,
            text=text,
            url=url,
            published=published,
            source=_as_str(_first(record, _SOURCE_KEYS)) or dateline_source,
            place=_as_str(record.get("place")) or place,
            authors=split_authors(_first(record, _AUTHOR_KEYS)),
            metadata=metadata,
            origin=origin,
        )
    except ValidationError as exc:
        return f"invalid article ({exc.errors()[0]['msg']})"


def _kind(value: object) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _item(record: object, path: Path, line: int | None) -> Article | Failure:
    origin = f"{path}:{line}" if line is not None else str(path)
    result = record_to_article(record, origin)
    if isinstance(result, str):
        return Failure(path=str(path), line=line, reason=result)
    return result


# --- JSONL -------------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered text lines of a file, streamed; UTF-16 with BOM, else UTF-8 or cp1252 per line."""
    with path.open("rb") as raw:
        head = raw.read(4)
        raw.seek(0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            with io.TextIOWrapper(raw, encoding="utf-16", errors="replace") as stream:
                yield from enumerate(stream, start=1)
            return
        for number, line in enumerate(raw, start=1):
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            yield number, decode_line(line)


def _parse_lines(lines: Iterator[tuple[int, str]], path: Path) -> Iterator[Article | Failure]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Failure(path=str(path), line=number, reason=f"invalid JSON ({exc.msg})")
            continue
        yield _item(record, path, number)


def load_jsonl(path: Path, file_id: str | None = None) -> Iterator[Article | Failure]:
    """One article per line; a bad line is one Failure with its line number, the rest still load."""
    problem = _head_problem(path)
    if problem:
        yield Failure(path=str(path), reason=problem)
        return
    yield from _nonempty(_parse_lines(_lines(path), path), path)


def _head_problem(path: Path) -> str | None:
    with path.open("rb") as raw:
        head = raw.read(_HEAD)
    if not head.strip():
        return EMPTY if len(head) < _HEAD else None
    return BINARY if looks_binary(head) else None


def _nonempty(items: Iterator[Article | Failure], path: Path) -> Iterator[Article | Failure]:
    """Pass items through; a file that gave none at all is reported as one Failure."""
    count = 0
    for count, item in enumerate(items, start=1):  # noqa: B007
        yield item
    if count == 0:
        yield Failure(path=str(path), reason="no articles in file")


# --- JSON --------------------------------------------------------------------------------------


def load_json(path: Path, file_id: str | None = None) -> Iterator[Article | Failure]:
    """One article object, a list of them, or an object holding the list under 'articles' etc."""
    text, problem = decode_bytes(path.read_bytes())
    if text is None:
        yield Failure(path=str(path), reason=problem or EMPTY)
        return
    start = len(text) - len(text.lstrip())
    if text.startswith("[", start):
        yield from _nonempty(_iter_array(text, start, path), path)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            lines = enumerate(text.split("\n"), start=1)
            yield from _nonempty(_parse_lines(lines, path), path)
        else:
            yield Failure(path=str(path), line=exc.lineno, reason=f"invalid JSON ({exc.msg})")
        return
    if isinstance(data, dict) and _first(data, _TEXT_KEYS) is None:
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                items = (_item(record, path, None) for record in data[key])
                yield from _nonempty(items, path)
                return
    yield _item(data, path, 1)


def _iter_array(text: str, pos: int, path: Path) -> Iterator[Article | Failure]:
    """Decode a top-level JSON array item by item, so each item knows its line number."""
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    pos = _skip_space(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield Failure(path=str(path), line=exc.lineno, reason=f"invalid JSON ({exc.msg})")
            return
        yield _item(record, path, line)
        pos = _skip_space(text, pos)
        if text.startswith("]", pos):
            return
        if not text.startswith(",", pos):
            bad_line = line + text.count("\n", counted, pos)
            reason = "invalid JSON (Expecting ',' delimiter)"
            yield Failure(path=str(path), line=bad_line, reason=reason)
            return
        pos = _skip_space(text, pos + 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


# --- CSV ---------------------------------------------------------------------------------------


def _delimiter(header_line: str) -> str:
    if "," in header_line:
        return ","
    return max(";\t|", key=header_line.count) if any(c in header_line for c in ";\t|") else ","


def load_csv(path: Path, file_id: str | None = None) -> Iterator[Article | Failure]:
    """A CSV with a header that has a 'text' column; one Failure per bad row, with its line."""
    with path.open("rb") as raw:
        head = raw.read(_HEAD)
        if not head.strip():
            yield Failure(path=str(path), reason=EMPTY)
            return
        if looks_binary(head):
            yield Failure(path=str(path), reason=BINARY)
            return
        raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding=sniff_encoding(head), errors="replace", newline="")
        first_line = stream.readline()
        stream.seek(0)
        reader = csv.reader(stream, delimiter=_delimiter(first_line))
        header = next(reader, None)
        names = [name.strip().lower() for name in header or []]
        if not any(name in _TEXT_KEYS for name in names):
            shown = ", ".join(n for n in names if n)[:200] or "none"
            yield Failure(path=str(path), reason=f"CSV has no 'text' column (columns: {shown})")
            return
        yield from _nonempty(_csv_rows(reader, names, path), path)


def _csv_rows(reader: Any, names: list[str], path: Path) -> Iterator[Article | Failure]:
    previous_end = reader.line_num
    while True:
        line = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Failure(path=str(path), line=line, reason=f"invalid CSV row ({exc})")
            if reader.line_num == previous_end:
                return
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        record = {name: cell for name, cell in zip(names, row, strict=False) if name}
        yield _item(record, path, line)
