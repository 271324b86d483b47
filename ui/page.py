"""The chat page: history, streaming answers, source cards, feedback and errors.

``main(assistant_factory)`` draws the whole page. The factory is the one injection point: by
default :func:`get_assistant` builds ``Assistant(Settings())`` once per process
(``st.cache_resource``), so the embedding model and the store are loaded once and shared by every
session; tests pass a factory returning an ``Assistant`` built with a scripted fake chat model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.models import Answer, Stats

from . import state
from .cards import card_html, citations_for, cited_numbers, passage_for
from .components import CSS, answer_html, esc, marker_numbers, streaming_html
from .sidebar import Filters, render_conversation_block, render_sidebar
from .timeline import render_timeline

if TYPE_CHECKING:
    from assistant.service import Assistant

AssistantFactory = Callable[[], "Assistant"]

log = logging.getLogger(__name__)

STREAM_REFRESH_S = 0.05
EMPTY_STORE_HINT = (
    "No articles are indexed yet. Add article files in the sidebar "
    "(or run `assistant ingest PATH`), then ask a question."
)


@st.cache_resource(show_spinner="Opening the article store…")
def get_assistant() -> Assistant:
    """The process-wide Assistant on the embedded defaults (``ASSISTANT_*`` settings)."""
    from assistant.service import Assistant

    return Assistant(Settings())


def main(assistant_factory: AssistantFactory | None = None) -> None:
    st.set_page_config(page_title="Ask the news", page_icon="📰", layout="centered")
    st.html(CSS)
    try:
        assistant = (assistant_factory or get_assistant)()
    except Exception as exc:
        st.error(f"The assistant could not start: {state.md_escape(state.one_line(exc))}")
        return

    stats: Stats | None = None
    stats_error: str | None = None
    try:
        stats = assistant.stats()
    except Exception as exc:
        stats_error = state.one_line(exc)
    filters, conversation = render_sidebar(assistant, stats)

    st.title("Ask the news")
    if stats_error:
        st.error(f"The article store cannot be read: {state.md_escape(stats_error)}")
    elif stats is not None and stats.articles == 0:
        st.info(EMPTY_STORE_HINT)

    if stats is not None and stats.articles:
        render_timeline(assistant, filters)  # ui/timeline.py

    for turn in state.turns():
        render_turn(assistant, turn)

    question = st.chat_input(
        "Ask a question about the articles", key="question", submit_mode="stop"
    )
    if question:
        answer_question(assistant, question, filters)
    render_conversation_block(conversation)


def answer_question(assistant: Assistant, question: str, filters: Filters) -> None:
    """Stream the answer into a new chat message, then draw it with its sources."""
    turn = state.new_turn(question)
    history = state.history()
    _user_message(question)
    with st.chat_message("assistant"):
        slot = st.empty()
        slot.html('<div class="qa-answer qa-streaming">Searching the articles&hellip;</div>')
        text = ""
        last = 0.0
        try:
            for item in assistant.stream(
                question,
                history=history,
                k=filters.k,
                since=filters.since,
                until=filters.until,
                sources=filters.sources,
            ):
                if isinstance(item, Answer):
                    turn.answer = item
                    continue
                text += item
                now = time.monotonic()
                if now - last >= STREAM_REFRESH_S:
                    slot.html(streaming_html(text))
                    last = now
        except Exception as exc:  # one line in the page; the next question still works
            turn.answer = None
            turn.error = state.one_line(exc)
            if not isinstance(exc, AssistantError):  # unexpected: the details go to the log
                log.warning("answering failed", exc_info=True)
        slot.empty()
        state.turns().append(turn)
        _assistant_body(assistant, turn)


def render_turn(assistant: Assistant, turn: state.ChatTurn) -> None:
    _user_message(turn.question)
    with st.chat_message("assistant"):
        _assistant_body(assistant, turn)


def _user_message(question: str) -> None:
    with st.chat_message("user"):
        st.html(f'<div class="qa-question">{esc(question)}</div>')


def _assistant_body(assistant: Assistant, turn: state.ChatTurn) -> None:
    answer = turn.answer
    if answer is None:
        st.error(state.md_escape(turn.error or "no answer"))
        return
    st.html(answer_html(answer, turn.id))
    numbers = card_numbers(answer)
    if numbers:
        st.caption("Sources")
    for n in numbers:
        card = card_html(
            n, turn.id, passage_for(answer, n), citations_for(answer, n), answer.short_answer,
            unsure=answer.outcome == "hedged",
        )  # fmt: skip
        st.html(card)
        if citations_for(answer, n):
            flagged = n in turn.flagged
            st.button(
                "Reported: doesn't support the answer" if flagged else "Doesn't support this",
                key=f"flag-{turn.id}-{n}",
                type="tertiary",
                icon=":material/flag:",
                disabled=flagged,
                on_click=_flag_citation,
                args=(assistant, turn.id, n),
                help=f"Tell us source [{n}] does not back what the answer says",
            )
    others = [p for p in answer.passages if p.n not in numbers]
    if others:
        with st.expander(f"Other passages searched ({len(others)})"):
            for p in others:
                st.html(card_html(p.n, turn.id, p, []))
    st.feedback(
        "thumbs",
        key=f"rate-{turn.id}",
        on_change=_rate_answer,
        args=(assistant, turn.id),
    )


def card_numbers(answer: Answer) -> list[int]:
    """Cards drawn under an answer: cited passages, then any other passage a marker names."""
    numbers = cited_numbers(answer)
    passages = {p.n for p in answer.passages}
    for n in marker_numbers(answer):
        if n in passages and n not in numbers:
            numbers.append(n)
    return numbers


# --- feedback callbacks ---------------------------------------------------------------------


def _rate_answer(assistant: Assistant, turn_id: int) -> None:
    value = st.session_state.get(f"rate-{turn_id}")
    turn = state.find_turn(turn_id)
    if value is None or turn is None or turn.answer is None:
        return
    verdict = "up" if value == 1 else "down"
    if _save_feedback(assistant, turn.answer, verdict):
        turn.rated = verdict
        st.toast("Thanks for the feedback.")


def _flag_citation(assistant: Assistant, turn_id: int, n: int) -> None:
    turn = state.find_turn(turn_id)
    if turn is None or turn.answer is None:
        return
    if _save_feedback(assistant, turn.answer, "unsupported", n):
        turn.flagged.add(n)
        st.toast(f"Noted: source [{n}] does not support the answer.")


def _save_feedback(
    assistant: Assistant, answer: Answer, verdict: str, n: int | None = None
) -> bool:
    try:
        assistant.record_feedback(answer, verdict, n)
    except OSError as exc:
        st.toast(f"Could not save the feedback: {state.md_escape(state.one_line(exc))}")
        return False
    return True
