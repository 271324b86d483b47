"""Property-based tests for the citation parser (chunker and date resolver have theirs beside them)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answering.citations import clean_markers, parse_markers

words = st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=30)
numbers = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=3)


@st.composite
def cited_text(draw: st.DrawFn) -> tuple[str, list[list[int]]]:
    parts: list[str] = []
    markers: list[list[int]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        parts.append(draw(words))
        nums = draw(numbers)
        markers.append(nums)
        parts.append("[" + ", ".join(str(n) for n in nums) + "]")
    parts.append(draw(words))
    return " ".join(parts), markers


@settings(max_examples=300, deadline=None)
@given(cited_text(), st.sets(st.integers(min_value=1, max_value=10), max_size=10))
def test_clean_markers_keeps_only_valid_numbers(
    case: tuple[str, list[list[int]]], valid: set[int]
) -> None:
    text, markers = case
    found = parse_markers(text)
    assert [list(dict.fromkeys(m)) for m in markers] == [list(m.numbers) for m in found]
    cleaned, removed = clean_markers(text, valid)
    assert removed == sum(1 for m in found for n in m.numbers if n not in valid)
    left = [n for m in parse_markers(cleaned) for n in m.numbers]
    assert all(n in valid for n in left)
    assert sorted(left) == sorted(n for m in found for n in m.numbers if n in valid)


@settings(max_examples=200, deadline=None)
@given(words)
def test_text_without_markers_is_untouched(text: str) -> None:
    assert parse_markers(text) == []
    assert clean_markers(text, {1, 2}) == (text, 0)
