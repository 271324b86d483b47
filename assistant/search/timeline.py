"""A story's course over time: one dated, quoted sentence per story, in date order.

``build_timeline`` searches the articles (copies of one story folded by ``assistant.search.stories``),
keeps one event per story — the article's date and the sentence of its best passage closest to
the query — and sorts the events by date. Quotes are exact slices of the article text
(``text[start:end] == quote``), as citations are. Undated articles cannot be placed and are left
out.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np

from assistant.models import Passage, Timeline, TimelineEvent
from assistant.search.embeddings import Embedder
from assistant.text import split_sentences


class Searches(Protocol):
    """What a timeline needs of its caller (``assistant.service.Assistant`` is one)."""

    @property
    def embedder(self) -> Embedder: ...

    def search(
        self,
        question: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Passage]: ...


SEARCH_FACTOR = 3  # passages searched per event wanted (two per article at most, copies folded)
MAX_SENTENCES = 12  # sentences of a passage scored against the query
MIN_QUOTE_CHARS = 20


def build_timeline(
    assistant: Searches,
    query: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    k: int = 10,
) -> Timeline:
    """Up to ``k`` dated events about ``query``, oldest first."""
    passages = assistant.search(
        query, k=min(100, max(k * SEARCH_FACTOR, 10)), since=since, until=until
    )
    best: dict[str, Passage] = {}
    for p in passages:  # in rank order: the first passage of each article is its best
        if p.published is not None and p.article_id not in best:
            best[p.article_id] = p
    chosen = list(best.values())[:k]
    if not chosen:
        return Timeline(query=query)
    spans = [_sentences(p) for p in chosen]
    texts = [p.text[s:e] for p, ss in zip(chosen, spans, strict=True) for s, e in ss]
    qvec = assistant.embedder.embed_query(query)
    vectors = assistant.embedder.embed_documents(texts) if texts else np.zeros((0, len(qvec)))
    scores = vectors @ qvec if len(texts) else np.zeros(0)
    ranked: list[tuple[dt.date, int, TimelineEvent]] = []
    pos = 0
    for rank, (p, ss) in enumerate(zip(chosen, spans, strict=True)):
        if not ss:
            continue
        mine = scores[pos : pos + len(ss)]
        pos += len(ss)
        s, e = ss[int(np.argmax(mine))]
        event = TimelineEvent(
            date=p.published,  # type: ignore[arg-type]  # undated passages were left out
            article_id=p.article_id,
            title=p.title,
            source=p.source,
            url=p.url,
            quote=p.text[s:e],
            start=p.start + s,
            end=p.start + e,
            also_in=p.also_in,
        )
        ranked.append((event.date, rank, event))
    ranked.sort(key=lambda item: item[:2])  # date order; the better match first on one day
    return Timeline(query=query, events=[event for _, _, event in ranked])


def _sentences(p: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage (offsets in the passage), long enough to quote."""
    spans = [(s, e) for s, e in split_sentences(p.text) if e - s >= MIN_QUOTE_CHARS]
    return (spans or [(s, e) for s, e in split_sentences(p.text)])[:MAX_SENTENCES]
