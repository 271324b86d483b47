"""The page's pure parts: escaping, highlighting, marker links, export, upload helpers."""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
from pathlib import Path

from assistant.models import Answer, AnswerSentence, Citation, MarkerSpan, Passage
from tests.conftest import ROOT
from ui.cards import card_html, highlight, quote_spans
from ui.components import answer_html, esc, safe_url
from ui.export import conversation_markdown
from ui.upload import UPLOAD_TYPES, estimate_articles, safe_name

ARTICLE = "First sentence here. Al-Shammari praised Iran for its help. Last one."


def passage(n: int = 1, start: int = 0, text: str = ARTICLE, **kw: object) -> Passage:
    return Passage(
        n=n, chunk_id=f"c{n}", article_id="a", text=text, start=start, end=start + len(text),
        title="T", source="Tasnim", **kw,
    )  # fmt: skip


def citation(quote: str, start: int, n: int = 1, supported: bool = True) -> Citation:
    return Citation(
        n=n, article_id="a", chunk_id=f"c{n}", quote=quote, start=start, end=start + len(quote),
        supported=supported, support=0.9 if supported else 0.1,
    )  # fmt: skip


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def test_esc_makes_markup_and_markdown_inert() -> None:
    raw = "<script>x</script> & **b** [l](javascript:x) :red[y] $m$ `c`\n\nnext"
    out = esc(raw)
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")
    assert not re.search(r"[*\[\]`$:()]", re.sub(r"&#\d+;", "", out))
    assert "\n" not in out
    assert visible(out) == raw


def test_safe_url_allows_only_http() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil", "http://", "ftp://x/y",
                "https://exa mple.org", None, ""):  # fmt: skip
        assert safe_url(bad) is None


def test_quote_offsets_are_relative_to_the_passage() -> None:
    quote = "Al-Shammari praised Iran for its help."
    offset = 1000
    p = passage(start=offset)
    start = offset + ARTICLE.index(quote)
    assert quote_spans(p, [citation(quote, start)]) == [
        (ARTICLE.index(quote), ARTICLE.index(quote) + len(quote))
    ]
    # wrong offsets (other chunking): found by searching the text instead
    assert quote_spans(p, [citation(quote, 5)]) == [
        (ARTICLE.index(quote), ARTICLE.index(quote) + len(quote))
    ]
    assert quote_spans(p, [citation("not in the passage", 0)]) == []


def test_highlight_marks_and_escapes() -> None:
    text = "a <b>bold</b> claim & more"
    out = highlight(text, [(2, 13)])
    assert out.startswith("a <mark>") and "</mark>" in out
    assert visible(out) == text
    assert "<b>" not in out


def test_card_has_anchor_link_and_mark() -> None:
    quote = "Al-Shammari praised Iran for its help."
    p = passage(url="https://tasnim.example/x", published=dt.date(2019, 8, 10))
    out = card_html(1, 7, p, [citation(quote, ARTICLE.index(quote))])
    assert 'id="src-7-1"' in out
    assert 'href="https://tasnim.example/x" target="_blank" rel="noopener noreferrer"' in out
    assert visible(re.search(r"<mark>.*?</mark>", out).group(0)) == quote  # type: ignore[union-attr]
    assert "2019-08-10" in visible(out) and "Tasnim" in visible(out)


def test_card_drops_unsafe_links_and_flags_weak_support() -> None:
    p = passage(url="javascript:alert(1)")
    out = card_html(
        2, 1, p, [citation("Last one.", ARTICLE.index("Last one."), n=2, supported=False)]
    )
    assert "javascript" not in out and "<a " not in out
    assert "weak support" in visible(out)


def test_markers_link_to_cards_and_unknown_numbers_stay_text() -> None:
    answer = Answer(
        question="q", standalone_question="q", mode="llm",
        answer="Iran helped [1, 2]. Unrelated [9]. Bad claim [1].",
        citations=[citation("First sentence here.", 0)],
        passages=[passage(1), passage(2)],
        unsupported_sentences=["Bad claim."],
    )  # fmt: skip
    out = answer_html(answer, 3)
    assert 'href="#src-3-1"' in out and 'href="#src-3-2"' in out
    assert "src-3-9" not in out and "[9]" in visible(out)
    flagged = re.search(r'<span class="qa-unsupported"[^>]*>(.*?)</span>', out)
    assert flagged and visible(flagged.group(1)) == "Bad claim [1]."


def test_answer_is_drawn_from_its_sentence_spans() -> None:
    text = "Iran helped (see 1, 2). Bad claim here {3} and more."
    helped, bad = text.index("(see 1, 2)"), text.index("{3}")
    answer = Answer(
        question="q", standalone_question="q", mode="llm", answer=text,
        passages=[passage(1), passage(2), passage(3)],
        # markers in forms the fallback parser does not know: only the spans can link them
        sentences=[
            AnswerSentence(start=0, end=23, citations=[1, 2], supported=True,
                           markers=[MarkerSpan(start=helped, end=helped + 10, numbers=[1, 2])]),
            AnswerSentence(start=24, end=len(text), citations=[3], supported=False,
                           markers=[MarkerSpan(start=bad, end=bad + 3, numbers=[3])]),
        ],
        unsupported_sentences=["something the text does not hold"],
    )  # fmt: skip
    out = answer_html(answer, 4)
    assert all(f'href="#src-4-{n}"' in out for n in (1, 2, 3))
    assert "see 1, 2" not in visible(out) and "{3}" not in visible(out)
    flagged = re.findall(r'<span class="qa-unsupported"[^>]*>(.*?)</span>', out)
    assert [visible(f) for f in flagged] == ["Bad claim here [3] and more."]
    assert visible(out).count("Iran helped [1][2].") == 1


def test_conversation_markdown_lists_sources_and_errors() -> None:
    quote = "Al-Shammari praised Iran for its help."
    answer = Answer(
        question="What did he praise?", standalone_question="What did Al-Shammari praise?",
        mode="extractive", answer=f"{quote} [1]",
        citations=[citation(quote, ARTICLE.index(quote))],
        passages=[passage(url="https://tasnim.example/x")],
    )  # fmt: skip
    md = conversation_markdown([("What did he praise?", answer, None), ("<b>?", None, "LLM down")])
    assert "## 1. What did he praise?" in md
    assert "_Searched for: What did Al-Shammari praise?_" in md
    assert "1. T — Tasnim, undated" in md
    assert "<https://tasnim.example/x>" in md
    assert f"> “{quote}”" in md
    assert "## 2. &lt;b&gt;?" in md and "_Error: LLM down_" in md


def test_upload_helpers() -> None:
    from assistant.ingest.loaders import SUPPORTED_EXTENSIONS

    assert {f".{t}" for t in UPLOAD_TYPES} == set(SUPPORTED_EXTENSIONS)
    taken: set[str] = set()
    assert safe_name("../../etc/passwd", taken) == "passwd"
    assert safe_name("C:\\Users\\x\\story.txt", taken) == "story.txt"
    assert safe_name("story.txt", taken) == "story-2.txt"
    assert safe_name("", taken) == "upload.txt"
    assert estimate_articles("a.jsonl", b"{}\n{}\n{}\n") == 3
    assert estimate_articles("a.csv", b"h\n1\n2") == 2
    assert estimate_articles("a.rss", b"<item></item><item></item>") == 2
    assert estimate_articles("a.txt", b"x") == 1


def test_ui_never_imports_chromadb_or_openai() -> None:
    for path in Path(ROOT / "ui").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]  # relative imports stay inside the ui package
            for name in names:
                top = name.split(".")[0]
                assert top in {"assistant", "ui", "streamlit", "__future__"} or top in _stdlib(), (
                    f"{path.name} imports {name}"
                )


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)


def test_short_answer_leads_and_is_bold_inside_its_quote() -> None:
    from assistant.answering.answer import Answerer
    from assistant.config import Settings
    from tests.fakes import HashEmbedder

    p = passage(start=100)
    answerer = Answerer(Settings(_env_file=None, answer_at=0.0), None, HashEmbedder())
    final = next(
        x
        for x in answerer.stream("q", "What did Al-Shammari praise Iran for?", [p], None, {})
        if isinstance(x, Answer)
    )
    assert final.short_answer is not None
    body = answer_html(final, 7)
    lead = re.search(r'<strong class="qa-short">(.*?)</strong>', body)
    assert lead is not None and html.unescape(re.sub("<[^>]+>", "", lead.group(1))).startswith(
        final.short_answer.text
    )
    assert body.index("qa-short") < body.index("praised")  # the phrase comes first
    card = card_html(1, 7, final.passages[0], final.citations, final.short_answer)
    inner = re.search(r"<mark>(.*?)</mark>", card)
    assert inner is not None and '<strong class="qa-short">' in inner.group(1)
    assert html.unescape(re.search(r'qa-short">(.*?)</strong>', card).group(1)) == (
        final.short_answer.text
    )


def _hedged_answer() -> Answer:
    """A hedged extractive answer as the answerer makes it (answer cut above any answerability)."""
    from assistant.answering.answer import Answerer
    from assistant.config import Settings
    from tests.fakes import HashEmbedder

    answerer = Answerer(
        Settings(_env_file=None, answer_at=0.999, hedge_at=0.0), None, HashEmbedder()
    )
    final = next(
        x
        for x in answerer.stream(
            "q", "What did Al-Shammari praise Iran for?", [passage(start=100)], None, {}
        )
        if isinstance(x, Answer)
    )
    assert final.outcome == "hedged" and final.short_answer is not None
    return final


def test_hedged_answer_is_a_warning_box_never_styled_like_an_answer() -> None:
    final = _hedged_answer()
    body = answer_html(final, 3)
    assert 'data-outcome="hedged"' in body and 'class="qa-hedge"' in body
    assert "qa-short" not in body  # the candidate is not the answer's bold
    assert "The articles may answer this — check the quote" in visible(body)
    assert visible(body).count("may answer this") == 1  # the box says it once
    assert "Unsure" in visible(body)
    assert "Sources:" in final.answer and "Sources:" not in visible(body)  # the cards list them
    candidate = re.search(r'<span class="qa-candidate">(.*?)</span>', body)
    assert candidate is not None and final.short_answer.text in visible(candidate.group(1))
    card = card_html(1, 3, final.passages[0], final.citations, final.short_answer, unsure=True)
    assert "<mark>" in card and "qa-short" not in card and 'class="qa-candidate"' in card
    answered = final.model_copy(update={"outcome": "answer"})
    assert "qa-hedge" not in answer_html(answered, 3)


def test_hedged_answer_escapes_article_text() -> None:
    final = _hedged_answer()
    text = final.answer.replace("\n\nSources:", " <img src=x onerror=alert(1)>\n\nSources:")
    hostile = final.model_copy(update={"answer": text})
    body = answer_html(hostile, 1)
    assert "<img" not in body and "&#60;img" in body


def test_conversation_markdown_says_hedged_and_refused_plainly() -> None:
    final = _hedged_answer()
    refused = Answer(
        question="Who won?", standalone_question="Who won?", mode="extractive", refused=True,
        answer="The articles don't say who won. The closest article is “T” (Tasnim, undated).",
    )  # fmt: skip
    md = conversation_markdown([("What did he praise?", final, None), ("Who won?", refused, None)])
    lead = "_Unsure answer: check the quote_ — **The articles may answer this — check the quote.**"
    assert lead in md and md.count("may answer this") == 1
    assert final.short_answer is not None and final.short_answer.text in md
    assert "Sources:" not in md and md.count("**Sources**") == 1  # each source listed once
    assert "_No answer in the articles_\n\nThe articles don't say who won." in md
