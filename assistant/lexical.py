"""BM25 index over the same chunk ids as the vector store (bm25s, persisted beside the store).

The index is a cache of the store: it is labelled with the store's generation token and rebuilt from
Chroma's documents whenever the token differs, so in server mode a process never answers from a
stale index after another process wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.models import date_to_int

_STEMMER: Any = None


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def tokenize(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def query_tokens(text: str) -> list[str]:
    import bm25s

    out = bm25s.tokenize(
        [text], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return list(out[0]) if out else []


@dataclass
class LexicalHit:
    index: int
    id: str
    score: float


class LexicalIndex:
    """BM25 over chunk texts plus the per-chunk fields retrieval filters on."""

    def __init__(
        self,
        ids: list[str],
        article_ids: list[str],
        published: np.ndarray,
        sources: list[str],
        retriever: Any,
        generation: str,
        text_hashes: list[str] | None = None,
        titles: list[str] | None = None,
    ) -> None:
        self.ids = ids
        self.article_ids = article_ids
        self.text_hashes = text_hashes if text_hashes is not None else list(ids)
        self.titles = titles if titles is not None else [""] * len(ids)
        self.published = published  # int YYYYMMDD, 0 when unknown
        self.sources = np.asarray(sources, dtype=object)
        self.retriever = retriever
        self.generation = generation
        self.position = {cid: i for i, cid in enumerate(ids)}
        self._doc_freq: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[list[str], list[str], list[dict[str, Any]]]],
        generation: str,
    ) -> LexicalIndex:
        import bm25s

        ids: list[str] = []
        texts: list[str] = []
        article_ids: list[str] = []
        published: list[int] = []
        sources: list[str] = []
        text_hashes: list[str] = []
        titles: list[str] = []
        for page_ids, docs, metas in rows:
            for cid, doc, meta in zip(page_ids, docs, metas, strict=True):
                ids.append(cid)
                # Title words help lexical matching; the chunk text stays what is shown.
                texts.append(f"{meta.get('title', '')}\n{doc}")
                article_ids.append(str(meta.get("article_id", "")))
                published.append(int(meta.get("published_int") or 0))
                sources.append(str(meta.get("source") or ""))
                text_hashes.append(str(meta.get("text_hash") or cid))
                titles.append(str(meta.get("title") or ""))
        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(
            ids,
            article_ids,
            np.asarray(published, dtype=np.int64),
            sources,
            retriever,
            generation,
            text_hashes,
            titles,
        )

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of a (stemmed) token; unseen tokens get the most."""
        if self._doc_freq is None:
            indptr = (
                np.asarray(self.retriever.scores.get("indptr", [0])) if self.ids else np.zeros(1)
            )
            self._doc_freq = np.diff(indptr)
        i = self.retriever.vocab_dict.get(token) if self.ids else None
        df = int(self._doc_freq[i]) if i is not None and i < len(self._doc_freq) else 0
        n = len(self.ids)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def published_date(self, position: int) -> dt.date | None:
        value = int(self.published[position])
        if value <= 0:
            return None
        try:
            return dt.date(value // 10000, value // 100 % 100, value % 100)
        except ValueError:
            return None

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every chunk for the query (None when no query word is indexed)."""
        if not self.ids:
            return None
        vocab = self.retriever.vocab_dict
        tokens = [t for t in query_tokens(query) if t in vocab]
        if not tokens:
            return None
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def search(
        self,
        query: str,
        n: int,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        exclude: Collection[str] | None = None,
        scores: np.ndarray | None = None,
    ) -> list[LexicalHit]:
        """The ``n`` best chunks by BM25 that pass the filters (``scores`` from :meth:`scores`)."""
        if scores is None:
            scores = self.scores(query)
        if scores is None:
            return []
        mask = scores > 0
        filtered = self.filter_mask(since, until, sources, exclude)
        if filtered is not None:
            mask &= filtered
        candidates = np.flatnonzero(mask)
        if candidates.size == 0:
            return []
        if candidates.size > n:
            part = np.argpartition(-scores[candidates], n - 1)[:n]
            candidates = candidates[part]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [LexicalHit(int(i), self.ids[i], float(scores[i])) for i in order]

    def filter_mask(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        exclude: Collection[str] | None = None,
    ) -> np.ndarray | None:
        """Which chunks pass the filters (None = no filter); undated chunks fail date filters.

        ``exclude`` lists article ids left out (the evaluation's "topic not covered" set)."""
        if not (since or until or sources or exclude):
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if since:
            mask &= self.published >= (date_to_int(since) or 0)
        if until:
            mask &= (self.published <= (date_to_int(until) or 0)) & (self.published > 0)
        if sources:
            mask &= np.isin(self.sources, list(sources))
        if exclude:
            mask &= ~np.isin(np.asarray(self.article_ids, dtype=object), list(exclude))
        return mask

    # --- persistence ---------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write atomically: a reader never sees half an index."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=folder.parent))
        try:
            if self.ids:
                self.retriever.save(str(tmp / "bm25"), show_progress=False)
            np.save(tmp / "published.npy", self.published)
            meta = {
                "generation": self.generation,
                "ids": self.ids,
                "article_ids": self.article_ids,
                "sources": self.sources.tolist(),
                "text_hashes": self.text_hashes,
                "titles": self.titles,
            }
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            old = folder.with_name(folder.name + ".old")
            if folder.exists():
                os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it cannot be read (then rebuild)."""
        import bm25s

        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if "titles" not in meta:  # written by an older version: rebuild
                return None
            published = np.load(folder / "published.npy")
            retriever = (
                bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
                if meta["ids"]
                else bm25s.BM25()
            )
        except (OSError, ValueError, KeyError):
            return None
        return cls(
            meta["ids"],
            meta["article_ids"],
            published,
            meta["sources"],
            retriever,
            meta["generation"],
            meta.get("text_hashes"),
            meta.get("titles"),
        )
