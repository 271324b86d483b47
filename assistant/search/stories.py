"""One story, many outlets: near-duplicate articles found with MinHash sketches (datasketch).

Two articles are copies of one story when the MinHash estimate of the Jaccard similarity of their
leads' word 3-shingles reaches ``THRESHOLD``. The lead is the article's first two chunks (about
400 tokens): wire copies share it almost word for word, whatever headline, trimmed or added
sentence or outlet name an outlet changed, while different articles on the same topic share few
3-word sequences (one chunk was not enough: a newsletter's standing intro filled it). Sketches are
computed at query time from the candidates' first chunks (read by id; cached by text hash), so
stores built before this module need no re-ingest. ``benchmarks/bench_duplicates.py`` measures precision, recall and the cost.

``find_copies`` works on any ranked list of article ids; ``fold_copies`` applies it to ranked
passages: each story is shown once, at its best rank, with the other outlets in ``also_in``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.models import Passage, StoryCopy

if TYPE_CHECKING:
    from assistant.search.store import ChunkStore

MAX_DAYS_APART = 7  # a text republished later is another item, not another outlet's copy
LEAD_CHUNKS = 2  # the lead compared: the first two chunks (a standing intro is not enough)
NUM_PERM = 64
SHINGLE = 3
THRESHOLD = 0.4
"""Estimated Jaccard at or above which two leads are one story: the best F0.5 (precision counted
twice) on the FIT half of the synthetic copies in ``benchmarks/bench_duplicates.py``."""

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _template() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1)


def shingles(text: str) -> set[bytes]:
    """Word 3-shingles of the lower-cased text (short texts: their words)."""
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        return {w.encode() for w in words}
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def sketch(text: str) -> np.ndarray:
    """MinHash signature (``NUM_PERM`` uint32 values) of a text's shingles."""
    from datasketch import MinHash

    template = _template()
    m = MinHash(
        num_perm=NUM_PERM, seed=1, permutations=template.permutations, scheme=template.scheme
    )
    grams = shingles(text)
    if grams:
        m.update_batch(list(grams))
    return m.hashvalues.copy()


_CACHE: dict[str, np.ndarray] = {}
_CACHE_MAX = 50_000  # 256 bytes each


def _cached_sketch(text: str, meta: dict) -> np.ndarray:
    """Sketch of a first chunk, remembered by its text hash (queries meet the same leads)."""
    key = str(meta.get("_lead_key") or meta.get("text_hash") or "")
    if key and key in _CACHE:
        return _CACHE[key]
    value = sketch(text)
    if key:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def group(
    sketches: Sequence[np.ndarray],
    threshold: float = THRESHOLD,
    dates: Sequence[dt.date | None] | None = None,
) -> list[int]:
    """For each item, the index of the first earlier item it copies (itself when none).

    Items are in rank order, so a story is represented by its best-ranked copy.
    """
    heads: list[int] = []
    owner: list[int] = []
    if not sketches:
        return owner
    matrix = np.stack(sketches)
    for i in range(len(sketches)):
        rep = i
        if heads:
            agree = (matrix[heads] == matrix[i]).mean(axis=1)
            if dates is not None:  # copies run within days of each other (or both are undated)
                for h_pos, h in enumerate(heads):
                    d, e = dates[h], dates[i]
                    if (d is None) != (e is None) or (
                        d is not None and e is not None and abs((d - e).days) > MAX_DAYS_APART
                    ):
                        agree[h_pos] = 0.0
            best = int(np.argmax(agree))
            if agree[best] >= threshold:
                rep = heads[best]
        if rep == i:
            heads.append(i)
        owner.append(rep)
    return owner


def lead_id(chunk_id: str, index: int = 0) -> str:
    """The id of chunk ``index`` of the article a chunk belongs to (ids end in ``-NNNN``)."""
    head, _, number = chunk_id.rpartition("-")
    return f"{head}-{index:0{len(number)}d}" if head and number.isdigit() else chunk_id


Leads = dict[str, tuple[str, dict[str, Any]]]


def lead_texts(store: ChunkStore, chunk_ids: Sequence[str]) -> tuple[Leads, dict[str, str]]:
    """``({article id: (lead text, first chunk's metadata)}, {chunk id: article id})`` for the
    articles of ``chunk_ids``; the lead is the first ``LEAD_CHUNKS`` chunks, overlap removed.

    Read by id in one call (a chunk's id gives its article's first chunks' ids), a fraction of
    the cost of a metadata filter; an article whose chunks are not found so is read by filter.
    """
    chunk_ids = list(dict.fromkeys(chunk_ids))
    wanted = list(dict.fromkeys(lead_id(c, i) for c in chunk_ids for i in range(LEAD_CHUNKS)))
    hits = store.get_chunks(wanted)
    leads: Leads = {}
    article_of: dict[str, str] = {}
    for c in chunk_ids:
        first = hits.get(lead_id(c))
        if first is None or int(first.meta.get("chunk_index", -1)) != 0:
            continue
        aid = str(first.meta.get("article_id", ""))
        article_of[c] = aid
        if aid not in leads:
            parts = [first] + [h for i in range(1, LEAD_CHUNKS) if (h := hits.get(lead_id(c, i)))]
            leads[aid] = _join(parts)
    missing = [c for c in chunk_ids if c not in article_of]
    if missing:
        for cid, hit in store.get_chunks(missing).items():
            article_of[cid] = str(hit.meta.get("article_id", ""))
        aids = [a for a in dict.fromkeys(article_of[c] for c in missing if c in article_of)]
        aids = [a for a in aids if a not in leads]
        if aids:
            got = store.collection.get(
                where=_leads_of(aids),
                include=["documents", "metadatas"],
            )
            for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
                meta = dict(meta or {})
                leads.setdefault(str(meta.get("article_id", "")), (doc or "", meta))
    return leads, article_of


def _join(parts: list[Any]) -> tuple[str, dict[str, Any]]:
    """One text from consecutive chunks (their overlap removed); the key of its cache entry."""
    text, end = parts[0].text, int(parts[0].meta.get("end", 0))
    for hit in parts[1:]:
        overlap = max(0, end - int(hit.meta.get("start", 0)))
        text += ("" if overlap else " ") + hit.text[overlap:]
        end = int(hit.meta.get("end", 0))
    key = "+".join(str(h.meta.get("text_hash", "")) for h in parts)
    return text, {**parts[0].meta, "_lead_key": key}


def find_copies(
    chunk_ids: Sequence[str], store: ChunkStore, threshold: float = THRESHOLD
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """For ranked chunk ids: ``({article id: the best-ranked article of its story},
    {article id: its first chunk's metadata})``."""
    reps, leads, _ = _stories(chunk_ids, store, threshold)
    return reps, {aid: meta for aid, (_, meta) in leads.items()}  # type: ignore[misc]


def _stories(
    chunk_ids: Sequence[str], store: ChunkStore, threshold: float
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """``({article id: the best-ranked article of its story}, leads, {chunk id: article id})``."""
    leads, article_of = lead_texts(store, chunk_ids)
    ranked = [a for a in dict.fromkeys(article_of.get(c) for c in chunk_ids) if a in leads]
    owner = group(
        [_cached_sketch(*leads[aid]) for aid in ranked],  # type: ignore[index]
        threshold,
        [_day(leads[aid][1]) for aid in ranked],  # type: ignore[index]
    )
    reps = {aid: ranked[o] for aid, o in zip(ranked, owner, strict=True)}  # type: ignore[index]
    return reps, leads, article_of


def fold_ranked(
    chunk_ids: Sequence[str], store: ChunkStore, threshold: float = THRESHOLD
) -> tuple[list[str], dict[str, list[StoryCopy]]]:
    """For a retriever's ranked candidates before the top k is cut: the chunk ids without the
    chunks of copies (each story keeps its best-ranked article), and each kept article's copies
    (for ``Passage.also_in``)."""
    reps, leads, article_of = _stories(chunk_ids, store, threshold)
    copies: dict[str, list[StoryCopy]] = {}
    for aid, rep in reps.items():
        if rep != aid:
            copies.setdefault(rep, []).append(_copy(aid, leads[aid][1]))
    kept = [c for c in chunk_ids if reps.get(article_of.get(c, ""), "") in ("", article_of.get(c))]
    return kept, copies


def fold_copies(
    passages: Sequence[Passage],
    store: ChunkStore,
    candidates: Sequence[str] = (),
    threshold: float = THRESHOLD,
) -> list[Passage]:
    """Passages with each story shown once (at its best rank), renumbered from 1.

    ``also_in`` lists the story's other articles among the passages and among ``candidates``
    (further ranked chunk ids, e.g. the retriever's candidates past the top k).
    """
    ranked = [p.chunk_id for p in passages] + list(candidates)
    if len(ranked) < 2:
        return list(passages)
    try:
        reps, metas = find_copies(ranked, store, threshold)
    except Exception as exc:  # a chunk deleted meanwhile by a concurrent writer: show as ranked
        if "Error finding id" not in str(exc):
            raise
        return list(passages)
    copies: dict[str, list[StoryCopy]] = {}
    for aid, rep in reps.items():
        if rep != aid:
            copies.setdefault(rep, []).append(_copy(aid, metas.get(aid, {})))
    # candidates follow the passages, so a passage's story is always led by a passage
    kept = [p for p in passages if reps.get(p.article_id, p.article_id) == p.article_id]
    return [
        p.model_copy(update={"n": n, "also_in": copies.get(p.article_id, [])})
        for n, p in enumerate(kept, start=1)
    ]


def _day(meta: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(meta["published"])) if meta.get("published") else None
    except ValueError:
        return None


def _copy(article_id: str, meta: dict) -> StoryCopy:
    try:
        published = dt.date.fromisoformat(str(meta["published"])) if meta.get("published") else None
    except ValueError:
        published = None
    return StoryCopy(
        article_id=article_id, source=meta.get("source"), url=meta.get("url"), published=published
    )


def _leads_of(article_ids: list[str]) -> Any:
    """A where clause for the first chunks of these articles (typed Any, as chroma.where_in is)."""
    return {"$and": [{"article_id": {"$in": article_ids}}, {"chunk_index": 0}]}
