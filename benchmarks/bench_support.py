"""Measure the support check: how often scripted contradictions and supported claims are flagged.

    python -m benchmarks.bench_support --realtimeqa ../shared/data/realtimeqa-dev \
        --squad ../shared/data/squad2-dev/articles.jsonl [--per-half 150] [--seed 13]

Builds the claim set of :mod:`benchmarks.claims` from the articles' chunks (chunked as ingest
does) and checks each claim, cited as ``[1]``, against its passage with
:func:`assistant.answering.citations.verify` and the real bundled embedder at full precision (as the answerer
calls it). A claim is *flagged* when verify lists it as unsupported. Reported per claim kind and
overall: the share flagged, which should be high for contradicted/unsupported kinds (target >=
0.95) and low for supported ones (target <= 0.05); also precision and recall of the flag.

Split: the FIT half is realtimeqa articles published up to 2022-07-15 and squad2 passages whose
id's SHA-1 is even; the REPORT half is the rest. Constants are chosen on FIT only. Writes
results/support.json. ``--cache FILE`` keeps the embeddings between runs (an .npz outside the repo).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from assistant.models import Article, Chunk, Passage, sha1
from benchmarks.claims import (
    FLAGGED_KINDS,
    SUPPORTED_KINDS,
    Claim,
    build_gazetteer,
    claim_sentences,
    date_swap,
    name_swap,
    negation_flip,
    number_swap,
    other_article_sentence,
    reword,
)
from benchmarks.common import table, write_result

FIT_UNTIL = dt.date(2022, 7, 15)
KINDS = SUPPORTED_KINDS + FLAGGED_KINDS


class CachedEmbedder:
    """Wraps an embedder; each distinct text is embedded once (optionally kept in an .npz)."""

    def __init__(self, inner: Any, path: Path | None) -> None:
        self.inner, self.path = inner, path
        self.name, self.dim = inner.name, inner.dim
        self.cache: dict[str, np.ndarray] = {}
        if path and path.exists():
            data = np.load(path, allow_pickle=False)
            self.cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for text, vector in zip(todo, self.inner.embed_documents(todo), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def save(self) -> None:
        if self.path:
            texts = list(self.cache)
            np.savez(
                self.path, texts=np.array(texts), vectors=np.stack([self.cache[t] for t in texts])
            )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if path.is_dir():
        path = path / "articles.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _is_fit(dataset: str, article: Article) -> bool:
    if dataset == "realtimeqa":
        return article.published is not None and article.published <= FIT_UNTIL
    return int(sha1(article.id), 16) % 2 == 0


def _nearest_other(articles: list[Article]) -> list[int]:
    """Index of each article's nearest other article by BM25 on title and opening."""
    import bm25s

    texts = [f"{a.title} {a.text[:3000]}" for a in articles]
    index = bm25s.BM25()
    index.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    queries = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    docs, _ = index.retrieve(queries, k=min(3, len(texts)), show_progress=False, n_threads=1)
    out = []
    for i, row in enumerate(docs):
        others = [int(j) for j in row if int(j) != i and texts[int(j)] != texts[i]]
        out.append(others[0] if others else -1)
    return out


def build_claims(
    dataset: str, rows: list[dict[str, Any]], per_half: int, seed: int
) -> dict[str, list[Claim]]:
    """Claims of both halves of one data set (at most ``per_half`` passages per half)."""
    from assistant.ingest.chunking import chunk_article

    rng = random.Random(f"{seed}-{dataset}")
    articles = [Article.model_validate(r) for r in rows if r.get("text")]
    gazetteer = build_gazetteer([a.text for a in articles])
    nearest = _nearest_other(articles)
    halves: dict[str, list[Claim]] = {"fit": [], "report": []}
    order = list(range(len(articles)))
    rng.shuffle(order)
    used = {"fit": 0, "report": 0}
    for i in order:
        article = articles[i]
        half = "fit" if _is_fit(dataset, article) else "report"
        if used[half] >= per_half:
            continue
        chunks = [c for c in chunk_article(article) if claim_sentences(c.text)]
        if not chunks:
            continue
        chunk = rng.choice(chunks)
        used[half] += 1
        sentences = claim_sentences(chunk.text)
        for sentence in rng.sample(sentences, min(2, len(sentences))):
            halves[half] += _variants(sentence, chunk, gazetteer, rng)
        if nearest[i] >= 0:
            other = other_article_sentence(chunk.text, articles[nearest[i]].text, rng)
            if other:
                halves[half].append(Claim("other_article", other, chunk, other))
    return halves


def _variants(
    sentence: str, chunk: Chunk, gazetteer: dict[str, list[str]], rng: random.Random
) -> list[Claim]:
    out = [Claim("verbatim", sentence, chunk, sentence)]
    reworded = reword(sentence, rng)
    if reworded:
        out.append(Claim("reworded", reworded[0], chunk, sentence, reworded[1]))
    for kind, make in (
        ("number_swap", number_swap),
        ("date_swap", date_swap),
        ("negation", negation_flip),
    ):
        text = make(sentence, rng)
        if text and text != sentence:
            out.append(Claim(kind, text, chunk, sentence))
    swapped = name_swap(sentence, chunk.text, gazetteer, rng)
    if swapped:
        out.append(Claim("name_swap", swapped, chunk, sentence))
    return out


def check(claims: list[Claim], embedder: Any, threshold: float) -> list[dict[str, Any]]:
    """Run verify on each claim as the answerer does; one result row per claim."""
    from assistant.answering.citations import verify
    from assistant.answering.prompts import refusal_sentence

    refusal = refusal_sentence()
    rows = []
    for claim in claims:
        c = claim.chunk
        passage = Passage(
            n=1, chunk_id=c.id, article_id=c.article_id, title=c.title, source=c.source,
            published=c.published, url=c.url, text=c.text, start=c.start, end=c.end,
        )  # fmt: skip
        body = claim.text.rstrip().rstrip(".!")
        result = verify(f"{body} [1].", [passage], embedder, threshold, refusal=refusal)
        support = max((x.support for x in result.citations), default=0.0)
        rows.append(
            {
                "kind": claim.kind,
                "rule": claim.rule,
                "flagged": bool(result.unsupported_sentences),
                "support": support,
                "claim": claim.text,
                "source_sentence": claim.source_sentence,
                "chunk_id": c.id,
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r["flagged"])
    kinds = {k: {"n": len(v), "flagged": round(float(np.mean(v)), 4)} for k, v in by_kind.items()}
    bad = [r["flagged"] for r in rows if r["kind"] in FLAGGED_KINDS]
    good = [r["flagged"] for r in rows if r["kind"] in SUPPORTED_KINDS]
    tp, fp = sum(bad), sum(good)
    return {
        "kinds": kinds,
        "contradictions_flagged": round(tp / max(1, len(bad)), 4),  # recall of the flag
        "supported_flagged": round(fp / max(1, len(good)), 4),
        "flag_precision": round(tp / max(1, tp + fp), 4),
        "flag_recall": round(tp / max(1, len(bad)), 4),
        "n_contradicted": len(bad),
        "n_supported": len(good),
    }


def sweep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flag rates if the threshold alone changed (support scores are threshold-free)."""
    out = []
    for t in np.arange(0.30, 0.71, 0.05):
        bad = [r["support"] < t for r in rows if r["kind"] in FLAGGED_KINDS]
        good = [r["support"] < t for r in rows if r["kind"] in SUPPORTED_KINDS]
        out.append(
            {
                "threshold": round(float(t), 2),
                "contradictions_flagged": round(float(np.mean(bad)), 4),
                "supported_flagged": round(float(np.mean(good)), 4),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--realtimeqa", type=Path, required=True, help="Folder or articles.jsonl.")
    ap.add_argument("--squad", type=Path, required=True, help="squad2-dev articles.jsonl.")
    ap.add_argument("--per-half", type=int, default=150, help="Passages per data set and half.")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cache", type=Path, default=None, help="Embedding cache (.npz).")
    ap.add_argument("--dump", type=Path, default=None, help="Write every claim's row (JSONL).")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.search.embeddings import get_embedder

    settings = Settings(_env_file=None, embed_backend="onnx")
    embedder = CachedEmbedder(get_embedder(settings), args.cache)
    t0 = time.perf_counter()
    results: dict[str, Any] = {"halves": {}}
    all_rows: dict[str, list[dict[str, Any]]] = {"fit": [], "report": []}
    for dataset, path in (("realtimeqa", args.realtimeqa), ("squad2", args.squad)):
        halves = build_claims(dataset, _read_jsonl(path), args.per_half, args.seed)
        for half, claims in halves.items():
            rows = check(claims, embedder, settings.support_threshold)
            for r in rows:
                r["dataset"] = dataset
            all_rows[half] += rows
            results["halves"].setdefault(half, {})[dataset] = summarise(rows)
    embedder.save()
    for half, rows in all_rows.items():
        summary = summarise(rows)
        results["halves"][half]["overall"] = summary
        results["halves"][half]["threshold_sweep"] = sweep(rows)
        print(f"\n## {half.upper()} half (threshold {settings.support_threshold})")
        lines = []
        for kind in KINDS:
            row: dict[str, Any] = {"kind": kind}
            for dataset in ("realtimeqa", "squad2", "overall"):
                k = results["halves"][half][dataset]["kinds"].get(kind, {"n": 0, "flagged": None})
                row[dataset] = f"{k['flagged']:.3f} (n={k['n']})" if k["n"] else "-"
            lines.append(row)
        print(table(lines, ["kind", "realtimeqa", "squad2", "overall"]))
        print(
            f"contradictions flagged {summary['contradictions_flagged']:.3f} (target >= 0.95), "
            f"supported flagged {summary['supported_flagged']:.3f} (target <= 0.05), "
            f"flag precision {summary['flag_precision']:.3f} / recall {summary['flag_recall']:.3f}"
        )
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for half, rows in all_rows.items():
                for r in rows:
                    fh.write(json.dumps({"half": half, **r}) + "\n")
    results["settings"] = {
        "support_threshold": settings.support_threshold,
        "per_half": args.per_half,
        "seed": args.seed,
        "embedder": embedder.name + " (onnx, full precision)",
        "fit": f"realtimeqa published <= {FIT_UNTIL}; squad2 sha1(id) even",
    }
    results["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\nwrote {write_result('support', results)} in {results['seconds']} s")


if __name__ == "__main__":
    main()
