"""The sidebar: backend, collection stats, filters, upload, clear and export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from assistant.models import IngestReport, Stats

from . import state
from .export import conversation_markdown
from .upload import UPLOAD_TYPES, ingest_uploads, ingest_url, summary_line

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from assistant.service import Assistant

MAX_K = 20
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


@dataclass(frozen=True)
class Filters:
    """What the reader restricted the search to; passed on to ``Assistant.stream``."""

    k: int
    since: dt.date | None = None
    until: dt.date | None = None
    sources: list[str] | None = None


def backend_label(assistant: Assistant) -> str:
    """Which model answers: the configured LLM, a chat model handed in by code, or extractive."""
    return assistant.describe_backend()


def render_sidebar(assistant: Assistant, stats: Stats | None) -> tuple[Filters, DeltaGenerator]:
    """Draw the sidebar; returns the current filters and the (empty) conversation section.

    The page fills the conversation section with :func:`render_conversation_block` once the
    question of this run is answered, so clear/export include it.
    """
    settings = assistant.settings
    with st.sidebar:
        st.header("News assistant")
        st.caption(f"Answers: {state.md_escape(backend_label(assistant))}")
        _stats_block(stats)
        st.divider()
        st.subheader("Filters")
        k = st.slider(
            "Passages to use",
            1,
            MAX_K,
            value=min(settings.k, MAX_K),
            key="f_k",
            help="How many passages are retrieved and shown to the answerer.",
        )
        outlets = [name for name in (stats.sources if stats else {}) if name != "unknown"]
        sources = st.multiselect(
            "Outlets",
            options=outlets,
            key="f_sources",
            placeholder="All outlets",
        )
        since = _date_filter("Published on or after", "f_since")
        until = _date_filter("Published on or before", "f_until")
        st.divider()
        _upload_block(assistant)
        st.divider()
        conversation = st.container()
    filters = Filters(
        k=int(k),
        since=since if isinstance(since, dt.date) else None,
        until=until if isinstance(until, dt.date) else None,
        sources=list(sources) or None,
    )
    return filters, conversation


def _stats_block(stats: Stats | None) -> None:
    if stats is None:
        return
    left, right = st.columns(2)
    left.metric("Articles", f"{stats.articles:,}")
    right.metric("Passages", f"{stats.chunks:,}")
    if stats.earliest or stats.latest:
        st.caption(f"Published {stats.earliest or '?'} … {stats.latest or '?'}")
    if stats.sources:
        st.caption(
            f"{len(stats.sources)} outlet(s) · embeddings: {state.md_escape(stats.embedding_model)}"
        )


def _upload_block(assistant: Assistant) -> None:
    st.subheader("Add articles")
    files = st.file_uploader(
        "Article files",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=f"upload-{st.session_state.get(state.UPLOAD_GEN, 0)}",
        help="Plain text, Markdown, HTML, JSON lines, CSV or RSS/Atom feeds.",
    )
    if st.button("Add to the collection", key="ingest", disabled=not files, type="primary"):
        bar = st.progress(0.0, text="starting…")
        try:
            report = ingest_uploads(
                assistant,
                [(f.name, f.getvalue()) for f in files or []],
                lambda done, text: bar.progress(done, text=text),
            )
        except Exception as exc:  # a bad upload never breaks the page
            st.session_state[state.INGEST_RESULT] = ("error", state.one_line(exc), [])
        else:
            st.session_state[state.INGEST_RESULT] = _result(report)
        st.session_state[state.UPLOAD_GEN] = st.session_state.get(state.UPLOAD_GEN, 0) + 1
        st.rerun()
    url = st.text_input(
        "Or a page or feed URL",
        key=f"url-{st.session_state.get(state.UPLOAD_GEN, 0)}",
        placeholder="https://…",
        help="An article page or an RSS/Atom feed; a feed's items are fetched one by one.",
    )
    if st.button("Fetch and add", key="ingest-url", disabled=not (url or "").strip()):
        bar = st.progress(0.0, text="fetching…")
        try:
            report = ingest_url(assistant, url, lambda done, text: bar.progress(done, text=text))
        except Exception as exc:  # a bad URL never breaks the page
            st.session_state[state.INGEST_RESULT] = ("error", state.one_line(exc), [])
        else:
            st.session_state[state.INGEST_RESULT] = _result(report)
        st.session_state[state.UPLOAD_GEN] = st.session_state.get(state.UPLOAD_GEN, 0) + 1
        st.rerun()
    result = st.session_state.get(state.INGEST_RESULT)
    if result:
        kind, line, failures = result
        {"ok": st.success, "warn": st.warning, "error": st.error}[kind](state.md_escape(line))
        for failure in failures:
            st.caption(f"failed: {state.md_escape(failure)}")


def _result(report: IngestReport) -> tuple[str, str, list[str]]:
    kind = "warn" if report.failed else "ok"
    return kind, summary_line(report), [str(f) for f in report.failed]


def render_conversation_block(slot: DeltaGenerator) -> None:
    with slot:
        _conversation_block()


def _conversation_block() -> None:
    st.subheader("Conversation")
    turns = state.turns()
    st.button(
        "Clear conversation", key="clear", on_click=state.clear_conversation, disabled=not turns
    )
    st.download_button(
        "Export as Markdown",
        data=conversation_markdown([(t.question, t.answer, t.error) for t in turns]),
        file_name="conversation.md",
        mime="text/markdown",
        key="export",
        on_click="ignore",
        disabled=not turns,
    )


def _date_filter(label: str, key: str) -> Any:
    """An optional publication-date bound (empty by default)."""
    return st.date_input(
        label, value=None, min_value=EARLIEST, max_value=LATEST, key=key, format="YYYY-MM-DD"
    )
