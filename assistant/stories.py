"""One story, many outlets: near-duplicate articles found with MinHash sketches (datasketch).

Two articles are copies of one story when the MinHash estimate of the Jaccard similarity of their
lead texts' word 3-shingles reaches ``THRESHOLD``. The lead is the article's first chunk (the
first ~220 tokens): wire copies share it almost word for word, whatever headline, trimmed or
added sentence or outlet name an outlet changed, while different articles on the same topic
share few 3-word sequences. Sketches are computed at query time from the candidates' first
chunks (one store read; about 0.1 ms per article), so stores built before this module need no
re-ingest. ``benchmarks/bench_duplicates.py`` measures precision, recall and the cost.

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
    from assistant.store import ChunkStore

NUM_PERM = 64
SHINGLE = 3
THRESHOLD = 0.5
"""Estimated Jaccard at or above which two leads are one story; chosen on the FIT half of the
synthetic copies in ``benchmarks/bench_duplicates.py`` (README: near-duplicates)."""

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
    key = str(meta.get("text_hash") or "")
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


def group(sketches: Sequence[np.ndarray], threshold: float = THRESHOLD) -> list[int]:
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
            best = int(np.argmax(agree))
            if agree[best] >= threshold:
                rep = heads[best]
        if rep == i:
            heads.append(i)
        owner.append(rep)
    return owner


def lead_texts(store: ChunkStore, article_ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
    """First chunk text and metadata of each article (one store read)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    got = store.collection.get(
        where={"$and": [{"article_id": {"$in": ids}}, {"chunk_index": 0}]},
        include=["documents", "metadatas"],
    )
    out: dict[str, tuple[str, dict]] = {}
    for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
        meta = dict(meta or {})
        out.setdefault(str(meta.get("article_id", "")), (doc or "", meta))
    return out


def find_copies(
    article_ids: Sequence[str], store: ChunkStore, threshold: float = THRESHOLD
) -> tuple[dict[str, str], dict[str, dict]]:
    """``({article: the best-ranked article of its story}, {article: first chunk metadata})``
    for article ids in rank order (repeats allowed)."""
    ranked = list(dict.fromkeys(article_ids))
    leads = lead_texts(store, ranked)
    known = [aid for aid in ranked if aid in leads]
    owner = group([_cached_sketch(*leads[aid]) for aid in known], threshold)
    reps = {aid: known[o] for aid, o in zip(known, owner, strict=True)}
    for aid in ranked:
        reps.setdefault(aid, aid)
    return reps, {aid: meta for aid, (_, meta) in leads.items()}


def fold_copies(
    passages: Sequence[Passage],
    store: ChunkStore,
    candidates: Sequence[str] = (),
    threshold: float = THRESHOLD,
) -> list[Passage]:
    """Passages with each story shown once (at its best rank), renumbered from 1.

    ``also_in`` lists the story's other articles among the passages and among ``candidates``
    (further ranked article ids, e.g. the retriever's candidates past the top k).
    """
    if len(passages) + len(candidates) < 2:
        return list(passages)
    reps, metas = find_copies([p.article_id for p in passages] + list(candidates), store, threshold)
    copies: dict[str, list[StoryCopy]] = {}
    for aid in dict.fromkeys([p.article_id for p in passages] + list(candidates)):
        rep = reps.get(aid, aid)
        if rep != aid:
            copies.setdefault(rep, []).append(_copy(aid, metas.get(aid, {})))
    # candidates follow the passages, so a passage's story is always led by a passage
    kept = [p for p in passages if reps.get(p.article_id, p.article_id) == p.article_id]
    return [
        p.model_copy(update={"n": n, "also_in": copies.get(p.article_id, [])})
        for n, p in enumerate(kept, start=1)
    ]


def _copy(article_id: str, meta: dict) -> StoryCopy:
    try:
        published = dt.date.fromisoformat(str(meta["published"])) if meta.get("published") else None
    except ValueError:
        published = None
    return StoryCopy(
        article_id=article_id, source=meta.get("source"), url=meta.get("url"), published=published
    )
