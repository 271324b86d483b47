"""HTML and Markdown built from answers, with every piece of article or answer text escaped.

Nothing here imports Streamlit: these are pure functions from :class:`~assistant.models.Answer`
to strings, so they can be tested on their own. The page hands the HTML to ``st.html`` (which
additionally sanitises it with DOMPurify and never runs scripts); the HTML never contains a
blank line, and every character Markdown or Streamlit could interpret is an HTML entity, so the
text shows exactly as written wherever it ends up.

This module holds the escaping and the answer itself (badge, marker links, unsupported
sentences); the source cards are in :mod:`ui.cards`, the Markdown export in :mod:`ui.export`.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from assistant.models import HEDGE_LEAD, Answer

# [1]  [1, 2]  [1][3] — the canonical markers the answerer leaves in the answer text. Used only for
# answers without ``answer.sentences`` (made before the checker returned sentence spans): the UI
# does not import the library's text core, it renders the spans the answer carries.
MARKER_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")

# HTML's specials plus every character Markdown, Streamlit's extensions (:emoji:, :red[...],
# $math$) or a template could act on, as numeric entities (one pass, so entities stay intact).
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-!|~$:=^"}

CSS = """<style>
.qa-answer{line-height:1.6}
.qa-short{font-weight:700}
.qa-badge{display:inline-block;font-size:.78rem;padding:.05rem .5rem;border-radius:.6rem;
 margin:0 .35rem .35rem 0;border:1px solid rgba(128,128,128,.45)}
.qa-badge-extractive{background:rgba(80,140,255,.12)}
.qa-badge-refused{background:rgba(255,170,0,.18)}
.qa-badge-llm{background:rgba(0,170,110,.12)}
.qa-badge-hedged{background:rgba(255,190,0,.28);border-color:rgba(200,140,0,.7)}
.qa-hedge{background:rgba(255,190,0,.12);border:1px solid rgba(220,160,0,.55);
 border-left:4px solid rgba(220,160,0,.9);border-radius:.5rem;padding:.55rem .8rem}
.qa-hedge-lead{font-weight:600;margin-bottom:.35rem}
.qa-candidate{text-decoration:underline dotted rgba(200,140,0,.9);text-underline-offset:3px}
.qa-standalone{font-size:.85rem;opacity:.8;margin-bottom:.3rem}
.qa-cite{text-decoration:none;font-weight:600;font-size:.85em;padding:0 .1em}
.qa-unsupported{text-decoration:underline wavy rgba(220,60,40,.9);text-underline-offset:3px}
.qa-flag{font-size:.72rem;color:rgb(200,60,40);margin-left:.25rem;font-weight:600}
.qa-note{font-size:.8rem;opacity:.8;margin-top:.3rem}
.qa-card{border:1px solid rgba(128,128,128,.35);border-radius:.5rem;padding:.6rem .8rem;
 margin:.4rem 0;scroll-margin-top:5rem}
.qa-card:target{outline:3px solid rgba(255,180,0,.9);outline-offset:1px}
.qa-card-head{font-weight:600}
.qa-n{display:inline-block;min-width:1.8rem;font-weight:700}
.qa-meta{font-size:.8rem;opacity:.8;margin:.15rem 0 .35rem 0}
.qa-passage{font-size:.88rem;line-height:1.5;white-space:normal}
.qa-passage mark{background:rgba(255,214,0,.55);color:inherit;padding:0 .1em;border-radius:.15em}
.qa-weak{font-size:.75rem;color:rgb(200,60,40);margin-top:.25rem}
.qa-also{font-size:.78rem;opacity:.85;margin-top:.3rem}
.qa-event{border-left:3px solid rgba(80,140,255,.6);padding:.2rem .7rem;margin:.5rem 0}
.qa-event-date{font-weight:700;font-size:.85rem}
</style>"""


def esc(text: str | None) -> str:
    """Text made inert for HTML *and* Markdown: tags, entities and markup characters escaped.

    Newlines become ``<br>`` so the HTML never contains a blank line (which would end an HTML
    block if it were ever given to a Markdown renderer).
    """
    if not text:
        return ""
    out = text.translate(_ESCAPES)
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    return out.replace("\n", "<br>")


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link, else ``None`` (no javascript:, data:, ...)."""
    if not url:
        return None
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def anchor_id(msg_id: int | str, n: int) -> str:
    """The id of source card ``n`` of message ``msg_id``; citation markers link to it."""
    return f"src-{msg_id}-{n}"


def fmt_date(day: dt.date | None) -> str:
    return day.isoformat() if day else "undated"


def _link(url: str | None, label: str) -> str:
    good = safe_url(url)
    if good is None:
        return esc(label)
    return (
        f'<a href="{html.escape(good, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">{esc(label)}</a>'
    )


def _links_html(numbers: Iterable[int], msg_id: int | str, valid: set[int]) -> str:
    """``[n]`` links to card n (a number naming no card: plain text)."""
    links = []
    for n in numbers:
        if n in valid:
            links.append(
                f'<a class="qa-cite" href="#{anchor_id(msg_id, n)}" '
                f'title="Show source {n}">&#91;{n}&#93;</a>'
            )
        else:
            links.append(esc(f"[{n}]"))
    return "".join(links)


def _markers_html(text: str, msg_id: int | str, valid: set[int]) -> str:
    """Escaped text with each ``[n]`` turned into a link to card n (unknown n: plain text)."""
    out: list[str] = []
    pos = 0
    for m in MARKER_RE.finditer(text):
        out.append(esc(text[pos : m.start()]))
        out.append(_links_html((int(x) for x in re.split(r"\s*,\s*", m.group(1))), msg_id, valid))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _unsupported_html(inner: str) -> str:
    return (
        '<span class="qa-unsupported" title="The cited sources do not support this sentence">'
        f'{inner}</span><span class="qa-flag">&#9888; unsupported</span>'
    )


def _sentence_body_html(answer: Answer, msg_id: int | str, valid: set[int]) -> str:
    """The answer drawn from ``answer.sentences``: their markers linked, unsupported marked."""
    text = answer.answer[: body_end(answer)]
    parts: list[str] = []
    pos = hedge_lead_end(answer)
    ordered = sorted(answer.sentences, key=lambda x: x.start)
    first = ordered[0] if ordered else None
    for sentence in ordered:
        if sentence.start < pos or sentence.end > len(text):
            continue  # overlapping or out of range: never draw text twice
        parts.append(esc(text[pos : sentence.start]))
        inner: list[str] = []
        cur = sentence.start
        for marker in sorted(sentence.markers, key=lambda m: m.start):
            if marker.start < cur or marker.end > sentence.end:
                continue
            inner.append(esc(text[cur : marker.start]))
            inner.append(_links_html(marker.numbers, msg_id, valid))
            cur = marker.end
        inner.append(esc(text[cur : sentence.end]))
        body = "".join(inner)
        if answer.short_answer is not None and sentence is first:  # the short answer leads
            if answer.outcome == "answer":
                body = f'<strong class="qa-short">{body}</strong>'
            else:  # a candidate, never styled like an answer
                body = f'<span class="qa-candidate">{body}</span>'

        parts.append(body if sentence.supported else _unsupported_html(body))
        pos = sentence.end
    parts.append(_markers_html(text[pos:], msg_id, valid))
    return "".join(parts)


def marker_numbers(answer: Answer) -> list[int]:
    """Passage numbers the answer's markers name, in order of first appearance."""
    if answer.sentences:
        found = [n for s in answer.sentences for m in s.markers for n in m.numbers]
    else:
        found = [
            int(raw) for m in MARKER_RE.finditer(answer.answer) for raw in m.group(1).split(",")
        ]
    return list(dict.fromkeys(found))


_MARKER_WITH_SPACE = re.compile(r"\s*" + MARKER_RE.pattern)


def _stripped_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` without markers and with whitespace collapsed, and each kept char's offset."""
    chars: list[str] = []
    where: list[int] = []
    pos = 0
    pieces: list[tuple[int, str]] = []
    for m in _MARKER_WITH_SPACE.finditer(text):
        pieces.append((pos, text[pos : m.start()]))
        pos = m.end()
    pieces.append((pos, text[pos:]))
    for offset, piece in pieces:
        for i, ch in enumerate(piece):
            if ch.isspace():
                if not chars or chars[-1] == " ":
                    continue
                ch = " "
            chars.append(ch)
            where.append(offset + i)
    return "".join(chars), where


def _sentence_spans(text: str, sentences: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of ``text`` holding the given sentences.

    The checker reports sentences without their ``[n]`` markers, so both sides are compared
    with markers removed and whitespace collapsed; the span keeps the sentence's markers.
    """
    stripped, where = _stripped_with_map(text)
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        needle, _ = _stripped_with_map(sentence)
        needle = needle.strip()
        if not needle:
            continue
        found = stripped.find(needle)
        if found < 0:
            continue
        start, end = where[found], where[found + len(needle) - 1] + 1
        tail = re.match(r"(?:\s*" + MARKER_RE.pattern + r")+", text[end:])
        if tail:
            end += tail.end()
        if all(end <= s or start >= e for s, e in spans):
            spans.append((start, end))
    return sorted(spans)


def answer_body_html(answer: Answer, msg_id: int | str) -> str:
    """The answer text: markers linked to their cards, unsupported sentences marked.

    Drawn from ``answer.sentences`` when the answer carries them; otherwise the sentences are
    found again in the text (answers made before sentence spans existed).
    """
    valid = {c.n for c in answer.citations} | {p.n for p in answer.passages}
    if answer.sentences:
        return _sentence_body_html(answer, msg_id, valid)
    text = answer.answer[: body_end(answer)]
    parts: list[str] = []
    pos = hedge_lead_end(answer)
    for start, end in _sentence_spans(text, answer.unsupported_sentences):
        parts.append(_markers_html(text[pos:start], msg_id, valid))
        parts.append(_unsupported_html(_markers_html(text[start:end], msg_id, valid)))
        pos = end
    parts.append(_markers_html(text[pos:], msg_id, valid))
    return "".join(parts)


_SOURCES_LINE = re.compile(r"\n\s*Sources?:[^\n]*\s*$")


def body_end(answer: Answer) -> int:
    """Where the answer's text ends before its closing ``Sources:`` line, which is left out
    when the answer has citations: their cards (and the export's list) show each source once."""
    m = _SOURCES_LINE.search(answer.answer) if answer.citations else None
    return m.start() if m else len(answer.answer)


def hedge_lead_end(answer: Answer) -> int:
    """Where a hedged answer's text starts after its opening sentence (shown apart), else 0."""
    if answer.outcome != "hedged" or not answer.answer.startswith(HEDGE_LEAD):
        return 0
    end = len(HEDGE_LEAD)
    while end < len(answer.answer) and answer.answer[end].isspace():
        end += 1
    return end


def mode_label(answer: Answer) -> tuple[str, str]:
    """(css class, label) describing what the answer is and how it was made."""
    if answer.refused:
        return "qa-badge-refused", "No answer in the articles"
    if answer.outcome == "hedged":
        return "qa-badge-hedged", "Unsure answer: check the quote"
    if answer.mode == "extractive":
        return "qa-badge-extractive", "Extractive answer: sentences quoted from the articles"
    return "qa-badge-llm", f"Generated by {answer.model}" if answer.model else "Generated answer"


def is_rewritten(answer: Answer) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.lower().split()).rstrip("?.! ")

    return bool(answer.standalone_question) and norm(answer.standalone_question) != norm(
        answer.question
    )


def answer_html(answer: Answer, msg_id: int | str) -> str:
    """Badge, rewritten question, the answer body and notes, as one HTML block."""
    css, label = mode_label(answer)
    kind = answer.outcome if answer.outcome != "answer" else answer.mode
    hedged = answer.outcome == "hedged"
    parts = [f'<div class="qa-answer" data-mode="{kind}" data-outcome="{answer.outcome}">']
    if hedged:  # a warning box, opened by what it is: never styled like an answer
        parts.append('<div class="qa-hedge">')
        parts.append(f'<div class="qa-hedge-lead">&#9888; {esc(HEDGE_LEAD)}</div>')
    parts.append(f'<span class="qa-badge {css}">{esc(label)}</span>')
    if is_rewritten(answer):
        parts.append(
            '<div class="qa-standalone">Searched for: '
            f"<em>{esc(answer.standalone_question)}</em></div>"
        )
    parts.append(f'<div class="qa-text">{answer_body_html(answer, msg_id)}</div>')
    notes = []
    if answer.unsupported_sentences:
        k = len(answer.unsupported_sentences)
        notes.append(
            f"&#9888; {k} sentence{'s' if k > 1 else ''} not supported by the cited sources "
            "(underlined)."
        )
    if answer.invalid_markers:
        notes.append(
            f"{answer.invalid_markers} citation marker(s) pointed to no source and were removed."
        )
    for note in notes:
        parts.append(f'<div class="qa-note">{note}</div>')
    if hedged:
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def streaming_html(text: str) -> str:
    """Partial answer while tokens arrive (markers not linked yet)."""
    return f'<div class="qa-answer qa-streaming">{esc(text)}&#9612;</div>'
