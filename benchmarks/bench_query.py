"""Retrieval latency and memory at ~2k, ~20k and 100k+ chunks.

    python -m benchmarks.bench_query --source-store /tmp/rt-store \
        --corpus ../shared/data/realtimeqa-dev/articles.jsonl \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl --work /tmp/bench-query

The larger stores are built by ingesting the corpus repeatedly under new ids. Vectors are embedded
once: they are read from --source-store (a store where the corpus was ingested with the same
settings) and reused, so building 100k chunks takes minutes, not hours. Every query embeds the
question with the real model; p50/p95 include that. Writes benchmarks/results/query.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import rss_mb, table, write_result


class ReusedVectors:
    """An embedder that returns stored vectors for known texts and embeds only the rest."""

    def __init__(self, inner: Any, known: dict[str, np.ndarray]) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.known = known
        self.computed = 0

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        from assistant.models import sha1

        missing = [t for t in texts if sha1(t) not in self.known]
        if missing:
            self.computed += len(missing)
            for t, v in zip(missing, self.inner.embed_documents(missing), strict=True):
                self.known[sha1(t)] = v
        return np.stack([self.known[sha1(t)] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def load_vectors(source: Path, backend: str, collection: str) -> dict[str, np.ndarray]:
    from assistant.config import Settings
    from assistant.search.store import ChunkStore

    store = ChunkStore(
        Settings(store_dir=source, embed_backend=backend, collection=collection, _env_file=None)
    )
    known: dict[str, np.ndarray] = {}
    offset = 0
    while True:
        got = store.collection.get(include=["metadatas", "embeddings"], limit=5000, offset=offset)
        if not got["ids"]:
            return known
        for meta, emb in zip(got["metadatas"], got["embeddings"], strict=True):
            known[str(meta["text_hash"])] = np.asarray(emb, dtype=np.float32)
        offset += len(got["ids"])


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


def measure(
    assistant: Any, questions: list[dict[str, Any]], sources: list[str]
) -> list[dict[str, Any]]:
    kinds = {
        "dense": {"mode": "dense"},
        "bm25": {"mode": "lexical"},
        "fused": {"mode": "fused"},
        "fused+date": {"mode": "fused", "date": True},
        "fused+outlet": {"mode": "fused", "source": True},
    }
    rows = []
    for name, spec in kinds.items():
        lat: list[float] = []
        for q in questions:
            kwargs: dict[str, Any] = {"k": 5, "mode": spec["mode"]}
            if spec.get("date") and q.get("date"):
                until = dt.date.fromisoformat(q["date"])
                kwargs.update(since=until - dt.timedelta(days=30), until=until)
            if spec.get("source"):
                kwargs["sources"] = [sources[len(lat) % len(sources)]]
            t0 = time.perf_counter()
            assistant.search(q["question"], **kwargs)
            lat.append((time.perf_counter() - t0) * 1000)
        rows.append(
            {
                "query": name,
                "p50_ms": percentile(lat, 50),
                "p95_ms": percentile(lat, 95),
                "n": len(lat),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--source-store", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument(
        "--work", type=Path, required=True, help="Folder for the built stores (reused)."
    )
    ap.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    ap.add_argument("--sizes", default="2000,20000,100000")
    ap.add_argument("--source-collection", default="news")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.ingest import iter_articles
    from assistant.models import Article
    from assistant.search.embeddings import get_embedder
    from assistant.service import Assistant

    base = Settings(embed_backend=args.backend, _env_file=None)
    t0 = time.perf_counter()
    embedder = ReusedVectors(
        get_embedder(base), load_vectors(args.source_store, args.backend, args.source_collection)
    )
    print(f"loaded {len(embedder.known)} stored vectors in {time.perf_counter() - t0:.1f}s")
    articles = [a for a in iter_articles([args.corpus]) if isinstance(a, Article)]
    questions = [json.loads(x) for x in args.questions.open(encoding="utf-8") if x.strip()]
    rss_before = rss_mb()

    results = []
    for target in (int(s) for s in args.sizes.split(",")):
        settings = base.model_copy(update={"store_dir": args.work / f"store-{target}"})
        assistant = Assistant(settings, embedder=embedder, chat_model=None)
        t0 = time.perf_counter()
        copy = 0
        while assistant.store.count() < target:
            if copy == 0:
                batch = articles
            else:
                batch = [a.model_copy(update={"id": f"copy{copy}:{a.id}"}) for a in articles]
            # stop adding articles once the target is reached (small stores take a prefix)
            need = target - assistant.store.count()
            chosen, chunks = [], 0
            for a in batch:
                chosen.append(a)
                chunks += max(1, len(a.text) // 900)
                if chunks >= need:
                    break
            assistant.ingest_articles(chosen)
            copy += 1
        build_s = time.perf_counter() - t0
        chunks = assistant.store.count()
        assistant.search("warm up the index", k=5)  # loads the BM25 index and the model
        rows = measure(assistant, questions, list(assistant.stats().sources)[:5])
        for r in rows:
            r.update(chunks=chunks, build_s=round(build_s, 1))
        results.extend(rows)
        print(table(rows, ["chunks", "query", "p50_ms", "p95_ms", "n"]), flush=True)
    process = {
        "rss_mb_after": rss_mb(),
        "rss_mb_before_stores": rss_before,
        "vectors_computed": embedder.computed,
    }
    print(json.dumps(process))
    path = write_result("query", {"backend": args.backend, "results": results, "process": process})
    print(f"written {path}")


if __name__ == "__main__":
    main()
