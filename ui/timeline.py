"""The timeline view: how a story developed, one dated quote per story, with its sources.

``timeline_html`` is a pure function (every piece of article text escaped as in
``ui.components``); ``render_timeline`` draws the form and the events, asking
``Assistant.timeline`` — the same events as ``assistant timeline --json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from assistant.models import Timeline

from . import state
from .cards import _meta_html, also_in_html
from .components import esc

if TYPE_CHECKING:
    from assistant.service import Assistant
    from ui.sidebar import Filters

TIMELINE = "timeline_result"


def timeline_html(timeline: Timeline) -> str:
    """The events, oldest first: date, title, outlet and link, the quote, other outlets."""
    if not timeline.events:
        return '<div class="qa-note">No dated articles match.</div>'
    parts = ['<div class="qa-timeline">']
    for ev in timeline.events:
        parts.append(
            f'<div class="qa-event" data-article="{esc(ev.article_id)}">'
            f'<div class="qa-event-date">{esc(ev.date.isoformat())}</div>'
            f'<div class="qa-card-head">{esc(ev.title or "Untitled article")}</div>'
            f'<div class="qa-meta">{_meta_html(ev.source, ev.date, ev.url)}</div>'
            f'<div class="qa-passage"><mark>{esc(ev.quote)}</mark></div>'
        )
        if ev.also_in:
            parts.append(also_in_html(ev.also_in))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_timeline(assistant: Assistant, filters: Filters) -> None:
    """A 'follow a story' box above the chat; the timeline stays until the next one."""
    with st.expander("Timeline: follow a story over time", expanded=TIMELINE in st.session_state):
        query = st.text_input("Story", key="timeline_query", placeholder="e.g. plastic treaty")
        if st.button("Show timeline", key="timeline", disabled=not (query or "").strip()):
            try:
                result = assistant.timeline(
                    query, since=filters.since, until=filters.until, k=max(filters.k, 10)
                )
            except Exception as exc:  # one line in the page; the chat still works
                st.session_state[TIMELINE] = state.one_line(exc)
            else:
                st.session_state[TIMELINE] = result
        shown: Any = st.session_state.get(TIMELINE)
        if isinstance(shown, Timeline):
            st.html(timeline_html(shown))
        elif shown:
            st.error(state.md_escape(str(shown)))
