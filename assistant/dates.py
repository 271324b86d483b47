"""Relative and absolute date phrases in questions -> a date range for filtering articles.

``resolve_dates("Who resigned last week?", as_of=date(2022, 6, 17))`` returns
``DateRange(since=2022-06-06, until=2022-06-17, phrase="last week")``. Rules (all ranges are
inclusive and end no later than ``as_of``; a phrase that resolves entirely after ``as_of`` — a
future year or month — is ignored, since no article can be published then):

- ``today``/``tonight``/``this morning`` = as_of; ``yesterday``/``last night`` = the day before.
- ``this week``/``past week``/``in recent days`` = the 7 days up to as_of (news quizzes say "this
  week" for the last seven days); ``last week`` = Monday of the previous calendar week up to as_of
  (news about last week's events is often published this week); ``this/last weekend`` = the most
  recent Saturday–Sunday.
- ``past/last N days|weeks|months|years`` (N in digits or words, "few" = 3, "couple" = 2) = N units
  back up to as_of; ``N days ago`` = that day; ``N weeks ago`` = that day ± 3 days; ``N months/years
  ago`` = that calendar month/year.
- ``this month|year`` = from its first day to as_of; ``last month|year`` = the previous one.
- Weekdays (``on Monday``, ``convicted Thursday``, ``Monday's storm``) = the most recent such
  day on or before as_of (``last Tuesday``: strictly before); named days such as "Black Friday",
  "Super Tuesday" or "Monday night football" are not dates.
- Months: ``June 5``, ``5 June``, ``June 5th, 2022`` (a day), ``June 2022`` (a month) are always
  dates. A bare month name needs a cue before it — in/on/during/since/by/until/from/early/late/
  mid/last/this/of — so ``May I ask ...`` and ``the March on Washington`` are not dates. A month
  without a year is the most recent such month not after as_of (``last June``: before the current
  month). Abbreviations (Jan, Sept.) only count with a day or a year.
- ``in/during/since/throughout 2021`` = that year (a bare year such as "the 2022 World Cup" is a
  name, not a date filter). ISO dates ``2022-06-05`` = that day.
- ``recently``/``lately``/``in recent weeks`` = the 30 days up to as_of.
- A cue before a phrase changes the range: ``since``/``after`` X = from X (after: the day after X)
  to as_of; ``before``/``prior to`` X = up to the day before X; ``until``/``by`` X = up to X's end.
- When a question holds several phrases, the most specific one wins (an explicit date over a month
  over a relative phrase), ties going to the earliest in the text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

from pydantic import BaseModel

_MONTHS = {
    name.lower(): i for i, name in enumerate(calendar.month_name) if name
} | {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
     "sept": 9, "oct": 10, "nov": 11, "dec": 12}  # fmt: skip
_FULL_MONTH = "|".join(name.lower() for name in calendar.month_name if name)
_ANY_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY = "|".join(_WEEKDAYS)
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 3, "a few": 3,
    "couple": 2, "couple of": 2, "a couple": 2, "a couple of": 2, "several": 5,
}  # fmt: skip
_NUM = r"(?P<num>\d{1,3}|a couple of|a couple|a few|couple of|couple|few|several|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|an?)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_MONTH_CUE = r"(?:in|on|during|since|by|until|till|from|through|throughout|before|after|of|early|late|mid|last|this|between)"


class DateRange(BaseModel):
    """An inclusive date range found in a question; ``None`` ends are open."""

    since: date | None = None
    until: date | None = None
    phrase: str = ""

    def as_tuple(self) -> tuple[date | None, date | None]:
        return (self.since, self.until)


Span = tuple[date, date]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _recent_month(month: int, as_of: date, *, strictly_before: bool = False) -> int:
    """The year of the most recent ``month`` not after as_of (or before its month)."""
    if month < as_of.month or (month == as_of.month and not strictly_before):
        return as_of.year
    return as_of.year - 1


def _recent_weekday(weekday: int, as_of: date, *, strictly_before: bool = False) -> date:
    back = (as_of.weekday() - weekday) % 7
    if back == 0 and strictly_before:
        back = 7
    return as_of - timedelta(days=back)


def _number(text: str) -> int:
    text = " ".join(text.lower().split())
    return int(text) if text.isdigit() else _NUMBERS[text]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- one resolver per phrase kind; each gets the match and as_of, returns (since, until) -------


def _iso(m: re.Match[str], as_of: date) -> Span | None:
    day = _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
    return (day, day) if day else None


def _month_day(m: re.Match[str], as_of: date) -> Span | None:
    month = _MONTHS[(m["m1"] or m["m2"]).lower().rstrip(".")]
    day_num = int(m["d1"] or m["d2"])
    year = int(m["y"]) if m["y"] else None
    if year is None:
        year = as_of.year
        candidate = _safe_date(year, month, day_num)
        if candidate is not None and candidate > as_of:
            year -= 1
    day = _safe_date(year, month, day_num)
    return (day, day) if day else None


def _month_year(m: re.Match[str], as_of: date) -> Span | None:
    month, year = _MONTHS[m["m"].lower().rstrip(".")], int(m["y"])
    return (date(year, month, 1), _month_end(year, month))


def _month(m: re.Match[str], as_of: date) -> Span | None:
    month = _MONTHS[m["m"].lower()]
    cue = (m["cue"] or "").lower()
    year = _recent_month(month, as_of, strictly_before=cue == "last")
    if cue == "this":
        year = as_of.year
    return (date(year, month, 1), _month_end(year, month))


def _weekday(m: re.Match[str], as_of: date) -> Span | None:
    cue = (m["cue"] or "").lower()
    day = _recent_weekday(_WEEKDAYS[m["w"].lower()], as_of, strictly_before=cue == "last")
    return (day, day)


def _past_n(m: re.Match[str], as_of: date) -> Span | None:
    n, unit = _number(m["num"]), m["unit"].lower()
    if n <= 0 or n > 400:
        return None
    if unit == "day":
        return (as_of - timedelta(days=n), as_of)
    if unit == "week":
        return (as_of - timedelta(days=7 * n), as_of)
    months = n if unit == "month" else 12 * n
    return (_add_months(as_of, -months), as_of)


def _ago(m: re.Match[str], as_of: date) -> Span | None:
    n, unit = _number(m["num"]), m["unit"].lower()
    if n <= 0 or n > 400:
        return None
    if unit == "day":
        day = as_of - timedelta(days=n)
        return (day, day)
    if unit == "week":
        day = as_of - timedelta(days=7 * n)
        return (day - timedelta(days=3), day + timedelta(days=3))
    if unit == "month":
        day = _add_months(as_of, -n)
        return (date(day.year, day.month, 1), _month_end(day.year, day.month))
    return (date(as_of.year - n, 1, 1), date(as_of.year - n, 12, 31))


def _year(m: re.Match[str], as_of: date) -> Span | None:
    year = int(m["y"])
    return (date(year, 1, 1), date(year, 12, 31))


def _weekend(m: re.Match[str], as_of: date) -> Span | None:
    saturday = _recent_weekday(5, as_of)
    if m["cue"].lower() == "last" and as_of.weekday() in (5, 6):
        saturday -= timedelta(days=7)
    return (saturday, saturday + timedelta(days=1))


def _fixed(fn: Callable[[date], Span]) -> Callable[[re.Match[str], date], Span | None]:
    return lambda m, as_of: fn(as_of)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _last_month(as_of: date) -> Span:
    first = date(as_of.year, as_of.month, 1)
    end = first - timedelta(days=1)
    return (date(end.year, end.month, 1), end)


_DAY = r"(?P<{}>[0-3]?\d)(?:st|nd|rd|th)?"
# "the Jan. 6 committee", "9/11 attacks": a day used as the name of an event is not a date filter.
_NOT_HOLIDAY = "".join(
    rf"(?<!{word} )" for word in ("black", "good", "cyber", "super", "ash", "holy", "blue", "fat")
)
_EVENT_NOUNS = (
    r"committee|panel|hearings?|riots?|rioters?|attacks?|insurrection|investigation|select"
)
_RULES: list[tuple[str, Callable[[re.Match[str], date], Span | None]]] = [
    (r"\b(?P<y>(?:19|20)\d{2})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b", _iso),
    (
        rf"\b(?:(?:{_DAY.format('d1')}\s+(?:of\s+)?(?P<m1>{_ANY_MONTH})\.?)"
        rf"|(?:(?P<m2>{_ANY_MONTH})\.?\s+{_DAY.format('d2')}))\b(?:,?\s+(?P<y>(?:19|20)\d{{2}})\b)?"
        rf"(?!\s+(?:{_EVENT_NOUNS})\b)",
        _month_day,
    ),
    (rf"\b(?P<m>{_ANY_MONTH})\.?,?\s+(?P<y>(?:19|20)\d{{2}})\b", _month_year),
    (rf"\b(?:(?P<cue>{_MONTH_CUE})[\s-]+(?:(?:early|late|mid)[\s-]*)?)(?P<m>{_FULL_MONTH})\b",
     _month),
    (r"\b(?:in|during|since|throughout|until|till|before|after)\s+(?:the\s+year\s+)?"
     r"(?:(?:early|late|mid)[\s-]*)?(?P<y>(?:19|20)\d{2})\b(?!\s*-\s*\d)", _year),
    (rf"\b(?:(?P<cue>on|last|this|past|since|by|until|before|after)\s+)?{_NOT_HOLIDAY}"
     rf"(?P<w>{_WEEKDAY})\b(?!\s+night)", _weekday),
    (rf"\b(?:past|last|previous|recent|over the past|in the past)\s+{_NUM}\s+{_UNIT}\b", _past_n),
    (rf"\b{_NUM}\s+{_UNIT}\s+ago\b", _ago),
    (r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", _fixed(lambda d: (d, d))),
    (r"\b(?:yesterday|last night)\b", _fixed(lambda d: (d - timedelta(days=1),) * 2)),
    (r"\b(?P<cue>this|last|past)\s+weekend\b", _weekend),
    (r"\b(?:this|past|the last|in recent)\s+(?:week|days)\b",
     _fixed(lambda d: (d - timedelta(days=6), d))),
    (r"\b(?:last|previous)\s+week\b", _fixed(lambda d: (_monday(d) - timedelta(days=7), d))),
    (r"\bthis month\b", _fixed(lambda d: (date(d.year, d.month, 1), d))),
    (r"\b(?:last|previous|past) month\b", _fixed(_last_month)),
    (r"\bthis year\b", _fixed(lambda d: (date(d.year, 1, 1), d))),
    (r"\b(?:last|previous) year\b",
     _fixed(lambda d: (date(d.year - 1, 1, 1), date(d.year - 1, 12, 31)))),
    (r"\b(?:recently|lately|in recent (?:weeks|months)|these days)\b",
     _fixed(lambda d: (d - timedelta(days=30), d))),
]  # fmt: skip
_COMPILED = [(re.compile(pattern, re.IGNORECASE), fn) for pattern, fn in _RULES]
_MODIFIER = re.compile(
    r"\b(?P<mod>since|after|before|prior\s+to|until|till|by)\s+(?:(?:on|in|the)\s+)?$",
    re.IGNORECASE,
)
_LEADING_MODIFIER = re.compile(r"(?P<mod>since|after|before|until|till|by)\b", re.IGNORECASE)


def _apply_modifier(
    text: str, start: int, phrase: str, span: Span, as_of: date
) -> tuple[date | None, date]:
    """``since June`` -> June 1 .. as_of; ``before 2021`` -> open .. 2020-12-31."""
    m = _MODIFIER.search(text[max(0, start - 20) : start]) or _LEADING_MODIFIER.match(phrase)
    since, until = span
    if m is None:
        return since, until
    mod = " ".join(m["mod"].lower().split())
    if mod == "since":
        return since, as_of
    if mod == "after":
        return until + timedelta(days=1), as_of
    if mod in ("before", "prior to"):
        return None, since - timedelta(days=1)
    return None, until  # until / till / by


def resolve_dates(question: str, as_of: date) -> DateRange | None:
    """The date range a question refers to, or ``None`` when it names no date (rules above)."""
    for pattern, fn in _COMPILED:
        for m in pattern.finditer(question):
            span = fn(m, as_of)
            if span is None:
                continue
            since, until = _apply_modifier(question, m.start(), m[0], span, as_of)
            if since is not None and since > as_of:
                continue  # entirely in the future: no article can be from then
            until = min(until, as_of)
            if since is not None and since > until:
                continue
            return DateRange(since=since, until=until, phrase=m[0].strip())
    return None
