"""The session's conversation and small helpers shared by the page modules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import streamlit as st

from assistant.errors import AssistantError
from assistant.models import Answer, Turn

TURNS = "turns"
NEXT_ID = "next_turn_id"
UPLOAD_GEN = "upload_generation"
INGEST_RESULT = "ingest_result"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>:=])")


@dataclass
class ChatTurn:
    """One question of the session and what came back (an answer or a one-line error)."""

    id: int
    question: str
    answer: Answer | None = None
    error: str | None = None
    flagged: set[int] = field(default_factory=set)
    rated: str | None = None


def turns() -> list[ChatTurn]:
    if TURNS not in st.session_state:
        st.session_state[TURNS] = []
    return st.session_state[TURNS]


def new_turn(question: str) -> ChatTurn:
    turn_id = int(st.session_state.get(NEXT_ID, 1))
    st.session_state[NEXT_ID] = turn_id + 1
    return ChatTurn(id=turn_id, question=question)


def find_turn(turn_id: int) -> ChatTurn | None:
    for turn in turns():
        if turn.id == turn_id:
            return turn
    return None


def history() -> list[Turn]:
    """Earlier answered exchanges, for rewriting a follow-up question."""
    return [
        Turn(
            question=t.question,
            answer=t.answer.answer,
            standalone=t.answer.standalone_question,
            short_answer=t.answer.short_answer.text if t.answer.short_answer else "",
        )
        for t in turns()
        if t.answer
    ]


def clear_conversation() -> None:
    st.session_state[TURNS] = []


def one_line(exc: BaseException) -> str:
    """An error as the single line the page shows (no traceback)."""
    if isinstance(exc, AssistantError):
        text = str(exc)
    elif type(exc).__name__ == "ValidationError" and callable(getattr(exc, "errors", None)):
        first = exc.errors()[0] if exc.errors() else {}  # type: ignore[attr-defined]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        text = f"invalid setting {where}: {first.get('msg', '')}"
    else:
        detail = str(exc).strip()
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def md_escape(text: str) -> str:
    """Text for Streamlit's Markdown elements (st.error, st.caption) shown literally."""
    return _MD_SPECIAL.sub(r"\\\1", text)
