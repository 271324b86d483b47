"""Build a big synthetic store (100k, 300k, 1M chunks) from a real one, without embedding again.

    python -m benchmarks.build_store --source /work/bench/rt --target /work/bench/big100k \\
        --size 100000 [--collection news] [--cache /work/bench/vectors] [--noise 0.05]

The source (a store made by ``assistant ingest``) is read once through the project's
``ChunkStore`` and cached as ``<cache>/<name>.npz`` (ids, vectors) + ``.jsonl`` (documents,
metadata), keyed by the source's generation token. The target is then filled with copies:
copy 0 is the source itself (same ids, so gold evidence ids still resolve); copy r >= 1 of
article ``A`` is article ``A~r``, whose chunk ids are the ones the product's chunker gives
``A~r`` (``sha1(article_id)[:16]-content_hash[:12]-index``), metadata otherwise the same, and
vectors the source's plus small gaussian noise (``--noise`` = norm of the noise), renormalised.
Whole articles are written in order until the target holds ``--size`` chunks.

Writes go through ``ChunkStore.write_chunks`` in batches (the same layout, metadata and
collection metadata — embedding model, generation — as ``assistant ingest``). Re-running
continues where a run stopped: the plan is deterministic, the store's count says how far it got,
and the last batch is written again (``write_chunks`` skips chunks already stored). At the end the
script opens ``Assistant`` on the target and builds the lexical index once (the product's cold
start), so the store is ready. Prints progress with rate, seconds per 10k chunks and the size on
disk; writes ``<target>/build_store.json`` and ``benchmarks/results/build_store_<name>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.codepath import code_label, use_code
from benchmarks.common import folder_bytes, peak_rss_mb, write_result

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.models import Chunk
    from assistant.search.store import ChunkStore

COPY_SEP = "~"


@dataclass
class Source:
    """Every chunk of the source store, sorted by (article id, chunk index)."""

    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]
    embeddings: np.ndarray  # float32, (n, dim)
    model: str
    generation: str
    articles: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (id, chunk rows)

    def __post_init__(self) -> None:
        if not self.articles:
            self.articles = group_articles(self.metadatas)

    def __len__(self) -> int:
        return len(self.ids)


def group_articles(metadatas: list[dict[str, Any]]) -> list[tuple[str, np.ndarray]]:
    """(article id, row numbers) in the order the rows are in (sorted by article)."""
    out: list[tuple[str, list[int]]] = []
    for row, meta in enumerate(metadatas):
        aid = str(meta["article_id"])
        if not out or out[-1][0] != aid:
            out.append((aid, []))
        out[-1][1].append(row)
    return [(aid, np.asarray(rows, dtype=np.int64)) for aid, rows in out]


def _settings(store_dir: Path, collection: str) -> Settings:
    from assistant.config import Settings

    return Settings(store_dir=store_dir, collection=collection, _env_file=None)  # type: ignore[call-arg]


def _cache_paths(cache: Path, source_dir: Path, collection: str) -> tuple[Path, Path]:
    name = "".join(ch if ch.isalnum() else "_" for ch in str(source_dir.resolve()).strip("/"))
    stem = cache / f"{name}-{collection}"
    return stem.with_suffix(".npz"), stem.with_suffix(".jsonl")


def read_store(store: ChunkStore, page: int = 2000) -> Source:
    """All chunks of ``store`` with their vectors, sorted by (article id, chunk index)."""
    ids: list[str] = []
    docs: list[str] = []
    metas: list[dict[str, Any]] = []
    vecs: list[np.ndarray] = []
    offset = 0
    while True:
        got = store.collection.get(
            include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
        )
        if not got["ids"]:
            break
        ids += list(got["ids"])
        docs += [d or "" for d in (got["documents"] or [])]
        metas += [dict(m or {}) for m in (got["metadatas"] or [])]
        vecs.append(np.asarray(got["embeddings"], dtype=np.float32))
        offset += len(got["ids"])
    order = sorted(
        range(len(ids)),
        key=lambda i: (str(metas[i]["article_id"]), int(metas[i]["chunk_index"]), ids[i]),
    )
    emb = np.concatenate(vecs)[order] if vecs else np.zeros((0, 0), dtype=np.float32)
    return Source(
        [ids[i] for i in order],
        [docs[i] for i in order],
        [metas[i] for i in order],
        emb,
        store.embedding_model() or "",
        store.generation(),
    )


def load_source(source_dir: Path, collection: str, cache: Path | None) -> Source:
    """The source store's chunks, from the cache when it is of the source's current generation."""
    from assistant.search.store import ChunkStore

    store = ChunkStore(_settings(source_dir, collection))
    if store.count() == 0:
        msg = f"source store {source_dir} (collection {collection!r}) is empty"
        raise SystemExit(msg)
    generation = store.generation()
    if cache is not None:
        npz, jsonl = _cache_paths(cache, source_dir, collection)
        if npz.exists() and jsonl.exists():
            with np.load(npz, allow_pickle=False) as data:
                cached_gen = str(data["generation"])
                if cached_gen == generation:
                    rows = [json.loads(line) for line in jsonl.open(encoding="utf-8")]
                    print(f"source: {len(rows)} chunks from the cache {npz}", flush=True)
                    return Source(
                        [r["id"] for r in rows],
                        [r["document"] for r in rows],
                        [r["metadata"] for r in rows],
                        np.asarray(data["embeddings"], dtype=np.float32),
                        str(data["model"]),
                        generation,
                    )
    t0 = time.perf_counter()
    src = read_store(store)
    print(f"source: read {len(src)} chunks in {time.perf_counter() - t0:.1f} s", flush=True)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        npz, jsonl = _cache_paths(cache, source_dir, collection)
        with jsonl.open("w", encoding="utf-8") as fh:
            for cid, doc, meta in zip(src.ids, src.documents, src.metadatas, strict=True):
                fh.write(json.dumps({"id": cid, "document": doc, "metadata": meta}) + "\n")
        np.savez(npz, embeddings=src.embeddings, model=src.model, generation=generation)
        print(f"source: cached as {npz} + {jsonl.name}", flush=True)
    return src


# --- the plan: copy r of article a, in order, until the target size -----------------------------


def copy_article_id(article_id: str, copy: int) -> str:
    return article_id if copy == 0 else f"{article_id}{COPY_SEP}{copy}"


def copy_chunk_id(chunk_id: str, article_id: str, copy: int) -> str:
    """The id the product's chunker gives this chunk of article ``A~r`` (same content)."""
    if copy == 0:
        return chunk_id
    from assistant.models import sha1

    prefix = sha1(article_id)[:16]
    if chunk_id.startswith(prefix + "-"):
        return sha1(copy_article_id(article_id, copy))[:16] + chunk_id[len(prefix) :]
    return f"{chunk_id}{COPY_SEP}{copy}"  # an id scheme of another version: still unique


def plan(src: Source, size: int) -> list[tuple[int, int, int]]:
    """Units (copy, article number, chunks written once this unit is in), whole articles,
    until at least ``size`` chunks."""
    units: list[tuple[int, int, int]] = []
    total = 0
    copy = 0
    while total < size:
        for a, (_, rows) in enumerate(src.articles):
            total += len(rows)
            units.append((copy, a, total))
            if total >= size:
                break
        copy += 1
    return units


def unit_chunks(
    src: Source, copy: int, article: int, noise: float, seed: int
) -> tuple[list[Chunk], np.ndarray, list[str]]:
    """The chunks of copy ``copy`` of source article ``article``, their vectors and chunkings."""
    from assistant.models import Chunk

    aid, rows = src.articles[article]
    new_aid = copy_article_id(aid, copy)
    vectors = src.embeddings[rows]
    if copy and noise > 0:
        rng = np.random.default_rng([seed, copy, article])
        dim = vectors.shape[1]
        vectors = vectors + rng.standard_normal(vectors.shape, dtype=np.float32) * (
            noise / np.sqrt(dim)
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks: list[Chunk] = []
    chunkings: list[str] = []
    for row in rows:
        meta = src.metadatas[row]
        published = meta.get("published")
        chunks.append(
            Chunk.model_construct(
                id=copy_chunk_id(src.ids[row], aid, copy),
                article_id=new_aid,
                index=int(meta["chunk_index"]),
                count=int(meta["chunk_count"]),
                text=src.documents[row],
                start=int(meta["start"]),
                end=int(meta["end"]),
                title=str(meta.get("title", "")),
                source=meta.get("source"),
                published=dt.date.fromisoformat(str(published)) if published else None,
                url=meta.get("url"),
                content_hash=str(meta.get("content_hash", "")),
                origin=str(meta.get("origin", "")),
            )
        )
        chunkings.append(str(meta.get("chunking", "")))
    return chunks, vectors.astype(np.float32), chunkings


def check_layout(
    src: Source, chunks: list[Chunk], chunkings: list[str], rows: np.ndarray
) -> list[str]:
    """The metadata ``write_chunks`` will write is the source's (article id aside): the
    product's layout round-trips, so the copies look exactly like ingested articles. Returns
    the source's keys that ``chunk_metadata`` does not make (stamps ``write_chunks`` adds at
    write time, e.g. when it was written: the copies get their own)."""
    from assistant.search.chroma import chunk_metadata

    extra: set[str] = set()
    for chunk, chunking, row in zip(chunks, chunkings, rows, strict=True):
        want = {**src.metadatas[int(row)], "article_id": chunk.article_id}
        got = chunk_metadata(chunk, chunking)
        diff = sorted(k for k in got if got.get(k) != want.get(k))
        if diff:
            msg = f"chunk metadata does not round-trip (keys {diff}); has the layout changed?"
            raise SystemExit(msg)
        extra |= set(want) - set(got)
    return sorted(extra)


@dataclass
class BuildStats:
    target_chunks: int
    planned_chunks: int
    start_count: int
    written: int = 0  # chunks handed to write_chunks (a resumed run hands the last batch again)
    added: int = 0  # chunks the store gained
    seconds: float = 0.0
    per_10k: list[tuple[int, float]] = field(default_factory=list)  # (chunks in store, s/10k)
    stamped_keys: list[str] = field(default_factory=list)  # source keys write_chunks sets anew

    def as_dict(self) -> dict[str, Any]:
        rate = self.added / self.seconds if self.seconds and self.added else None
        return {
            "target_chunks": self.target_chunks,
            "planned_chunks": self.planned_chunks,
            "resumed_from": self.start_count,
            "written": self.written,
            "added": self.added,
            "write_s": round(self.seconds, 1),
            "chunks_per_s": round(rate, 1) if rate else None,
            "s_per_10k": round(10_000 / rate, 2) if rate else None,
            "s_per_10k_by_size": [[n, round(s, 2)] for n, s in self.per_10k],
            "stamped_keys": self.stamped_keys,
        }


def _resume_unit(
    store: ChunkStore, src: Source, units: list[tuple[int, int, int]], batch: int
) -> int:
    """The unit to start from: one batch before the store's count, when the store holds this
    plan's chunks up to its count; else 0 (everything is checked again, nothing rewritten)."""
    count = store.count()
    if count == 0:
        return 0
    done = next((u for u, (_, _, end) in enumerate(units) if end >= count), len(units))
    if done < len(units) and units[done][2] == count:  # a whole article ends at the count
        copy, article, _ = units[done]
        aid, rows = src.articles[article]
        last = copy_chunk_id(src.ids[int(rows[-1])], aid, copy)
        if store.get_chunks([last]):
            print(f"resume: {count} chunks present, the plan's first {count} chunks", flush=True)
            done += 1
        else:
            print(f"resume: {count} chunks present, not this plan's; checking all", flush=True)
            return 0
    back = count - batch
    return next((u for u, (_, _, end) in enumerate(units) if end > back), 0) if back > 0 else 0


def build(
    src: Source,
    target: Settings,
    size: int,
    *,
    noise: float = 0.05,
    seed: int = 0,
    batch: int = 5000,
    log: Callable[[str], Any] = print,
) -> BuildStats:
    """Fill ``target`` with copies of ``src`` until it holds ``size`` chunks (resumable)."""
    from assistant.search.store import ChunkStore

    store = ChunkStore(target)
    store.claim_embedding_model(src.model)  # the Assistant then opens it with the same embedder
    units = plan(src, size)
    start = _resume_unit(store, src, units, batch)
    stats = BuildStats(size, units[-1][2] if units else 0, store.count())
    if start >= len(units):
        log(f"target already holds {stats.start_count} chunks: nothing to write")
        return stats
    store.bump_generation()  # readers must not trust an older lexical index
    checked = False
    t_start = time.perf_counter()
    t_mark, n_mark = t_start, 0
    pending: list[tuple[list[Chunk], np.ndarray, list[str]]] = []
    pending_n = 0

    def flush() -> None:
        nonlocal pending, pending_n
        chunks = [c for part in pending for c in part[0]]
        vectors = np.concatenate([part[1] for part in pending])
        chunkings = [k for part in pending for k in part[2]]
        for chunking in dict.fromkeys(chunkings):  # one chunking label per write_chunks call
            sel = [i for i, k in enumerate(chunkings) if k == chunking]
            store.write_chunks([chunks[i] for i in sel], vectors[sel], chunking=chunking)
        stats.written += len(chunks)
        pending, pending_n = [], 0

    last_unit = len(units) - 1
    for u in range(start, len(units)):
        copy, article, end = units[u]
        part = unit_chunks(src, copy, article, noise, seed)
        if not checked:
            stats.stamped_keys = check_layout(src, part[0], part[2], src.articles[article][1])
            if stats.stamped_keys:
                log(f"source keys set by write_chunks itself (not copied): {stats.stamped_keys}")
            checked = True
        pending.append(part)
        pending_n += len(part[0])
        if pending_n < batch and u != last_unit:
            continue
        flush()
        now = time.perf_counter()
        if stats.written - n_mark >= 10_000 or u == last_unit:
            per = (now - t_mark) / max(1, stats.written - n_mark) * 10_000
            stats.per_10k.append((end, per))
            t_mark, n_mark = now, stats.written
        elapsed = now - t_start
        rate = stats.written / elapsed
        eta = (units[-1][2] - end) / rate if rate else 0.0
        log(
            f"{end:>9,}/{units[-1][2]:,} chunks (copy {copy})  {rate:7.0f} chunks/s  "
            f"{10_000 / rate:6.1f} s/10k  eta {eta / 60:5.1f} min  rss {peak_rss_mb():.0f} MB"
        )
    stats.seconds = time.perf_counter() - t_start
    stats.added = store.count() - stats.start_count
    return stats


def warm(settings: Settings, query: str) -> dict[str, Any]:
    """Open the store as the product does and build the lexical index once (the cold start)."""
    from assistant.service import Assistant

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    assistant = Assistant(settings, chat_model=False)
    lexical = getattr(assistant, "lexical", None)
    if callable(lexical):
        index = lexical()
        out["lexical_build_s"] = round(time.perf_counter() - t0, 2)
        with contextlib.suppress(TypeError):
            out["lexical_docs"] = len(index)
    t0 = time.perf_counter()
    passages = assistant.search(query)
    out["first_search_s"] = round(time.perf_counter() - t0, 2)  # includes the model load
    t0 = time.perf_counter()
    assistant.search(query)
    out["second_search_s"] = round(time.perf_counter() - t0, 3)
    out["first_search_top"] = passages[0].article_id if passages else None
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--source", type=Path, required=True, help="Store made by `assistant ingest`.")
    ap.add_argument(
        "--target", type=Path, required=True, help="New store folder (outside the repo)."
    )
    ap.add_argument("--size", type=int, required=True, help="Chunks in the target (at least).")
    ap.add_argument("--collection", default="news")
    ap.add_argument("--cache", type=Path, default=Path("/work/bench/vectors"))
    ap.add_argument("--noise", type=float, default=0.05, help="Norm of the noise added to copies.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=5000, help="Chunks per write.")
    ap.add_argument("--query", default="What did the Federal Reserve decide about interest rates?")
    ap.add_argument("--no-warm", action="store_true", help="Skip building the lexical index.")
    ap.add_argument(
        "--code", type=Path, help="Import assistant from this tree (benchmarks/codepath.py)."
    )
    args = ap.parse_args()
    use_code(args.code)

    if args.target.resolve() == args.source.resolve():
        raise SystemExit("--target must not be the source store")
    src = load_source(args.source, args.collection, args.cache)
    print(
        f"source: {len(src)} chunks, {len(src.articles)} articles, model {src.model!r}, "
        f"dim {src.embeddings.shape[1]}",
        flush=True,
    )
    target = _settings(args.target, args.collection)
    stats = build(
        src, target, args.size, noise=args.noise, seed=args.seed, batch=args.batch,
        log=lambda line: print(line, flush=True),
    )  # fmt: skip
    chroma_bytes = folder_bytes(args.target)
    result: dict[str, Any] = {
        "source": str(args.source),
        "source_chunks": len(src),
        "target": str(args.target),
        "noise": args.noise,
        **code_label(),
        **stats.as_dict(),
        "chroma_bytes": chroma_bytes,
    }
    print(
        f"added {stats.added} chunks in {stats.seconds:.1f} s "
        f"({result['s_per_10k']} s per 10k); store on disk {chroma_bytes / 2**30:.2f} GiB",
        flush=True,
    )
    if not args.no_warm:
        print("opening the Assistant: building the lexical index (cold start) …", flush=True)
        result.update(warm(target, args.query))
        result["disk_bytes"] = folder_bytes(args.target)
        print(
            f"lexical index: {result.get('lexical_build_s')} s; first search "
            f"{result['first_search_s']} s (with model load), next {result['second_search_s']} s; "
            f"store on disk {result['disk_bytes'] / 2**30:.2f} GiB",
            flush=True,
        )
    (args.target / "build_store.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    path = write_result(f"build_store_{args.target.name}", result)
    print(json.dumps(result), file=sys.stderr)
    print(f"written {path}")


if __name__ == "__main__":
    main()
