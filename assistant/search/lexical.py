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
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import suppress
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
        cutoff: dt.date | None = None,
    ) -> list[LexicalHit]:
        """The ``n`` best chunks by BM25 that pass the filters (``scores`` from :meth:`scores`)."""
        if scores is None:
            scores = self.scores(query)
        if scores is None:
            return []
        mask = scores > 0
        filtered = self.filter_mask(since, until, sources, exclude, cutoff)
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
        cutoff: dt.date | None = None,
    ) -> np.ndarray | None:
        """Which chunks pass the filters (None = no filter); undated chunks fail date filters.

        ``cutoff``: the day the question is asked — chunks published later fail, undated ones
        pass (their date is unknown, not later). ``exclude`` lists article ids left out (the
        evaluation's "topic not covered" set)."""
        if not (since or until or sources or exclude or cutoff):
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if cutoff:
            mask &= self.published <= (date_to_int(cutoff) or 0)
        if since:
            mask &= self.published >= (date_to_int(since) or 0)
        if until:
            mask &= (self.published <= (date_to_int(until) or 0)) & (self.published > 0)
        if sources:
            mask &= self._source_mask(tuple(sorted(set(sources))))
        if exclude:
            mask &= ~np.isin(np.asarray(self.article_ids, dtype=object), list(exclude))
        return mask

    def _source_mask(self, sources: tuple[str, ...]) -> np.ndarray:
        """Chunks of these outlets (cached per index: outlet filters repeat)."""
        cache: dict[tuple[str, ...], np.ndarray] = self.__dict__.setdefault("_by_source", {})
        if sources not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[sources] = np.isin(self.sources, list(sources))
        return cache[sources]

    # --- persistence ---------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write a new version and switch to it atomically: a reader never sees a mix.

        ``folder/versions/<name>/`` holds one complete index; ``folder/CURRENT`` names the one
        in force and is replaced with ``os.replace`` only after that version is fully written.
        Writers (ingest, delete, a reader that rebuilt a stale index) take ``folder``'s lock, so
        cleaning up old versions never removes one another writer is still writing; the
        previous version is kept for readers that are still loading it.
        """
        from filelock import FileLock

        versions = folder / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder.with_name(folder.name + ".lock")), timeout=120):
            tmp = Path(tempfile.mkdtemp(prefix=f"{_safe(self.generation)}-", dir=versions))
            try:
                self._write_files(tmp)
                pointer = folder / f".CURRENT-{tmp.name}"
                pointer.write_text(tmp.name, encoding="utf-8")
                previous = _current_version(folder)
                os.replace(pointer, folder / "CURRENT")
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            keep = {tmp.name, previous}
            for old in versions.iterdir():
                if old.name not in keep:
                    shutil.rmtree(old, ignore_errors=True)
            for legacy in ("meta.json", "published.npy", "bm25"):  # the unversioned layout
                target = folder / legacy
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)

    def _write_files(self, target: Path) -> None:
        if self.ids:
            self.retriever.save(str(target / "bm25"), show_progress=False)
        np.save(target / "published.npy", self.published)
        meta = {
            "generation": self.generation,
            "ids": self.ids,
            "article_ids": self.article_ids,
            "sources": self.sources.tolist(),
            "text_hashes": self.text_hashes,
            "titles": self.titles,
        }
        (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it cannot be read (then rebuild)."""
        import bm25s

        name = _current_version(folder)
        source = folder / "versions" / name if name else folder  # else: the unversioned layout
        try:
            meta = json.loads((source / "meta.json").read_text(encoding="utf-8"))
            if "titles" not in meta:  # written by an older version: rebuild
                return None
            published = np.load(source / "published.npy")
            retriever = (
                bm25s.BM25.load(str(source / "bm25"), show_progress=False)
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


Pages = Iterable[tuple[list[str], list[str], list[dict[str, Any]]]]


def current_index(
    cached: LexicalIndex | None, generation: str, folder: Path, pages: Callable[[], Pages]
) -> LexicalIndex:
    """The index of the store's ``generation``: ``cached`` when it is that one, else the one
    saved in ``folder``, else one rebuilt from ``pages()`` (and saved; a read-only store folder
    still answers, it rebuilds next time)."""
    if cached is not None and cached.generation == generation:
        return cached
    loaded = LexicalIndex.load(folder)
    if loaded is not None and loaded.generation == generation:
        return loaded
    index = LexicalIndex.build(pages(), generation)
    with suppress(OSError):
        index.save(folder)
    return index


def rebuild_index(generation: str, folder: Path, pages: Pages) -> LexicalIndex:
    """A new index of ``pages`` for ``generation``, saved in ``folder`` (after a write)."""
    index = LexicalIndex.build(pages, generation)
    index.save(folder)
    return index


def _current_version(folder: Path) -> str:
    """The version folder ``folder/CURRENT`` names, or '' when there is none."""
    try:
        name = (folder / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return name if name and "/" not in name and name not in {".", ".."} else ""


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40] or "index"
