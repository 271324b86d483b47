"""Near-duplicate detection (assistant/search/stories.py): precision and recall, and what it costs.

1. Synthetic copies of realtimeqa-dev articles (texts of at least 800 characters, one per
   distinct text). Each article gets five copies — headline edited, a lead sentence trimmed, a
   sentence added to the lead, the outlet's name swapped, and all of these at once — and three
   hard negatives: its nearest *other* articles by TF-IDF cosine (same topic, different story).
   Articles are split in two halves by a hash of their id: the threshold is chosen on the FIT
   half (best F1), the figures are reported on the REPORT half.
2. BBC News (2,225 articles, repeats stories): MinHashLSH over all leads finds the pairs the
   detector calls copies; exact repeats (identical text) are counted apart, and a sample of the
   others is printed for checking by eye, as is a sample of undetected pairs that TF-IDF finds
   very similar (for recall).
3. Cost: sketching a lead, and ``find_copies`` on the candidate pools of real queries over a
   store (``--store``, read only), first call and with the sketch cache warm.

    python -m benchmarks.bench_duplicates --dev ../shared/data/realtimeqa-dev/articles.jsonl \
        --bbc ../shared/data/bbc-news/articles.jsonl [--store /work/bench/rt \
        --questions ../shared/data/realtimeqa-dev/questions.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.ingest import chunk_article, split_sentences
from assistant.models import Article
from assistant.search import stories
from benchmarks.common import table, write_result

EDITS = ("headline", "trim", "add", "outlet", "all")
OUTLET = "Daily Planet"
ADDED = (
    "The report could not be independently verified on Tuesday.",
    "Officials declined to comment further when reached by phone.",
    "This story has been updated with additional reporting.",
)


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def lead(text: str) -> str:
    """The first chunks, as the store holds them (what the detector compares)."""
    chunks = chunk_article(Article(id="x", text=text), 220, 40)[: stories.LEAD_CHUNKS]
    return text[chunks[0].start : chunks[-1].end] if chunks else text


def _sentences(text: str, limit: int = 4) -> list[tuple[int, int]]:
    return split_sentences(text[:2000])[:limit]


def edit(row: dict[str, Any], kind: str, rng: random.Random) -> tuple[str, str]:
    """(title, text) of a copy of ``row`` with one kind of edit."""
    title, text = row.get("title") or "", row["text"]
    if kind in ("headline", "all"):
        words = title.split()
        title = "Update: " + " ".join(reversed(words[:3])) + " " + " ".join(words[3:])
    if kind in ("trim", "all"):
        spans = _sentences(text)
        if len(spans) > 1:
            s, e = spans[rng.randrange(len(spans))]
            text = text[:s] + text[e:].lstrip()
    if kind in ("add", "all"):
        spans = _sentences(text)
        at = spans[rng.randrange(len(spans))][1] if spans else 0
        text = text[:at] + " " + rng.choice(ADDED) + text[at:]
    if kind in ("outlet", "all"):
        name = re.sub(r"^www\.|\.(com|org|net|co\.uk)$", "", str(row.get("source") or ""))
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE) if name else None
        if pattern is not None and pattern.search(text[:1500]):
            text = pattern.sub(OUTLET, text)
        else:
            text = f"({OUTLET}) — {text}"
    return title, text


def nearest_others(texts: list[str], k: int) -> list[list[int]]:
    """For each text, the k most TF-IDF-similar other texts that are not identical."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(stop_words="english", min_df=2, sublinear_tf=True).fit_transform(texts)
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, -1)
    return [list(np.argsort(-row)[:k]) for row in sims]


def synthetic(rows: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    seen: set[str] = set()
    base = []
    for r in rows:
        digest = hashlib.sha1(r["text"].encode()).hexdigest()
        if len(r["text"]) >= 800 and digest not in seen:
            seen.add(digest)
            base.append(r)
    leads = [lead(r["text"]) for r in base]
    t0 = time.perf_counter()
    sketches = [stories.sketch(t) for t in leads]
    sketch_ms = (time.perf_counter() - t0) * 1000 / len(leads)
    neighbours = nearest_others([r["text"] for r in base], 3)
    pairs: list[dict[str, Any]] = []  # (half, kind, positive, similarity)
    for i, r in enumerate(base):
        half = "fit" if int(hashlib.sha1(r["id"].encode()).hexdigest(), 16) % 2 == 0 else "report"
        for kind in EDITS:
            _, text = edit(r, kind, rng)
            sim = stories.similarity(sketches[i], stories.sketch(lead(text)))
            pairs.append({"half": half, "kind": kind, "positive": True, "sim": sim})
        for j in neighbours[i]:
            sim = stories.similarity(sketches[i], sketches[j])
            pairs.append({"half": half, "kind": "hard negative", "positive": False, "sim": sim})
            pairs[-1]["pair"] = (r["id"], base[j]["id"])
    grid = [round(x, 2) for x in np.arange(0.2, 0.91, 0.05)]
    fit = [p for p in pairs if p["half"] == "fit"]
    sweep = [dict(threshold=t, **scores(fit, t)) for t in grid]
    # F0.5: a false merge (a different story hidden under "also reported by") costs more than
    # a missed one (two copies shown, as before)
    chosen = max(sweep, key=lambda s: (s["f0.5"], s["precision"]))["threshold"]
    report = [p for p in pairs if p["half"] == "report"]
    result = {
        "articles": len(base),
        "fit_articles": sum(1 for p in fit if p["kind"] == "all"),
        "report_articles": sum(1 for p in report if p["kind"] == "all"),
        "threshold_chosen_on_fit": chosen,
        "threshold_in_code": stories.THRESHOLD,
        "fit_sweep": sweep,
        "report": scores(report, stories.THRESHOLD),
        "report_recall_by_edit": {
            kind: recall([p for p in report if p["kind"] == kind], stories.THRESHOLD)
            for kind in EDITS
        },
        "report_hard_negatives_over_threshold": [
            {"pair": p["pair"], "sim": p["sim"]}
            for p in report
            if not p["positive"] and p["sim"] >= stories.THRESHOLD
        ],
        "sketch_ms_per_lead": round(sketch_ms, 3),
    }
    return result


def scores(pairs: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    tp = sum(1 for p in pairs if p["positive"] and p["sim"] >= threshold)
    fp = sum(1 for p in pairs if not p["positive"] and p["sim"] >= threshold)
    pos = sum(1 for p in pairs if p["positive"])
    neg = len(pairs) - pos
    precision = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / pos if pos else 0.0
    f1 = 2 * precision * rec / (precision + rec) if precision + rec else 0.0
    f05 = 1.25 * precision * rec / (0.25 * precision + rec) if precision + rec else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "f0.5": round(f05, 4),
        "false_positive_rate": round(fp / neg, 4) if neg else 0.0,
        "positives": pos,
        "hard_negatives": neg,
    }


def recall(pairs: list[dict[str, Any]], threshold: float) -> float:
    return round(sum(p["sim"] >= threshold for p in pairs) / len(pairs), 4) if pairs else 0.0


def bbc(rows: list[dict[str, Any]], sample: int, seed: int) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    rng = random.Random(seed)
    leads = [lead(r["text"]) for r in rows]
    t0 = time.perf_counter()
    sketches = [stories.sketch(t) for t in leads]
    lsh = MinHashLSH(threshold=stories.THRESHOLD, num_perm=stories.NUM_PERM)
    template = MinHash(num_perm=stories.NUM_PERM, seed=1)
    for i, hv in enumerate(sketches):
        lsh.insert(
            str(i), MinHash(num_perm=stories.NUM_PERM, hashvalues=hv, scheme=template.scheme)
        )
    lsh_found: set[tuple[int, int]] = set()
    for i, hv in enumerate(sketches):
        m = MinHash(num_perm=stories.NUM_PERM, hashvalues=hv, scheme=template.scheme)
        for key in lsh.query(m):
            j = int(key)
            if j != i and stories.similarity(hv, sketches[j]) >= stories.THRESHOLD:
                lsh_found.add((min(i, j), max(i, j)))
    lsh_seconds = time.perf_counter() - t0
    matrix = np.stack(sketches)  # every pair compared, as the retriever compares its pool
    found: set[tuple[int, int]] = set()
    for i in range(len(rows) - 1):
        agree = (matrix[i + 1 :] == matrix[i]).mean(axis=1)
        found |= {(i, i + 1 + int(j)) for j in np.flatnonzero(agree >= stories.THRESHOLD)}
    seconds = time.perf_counter() - t0
    exact = {p for p in found if rows[p[0]]["text"] == rows[p[1]]["text"]}
    near = sorted(found - exact)
    identical_pairs = _identical_pairs(rows)
    neighbours = nearest_others([r["text"] for r in rows], 1)
    missed = [
        (i, j)
        for i, js in enumerate(neighbours)
        for j in js
        if i < j and (i, j) not in found and rows[i]["text"] != rows[j]["text"]
    ]

    def show(pair: tuple[int, int]) -> dict[str, Any]:
        a, b = rows[pair[0]], rows[pair[1]]
        return {
            "ids": [a["id"], b["id"]],
            "titles": [a["title"], b["title"]],
            "sim": stories.similarity(sketches[pair[0]], sketches[pair[1]]),
            "leads": [leads[pair[0]][:300], leads[pair[1]][:300]],
        }

    return {
        "articles": len(rows),
        "pairs_detected": len(found),
        "identical_text_pairs": len(identical_pairs),
        "identical_text_pairs_detected": len(exact & identical_pairs),
        "near_pairs_detected": len(near),
        "near_sample": [show(p) for p in rng.sample(near, min(sample, len(near)))],
        "tfidf_nearest_not_detected_sample": [
            show(p) for p in sorted(missed, key=lambda p: -_cos(rows, p))[:sample]
        ],
        "lsh_pairs_found_of_all_pairs": f"{len(lsh_found & found)}/{len(found)}",
        "seconds_sketch_and_lsh": round(lsh_seconds, 2),
        "seconds_all_pairs": round(seconds - lsh_seconds, 2),
        "checked_by_eye": CHECKED,
    }


CHECKED = {  # the samples of the seed-14 run, read by eye
    "near_sample": "20 of 20 are the same story: 15 the same text lightly edited under the same "
    "title, 5 an earlier and a later version of one report sharing most of its text under another "
    "title (Roddick final, pension talks twice, Hewitt, child access law)",
    "tfidf_nearest_not_detected_sample": "of the 20 undetected pairs most alike in words, none is a "
    "copy; 1 is a rewrite of the same news (Hoddle appointed, lead similarity 0.05); 19 are "
    "different stories on one subject, a few sharing a paragraph (Beatles suits / Elvis "
    "recordings, 0.36)",
}


def _identical_pairs(rows: list[dict[str, Any]]) -> set[tuple[int, int]]:
    by_text: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_text.setdefault(r["text"], []).append(i)
    return {(a, b) for group in by_text.values() for a in group for b in group if a < b}


def _cos(rows: list[dict[str, Any]], pair: tuple[int, int]) -> float:
    a = set(re.findall(r"\w+", rows[pair[0]]["text"].lower()))
    b = set(re.findall(r"\w+", rows[pair[1]]["text"].lower()))
    return len(a & b) / max(1, len(a | b))


def query_cost(store_dir: Path, questions: Path, limit: int) -> dict[str, Any]:
    """``find_copies`` on real candidate pools: ms per query, cold and with the cache warm."""
    from assistant.config import Settings
    from assistant.service import Assistant

    assistant = Assistant(Settings(store_dir=store_dir, _env_file=None), chat_model=None)
    qs = [json.loads(line)["question"] for line in questions.open(encoding="utf-8")][:limit]
    pools = []
    for q in qs:
        passages = assistant.search(q, k=40)
        pools.append([p.chunk_id for p in passages])
    runs: dict[str, list[float]] = {"cold": [], "warm": []}
    for label in ("cold", "warm"):
        if label == "cold":
            stories._CACHE.clear()
        for pool in pools:
            t0 = time.perf_counter()
            stories.find_copies(pool, assistant.store)
            runs[label].append((time.perf_counter() - t0) * 1000)
    return {
        "queries": len(pools),
        "mean_pool_chunks": round(float(np.mean([len(p) for p in pools])), 1),
        **{f"{label}_ms_p50": round(float(np.percentile(v, 50)), 2) for label, v in runs.items()},
        **{f"{label}_ms_p95": round(float(np.percentile(v, 95)), 2) for label, v in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, required=True, help="realtimeqa-dev articles.jsonl")
    parser.add_argument("--bbc", type=Path, help="bbc-news articles.jsonl")
    parser.add_argument("--store", type=Path, help="a built store, for the query-time cost")
    parser.add_argument("--questions", type=Path, help="questions for the query-time cost")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    out: dict[str, Any] = {"num_perm": stories.NUM_PERM, "shingle_words": stories.SHINGLE}
    syn = synthetic(load(args.dev), args.seed)
    out["synthetic"] = syn
    print(f"synthetic copies of {syn['articles']} realtimeqa-dev articles")
    print(f"threshold chosen on FIT: {syn['threshold_chosen_on_fit']} (code: {stories.THRESHOLD})")
    print(
        table(
            syn["fit_sweep"],
            ["threshold", "precision", "recall", "f1", "f0.5", "false_positive_rate"],
        )
    )
    print("REPORT half:", syn["report"])
    print("REPORT recall by edit:", syn["report_recall_by_edit"])
    if args.bbc:
        out["bbc"] = bbc(load(args.bbc), args.sample, args.seed)
        b = out["bbc"]
        print(
            f"BBC: {b['pairs_detected']} pairs detected, {b['identical_text_pairs_detected']}/"
            f"{b['identical_text_pairs']} identical-text pairs, {b['near_pairs_detected']} near"
        )
    if args.store and args.questions:
        out["query_cost"] = query_cost(args.store, args.questions, args.queries)
        print("query-time cost:", out["query_cost"])
    print("wrote", write_result("duplicates", out))


if __name__ == "__main__":
    main()
