"""The conversation exported as Markdown: questions, answers and their numbered sources.

A pure function from the chat's turns to text (plain, one line per paragraph, no raw HTML);
nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.models import HEDGE_LEAD, Answer

from .cards import citations_for, cited_numbers, passage_for
from .components import body_end, fmt_date, hedge_lead_end, is_rewritten, mode_label, safe_url


def _md(text: str | None) -> str:
    """Plain text for a Markdown file: one line, no raw HTML (angle brackets as entities)."""
    if not text:
        return ""
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def conversation_markdown(
    turns: Sequence[tuple[str, Answer | None, str | None]], title: str = "Conversation"
) -> str:
    """The conversation as Markdown: each question, its answer and its numbered sources.

    ``turns`` holds (question, answer or None, error message or None).
    """
    lines = [f"# {title}", ""]
    for i, (question, answer, error) in enumerate(turns, start=1):
        lines += [f"## {i}. {_md(question)}", ""]
        if answer is None:
            lines += [f"_Error: {_md(error or 'no answer')}_", ""]
            continue
        if is_rewritten(answer):
            lines += [f"_Searched for: {_md(answer.standalone_question)}_", ""]
        _, label = mode_label(answer)
        text = answer.answer[hedge_lead_end(answer) : body_end(answer)]
        if answer.outcome == "hedged":  # said plainly, before the candidate
            lines += [f"_{label}_ — **{HEDGE_LEAD}**", "", _md(text), ""]
        else:
            lines += [f"_{label}_", "", _md(text), ""]
        for sentence in answer.unsupported_sentences:
            lines.append(f"- Unsupported: {_md(sentence)}")
        if answer.unsupported_sentences:
            lines.append("")
        numbers = cited_numbers(answer)
        if numbers:
            lines += ["**Sources**", ""]
        for n in numbers:
            cites = citations_for(answer, n)
            ref = passage_for(answer, n) or cites[0]
            title = _md(ref.title) or "Untitled article"
            outlet = _md(ref.source) or "unknown outlet"
            lines.append(f"{n}. {title} — {outlet}, {fmt_date(ref.published)}")
            url = safe_url(ref.url)
            if url:
                lines.append(f"   <{url}>")
            for c in cites:
                lines.append(f"   > “{_md(c.quote)}”")
        if numbers:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
