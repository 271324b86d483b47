"""BM25 over the same chunk ids as the vector store: a tantivy index kept beside the store.

The index is changed in place — an ingest or a delete replaces the chunks of the articles it
touched, in one commit — so keeping it current costs what changed, not the archive. Readers see
whole commits only: a searcher is a snapshot, and :meth:`LexicalIndex.refresh` moves to the
newest commit. Every commit also writes the store's generation token into a small document of its
own, so the label and the chunks it describes can never disagree.

Beside BM25 the index keeps the fields retrieval filters and ranks on (article, outlet, date, text
hash, title), so date windows, outlets, excluded articles and the question-date cutoff are
answered by the engine, not by a scan in Python.

Tokens come from the one text core (:func:`assistant.text.content_tokens`): stemmed content
words and normalised numbers, stopwords removed — the same words the answer side weighs.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.models import date_to_int
from assistant.text import content_tokens

SCHEMA_VERSION = "tantivy-v3"  # the folder of the index; a new schema gets a new folder
META_ID = "\x00generation"  # the chunk id of the document that carries the generation token
WRITER_HEAP = 64_000_000  # bytes: one writer thread's buffer
LOCK_TIMEOUT = 300.0  # seconds a writer waits for another writer of the same index folder

Page = tuple[list[str], list[str], list[dict[str, Any]]]
"""A page of chunks as the store yields them: (ids, documents, metadatas)."""
Pages = Iterable[Page]
Progress = Callable[[int, int], None]
"""``progress(done, total)`` while an index is built from the whole store."""


def index_tokens(text: str) -> list[str]:
    """The words BM25 matches on, for chunk texts and queries alike."""
    return content_tokens(text)


@dataclass(frozen=True)
class ChunkFields:
    """What retrieval needs to know of a chunk without reading the store."""

    article_id: str
    text_hash: str
    title: str
    published: int  # YYYYMMDD, 0 when unknown
    source: str

    @property
    def published_date(self) -> dt.date | None:
        if self.published <= 0:
            return None
        try:
            return dt.date(
                self.published // 10000, self.published // 100 % 100, self.published % 100
            )
        except ValueError:
            return None


@dataclass(frozen=True)
class Filters:
    """Which chunks a search may return. ``cutoff``: the day the question is asked — chunks
    published later fail, undated ones pass (their date is unknown, not later); ``since`` and
    ``until`` fail undated chunks; ``exclude`` lists article ids left out."""

    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] = ()
    exclude: frozenset[str] = frozenset()
    cutoff: dt.date | None = None

    @classmethod
    def of(
        cls,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        exclude: Collection[str] | None = None,
        cutoff: dt.date | None = None,
    ) -> Filters:
        return cls(
            since, until, tuple(sorted(set(sources or ()))), frozenset(exclude or ()), cutoff
        )

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources or self.exclude or self.cutoff)

    def admits(self, f: ChunkFields) -> bool:
        """The same test as the engine's query, for a handful of chunks already at hand."""
        if self.cutoff and f.published > (date_to_int(self.cutoff) or 0):
            return False
        if self.since and f.published < (date_to_int(self.since) or 0):
            return False
        if self.until and not 0 < f.published <= (date_to_int(self.until) or 0):
            return False
        if self.sources and f.source not in self.sources:
            return False
        return f.article_id not in self.exclude


@dataclass
class LexicalHit:
    id: str
    score: float
    fields: ChunkFields


def _schema() -> Any:
    import tantivy

    b = tantivy.SchemaBuilder()
    for name in ("chunk_id", "article_id", "source", "text_hash", "generation"):
        b.add_text_field(name, stored=True, tokenizer_name="raw")
    b.add_text_field("title", stored=True, index_option="basic")  # shown, not matched
    b.add_text_field("text", stored=False, tokenizer_name="whitespace", index_option="freq")
    b.add_integer_field("published", stored=True, indexed=True, fast=True)
    b.add_integer_field("cursor", stored=True)  # of the generation document: the feed's cursor
    return b.build()


class LexicalIndex:
    """BM25 over chunk texts (title words included) plus the per-chunk fields filters use."""

    def __init__(self, folder: Path) -> None:
        import tantivy

        self.folder = folder
        self.path = folder / SCHEMA_VERSION
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self._searcher: Any = None
        self.generation = ""
        self.cursor = 0  # the change feed's stamp up to which this index has applied changes
        self._size = 0
        self.refresh()

    # --- reading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Move to the newest commit (a whole commit: never part of one)."""
        self.index.reload()
        searcher = self.index.searcher()
        generation, cursor, size = "", 0, searcher.num_docs
        meta = searcher.search(self._term("chunk_id", META_ID), 1, count=False).hits
        if meta:
            doc = searcher.doc(meta[0][1])
            generation = str(doc.get_first("generation") or "")
            cursor = int(doc.get_first("cursor") or 0)
            size -= 1
        self._searcher, self.generation, self.cursor, self._size = (
            searcher,
            generation,
            cursor,
            size,
        )

    def __len__(self) -> int:
        return self._size

    def _term(self, field: str, value: Any) -> Any:
        import tantivy

        return tantivy.Query.term_query(self.schema, field, value)

    def _text_query(self, query: str) -> Any | None:
        import tantivy

        tokens = index_tokens(query)
        if not tokens:
            return None
        should = tantivy.Occur.Should
        return tantivy.Query.boolean_query([(should, self._term("text", t)) for t in tokens])

    def _filter_clauses(self, filters: Filters) -> list[tuple[Any, Any]]:
        """Filters as boolean clauses that match without adding to the score."""
        import tantivy

        q, occur = tantivy.Query, tantivy.Occur
        integer = tantivy.FieldType.Integer
        must: list[Any] = []
        if filters.cutoff:
            must.append(
                q.range_query(self.schema, "published", integer, None, _day(filters.cutoff))
            )
        if filters.since:
            must.append(q.range_query(self.schema, "published", integer, _day(filters.since), None))
        if filters.until:
            must.append(q.range_query(self.schema, "published", integer, 1, _day(filters.until)))
        if filters.sources:
            must.append(q.term_set_query(self.schema, "source", list(filters.sources)))
        clauses = [(occur.Must, q.const_score_query(m, 0.0)) for m in must]
        if filters.exclude:
            excluded = q.term_set_query(self.schema, "article_id", sorted(filters.exclude))
            clauses.append((occur.MustNot, excluded))
        return clauses

    def _hits(self, query: Any, n: int) -> list[tuple[float, Any]]:
        return list(self._searcher.search(query, n, count=False).hits) if n > 0 else []

    def _read(self, address: Any) -> tuple[str, ChunkFields]:
        doc = self._searcher.doc(address)
        fields = ChunkFields(
            str(doc.get_first("article_id") or ""),
            str(doc.get_first("text_hash") or ""),
            str(doc.get_first("title") or ""),
            int(doc.get_first("published") or 0),
            str(doc.get_first("source") or ""),
        )
        return str(doc.get_first("chunk_id")), fields

    def search(self, query: str, n: int, filters: Filters | None = None) -> list[LexicalHit]:
        """The ``n`` best chunks by BM25 that pass ``filters``."""
        import tantivy

        text = self._text_query(query)
        if text is None or not self._size:
            return []
        clauses = [(tantivy.Occur.Must, text), *self._filter_clauses(filters or Filters())]
        hits = []
        for score, address in self._hits(tantivy.Query.boolean_query(clauses), n):
            cid, fields = self._read(address)
            hits.append(LexicalHit(cid, float(score), fields))
        return hits

    def scores_of(self, query: str, ids: Collection[str]) -> dict[str, float]:
        """BM25 scores of these chunks (those matching no query word are left out)."""
        import tantivy

        text = self._text_query(query)
        if text is None or not ids:
            return {}
        chosen = tantivy.Query.term_set_query(self.schema, "chunk_id", list(ids))
        must = tantivy.Occur.Must
        both = tantivy.Query.boolean_query(
            [(must, text), (must, tantivy.Query.const_score_query(chosen, 0.0))]
        )
        return {self._read(a)[0]: float(s) for s, a in self._hits(both, len(ids))}

    def fields(self, ids: Collection[str]) -> dict[str, ChunkFields]:
        """The stored fields of these chunks (ids the index does not hold are left out)."""
        import tantivy

        if not ids:
            return {}
        chosen = tantivy.Query.term_set_query(self.schema, "chunk_id", list(ids))
        return dict(self._read(a) for _, a in self._hits(chosen, len(ids)))

    def _matching(self, filters: Filters) -> Any:
        import tantivy

        everything = tantivy.Query.all_query()
        meta = (tantivy.Occur.MustNot, self._term("chunk_id", META_ID))
        clauses = [(tantivy.Occur.Must, everything), meta, *self._filter_clauses(filters)]
        return tantivy.Query.boolean_query(clauses)

    def count(self, filters: Filters) -> int:
        """How many chunks pass ``filters``."""
        return int(self._searcher.search(self._matching(filters), 1, count=True).count or 0)

    def matching_ids(self, filters: Filters, limit: int) -> list[str]:
        """Ids of (up to ``limit``) chunks that pass ``filters``."""
        return [self._read(a)[0] for _, a in self._hits(self._matching(filters), limit)]

    def chunk_ids(self) -> set[str]:
        """Every chunk id held (a full read: for checks and tests, not for queries)."""
        return set(self.matching_ids(Filters(), max(self._size, 1)))

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of a token; unseen tokens get the most."""
        df = int(self._searcher.doc_freq("text", token)) if self._size else 0
        return math.log(1.0 + (self._size - df + 0.5) / (df + 0.5))

    # --- writing (the caller holds the store's write lock) -------------------------------------

    def replace_articles(
        self, article_ids: Collection[str], pages: Pages, generation: str, cursor: int = 0
    ) -> int:
        """Drop every chunk of ``article_ids`` and add ``pages`` (their chunks as now stored), in
        one commit labelled ``generation`` (and the change feed's ``cursor``). Returns the
        number of chunks added."""

        def write(writer: Any) -> int:
            for aid in article_ids:
                writer.delete_documents_by_term("article_id", aid)
            return self._add(writer, pages)

        return self._commit(write, generation, cursor)

    def rebuild(
        self,
        pages: Pages,
        generation: str,
        cursor: int = 0,
        total: int = 0,
        progress: Progress | None = None,
    ) -> int:
        """Replace everything with ``pages`` (the whole store), in one commit."""

        def write(writer: Any) -> int:
            writer.delete_all_documents()
            return self._add(writer, pages, total, progress)

        added = self._commit(write, generation, cursor)
        self._drop_old_layouts()
        return added

    def _add(
        self, writer: Any, pages: Pages, total: int = 0, progress: Progress | None = None
    ) -> int:
        import tantivy

        added = 0
        for ids, docs, metas in pages:
            for cid, doc, meta in zip(ids, docs, metas, strict=True):
                title = str(meta.get("title") or "")
                writer.add_document(
                    tantivy.Document(
                        chunk_id=cid,
                        article_id=str(meta.get("article_id", "")),
                        source=str(meta.get("source") or ""),
                        text_hash=str(meta.get("text_hash") or cid),
                        title=title,
                        # title words help matching; the chunk text stays what is shown
                        text=" ".join(index_tokens(f"{title}\n{doc}")),
                        published=int(meta.get("published_int") or 0),
                    )
                )
            added += len(ids)
            if progress:
                progress(added, total)
        return added

    def _commit(self, write: Callable[[Any], int], generation: str, cursor: int) -> int:
        """Run ``write`` with the index's writer and commit it with the generation label; other
        writers of this folder (another process of a server-mode setup) wait their turn."""
        import tantivy
        from filelock import FileLock

        with FileLock(str(self.folder.with_name(self.folder.name + ".lock")), timeout=LOCK_TIMEOUT):
            writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            try:
                added = write(writer)
                writer.delete_documents_by_term("chunk_id", META_ID)
                label = tantivy.Document(chunk_id=META_ID, generation=generation, cursor=cursor)
                writer.add_document(label)
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                with suppress(Exception):
                    writer.rollback()
                raise
        self.refresh()
        return added

    def _drop_old_layouts(self) -> None:
        """Remove what earlier versions kept in the folder (the bm25s index and its pointer)."""
        for entry in self.folder.iterdir():
            if entry.name == SCHEMA_VERSION:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _day(day: dt.date) -> int:
    return date_to_int(day) or 0


def stderr_progress(label: str) -> Progress | None:
    """A progress bar on stderr for a long build (none when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def show(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total or None, desc=label, unit=" chunks", leave=False)
        bar["bar"].update(done - bar["bar"].n)
        if total and done >= total:
            bar["bar"].close()

    return show
