"""How a news search engine orders candidate passages: text match, headline, and recency.

A candidate chunk's score is a weighted sum of

- *lexical*: its BM25 score divided by the best BM25 score among the candidates (0..1);
- *dense*: the cosine similarity of its embedding to the question's (candidates that came from
  BM25 alone and were not among the nearest neighbours get the lowest neighbour's similarity,
  an upper bound, so no vector has to be fetched for them);
- *headline*: the share of the question's content words that appear in the article's title;
- *recency*: ``exp(-age / recency_days)``, the age in days measured from the date the question is
  asked (not from today), clamped to the newest candidate, so an archive asked today still has a
  "recent" end. Undated chunks get the average recency of the dated candidates: their date is
  unknown, so they are neither favoured nor pushed out of reach; a corpus without dates (every
  candidate undated) is ranked on text alone.

The weights ship in ``ranking.json`` beside this module, fitted by ``benchmarks/fit_news.py`` on
RealTimeQA's public weekly quizzes of the fit years (their search results as the archive) and
reported on other years and on the dev set's later weeks; ``Settings.rank_*`` override them one
by one. They encode general properties of news search (text match, headline, recency), not any
one data set's outlets or phrasing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from assistant.text import content_tokens


@dataclass(frozen=True)
class RankWeights:
    lexical: float = 1.0
    dense: float = 0.5
    title: float = 0.4
    recency: float = 0.8
    recency_days: float = 30.0


@lru_cache(maxsize=1)
def fitted_weights() -> RankWeights:
    """The weights of ``ranking.json`` (see the module docstring)."""
    text = resources.files("assistant.search").joinpath("ranking.json").read_text(encoding="utf-8")
    return RankWeights(**json.loads(text)["weights"])


def weights_of(
    lexical: float | None = None,
    dense: float | None = None,
    title: float | None = None,
    recency: float | None = None,
    recency_days: float | None = None,
) -> RankWeights:
    """The fitted weights with the given ones (not None) in their place."""
    fitted = fitted_weights()
    return RankWeights(
        lexical=fitted.lexical if lexical is None else lexical,
        dense=fitted.dense if dense is None else dense,
        title=fitted.title if title is None else title,
        recency=fitted.recency if recency is None else recency,
        recency_days=fitted.recency_days if recency_days is None else recency_days,
    )


@dataclass
class Candidate:
    id: str
    bm25: float
    cosine: float | None
    title: str
    published: dt.date | None


@lru_cache(maxsize=65536)
def _title_tokens(title: str) -> frozenset[str]:
    return frozenset(content_tokens(title))


def reference_date(as_of: dt.date | None, candidates: Sequence[Candidate]) -> dt.date | None:
    """The day recency is measured from: the question's date, or the newest candidate if older."""
    dates = [c.published for c in candidates if c.published is not None]
    if not dates:
        return None
    newest = max(dates)
    return min(as_of, newest) if as_of is not None else newest


def recency(age_days: int, days: float) -> float:
    return math.exp(-max(age_days, 0) / days)


def score_candidates(
    question: str,
    candidates: Sequence[Candidate],
    weights: RankWeights,
    as_of: dt.date | None,
) -> dict[str, float]:
    """Score of each candidate (higher is better), see the module docstring."""
    if not candidates:
        return {}
    best_bm25 = max(c.bm25 for c in candidates) or 1.0
    cosines = [c.cosine for c in candidates if c.cosine is not None]
    floor = min(cosines) if cosines else 0.0
    query = frozenset(content_tokens(question))
    ref = reference_date(as_of, candidates) if weights.recency else None
    prior: dict[str, float] = {}
    if ref is not None:
        for c in candidates:
            if c.published is not None:
                prior[c.id] = recency((ref - c.published).days, weights.recency_days)
    unknown = sum(prior.values()) / len(prior) if prior else 0.0
    scores: dict[str, float] = {}
    for c in candidates:
        score = weights.lexical * c.bm25 / best_bm25
        score += weights.dense * (c.cosine if c.cosine is not None else floor)
        if weights.title and query:
            score += weights.title * len(query & _title_tokens(c.title)) / len(query)
        if ref is not None:
            score += weights.recency * prior.get(c.id, unknown)
        scores[c.id] = score
    return scores


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), ranks from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return scores


def order(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda cid: (-scores[cid], cid))
