"""Date phrases in questions -> date ranges (assistant.dates)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.dates import resolve_dates

FRIDAY = date(2022, 6, 17)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Who resigned today?", FRIDAY, FRIDAY),
        ("What happened yesterday in Kyiv?", date(2022, 6, 16), date(2022, 6, 16)),
        ("Which country voted this week?", date(2022, 6, 11), FRIDAY),
        ("Who won the race last week?", date(2022, 6, 6), FRIDAY),
        ("What happened in the past 3 days?", date(2022, 6, 14), FRIDAY),
        ("Any news over the last two weeks?", date(2022, 6, 3), FRIDAY),
        ("Who was fired this month?", date(2022, 6, 1), FRIDAY),
        ("What did the Fed do last month?", date(2022, 5, 1), date(2022, 5, 31)),
        ("What happened in June?", date(2022, 6, 1), FRIDAY),
        ("What happened in June 2021?", date(2021, 6, 1), date(2021, 6, 30)),
        ("What happened in December?", date(2021, 12, 1), date(2021, 12, 31)),
        ("Who spoke on June 5?", date(2022, 6, 5), date(2022, 6, 5)),
        ("Who spoke on June 5, 2021?", date(2021, 6, 5), date(2021, 6, 5)),
        ("Who spoke on 5 June 2021?", date(2021, 6, 5), date(2021, 6, 5)),
        ("Who spoke on 2021-06-05?", date(2021, 6, 5), date(2021, 6, 5)),
        ("How much did prices rise this year?", date(2022, 1, 1), FRIDAY),
        ("Who won the election last year?", date(2021, 1, 1), date(2021, 12, 31)),
        ("Who won the cup in 2021?", date(2021, 1, 1), date(2021, 12, 31)),
        ("What did he say on Monday?", date(2022, 6, 13), date(2022, 6, 13)),
        ("What did he say last Friday?", date(2022, 6, 10), date(2022, 6, 10)),
        ("Who was convicted Thursday?", date(2022, 6, 16), date(2022, 6, 16)),
        ("What did Monday's storm destroy?", date(2022, 6, 13), date(2022, 6, 13)),
        ("Who has the company hired recently?", date(2022, 5, 18), FRIDAY),
        ("What has changed since March?", date(2022, 3, 1), FRIDAY),
        ("What did the court rule before 2021?", None, date(2020, 12, 31)),
        ("What happened three days ago?", date(2022, 6, 14), date(2022, 6, 14)),
        ("Which team won this weekend?", date(2022, 6, 11), date(2022, 6, 12)),
    ],
)
def test_phrases(question: str, since: date | None, until: date) -> None:
    found = resolve_dates(question, FRIDAY)
    assert found is not None, question
    assert (found.since, found.until) == (since, until)
    assert found.phrase and found.phrase.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    [
        "Who is the prime minister of Iran?",
        "May I ask who won the election?",
        "Who organised the March on Washington?",
        "Who won the 2018 World Cup?",
        "What did the Jan. 6 committee find?",
        "Which store had the best Black Friday deals?",
        "What will happen in 2030?",  # entirely after as_of: no article can be from then
        "",
    ],
)
def test_no_date(question: str) -> None:
    assert resolve_dates(question, FRIDAY) is None


def test_month_without_year_is_most_recent_past_one() -> None:
    found = resolve_dates("What happened in early July?", FRIDAY)
    assert found is not None and found.since == date(2021, 7, 1)
    found = resolve_dates("What happened last June?", FRIDAY)
    assert found is not None and found.since == date(2021, 6, 1)


PHRASES = [
    "today", "yesterday", "this week", "last week", "past week", "this weekend", "last weekend",
    "past {n} days", "last {n} weeks", "past {n} months", "last {n} years", "{n} days ago",
    "{n} weeks ago", "{n} months ago", "this month", "last month", "this year", "last year",
    "in {month}", "last {month}", "in {month} {year}", "on {month} {day}", "{day} {month} {year}",
    "on {weekday}", "last {weekday}", "recently", "since {month}", "in {year}", "since {weekday}",
]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@settings(max_examples=300, deadline=None)
@given(
    as_of=st.dates(min_value=date(2001, 1, 1), max_value=date(2030, 12, 31)),
    phrase=st.sampled_from(PHRASES),
    n=st.integers(min_value=1, max_value=30),
    month=st.sampled_from(MONTHS),
    day=st.integers(min_value=1, max_value=28),
    year_back=st.integers(min_value=0, max_value=15),
    weekday=st.sampled_from(WEEKDAYS),
)
def test_past_phrases_give_ordered_ranges_up_to_as_of(
    as_of: date, phrase: str, n: int, month: str, day: int, year_back: int, weekday: str
) -> None:
    text = phrase.format(n=n, month=month, day=day, year=as_of.year - year_back, weekday=weekday)
    question = f"What happened {text}?"
    first = resolve_dates(question, as_of)
    assert first == resolve_dates(question, as_of)  # deterministic
    if first is None:  # only a date after as_of may be ignored
        return
    assert first.until is not None and first.until <= as_of
    if first.since is not None:
        assert first.since <= first.until
    if not text.startswith("{") and "ago" not in text:
        assert as_of - first.until < timedelta(days=366 * 16)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), as_of=st.dates(min_value=date(1990, 1, 1)))
def test_any_text_never_fails_and_never_reaches_past_as_of(text: str, as_of: date) -> None:
    found = resolve_dates(text, as_of)
    if found is not None:
        assert found.until is not None and found.until <= as_of
        assert found.since is None or found.since <= found.until
