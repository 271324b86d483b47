"""The text core (assistant.text): tokens, sentences and citation markers, one of each."""

from __future__ import annotations

import pytest

from assistant.answering import citations
from assistant.ingest import chunking
from assistant.text import (
    STOPWORDS,
    clean_markers,
    content_tokens,
    names,
    normalise_number,
    numbers,
    parse_markers,
    split_sentences,
    stem,
    strip_markers,
)


def test_content_tokens_stem_and_drop_stopwords() -> None:
    assert content_tokens("The ministers met in Tehran on Monday, officials said.") == [
        "minist", "meet", "tehran", "monday", "offici"
    ]  # fmt: skip
    assert stem("won") == stem("wins") == "win"  # irregular past forms map to the base
    assert stem("Three") == "3" and stem("Iran’s") == "iran"
    assert "the" in STOPWORDS and "iran" not in STOPWORDS


@pytest.mark.parametrize(
    ("raw", "norm"), [("1,250", "1250"), ("2.50", "2.5"), ("3.0", "3"), ("17", "17")]
)
def test_numbers_are_normalised(raw: str, norm: str) -> None:
    assert normalise_number(raw) == norm
    assert norm in numbers(f"about {raw} people")


def test_number_words_and_names() -> None:
    assert numbers("three ships and 1,500 sailors") == {"3", "1500"}
    assert names("General Hatami congratulated Najah Al-Shammari in Baghdad.") >= {
        stem("General"), stem("Hatami"), stem("Najah"), stem("Baghdad")
    }  # fmt: skip
    assert stem("in") not in names("He went in.")


def test_sentence_spans_are_exact_and_skip_abbreviations() -> None:
    text = "Gen. Hatami met the U.S. envoy on Jan. 6. It lasted 2.5 hours! Why?\n\n- A list item"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Gen. Hatami met the U.S. envoy on Jan. 6.", "It lasted 2.5 hours!", "Why?", "- A list item"
    ]  # fmt: skip
    assert split_sentences(text, offset=7)[1] == (spans[1][0] + 7, spans[1][1] + 7)


def test_one_splitter_one_marker_parser_everywhere() -> None:
    assert chunking.split_sentences is split_sentences is citations.split_sentences
    assert citations.parse_markers is parse_markers and citations.content_tokens is content_tokens


def test_markers_parse_clean_and_strip() -> None:
    text = "A [1]. B [2-4]. C [Source 5; 6]. D [2022]."
    assert [m.numbers for m in parse_markers(text)] == [(1,), (2, 3, 4), (5, 6)]
    first = parse_markers(text)[0]
    assert text[first.start : first.end] == "[1]"
    assert clean_markers(text, {1, 3, 6}) == ("A [1]. B [3]. C [6]. D [2022].", 3)
    assert strip_markers("Iran helped [1, 2]. Yes [3]") == "Iran helped. Yes"


def test_one_name_extractor_serves_every_stage() -> None:
    """Follow-ups, answerability and the reader read names with the same rules."""
    from assistant.text import name_phrases, names, proper_nouns

    q = "Did Defense Minister Amir Hatami meet Iraq's Al-Shammari in Tehran, and what did he say?"
    assert proper_nouns(q) == {"amir", "hatami", "iraq", "al-shammari", "tehran"}
    # the opening word and role titles count only when asked for (the support check)
    assert {"defens", "minist"} <= names(q) and "did" not in names(q)
    assert name_phrases(q) == ["Amir Hatami", "Iraq's Al-Shammari", "Tehran"]
    assert name_phrases("Who leads the US team? President Joe Biden") == ["US", "Joe Biden"]
    assert proper_nouns("“I’m close,” he said. It's Tuesday in Kyiv") == {"kyiv", "tuesday"}
