"""Question -> ranked passages: dense (Chroma) + BM25 candidates scored as news, filters, diversity.

Modes: ``fused`` (default: both retrievers' candidates scored by :mod:`assistant.search.ranking`), ``rrf``
(the earlier default: reciprocal rank fusion of the two rankings), ``dense`` and ``lexical`` (one
retriever alone, for comparison in benchmarks).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

import numpy as np

from assistant.config import Settings
from assistant.models import Passage
from assistant.search.chroma import build_where
from assistant.search.embeddings import Embedder
from assistant.search.fresh import FreshVectors
from assistant.search.lexical import ChunkFields, Filters, LexicalHit, LexicalIndex
from assistant.search.ranking import (
    Candidate,
    RankWeights,
    order,
    rrf,
    score_candidates,
    weights_of,
)
from assistant.search.store import ChunkStore, Hit
from assistant.text import content_tokens

MODES = ("fused", "rrf", "dense", "lexical")
EXACT_LIMIT = 2000  # a filter passing at most this many chunks is searched exactly
FOLD_SPARE = 5  # passages ranked past k, to refill the top k when copies of a story are folded


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


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
        self.fresh = FreshVectors(store, embedder)
        self.last_timings: dict[str, float] = {}

    @property
    def weights(self) -> RankWeights:
        s = self.settings
        return weights_of(
            s.rank_lexical, s.rank_dense, s.rank_title, s.rank_recency, s.recency_days
        )

    def search(
        self,
        query: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        mode: str | None = None,
        as_of: dt.date | None = None,
        exclude: Collection[str] | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``. ``as_of`` is the day the question is asked:
        nothing published after it is searched (undated articles are kept) and recency is
        measured from it (without it: from ``until``, else from the newest candidate)."""
        k = k or self.settings.k
        mode = mode or self.settings.retrieval
        fetch = max(self.settings.fetch_k, k * 4)
        timings: dict[str, float] = {}
        index = self._lexical()  # BM25 and the chunk fields filters and ranking use
        filters = Filters.of(since, until, sources, exclude, as_of)

        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(query) if mode != "lexical" else None
        timings["embed_query"] = (time.perf_counter() - t0) * 1000

        hits: list[LexicalHit] = []
        if mode != "dense":
            t0 = time.perf_counter()
            hits = index.search(query, fetch, filters)
            timings["lexical"] = (time.perf_counter() - t0) * 1000
        lexical_ids = [h.id for h in hits]
        known: dict[str, ChunkFields] = {h.id: h.fields for h in hits}
        dense: list[tuple[str, float]] = []
        if qvec is not None:
            t0 = time.perf_counter()
            # Under a filter, BM25 is exact: when it already brings k candidates, the dense side
            # may stop at the first widened neighbourhood, however few pass; dense alone (or with
            # too few BM25 candidates) must fill its list
            enough = k if len(lexical_ids) < k else 0
            if mode == "dense":
                enough = fetch // 2
            dense = self._dense(qvec, fetch, index, filters, known, enough)
            dense = self._with_fresh(dense, qvec, fetch, index, filters, known)
            timings["dense"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        dense_ids = [cid for cid, _ in dense]
        similarity = {cid: 1.0 - dist for cid, dist in dense}
        if mode == "fused":
            bm25 = {h.id: h.score for h in hits}
            if mode != "dense":  # dense candidates outside BM25's list: their own BM25 score
                bm25.update(index.scores_of(query, [c for c in dense_ids if c not in bm25]))
            fused = self._news_scores(
                query, dense_ids, lexical_ids, similarity, bm25, known, as_of or until
            )
        elif mode == "rrf":
            fused = rrf([r for r in (dense_ids, lexical_ids) if r], self.settings.rrf_k)
        else:
            fused = rrf([dense_ids or lexical_ids], self.settings.rrf_k)
        # a few more than k, so that folding copies of one story (below) still leaves k stories
        chosen = self._diversify(order(fused), index, known, k + min(k, FOLD_SPARE))
        hits_by_id = self.store.get_chunks(chosen)
        if len(hits_by_id) < len(chosen):  # replaced since the index's commit (a writer is busy)
            chosen = self._current_versions(query, chosen, hits_by_id, known, fused)
        need = [cid for cid in chosen if cid not in similarity]
        if need:
            if qvec is None:
                qvec = self.embedder.embed_query(query)
            for cid, vec in self.store.embeddings_for_ids(need).items():
                similarity[cid] = float(np.dot(vec, qvec))
        timings["fuse"] = (time.perf_counter() - t0) * 1000
        self.last_timings = timings

        dense_rank = {cid: r for r, cid in enumerate(dense_ids, start=1)}
        lex_rank = {cid: r for r, cid in enumerate(lexical_ids, start=1)}
        passages = [
            _passage(
                n,
                hits_by_id[cid],
                fused[cid],
                dense_rank.get(cid),
                lex_rank.get(cid),
                similarity.get(cid, 0.0),
            )
            for n, cid in enumerate(chosen, start=1)
        ]
        # --- one story, many outlets (assistant/search/stories.py): near-copies shown once, with
        # the other outlets in also_in (candidates past the top k included) ---
        from assistant.search.stories import fold_copies

        folded = fold_copies(passages, self.store, order(fused)[: k * 8])[:k]
        return [p.model_copy(update={"n": n}) for n, p in enumerate(folded, start=1)]

    def _current_versions(
        self,
        query: str,
        chosen: list[str],
        hits_by_id: dict[str, Hit],
        known: dict[str, ChunkFields],
        fused: dict[str, float],
    ) -> list[str]:
        """``chosen`` with each chunk the store no longer has replaced by the chunk of the same
        article's current version that shares most words with the query (added to
        ``hits_by_id``); chunks of deleted articles are dropped. While a writer replaces an
        article, the index still names its old chunks: the article is not lost meanwhile."""
        gone = [cid for cid in chosen if cid not in hits_by_id]
        articles = sorted({known[cid].article_id for cid in gone if cid in known})
        words = set(content_tokens(query))
        best: dict[str, tuple[int, str]] = {}
        for ids, docs, metas in self.store.chunks_of_articles(articles):
            for cid, doc, meta in zip(ids, docs, metas, strict=True):
                aid = str(meta.get("article_id", ""))
                overlap = len(words & set(content_tokens(doc)))
                if aid not in best or overlap > best[aid][0]:
                    best[aid] = (overlap, cid)
                hits_by_id.setdefault(cid, Hit(cid, doc, meta, 0.0))
        out: list[str] = []
        for cid in chosen:
            if cid not in known or cid in hits_by_id:
                if cid in hits_by_id:
                    out.append(cid)
                continue
            current = best.get(known[cid].article_id)
            if current is not None:  # it takes the place (and the score) of the old chunk
                fused.setdefault(current[1], fused.get(cid, 0.0))
                out.append(current[1])
        return list(dict.fromkeys(out))

    def _news_scores(
        self,
        query: str,
        dense_ids: list[str],
        lexical_ids: list[str],
        similarity: dict[str, float],
        bm25: dict[str, float],
        known: dict[str, ChunkFields],
        as_of: dt.date | None,
    ) -> dict[str, float]:
        """Candidates of both retrievers scored as news (see :mod:`assistant.search.ranking`)."""
        candidates: list[Candidate] = []
        for cid in dict.fromkeys([*dense_ids, *lexical_ids]):
            f = known.get(cid)
            if f is None:  # written after the index's commit: text match unknown
                candidates.append(Candidate(cid, 0.0, similarity.get(cid), "", None))
                continue
            candidates.append(
                Candidate(cid, bm25.get(cid, 0.0), similarity.get(cid), f.title, f.published_date)
            )
        return score_candidates(query, candidates, self.weights, as_of)

    def _with_fresh(
        self,
        near: list[tuple[str, float]],
        qvec: np.ndarray,
        fetch: int,
        index: LexicalIndex,
        filters: Filters,
        known: dict[str, ChunkFields],
    ) -> list[tuple[str, float]]:
        """``near`` with the chunks other processes just wrote, scored exactly (see
        :mod:`assistant.search.fresh`)."""
        fresh = self.fresh.vectors()
        if not fresh:
            return near
        known.update(index.fields([c for c in fresh if c not in known]))
        merged = dict(near)
        for cid, vec in fresh.items():
            if cid in known and (not filters or filters.admits(known[cid])):
                merged[cid] = 1.0 - float(vec @ qvec)
        return sorted(merged.items(), key=lambda item: item[1])[: max(fetch, len(near))]

    def _dense(
        self,
        qvec: np.ndarray,
        fetch: int,
        index: LexicalIndex,
        filters: Filters,
        known: dict[str, ChunkFields],
        enough: int | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest chunks that pass the filters (their fields are added to ``known``).

        Chroma's filtered search is slow (it scans metadata), so first ask for a wider unfiltered
        neighbourhood and keep the chunks whose fields (read from the lexical index) pass; only
        when too few survive (fewer than ``enough``: with BM25 beside it the fused ranking needs
        only a few dense candidates, BM25 being exact under any filter) score the passing chunks
        exactly or fall back to Chroma's own ``where`` search.
        """
        if not filters:
            near = self.store.query_ids(qvec, fetch)
            known.update(index.fields([c for c, _ in near if c not in known]))
            return near
        allowed = index.count(filters)
        if allowed == 0:
            return []
        kept: list[tuple[str, float]] = []
        for widen in (4, 20):  # ids and distances only: a wide neighbourhood costs a few ms
            wide = self.store.query_ids(qvec, fetch * widen)
            known.update(index.fields([c for c, _ in wide if c not in known]))
            kept = [(c, d) for c, d in wide if c in known and filters.admits(known[c])]
            # HNSW may return fewer neighbours than asked without having seen every chunk: only a
            # neighbourhood as large as the index proves that nothing else passes the filter
            if len(kept) >= fetch or len(wide) >= len(index):
                return kept[:fetch]
            if enough is not None and enough < fetch // 2 and len(kept) >= enough:
                return kept  # BM25 (exact under the filter) brings the rest
        if len(kept) >= (enough if enough is not None else fetch // 2):
            return kept
        # few chunks pass, or articles are excluded (Chroma's where cannot say "not these
        # articles" cheaply): score the passing chunks exactly
        if allowed <= EXACT_LIMIT or filters.exclude:
            ids = index.matching_ids(filters, EXACT_LIMIT if not filters.exclude else allowed)
            vectors = self.store.embeddings_for_ids(ids)
            scored = sorted((1.0 - float(v @ qvec), cid) for cid, v in vectors.items())
            top = [(cid, dist) for dist, cid in scored[:fetch]]
            known.update(index.fields([c for c, _ in top if c not in known]))
            return top
        # Chroma's where cannot keep undated chunks under the cutoff: this rare path drops them
        hi = (
            min(filters.until, filters.cutoff)
            if filters.until and filters.cutoff
            else (filters.until or filters.cutoff)
        )
        where = build_where(filters.since, hi, filters.sources)
        near = self.store.query_ids(qvec, min(fetch, allowed), where)
        known.update(index.fields([c for c, _ in near if c not in known]))
        return near

    def _diversify(
        self, ranked: list[str], index: LexicalIndex, known: dict[str, ChunkFields], k: int
    ) -> list[str]:
        """Top k with identical texts shown once and at most ``max_per_article`` per article."""
        chosen: list[str] = []
        per_article: dict[str, int] = {}
        seen_text: set[str] = set()
        unknown = [cid for cid in ranked[: k * 8] if cid not in known]
        known.update(index.fields(unknown))
        unknown = [cid for cid in unknown if cid not in known]
        extra = self.store.get_chunks(unknown) if unknown else {}
        for cid in ranked:
            f = known.get(cid)
            if f is not None:
                aid, text_hash = f.article_id, f.text_hash
            elif cid in extra:  # written after the index's commit
                aid = str(extra[cid].meta.get("article_id", ""))
                text_hash = str(extra[cid].meta.get("text_hash", cid))
            else:
                continue
            if text_hash in seen_text or per_article.get(aid, 0) >= self.settings.max_per_article:
                continue
            seen_text.add(text_hash)
            per_article[aid] = per_article.get(aid, 0) + 1
            chosen.append(cid)
            if len(chosen) == k:
                break
        return chosen


def _passage(
    n: int,
    hit: Hit,
    score: float,
    dense_rank: int | None,
    lexical_rank: int | None,
    similarity: float,
) -> Passage:
    m = hit.meta
    return Passage(
        n=n,
        chunk_id=hit.id,
        article_id=str(m.get("article_id", "")),
        title=str(m.get("title", "")),
        source=m.get("source"),
        published=_date(m.get("published")),
        url=m.get("url"),
        text=hit.text,
        start=int(m.get("start", 0)),
        end=int(m.get("end", len(hit.text))),
        score=round(score, 6),
        dense_rank=dense_rank,
        lexical_rank=lexical_rank,
        dense_score=round(similarity, 6),
        rank=n,
    )


DateFilter = tuple[dt.date | None, dt.date | None]


class Retrieved(NamedTuple):
    """What an answer gets to read (``Assistant.retrieve``)."""

    standalone: str  # the question with follow-ups resolved
    passages: list[Passage]
    date_filter: DateFilter | None
    timings: dict[str, float]


def search_dated(
    search: Callable[..., list[Passage]],
    question: str,
    today: dt.date,
    since: dt.date | None = None,
    until: dt.date | None = None,
    **filters: Any,
) -> tuple[list[Passage], DateFilter | None]:
    """``search(question, since=, until=, as_of=today, **filters)`` with the question's own date
    phrase ("last week", "in June") applied unless ``since``/``until`` are given; when the phrase
    matches nothing, searched again without it. Returns the passages and the date filter used."""
    from assistant.dates import resolve_dates

    phrase = resolve_dates(question, today)
    lo = since or (phrase.since if phrase else None)
    hi = until or (phrase.until if phrase else None)
    # as_of: nothing published after the question was asked can answer it (undated kept)
    passages = search(question, since=lo, until=hi, as_of=today, **filters)
    if not passages and phrase and not (since or until):
        lo, hi = None, None  # the date phrase matched nothing: search without it
        passages = search(question, since=lo, until=hi, as_of=today, **filters)
    return passages, ((lo, hi) if (lo or hi) else None)
