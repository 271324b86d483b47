"""Chunker and sentence splitter: exact offsets, nothing dropped, sensible sizes, stable ids."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest import chunk_article, count_tokens, iter_articles, split_sentences
from assistant.models import Article, Chunk, sha1

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_f827c2b710232763.txt"

SENTENCES = [
    "Gen. Hatami met Mr. Al-Shammari in Baghdad on Jan. 6, 2022.",
    "The U.S. economy grew 2.5 percent in the second quarter, officials said.",
    "J. K. Rowling's new book sold 1.2 million copies in its first week.",
    '"We will not back down," the minister told reporters on Tuesday.',
    "Prices rose by 3.75% as the Federal Reserve raised rates again.",
    "Dr. Smith, who works at Acme Corp., declined to comment.",
    "Is this the end?",
    "Nobody knows!",
]


def make_article(text: str, ident: str = "art-1", title: str = "Title") -> Article:
    return Article(id=ident, title=title, text=text, source="Test Wire", url="https://t.example/1")


def assert_chunk_invariants(article: Article, chunks: list[Chunk]) -> None:
    text = article.text
    covered = bytearray(len(text))
    for index, chunk in enumerate(chunks):
        assert chunk.index == index and chunk.count == len(chunks)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start and a.end < b.end
    dropped = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert dropped == []


# --- split_sentences ----------------------------------------------------------------------------


def test_abbreviations_initials_and_decimals_do_not_split() -> None:
    text = " ".join(SENTENCES)
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == SENTENCES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
        ("He works for Apple Inc. in Cupertino.", ["He works for Apple Inc. in Cupertino."]),
        ('"Why?" he asked. Nobody answered.', ['"Why?" he asked.', "Nobody answered."]),
        ("It ended at 5 p.m. on Friday.", ["It ended at 5 p.m. on Friday."]),
        ("Wait... What happened?", ["Wait...", "What happened?"]),
        ("1. January 6\n\nThe House met.", ["1. January 6", "The House met."]),
        (
            "Key figures:\n- Jobs: 372,000\n- Rate: 3.6%",
            ["Key figures:", "- Jobs: 372,000", "- Rate: 3.6%"],
        ),
        ("A line that is\nwrapped by hand.", ["A line that is\nwrapped by hand."]),
        ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
    ],
)
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_split_sentences_offset_shifts_spans() -> None:
    text = "One here. Two there."
    assert split_sentences(text, offset=100) == [(100, 109), (110, 120)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .?!\n\"'U.S3,”")), max_size=200))
def test_split_sentences_properties(text: str) -> None:
    spans = split_sentences(text, offset=7)
    previous_end = 7
    covered = set()
    for start, end in spans:
        assert previous_end <= start < end
        piece = text[start - 7 : end - 7]
        assert piece == piece.strip() and piece
        covered.update(range(start - 7, end - 7))
        previous_end = end
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


# --- chunk_article ------------------------------------------------------------------------------


def test_seed_chunks_map_back_and_cover_everything() -> None:
    [article] = [a for a in iter_articles([SEED]) if isinstance(a, Article)]
    chunks = chunk_article(article, chunk_tokens=120, overlap_tokens=30)
    assert len(chunks) > 3
    assert_chunk_invariants(article, chunks)
    assert chunks[0].text.startswith("TEHRAN (Tasnim) –")
    assert all(c.title == article.title and c.source == "Tasnim" for c in chunks)


def test_sizes_within_bounds_and_overlap_is_whole_sentences() -> None:
    text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(120))
    article = make_article(text)
    chunks = chunk_article(article, chunk_tokens=80, overlap_tokens=20)
    assert_chunk_invariants(article, chunks)
    sizes = [count_tokens(c.text) for c in chunks]
    assert max(sizes) <= 80
    assert min(sizes[:-1]) >= 40  # only the last chunk may be small
    sentence_starts = {s for s, _ in split_sentences(text)}
    sentence_ends = {e for _, e in split_sentences(text)}
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "consecutive chunks overlap"
        assert count_tokens(text, b.start, a.end) <= 30
        assert b.start in sentence_starts and a.end in sentence_ends


def test_paragraph_breaks_are_preferred_boundaries() -> None:
    para_a = " ".join(SENTENCES[:5])  # about 70 tokens
    para_b = " ".join(SENTENCES[2:8])
    article = make_article(f"{para_a}\n\n{para_b}")
    chunks = chunk_article(article, chunk_tokens=100, overlap_tokens=0)
    assert [c.text for c in chunks] == [para_a, para_b]


def test_overlong_sentence_is_split_at_whitespace() -> None:
    words = [f"word{i}" for i in range(500)]
    text = " ".join(words) + "."
    article = make_article(text)
    chunks = chunk_article(article, chunk_tokens=50, overlap_tokens=10)
    assert_chunk_invariants(article, chunks)
    assert all(count_tokens(c.text) <= 50 for c in chunks)
    for chunk in chunks:  # cut between words, never inside one
        assert chunk.start == 0 or text[chunk.start - 1] == " "
        assert chunk.end == len(text) or text[chunk.end] == " "
        assert re.fullmatch(r"word\d+\.?", chunk.text.split()[0])
    assert min(count_tokens(c.text) for c in chunks) >= 40  # even pieces, no tiny tail


def test_no_whitespace_monster_token_run_is_still_bounded() -> None:
    article = make_article("Intro sentence here. " + "-" * 1000 + " Outro.")
    chunks = chunk_article(article, chunk_tokens=64, overlap_tokens=8)
    assert_chunk_invariants(article, chunks)
    assert all(count_tokens(c.text) <= 64 for c in chunks)


def test_chunk_ids_stable_and_change_with_content() -> None:
    article = make_article(" ".join(SENTENCES * 10))
    first = chunk_article(article, 60, 10)
    again = chunk_article(make_article(" ".join(SENTENCES * 10)), 60, 10)
    retitled = chunk_article(make_article(" ".join(SENTENCES * 10), title="Other"), 60, 10)
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id == f"{sha1('art-1')[:16]}-{article.content_hash[:12]}-0000"
    assert all(c.content_hash == article.content_hash for c in first)
    assert not {c.id for c in first} & {c.id for c in retitled}


def test_empty_and_tiny_texts() -> None:
    assert chunk_article(make_article("   \n\n  ")) == []
    [chunk] = chunk_article(make_article("Short."))
    assert (chunk.text, chunk.start, chunk.end, chunk.count) == ("Short.", 0, 6, 1)


def test_bad_chunk_size_raises() -> None:
    with pytest.raises(ValueError, match="chunk_tokens"):
        chunk_article(make_article("Text."), chunk_tokens=0)


# --- properties ---------------------------------------------------------------------------------

_piece = st.one_of(
    st.sampled_from(SENTENCES),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(["\n", "\n\n", " ", "  \n \n", "...", "U.S.", "“", "—"]),
)
_texts = st.lists(_piece, max_size=60).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, size=st.integers(8, 120), overlap=st.integers(0, 60))
def test_chunk_properties(text: str, size: int, overlap: int) -> None:
    article = make_article(text)
    chunks = chunk_article(article, chunk_tokens=size, overlap_tokens=overlap)
    assert_chunk_invariants(article, chunks)
    assert all(count_tokens(c.text) <= size for c in chunks)
    assert [c.id for c in chunks] == [c.id for c in chunk_article(article, size, overlap)]


@settings(max_examples=60, deadline=None)
@given(text=_texts.filter(lambda t: bool(t.strip())), extra=st.sampled_from(SENTENCES))
def test_chunk_ids_change_when_content_changes(text: str, extra: str) -> None:
    before = chunk_article(make_article(text))
    after = chunk_article(make_article(text + " " + extra))
    assert before and after
    assert not {c.id for c in before} & {c.id for c in after}
