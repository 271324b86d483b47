"""Citation markers and support checking (assistant.answering.citations)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.answering.citations import clean_markers, parse_markers, split_sentences, verify
from assistant.models import Passage
from tests.fakes import HashEmbedder

ARTICLE = (
    "TEHRAN - Iran's foreign minister Javad Zarif met officials in Tokyo on Monday. "
    "The talks lasted three hours, officials said. Zarif did not meet the prime minister. "
    "There was no immediate comment from Washington.\n\n"
    "Oil exports fell to 500,000 barrels a day in July, the ministry said."
)
CUT = ARTICLE.index("Iran's")
SPLIT = ARTICLE.index("Oil exports")
P1 = Passage(
    n=1, chunk_id="a1:0", article_id="a1", title="Zarif visits Tokyo", source="Tasnim",
    published=date(2019, 8, 10), url="https://example.org/zarif", text=ARTICLE[CUT:SPLIT].strip(),
    start=CUT, end=CUT + len(ARTICLE[CUT:SPLIT].strip()), dense_score=0.8,
)  # fmt: skip
P2 = Passage(
    n=2, chunk_id="a1:1", article_id="a1", title="Zarif visits Tokyo", source="Tasnim",
    published=date(2019, 8, 10), text=ARTICLE[SPLIT:], start=SPLIT, end=len(ARTICLE),
    dense_score=0.6,
)  # fmt: skip
PASSAGES = [P1, P2]
REFUSAL = "The articles don't say."


@pytest.fixture(params=[None, "hash"], ids=["overlap-only", "with-embedder"])
def embedder(request: pytest.FixtureRequest) -> HashEmbedder | None:
    return HashEmbedder() if request.param else None


def _check(text: str, embedder: HashEmbedder | None, **kw: object):  # type: ignore[no-untyped-def]
    return verify(text, PASSAGES, embedder, 0.45, refusal=REFUSAL, **kw)  # type: ignore[arg-type]


def test_marker_forms() -> None:
    found = parse_markers("a [1] b [1, 2] c [1-3] d [1][2] e [Source 4] f [2022] g")
    assert [m.numbers for m in found] == [(1,), (1, 2), (1, 2, 3), (1,), (2,), (4,)]
    text = "a [1] b"
    assert text[found[0].start : found[0].end] == "[1]"


def test_clean_markers_removes_and_counts_invalid_numbers() -> None:
    assert clean_markers("A [1]. B [9]. C [1, 9]. D [Source 2].", {1, 2}) == (
        "A [1]. B. C [1]. D [2].",
        2,
    )


def test_valid_citations_map_back_to_the_article(embedder: HashEmbedder | None) -> None:
    result = _check(
        "According to Tasnim (2019-08-10), Zarif met officials in Tokyo on Monday [1]. "
        "Oil exports fell to 500,000 barrels a day in July [2].",
        embedder,
    )
    assert result.invalid_markers == 0 and not result.unsupported_sentences
    assert [c.n for c in result.citations] == [1, 2]
    for citation in result.citations:
        assert ARTICLE[citation.start : citation.end] == citation.quote
        assert citation.supported and 0.45 <= citation.support <= 1.0
        assert citation.article_id == "a1" and citation.title == "Zarif visits Tokyo"
    assert result.citations[0].quote.startswith("Iran's foreign minister Javad Zarif met")
    assert result.citations[1].quote.startswith("Oil exports fell to 500,000 barrels")


def test_out_of_range_marker_is_removed_and_counted(embedder: HashEmbedder | None) -> None:
    text = "Zarif met officials in Tokyo [1][9]. The talks lasted three hours [7]."
    result = _check(text, embedder)
    assert result.invalid_markers == 2
    assert "[9]" not in result.text and "[7]" not in result.text
    assert result.text == "Zarif met officials in Tokyo [1]. The talks lasted three hours."
    assert [c.n for c in result.citations] == [1]
    assert result.uncited_sentences == ["The talks lasted three hours."]


def test_uncited_sentence_is_reported(embedder: HashEmbedder | None) -> None:
    result = _check("Zarif met officials in Tokyo [1]. Iran will sign a deal next week.", embedder)
    assert result.uncited_sentences == ["Iran will sign a deal next week."]
    assert result.unsupported_sentences == ["Iran will sign a deal next week."]
    relaxed = _check("Zarif met officials in Tokyo [1]. Iran will sign a deal.", embedder,
                     require_citations=False)  # fmt: skip
    assert relaxed.uncited_sentences and not relaxed.unsupported_sentences


@pytest.mark.parametrize(
    "claim",
    [
        "The talks lasted five hours [1].",  # number changed
        "Oil exports fell to 800,000 barrels a day in July [2].",  # number changed
        "Zarif met the prime minister [1].",  # negation flipped
        "Putin met officials in Tokyo on Monday [1].",  # name changed
        "Zarif met officials in Berlin on Monday [1].",  # place changed
        "Oil exports rose to 500,000 barrels a day in July [2].",  # antonym
    ],
)
def test_contradicting_sentence_is_flagged(claim: str, embedder: HashEmbedder | None) -> None:
    result = _check(claim, embedder)
    assert len(result.citations) == 1
    citation = result.citations[0]
    assert not citation.supported and citation.support < 0.45
    assert result.unsupported_sentences == [claim.removesuffix(f" [{citation.n}].") + "."]


def test_invented_claim_citing_a_real_passage_is_flagged(embedder: HashEmbedder | None) -> None:
    result = _check("The Iranian army launched a missile at a tanker [1].", embedder)
    assert not result.citations[0].supported


def test_markers_after_the_full_stop_belong_to_the_sentence(embedder: HashEmbedder | None) -> None:
    result = _check("Zarif met officials in Tokyo. [1] The talks lasted three hours. [1]", embedder)
    assert [c.sentence for c in result.citations] == [
        "Zarif met officials in Tokyo.", "The talks lasted three hours."
    ]  # fmt: skip
    assert all(c.supported for c in result.citations)
    assert not result.uncited_sentences


def test_refusal_and_lead_in_need_no_citation(embedder: HashEmbedder | None) -> None:
    assert not _check(REFUSAL, embedder).unsupported_sentences
    result = _check("Here is what the articles say: Zarif met officials in Tokyo [1].", embedder)
    assert not result.unsupported_sentences


def test_one_citation_per_sentence_and_passage(embedder: HashEmbedder | None) -> None:
    result = _check("Zarif met officials in Tokyo [1][1, 2].", embedder)
    assert [c.n for c in result.citations] == [1, 2]
    assert result.citations[0].supported and not result.citations[1].supported
    assert not result.unsupported_sentences  # one supported citation is enough


def test_split_sentences_offsets() -> None:
    text = "Mr. Smith went to Washington. He met the U.S. president on Jan. 5! Did he? Yes."
    spans = split_sentences(text, offset=10)
    assert [text[s - 10 : e - 10] for s, e in spans] == [
        "Mr. Smith went to Washington.", "He met the U.S. president on Jan. 5!", "Did he?", "Yes."
    ]  # fmt: skip


def test_sentence_spans_carry_their_markers(embedder: HashEmbedder | None) -> None:
    result = _check(
        "Zarif met officials in Tokyo. [1] The talks lasted five hours [1][2]. Iran will sign.",
        embedder,
    )
    text = result.text
    assert [text[s.start : s.end] for s in result.sentences] == [
        "Zarif met officials in Tokyo. [1]", "The talks lasted five hours [1][2].",
        "Iran will sign.",
    ]  # fmt: skip
    assert [s.citations for s in result.sentences] == [[1], [1, 2], []]
    assert [s.supported for s in result.sentences] == [True, False, False]  # five; uncited
    assert [[text[m.start : m.end] for m in s.markers] for s in result.sentences] == [
        ["[1]"], ["[1]", "[2]"], []
    ]  # fmt: skip
