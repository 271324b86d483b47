"""Ingest throughput: our pipeline (each embedding runtime) vs the plain LangChain tutorial pipeline.

    python -m benchmarks.bench_ingest --corpus ../shared/data/bbc-news/articles.jsonl [--limit N]

Each configuration runs in its own process (clean model load, honest peak RSS) on a fresh store.
Prints a table and ratios; writes benchmarks/results/ingest.json. Never a pass/fail test.

    python -m benchmarks.bench_ingest --add --store STORE [STORE ...] --corpus C.jsonl \
        [--n 10] [--repeat 3] [--code DIR] [--label before]

Adding --n articles to big stores (each copied first; see benchmarks/ingest_add.py): seconds end
to end and in the lexical index, bytes read, and how soon another process sees the new article.
Writes benchmarks/results/ingest_add.json (one entry per --label).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import ingest_add
from benchmarks.codepath import use_code
from benchmarks.common import peak_rss_mb, table, write_result

CONFIGS = ["langchain-tutorial", "ours-torch", "ours-onnx", "ours-onnx-int8"]


def _rows(corpus: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def run_ours(corpus: Path, limit: int | None, backend: str, store: Path) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.ingest import iter_articles
    from assistant.service import Assistant

    articles = [a for a in iter_articles([corpus]) if not hasattr(a, "reason")]
    if limit:
        articles = articles[:limit]
    chars = sum(len(a.text) for a in articles)  # type: ignore[union-attr]
    settings = Settings(store_dir=store, embed_backend=backend, _env_file=None)
    assistant = Assistant(settings, chat_model=None)
    t0 = time.perf_counter()
    assistant.embedder.embed_query("warm up")  # model load is reported apart, as for LangChain
    load_s = time.perf_counter() - t0
    import chromadb  # noqa: F401  imported before the clock, as langchain_chroma does for LangChain

    t0 = time.perf_counter()
    first = assistant.ingest_articles(articles)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = assistant.ingest_articles(articles)
    second_s = time.perf_counter() - t0
    return {
        "config": f"ours-{backend}",
        "articles": len(articles),
        "chars": chars,
        "chunks": first.chunks_added,
        "embedded": first.chunks_embedded,
        "model_load_s": round(load_s, 2),
        "ingest_s": round(first_s, 2),
        "embed_s": round(first.seconds_embedding, 2),
        "other_share": round(1 - first.seconds_embedding / first_s, 4),
        "chunks_per_s": round(first.chunks_added / first_s, 2),
        "articles_per_s": round(len(articles) / first_s, 2),
        "reingest_s": round(second_s, 3),
        "reingest_embedded": second.chunks_embedded,
        "first_over_second": round(first_s / second_s, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_langchain(corpus: Path, limit: int | None, store: Path) -> dict[str, Any]:
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.search.embeddings import local_model_path

    rows = _rows(corpus, limit)
    docs = [
        Document(page_content=r["text"], metadata={"id": r["id"], "title": r.get("title", "")})
        for r in rows
    ]
    t0 = time.perf_counter()
    emb = HuggingFaceEmbeddings(model_name=str(local_model_path()))
    emb.embed_query("warm up")
    load_s = time.perf_counter() - t0

    timed = _TimedEmbeddings(emb)
    t0 = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    Chroma.from_documents(splits, timed, persist_directory=str(store))
    total_s = time.perf_counter() - t0
    embed_s = timed.seconds
    return {
        "config": "langchain-tutorial",
        "articles": len(rows),
        "chars": sum(len(r["text"]) for r in rows),
        "chunks": len(splits),
        "embedded": len(splits),
        "model_load_s": round(load_s, 2),
        "ingest_s": round(total_s, 2),
        "embed_s": round(embed_s, 2),
        "other_share": round(max(0.0, 1 - embed_s / total_s), 4),
        "chunks_per_s": round(len(splits) / total_s, 2),
        "articles_per_s": round(len(rows) / total_s, 2),
        "reingest_s": None,
        "peak_rss_mb": peak_rss_mb(),
    }


class _TimedEmbeddings:
    """Delegates to the tutorial's embeddings and adds up the time spent in them."""

    def __init__(self, inner: Any) -> None:
        from langchain_core.embeddings import Embeddings

        self.inner: Embeddings = inner
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - t0

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=Path("../shared/data/bbc-news/articles.jsonl"))
    ap.add_argument("--limit", type=int, default=None, help="Only the first N articles.")
    ap.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS)
    ap.add_argument("--one", choices=[*CONFIGS, "add", "reader"], help=argparse.SUPPRESS)
    ap.add_argument(
        "--store", type=Path, nargs="+", help="--add: store folders (never written: copied)."
    )
    ingest_add.add_arguments(ap)
    args = ap.parse_args()
    use_code(args.code)

    if args.one == "add":
        print("RESULT " + json.dumps(ingest_add.run_add(args)), flush=True)
        return
    if args.one == "reader":
        ingest_add.run_reader(args)
        return
    if args.add:
        ingest_add.main_add(args)
        return
    if args.one:
        args.store = args.store[0]
        if args.one == "langchain-tutorial":
            result = run_langchain(args.corpus, args.limit, args.store)
        else:
            result = run_ours(args.corpus, args.limit, args.one.removeprefix("ours-"), args.store)
        print("RESULT " + json.dumps(result))
        return

    results = []
    for config in args.configs:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.bench_ingest",
                "--one",
                config,
                "--corpus",
                str(args.corpus),
                "--store",
                str(Path(tmp) / "store"),
            ]
            if args.limit:
                cmd += ["--limit", str(args.limit)]
            if args.code:
                cmd += ["--code", str(args.code)]
            print(f"running {config} …", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(proc.stderr[-2000:], file=sys.stderr)
                continue
            results.append(json.loads(line[len("RESULT ") :]))
            print(json.dumps(results[-1]), file=sys.stderr)

    base = next((r for r in results if r["config"] == "langchain-tutorial"), None)
    for r in results:
        if base:
            r["chunks_per_s_vs_langchain"] = round(r["chunks_per_s"] / base["chunks_per_s"], 2)
            r["articles_per_s_vs_langchain"] = round(
                r["articles_per_s"] / base["articles_per_s"], 2
            )
    cols = [
        "config",
        "articles",
        "chunks",
        "ingest_s",
        "chunks_per_s",
        "articles_per_s",
        "other_share",
        "reingest_s",
        "first_over_second",
        "peak_rss_mb",
        "chunks_per_s_vs_langchain",
        "articles_per_s_vs_langchain",
    ]
    print(table(results, cols))
    path = write_result(
        "ingest", {"corpus": str(args.corpus), "limit": args.limit, "results": results}
    )
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
