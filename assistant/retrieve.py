"""Question -> ranked passages: dense (Chroma) + BM25, reciprocal rank fusion, filters, diversity."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.lexical import LexicalIndex
from assistant.models import Passage
from assistant.store import ChunkStore, Hit, build_where

MODES = ("fused", "dense", "lexical")


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), ranks from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return scores


class Retriever:
    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        embedder: Embedder,
        lexical: Callable[[], LexicalIndex],
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._lexical = lexical
        self.last_timings: dict[str, float] = {}

    def search(
        self,
        query: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        mode: str | None = None,
    ) -> list[Passage]:
        k = k or self.settings.k
        mode = mode or self.settings.retrieval
        fetch = max(self.settings.fetch_k, k * 4)
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(query)
        timings["embed_query"] = (time.perf_counter() - t0) * 1000

        dense: list[Hit] = []
        if mode in ("fused", "dense"):
            t0 = time.perf_counter()
            dense = self.store.query(qvec, fetch, build_where(since, until, sources))
            timings["dense"] = (time.perf_counter() - t0) * 1000
        lexical_ids: list[str] = []
        if mode in ("fused", "lexical"):
            t0 = time.perf_counter()
            index = self._lexical()
            lexical_ids = [h.id for h in index.search(query, fetch, since, until, sources)]
            timings["lexical"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        dense_ids = [h.id for h in dense]
        rankings = [r for r in (dense_ids, lexical_ids) if r]
        fused = rrf(rankings, self.settings.rrf_k)
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))
        hits = {h.id: h for h in dense}
        missing = [cid for cid in order if cid not in hits]
        hits.update(self.store.get_chunks(missing))
        dense_rank = {cid: r for r, cid in enumerate(dense_ids, start=1)}
        lex_rank = {cid: r for r, cid in enumerate(lexical_ids, start=1)}

        chosen: list[str] = []
        per_article: dict[str, int] = {}
        seen_text: set[str] = set()
        for cid in order:
            hit = hits.get(cid)
            if hit is None:  # deleted between the two searches
                continue
            aid = str(hit.meta.get("article_id", ""))
            text_hash = str(hit.meta.get("text_hash", cid))
            if text_hash in seen_text or per_article.get(aid, 0) >= self.settings.max_per_article:
                continue
            seen_text.add(text_hash)
            per_article[aid] = per_article.get(aid, 0) + 1
            chosen.append(cid)
            if len(chosen) == k:
                break

        similarity = {h.id: 1.0 - h.distance for h in dense}
        need = [cid for cid in chosen if cid not in similarity]
        for cid, vec in self.store.embeddings_for_ids(need).items():
            similarity[cid] = float(np.dot(vec, qvec))
        timings["fuse"] = (time.perf_counter() - t0) * 1000
        self.last_timings = timings

        passages = []
        for n, cid in enumerate(chosen, start=1):
            hit = hits[cid]
            m = hit.meta
            passages.append(
                Passage(
                    n=n,
                    chunk_id=cid,
                    article_id=str(m.get("article_id", "")),
                    title=str(m.get("title", "")),
                    source=m.get("source"),
                    published=_date(m.get("published")),
                    url=m.get("url"),
                    text=hit.text,
                    start=int(m.get("start", 0)),
                    end=int(m.get("end", len(hit.text))),
                    score=round(fused[cid], 6),
                    dense_rank=dense_rank.get(cid),
                    lexical_rank=lex_rank.get(cid),
                    dense_score=round(similarity.get(cid, 0.0), 6),
                )
            )
        return passages
