"""Metadata helpers shared by the loaders: text cleanup, dates, datelines, front matter, authors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

# --- text cleanup ------------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls except \t and \n, DEL, zero-width space / word joiner / BOM.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\u200b\u2060\ufeff]+")
# A run of whitespace (not newline) at a line end; the lookbehind makes each run match once.
_LINE_END_SPACE = re.compile(r"(?<![^\S\n])[^\S\n]+(?=\n|\Z)")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Normalise newlines, drop control characters, trim line ends, collapse blank-line runs.

    Runs of blank lines become one blank line (a paragraph break); the result is stripped.
    Each step replaces ``text`` so at most two copies of a big text are alive at a time.
    """
    text = _NEWLINES.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _LINE_END_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def clean_title(title: str) -> str:
    """One line, single spaces, no control characters."""
    return _SPACES.sub(" ", _CONTROL.sub("", title)).strip()


# --- dates -------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ISO = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)[-/.](?P<mm>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)")
_MDY = re.compile(
    r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_DMY = re.compile(
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def _make_date(year: str, month: int, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), month, int(day))
    except ValueError:
        return None


def search_date(text: str) -> tuple[dt.date, int, int] | None:
    """``(date, start, end)`` of the first full date (with a year) in ``text``, or None."""
    found: list[tuple[dt.date, int, int]] = []
    if m := _ISO.search(text):
        day = _make_date(m["year"], int(m["mm"]), m["day"])
        if day:
            found.append((day, m.start(), m.end()))
    for pattern in (_MDY, _DMY):
        if m := pattern.search(text):
            day = _make_date(m["year"], _MONTHS[m["month"].lower()], m["day"])
            if day:
                found.append((day, m.start(), m.end()))
    return min(found, key=lambda item: item[1]) if found else None


def find_date(text: str) -> dt.date | None:
    """The first full date (with a year) found anywhere in ``text``, or None.

    Understands 2022-06-17 (and ISO datetimes), 2022/06/17, "June 17, 2022", "Jun. 17 2022",
    "17 June 2022" and RFC 822 dates such as "Fri, 17 Jun 2022 10:00:00 GMT".
    """
    found = search_date(text)
    return found[0] if found else None


_DATE_WORDS = re.compile(
    r"\b(?:updated|published|posted|last|modified|on|at|am|pm|a\.m|p\.m|utc|gmt|bst|cet|cest|ist|"
    r"e[sd]?t|c[sd]?t|m[sd]?t|p[sd]?t|"
    r"mon|tue|wed|thu|fri|sat|sun|(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
    r"\d{1,2}[:.]\d\d)\b\.?",
    re.IGNORECASE,
)


def date_line(line: str) -> dt.date | None:
    """The date of a line that is little else, e.g. "Updated 10:31 AM ET, June 17, 2022"."""
    found = search_date(line)
    if found is None:
        return None
    day, start, end = found
    rest = _DATE_WORDS.sub(" ", line[:start] + " " + line[end:])
    words = re.findall(r"\w+", rest)
    return day if len(words) <= 1 else None


def parse_date(value: object) -> dt.date | None:
    """A date from a value: date, datetime, ISO string or written-out date; None if unknown."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    return find_date(text) or _dateutil_date(text)


_DEFAULTS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))


def _dateutil_date(text: str) -> dt.date | None:
    """A full date (year, month and day all given) parsed by dateutil, else None.

    Parsed against two different defaults: a value missing its day, month or year comes out
    differently and is refused, so "2022" or "June 2022" never becomes a made-up day. A numeric
    date that reads differently day-first and month-first ("03/04/2022") is refused too.
    """
    from dateutil import parser

    if len(text) > 80 or not any(ch.isdigit() for ch in text):
        return None
    try:
        first, second = (parser.parse(text, default=d, dayfirst=True) for d in _DEFAULTS)
        month_first = parser.parse(text, default=_DEFAULTS[0], dayfirst=False)
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date() or first.date() != month_first.date():
        return None
    if not 1900 <= first.year <= 2100:
        return None
    return first.date()


# --- datelines ---------------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_DATELINE = re.compile(
    rf"""^(?:(?P<place>[{_UPPER}][{_UPPER}.'’\- ]*[{_UPPER}.])   # TEHRAN, NEW YORK, ST. LOUIS
          (?:,\s+[{_UPPER}][\w.'’\- ]{{0,30}}?)?                   # , Ukraine / , June 3
          \s*)?
         \((?P<source>[{_UPPER}][\w.&'’ -]{{0,38}}[\w.])\)          # (Tasnim) (AP) (CNN Business)
         \s*(?:[–—―-]{{1,2}}|:)?\s""",
    re.VERBOSE,
)


def parse_dateline(text: str) -> tuple[str | None, str | None]:
    """``(place, source)`` from a dateline at the start of ``text``: "TEHRAN (Tasnim) – ..."."""
    m = _DATELINE.match(text[:200])
    if not m:
        return None, None
    place = m["place"].strip() if m["place"] else None
    if place and len(place) < 2:
        place = None
    return place, m["source"].strip()


# --- front matter ------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][\w -]{0,40}?)\s*:\s*(?P<value>.*)$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _parse_value(value: str) -> str | list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return [_unquote(part) for part in value[1:-1].split(",") if part.strip()]
    return _unquote(value)


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``--- YAML ---`` front matter off ``text``; returns ``(fields, rest)``.

    The block is parsed as YAML by python-frontmatter (lists, quoted values, dates); keys are
    lower-cased. A block that is not valid YAML (``title: Rail: line``) is still split off and
    read line by line as ``key: value`` / ``- item``, so a sloppy header never ends up in the
    article text. Text without front matter comes back unchanged with no fields.
    """
    m = _FRONT_MATTER.match(text[:20000])
    if not m:
        return {}, text
    import frontmatter

    loaded: Any
    try:
        loaded = frontmatter.loads(m.group(0).rstrip("\n") + "\n").metadata
    except Exception:  # yaml raises its own error types; the lenient reading takes over
        loaded = _lenient_fields(m["body"])
    fields = {
        str(key).strip().lower().replace(" ", "_").replace("-", "_"): value
        for key, value in (loaded if isinstance(loaded, dict) else {}).items()
        if value is not None
    }
    if not fields:
        return {}, text
    return fields, text[m.end() :]


def _lenient_fields(body: str) -> dict[str, str | list[str]]:
    """``key: value``, ``key: [a, b]`` and ``- item`` lines of a front matter that is not YAML."""
    fields: dict[str, str | list[str]] = {}
    last_key: str | None = None
    for line in body.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if item.startswith("- ") and last_key is not None:
            current = fields.get(last_key)
            items = current if isinstance(current, list) else []
            items.append(_unquote(item[2:]))
            fields[last_key] = items
            continue
        kv = _KEY_VALUE.match(item)
        if kv:
            last_key = kv["key"].strip()
            fields[last_key] = _parse_value(kv["value"])
    return fields


# --- authors and extra metadata ----------------------------------------------------------------

_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||\band\b|&)\s*")
_BYLINE = re.compile(r"^by\s+", re.IGNORECASE)


def split_authors(value: object) -> list[str]:
    """Authors from a list, or a string separated by ';', '|', '&' or 'and'."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        parts: Iterable[object] = value
    else:
        parts = _AUTHOR_SPLIT.split(str(value))
    names = [_BYLINE.sub("", clean_title(str(part))) for part in parts if part is not None]
    return [name for name in names if name]


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def scalar_metadata(record: Mapping[str, Any], exclude: Iterable[str]) -> dict[str, Any]:
    """Keys not in ``exclude`` with scalar or list-of-scalar values (no nulls, no "")."""
    skip = set(exclude)
    extra: dict[str, Any] = {}
    for key, value in record.items():
        if key in skip or value is None or value == "" or not isinstance(key, str) or not key:
            continue
        if _is_scalar(value):
            extra[key] = value
        elif isinstance(value, list) and all(_is_scalar(v) and v is not None for v in value):
            extra[key] = list(value)
    return extra
