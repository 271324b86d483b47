"""Fit the news ranking, the answerability and confidence models and the outcome cuts on
RealTimeQA's public weekly quizzes; report on other years and on the dev set's later weeks.

    python -m benchmarks.fit_news --data /work/bench/rtqa-public --stores /work/bench/rtqa-stores \\
        --fit-years 2022 2023 --report-years 2026 \\
        --dev ../shared/data/realtimeqa-dev --dev-store /tmp/rt-store \\
        --squad ../shared/data/squad2-dev --sq-store /tmp/sq-store --work /tmp/fit [--write]

``--data`` is the output of ``benchmarks.realtimeqa_public`` (questions-<year>.jsonl and
articles-<year>.jsonl: each question with the search results shown with it, and which of them
contain an accepted answer), ``--stores`` holds one store per year with that year's articles
ingested (``ASSISTANT_STORE_DIR=<stores>/<year> assistant ingest <data>/articles-<year>.jsonl``),
so the archive a question is asked of is a whole year of news, not its own ten results. The
held-out weeks (2022-08-26 to 2022-11-11) are not in ``--data`` (the converter never reads them)
and questions of the dev set (``in_dev``) are never fitted on: the dev set's later weeks are a
report set.

Steps (each cached in ``--work``, so a refit never re-asks):

1. **Ranking.** Every question of every year is searched once with the shipped weights and the
   candidates the news score sees are kept (BM25, cosine, headline, date). The weights of
   :mod:`assistant.search.ranking` are then fitted on the fit years by coordinate search over a
   grid, maximising article-level MRR@10 (relevant: the question's results that contain an
   accepted answer). Hit@5 / MRR@10 of the real retriever are reported per year with the old and
   the new weights.
2. **Short answers.** With the new weights, the reader ranks the sentences of the passages of
   every answerable question once (features kept); the short-answer and sentence weights of
   :mod:`assistant.answering.reader` are fitted by coordinate search on the fit years and the
   SQuAD 2.0 dev fit half (crc32 even), maximising the share of short answers that hold an
   accepted answer; two rules the behaviour tests pin are not moved (:data:`FIXED`).
3. **Cases.** With the new weights and reader, every question is asked three times
   (extractive, every cut at 0, so the reader always answers): *as is* (answerable when one of
   its results in the archive contains an accepted answer), *off-corpus* (its results and every
   article containing an answer left out) and *other week* (searched only among the articles of a
   week half a year away, articles containing an answer left out): the two ways issue 12 made
   "the articles don't say". Each case keeps the answerability signals, the reader's share,
   whether a short answer was found, whether a name of the question is in no passage, and whether
   the answer text contains an accepted answer (the eval's ``contained``). The fit halves of the
   dev sets (RealTimeQA dev off-corpus and SQuAD 2.0 near-miss, ``benchmarks.bench_refusal``)
   join the training rows.
4. **Fit.** A logistic answerability model on all training rows (balanced classes), per
   embedding family and without the cosine (the ``lexical`` family). ``answer_at``: the lowest
   cut at which at least 60% of the answers to answerable fit questions contain the answer (when
   none does: the cut with the best such share among cuts answering at least 10% of them).
   ``hedge_at``: the highest cut up to ``answer_at`` at which at most 5% of the answerable fit
   questions are refused (when the band's own rule already refuses more, at most 2 points more
   than it). ``floor`` (LLM mode): the highest cut keeping 99% of the answerable fit questions.
   The confidence model is a logistic regression of ``contained`` on logit(answerability) and
   the reader's share over the answers of the fit years.
5. **Report.** Per year and set, with the outcome rule of :mod:`assistant.answering.outcome`
   applied to the cached cases: outcome shares, answerable refused, answers right, off-corpus
   refused, expected calibration error (10 bins); the dev sets' rows by the cuts alone.

``--write`` writes assistant/search/ranking.json, assistant/answering/reader.json and
assistant/answering/calibration.json;
without it the stored ones are measured. Results: benchmarks/results/fit_news.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_refusal import containing, read_jsonl
from benchmarks.common import table, write_result

ROOT = Path(__file__).resolve().parent.parent
RANKING = ROOT / "assistant" / "search" / "ranking.json"
CALIBRATION = ROOT / "assistant" / "answering" / "calibration.json"
ANSWERABLE_REFUSED = 0.05  # hedge_at: at most this share of answerable fit questions refused
ANSWERS_RIGHT = 0.60  # answer_at: at least this share of answers right
LLM_KEEP = 0.99  # floor: keep this share of answerable fit questions
GRID = {
    "dense": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0),
    "title": (0.0, 0.2, 0.4, 0.6, 0.8, 1.2),
    "recency": (0.0, 0.2, 0.4, 0.8, 1.2, 1.6),
    "recency_days": (7.0, 14.0, 30.0, 60.0, 120.0),
}


# --- data ------------------------------------------------------------------------------------


def year_questions(data: Path, year: int) -> list[dict[str, Any]]:
    """The year's questions that have search results in the archive; dev questions and, should
    a converter ever have let one through, questions of the held-out weeks left out."""
    from benchmarks.realtimeqa_public import is_held_out

    path = data / f"questions-{year}.jsonl"
    if not path.exists():
        return []
    return [
        q
        for q in read_jsonl(path)
        if q.get("results")
        and not q.get("in_dev")
        and not is_held_out(dt.date.fromisoformat(q["date"]))
        and not is_held_out(dt.date.fromisoformat(q.get("week") or q["date"]))
    ]


def article_texts(data: Path, year: int) -> dict[str, str]:
    from benchmarks.bench_refusal import _norm

    return {
        str(a["id"]): _norm(f"{a.get('title', '')} {a.get('text', '')}")
        for a in read_jsonl(data / f"articles-{year}.jsonl")
    }


def open_assistant(store: Path, **settings: Any) -> Any:
    from assistant.config import Settings
    from assistant.service import Assistant

    return Assistant(Settings(store_dir=store, _env_file=None, **settings), chat_model=None)


def cached(path: Path, make: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    if path.exists():
        return read_jsonl(path)
    rows = make()
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    tmp.replace(path)
    return rows


def progress(label: str, i: int, n: int, started: float) -> None:
    if i % 100 == 0 or i == n:
        print(f"  {label}: {i}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)


# --- 1. ranking ------------------------------------------------------------------------------


def ranking_rows(
    assistant: Any, questions: Sequence[dict[str, Any]], label: str
) -> list[dict[str, Any]]:
    """Per question: the real retriever's top-10 articles and the candidates it scored."""
    import assistant.search.retrieve as retrieve

    seen: list[Any] = []
    original = retrieve.score_candidates

    def spy(question: str, candidates: Any, weights: Any, as_of: Any) -> dict[str, float]:
        seen.append((list(candidates), as_of))
        return original(question, candidates, weights, as_of)

    retrieve.score_candidates = spy
    index = assistant.lexical()
    rows = []
    started = time.perf_counter()
    try:
        for i, q in enumerate(questions, start=1):
            seen.clear()
            day = dt.date.fromisoformat(q["date"])
            passages = assistant.search(q["question"], k=10, as_of=day)
            candidates, as_of = seen[-1] if seen else ([], day)
            fields = index.fields([c.id for c in candidates])
            rows.append({
                "id": q["id"], "question": q["question"], "date": q["date"],
                "as_of": as_of.isoformat() if as_of else None,
                "relevant": q.get("answer_in_results") or [],
                "top": list(dict.fromkeys(p.article_id for p in passages)),
                "candidates": [
                    [fields[c.id].article_id if c.id in fields else c.id, c.bm25, c.cosine,
                     c.title, c.published.isoformat() if c.published else None]
                    for c in candidates
                ],
            })  # fmt: skip
            progress(f"ranking {label}", i, len(questions), started)
    finally:
        retrieve.score_candidates = original
    return rows


def _ranks(rows: Sequence[dict[str, Any]], weights: Any) -> tuple[float, float]:
    """Hit@5 and MRR@10 (article level) of ``weights`` re-scoring the cached candidates."""
    from assistant.search.ranking import Candidate, order, score_candidates

    hits, rr = [], []
    for r in rows:
        if not r["relevant"]:
            continue
        cands = [
            Candidate(str(n), c[1], c[2], c[3], dt.date.fromisoformat(c[4]) if c[4] else None)
            for n, c in enumerate(r["candidates"])
        ]
        as_of = dt.date.fromisoformat(r["as_of"]) if r["as_of"] else None
        scores = score_candidates(r["question"], cands, weights, as_of)
        ranked = list(dict.fromkeys(r["candidates"][int(cid)][0] for cid in order(scores)))
        hits.append(metric_hit(ranked, r["relevant"], 5))
        rr.append(metric_mrr(ranked, r["relevant"], 10))
    return float(np.mean(hits)) if hits else 0.0, float(np.mean(rr)) if rr else 0.0


def metric_hit(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    from assistant.evaluation.metrics import hit_at_k

    return hit_at_k(ranked, relevant, k)


def metric_mrr(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    from assistant.evaluation.metrics import mrr_at_k

    return mrr_at_k(ranked, relevant, k)


def fit_ranking(rows: Sequence[dict[str, Any]], start: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Coordinate search over :data:`GRID` from ``start`` (lexical fixed at 1), by MRR@10."""
    from dataclasses import replace

    best = start
    best_mrr = _ranks(rows, best)[1]
    trace = [{"weights": vars(best).copy(), "mrr@10": round(best_mrr, 4)}]
    for _round in range(3):
        moved = False
        for name, values in GRID.items():
            for v in values:
                trial = replace(best, **{name: v})
                mrr = _ranks(rows, trial)[1]
                if mrr > best_mrr + 1e-4:
                    best, best_mrr, moved = trial, mrr, True
                    trace.append({"weights": vars(best).copy(), "mrr@10": round(best_mrr, 4)})
        if not moved:
            break
    return best, trace


def real_ranks(rows: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    sel = [r for r in rows if r["relevant"]]
    return {
        "n": len(sel),
        "hit@5": round(float(np.mean([metric_hit(r["top"], r["relevant"], 5) for r in sel])), 3),
        "mrr@10": round(float(np.mean([metric_mrr(r["top"], r["relevant"], 10) for r in sel])), 3),
    }


# --- 2. cases --------------------------------------------------------------------------------


def _case(assistant: Any, q: dict[str, Any], kind: str, **options: Any) -> dict[str, Any]:
    from assistant.answering.answerability import signals
    from assistant.answering.refusal import missing_phrases
    from assistant.evaluation.metrics import contained
    from assistant.service import strip_markers

    answer = assistant.ask(q["question"], **options)
    idf = assistant.lexical().idf
    share = next((r.value for r in answer.reasons if r.code == "reader_share"), None)
    missing, _ = missing_phrases(answer.standalone_question, answer.passages, idf)
    return {
        "id": q["id"], "kind": kind, "date": q["date"],
        "answerable": kind == "as-is" and bool(q.get("answer_in_results")),
        "features": signals(answer.standalone_question, answer.passages, idf),
        "passages": len(answer.passages),
        "produced": answer.outcome != "refused",
        "short": answer.short_answer is not None,
        "share": share,
        "missing": bool(missing),
        "right": bool(contained(strip_markers(answer.answer), q["answer"]))
        if answer.outcome != "refused" else False,
    }  # fmt: skip


def case_rows(
    assistant: Any, questions: Sequence[dict[str, Any]], texts: dict[str, str], label: str
) -> list[dict[str, Any]]:
    """The three cases of every question (see the module docstring)."""
    weeks = sorted({q["week"] for q in questions})
    rows = []
    started = time.perf_counter()
    for i, q in enumerate(questions, start=1):
        day = dt.date.fromisoformat(q["date"])
        with_answer = containing(texts, q["answer"]) | set(q.get("answer_in_results") or [])
        rows.append(_case(assistant, q, "as-is", as_of=day))
        rows.append(
            _case(assistant, q, "off-corpus", as_of=day, exclude=with_answer | set(q["results"]))
        )
        other = dt.date.fromisoformat(
            weeks[(weeks.index(q["week"]) + len(weeks) // 2) % len(weeks)]
        )
        if abs((other - day).days) > 60:
            since = other - dt.timedelta(days=7)
            rows.append(
                _case(assistant, q, "other-week", as_of=other, since=since, until=other,
                      exclude=with_answer)
            )  # fmt: skip
        progress(f"cases {label}", i, len(questions), started)
    return rows


def dev_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The dev sets' rows of ``benchmarks.bench_refusal`` (features and halves only)."""
    from benchmarks.bench_refusal import collect

    ns = argparse.Namespace(
        realtimeqa=args.dev, rt_store=args.dev_store, squad=args.squad, sq_store=args.sq_store
    )
    return collect(ns)


# --- 2b. the short-answer selector -----------------------------------------------------------

READER = ROOT / "assistant" / "answering" / "reader.json"
SHORT_GRID = (0.0, 0.1, 0.2, 0.3, 0.45, 0.6)
# Rules the reader's behaviour tests pin (tests/unit/test_reader.py, test_seed_answers.py: a name
# the passages title for another country is not the answer; "who ... whom" quotes the sentence
# that relates the two): the quizzes rarely exercise them, and a search that moved them broke
# those tests, so they are kept as they are and the search moves the other weights.
FIXED = {("short", "conflict"), ("short", "prior")}
SENTENCE_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6)


def reader_cases(assistant: Any, questions: Sequence[dict[str, Any]], label: str) -> list[Any]:
    """(question, accepted answers, the reader's ranked sentences) of each question as is."""
    from assistant.answering.reader import rank_sentences

    out = []
    started = time.perf_counter()
    for i, q in enumerate(questions, start=1):
        day = dt.date.fromisoformat(q["date"]) if q.get("date") else None
        got = assistant.retrieve(q["question"], as_of=day)
        ranked = rank_sentences(got.standalone, got.passages, assistant.answerer.embedder)
        out.append((got.standalone, list(q["answer"]), ranked))
        progress(f"reader {label}", i, len(questions), started)
    return out


def cached_pickle(path: Path, make: Callable[[], list[Any]]) -> list[Any]:
    import pickle

    if path.exists():
        with path.open("rb") as fh:
            return list(pickle.load(fh))
    rows = make()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(rows, fh)
    tmp.replace(path)
    return rows


def short_right(cases: Sequence[Any], params: dict[str, Any]) -> float:
    """Share of cases whose short answer holds an accepted answer, with the reader's weights set
    to ``params`` (the sentences re-scored from their features and re-ordered)."""
    from assistant.answering import reader
    from assistant.evaluation.metrics import contained

    saved = {name: getattr(reader, name) for name in _reader_names()}
    try:
        for name, value in _reader_values(params).items():
            setattr(reader, name, value)
        right = 0
        for question, answers, ranked in cases:
            for sent in ranked:
                f = sent.features
                sent.score = (reader.W_TERMS * f["terms"] + reader.W_CONTEXT * f["context"]
                              + reader.W_COSINE * f["cosine"] + reader.W_TYPED * f["typed"]
                              + reader.W_RANK * f["rank"])  # fmt: skip
            order = sorted(ranked, key=lambda x: -x.score)
            short = reader.short_answer(question, order)
            right += bool(short is not None and contained(short.text, answers))
        return right / len(cases) if cases else 0.0
    finally:
        for name, value in saved.items():
            setattr(reader, name, value)


def _reader_names() -> list[str]:
    return ["W_TERMS", "W_CONTEXT", "W_COSINE", "W_TYPED", "W_RANK",
            "S_NEAR", "S_PRIOR", "S_EDGE", "S_NAMED", "S_FOCUS", "S_CONFLICT"]  # fmt: skip


def _reader_values(params: dict[str, Any]) -> dict[str, float]:
    s, t = params["sentence"], params["short"]
    return {
        "W_TERMS": s["terms"], "W_CONTEXT": s["context"], "W_COSINE": s["cosine"],
        "W_TYPED": s["typed"], "W_RANK": s["rank"], "S_NEAR": t["near"], "S_PRIOR": t["prior"],
        "S_EDGE": t["edge"], "S_NAMED": t["named"], "S_FOCUS": t["focus"],
        "S_CONFLICT": t["conflict"],
    }  # fmt: skip


def fit_reader(cases: Sequence[Any], start: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Coordinate search over the short-answer and sentence weights, by short answers right."""
    import copy

    best = copy.deepcopy(start)
    best_score = short_right(cases, best)
    trace = [{"params": copy.deepcopy(best), "short right": round(best_score, 4)}]
    for _round in range(2):
        moved = False
        for group, grid in (("short", SHORT_GRID), ("sentence", SENTENCE_GRID)):
            for name in list(best[group]):
                if (group, name) in FIXED:
                    continue
                for value in grid:
                    trial = copy.deepcopy(best)
                    trial[group][name] = value
                    score = short_right(cases, trial)
                    if score > best_score + 1e-3:  # at least one question in a thousand
                        best, best_score, moved = trial, score, True
                        trace.append({"params": copy.deepcopy(best),
                                      "short right": round(best_score, 4)})  # fmt: skip
            print(f"  reader fit: {best_score:.3f} after {group}", flush=True)
        if not moved:
            break
    return best, trace


# --- 3. fit ----------------------------------------------------------------------------------


def _x(rows: Sequence[dict[str, Any]], features: Sequence[str]) -> np.ndarray:
    return np.array([[r["features"][f] for f in features] for r in rows], dtype=float)


def fit_answerability(train: Sequence[dict[str, Any]], features: Sequence[str]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    y = np.array([bool(r["answerable"]) for r in train])
    model = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
    model.fit(_x(train, features), y)
    return {
        "weights": {f: round(float(w), 4) for f, w in zip(features, model.coef_[0], strict=True)},
        "bias": round(float(model.intercept_[0]), 4),
    }


def probabilities(rows: Sequence[dict[str, Any]], calibration: dict[str, Any]) -> np.ndarray:
    w = calibration["weights"]
    z = calibration["bias"] + _x(rows, list(w)) @ np.array(list(w.values()))
    return 1.0 / (1.0 + np.exp(-z))


def outcome(p: float, row: dict[str, Any], hedge_at: float, answer_at: float) -> str:
    """The outcome rule of assistant.answering (answer.py and extractive.py) on a cached case."""
    if not row["passages"] or not row["produced"] or p < hedge_at:
        return "refused"
    if p < answer_at and (row["missing"] or not row["short"]):
        return "refused"
    return "answer" if p >= answer_at else "hedged"


def choose_cuts(rows: Sequence[dict[str, Any]], p: np.ndarray) -> dict[str, float]:
    grid = [round(float(t), 3) for t in np.arange(0.0, 0.96, 0.005)]
    ans = [i for i, r in enumerate(rows) if r["kind"] == "as-is" and r["answerable"]]
    pa = p[ans]
    right = np.array([rows[i]["right"] for i in ans])
    produced = np.array([rows[i]["produced"] for i in ans])
    floor = max((t for t in grid if (pa >= t).mean() >= LLM_KEEP), default=grid[0])
    # answer_at: the lowest cut whose answers are right often enough
    answer_at = None
    best = (-1.0, grid[-1])
    for t in grid:
        on = (pa >= t) & produced
        if on.mean() < 0.10:
            break
        share = float(right[on].mean())
        best = max(best, (share, t))
        if share >= ANSWERS_RIGHT:
            answer_at = t
            break
    answer_at = answer_at if answer_at is not None else best[1]

    # hedge_at: the highest cut (up to answer_at) refusing at most 5% of the answerable questions
    # -- or, when the rule of the band alone refuses more (no candidate, a name no passage
    # mentions), at most 2 points more than that rule alone
    def refused_at(t: float) -> float:
        return float(np.mean([outcome(pa[j], rows[i], t, answer_at) == "refused"
                              for j, i in enumerate(ans)]))  # fmt: skip

    cap = max(ANSWERABLE_REFUSED, refused_at(0.0) + 0.02)
    hedge_at = grid[0]
    for t in grid:
        if t > answer_at:
            break
        if refused_at(t) <= cap:
            hedge_at = t
    return {"answer_at": answer_at, "hedge_at": hedge_at, "floor": floor}


def fit_confidence(rows: Sequence[dict[str, Any]], p: np.ndarray) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    idx = [i for i, r in enumerate(rows) if r["kind"] == "as-is" and r["produced"]]
    q = np.clip(p[idx], 1e-4, 1 - 1e-4)
    x = np.column_stack([np.log(q / (1 - q)), [rows[i]["share"] or 0.0 for i in idx]])
    y = np.array([rows[i]["right"] for i in idx])
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    a, b = model.coef_[0]
    return {"logit_p": round(float(a), 4), "share": round(float(b), 4),
            "bias": round(float(model.intercept_[0]), 4)}  # fmt: skip


def confidence_of(model: dict[str, float] | None, p: float, share: float | None) -> float:
    share = share or 0.0
    if not model:
        return p * share
    q = min(max(p, 1e-4), 1 - 1e-4)
    z = model["bias"] + model["logit_p"] * math.log(q / (1 - q)) + model["share"] * share
    return 1.0 / (1.0 + math.exp(-z))


# --- 4. report -------------------------------------------------------------------------------


def ece(conf: Sequence[float], right: Sequence[bool], bins: int = 10) -> float | None:
    if not conf:
        return None
    c, r = np.array(conf), np.array(right, dtype=float)
    edges = np.minimum((c * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = edges == b
        if sel.any():
            total += sel.sum() / len(c) * abs(c[sel].mean() - r[sel].mean())
    return round(float(total), 3)


def report(
    rows: Sequence[dict[str, Any]], calibration: dict[str, Any], label: str
) -> dict[str, Any]:
    p = probabilities(rows, calibration)
    hedge_at = calibration.get("hedge_at") or 0.0
    answer_at = calibration["answer_at"]
    outs = [outcome(float(pi), r, hedge_at, answer_at) for pi, r in zip(p, rows, strict=True)]
    out: dict[str, Any] = {"set": label}
    asis = [i for i, r in enumerate(rows) if r["kind"] == "as-is" and r["answerable"]]
    if asis:
        o = [outs[i] for i in asis]
        out["n answerable"] = len(asis)
        for name in ("answer", "hedged", "refused"):
            out[f"answerable {name}"] = round(o.count(name) / len(o), 3)
        answered = [i for i in asis if outs[i] == "answer"]
        hedged = [i for i in asis if outs[i] == "hedged"]
        out["answers right"] = (
            round(float(np.mean([rows[i]["right"] for i in answered])), 3) if answered else None
        )
        out["hedges right"] = (
            round(float(np.mean([rows[i]["right"] for i in hedged])), 3) if hedged else None
        )
    for kind in ("off-corpus", "other-week"):
        sel = [i for i, r in enumerate(rows) if r["kind"] == kind]
        if sel:
            out[f"{kind} refused"] = round(sum(outs[i] == "refused" for i in sel) / len(sel), 3)
    shown = [i for i, r in enumerate(rows) if r["kind"] == "as-is" and outs[i] != "refused"]
    model = calibration.get("confidence")
    conf = [confidence_of(model, float(p[i]), rows[i]["share"]) for i in shown]
    out["ECE"] = ece(conf, [rows[i]["right"] for i in shown])
    return out


def dev_report(rows: Sequence[dict[str, Any]], calibration: dict[str, Any]) -> list[dict[str, Any]]:
    """Dev sets by the answerability cut alone (features only: no reader on these rows)."""
    from benchmarks.bench_refusal import by_half_and_set

    out = []
    for half, name, sel in by_half_and_set(list(rows)):
        p = probabilities(sel, calibration)
        y = np.array([r["answerable"] for r in sel])
        row: dict[str, Any] = {"set": f"dev {name} {half}", "n": len(sel)}
        for cut_name in ("hedge_at", "answer_at"):
            refused = p < (calibration.get(cut_name) or 0.0)
            a = float(refused[y].mean()) if y.any() else None
            u = float(refused[~y].mean()) if (~y).any() else None
            row[f"answerable < {cut_name}"] = None if a is None else round(a, 3)
            row[f"unanswerable < {cut_name}"] = None if u is None else round(u, 3)
            if a is not None and u is not None:
                row[f"BA {cut_name}"] = round((1 - a + u) / 2, 3)
        out.append(row)
    return out


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, required=True, help="benchmarks.realtimeqa_public output")
    ap.add_argument("--stores", type=Path, required=True, help="Folder of one store per year")
    ap.add_argument("--fit-years", type=int, nargs="+", default=[2022, 2023])
    ap.add_argument("--report-years", type=int, nargs="+", default=[2026])
    ap.add_argument("--dev", type=Path, required=True, help="realtimeqa-dev folder")
    ap.add_argument("--dev-store", type=Path, required=True, help="Store of realtimeqa-dev")
    ap.add_argument("--squad", type=Path, required=True, help="squad2-dev folder")
    ap.add_argument("--sq-store", type=Path, required=True, help="Store of squad2-dev")
    ap.add_argument("--work", type=Path, required=True, help="Cache folder for the cases")
    ap.add_argument("--family", default="all-MiniLM-L6-v2")
    ap.add_argument("--limit", type=int, default=0, help="Questions per year (0: all)")
    ap.add_argument("--write", action="store_true", help="Write the fitted parameters")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from assistant.search import ranking

    years = [*args.fit_years, *args.report_years]
    questions = {y: year_questions(args.data, y) for y in years}
    if args.limit:
        questions = {y: qs[: args.limit] for y, qs in questions.items()}
    old = ranking.fitted_weights()
    tag = "-".join(f"{v:g}" for v in vars(old).values())

    # 1. ranking
    rank_rows = {}
    for y in years:
        rank_rows[y] = cached(
            args.work / f"ranking-{y}-{tag}.jsonl",
            lambda y=y: ranking_rows(open_assistant(args.stores / str(y)), questions[y], str(y)),
        )
    fit_rank = [r for y in args.fit_years for r in rank_rows[y]]
    if args.write:
        new, trace = fit_ranking(fit_rank, old)
        RANKING.write_text(
            json.dumps(
                {"weights": vars(new), "fitted_on": (
                    f"RealTimeQA public quizzes {', '.join(map(str, args.fit_years))} "
                    f"({len(fit_rank)} questions, dev questions left out); article-level MRR@10 "
                    "by coordinate search (benchmarks/fit_news.py)")},
                indent=2,
            ) + "\n",
            encoding="utf-8",
        )  # fmt: skip
        ranking.fitted_weights.cache_clear()
        print("ranking:", vars(old), "->", vars(new))
    else:
        new, trace = old, []
    new_tag = "-".join(f"{v:g}" for v in vars(new).values())
    ranking_results = []
    for y in years:
        half = "fit" if y in args.fit_years else "report"
        before = real_ranks(rank_rows[y])
        after_rows = cached(
            args.work / f"ranking-{y}-{new_tag}.jsonl",
            lambda y=y: ranking_rows(open_assistant(args.stores / str(y)), questions[y], str(y)),
        )
        after = real_ranks(after_rows)
        ranking_results.append({"year": y, "half": half, "n": before["n"],
            "old hit@5": before["hit@5"], "old mrr@10": before["mrr@10"],
            "new hit@5": after["hit@5"], "new mrr@10": after["mrr@10"]})  # fmt: skip
    print(table(ranking_results, list(ranking_results[0])))

    # 2. the short-answer selector, on the answerable questions, with the new weights
    import zlib

    from assistant.answering import reader

    old_reader = json.loads(READER.read_text(encoding="utf-8"))
    read = {
        y: cached_pickle(
            args.work / f"reader-{y}-{new_tag}.pkl",
            lambda y=y: reader_cases(
                open_assistant(args.stores / str(y)),
                [q for q in questions[y] if q.get("answer_in_results")],
                str(y),
            ),
        )
        for y in years
    }
    squad = [q for q in read_jsonl(args.squad / "questions.jsonl") if q.get("answerable", True)]
    sq_cases = cached_pickle(
        args.work / f"reader-squad-{new_tag}.pkl",
        lambda: reader_cases(open_assistant(args.sq_store), squad, "squad"),
    )
    sq_fit = [
        c for c, q in zip(sq_cases, squad, strict=True) if zlib.crc32(q["id"].encode()) % 2 == 0
    ]
    sq_report = [
        c for c, q in zip(sq_cases, squad, strict=True) if zlib.crc32(q["id"].encode()) % 2
    ]
    reader_fit = [c for y in args.fit_years for c in read[y]] + sq_fit
    if args.write:
        new_reader, reader_trace = fit_reader(reader_fit, old_reader)
        new_reader["fitted_on"] = (
            f"RealTimeQA public quizzes {', '.join(map(str, args.fit_years))} (answerable "
            f"questions) + SQuAD 2.0 dev fit half (crc32 even): {len(reader_fit)} questions, "
            "short answers holding an accepted answer (benchmarks/fit_news.py)"
        )
        READER.write_text(json.dumps(new_reader, indent=2) + "\n", encoding="utf-8")
        for name, value in _reader_values(new_reader).items():
            setattr(reader, name, value)
    else:
        new_reader, reader_trace = old_reader, []
    reader_results = []
    for name, cases in [*((f"public {y}", read[y]) for y in years),
                        ("squad fit", sq_fit), ("squad report", sq_report)]:  # fmt: skip
        half = (
            "report"
            if name == "squad report"
            or (name.startswith("public") and int(name.split()[1]) not in args.fit_years)
            else "fit"
        )
        reader_results.append({"set": name, "half": half, "n": len(cases),
                               "old short right": round(short_right(cases, old_reader), 3),
                               "new short right": round(short_right(cases, new_reader), 3)})  # fmt: skip
    print(table(reader_results, list(reader_results[0])))
    new_tag += "-r" + format(zlib.crc32(json.dumps(_reader_values(new_reader)).encode()), "x")

    # 3. cases, with the new weights and reader
    case = {}
    for y in years:
        texts = article_texts(args.data, y)
        case[y] = cached(
            args.work / f"cases-{y}-{new_tag}.jsonl",
            lambda y=y, texts=texts: case_rows(
                open_assistant(args.stores / str(y), answer_at=0.0, hedge_at=0.0),
                questions[y], texts, str(y),
            ),
        )  # fmt: skip
    dev = cached(args.work / f"dev-{new_tag}.jsonl", lambda: dev_rows(args))

    # 4. fit
    from assistant.answering.answerability import FEATURES, LEXICAL_MODEL

    table_ = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    fit_cases = [r for y in args.fit_years for r in case[y]]
    dev_fit = [r for r in dev if r["half"] == "fit" and r["set"] in ("off-corpus", "near-miss")]
    note = (
        f"RealTimeQA public quizzes {', '.join(map(str, args.fit_years))} (as-is, off-corpus, "
        "other-week) + fit halves of RealTimeQA dev off-corpus and SQuAD 2.0 near-miss "
        "(benchmarks/fit_news.py)"
    )
    if args.write:
        for family, feats in (
            (args.family, FEATURES),
            (LEXICAL_MODEL, tuple(f for f in FEATURES if f != "cosine")),
        ):
            model = fit_answerability([*fit_cases, *dev_fit], feats)
            p = probabilities(fit_cases, model)
            cuts = choose_cuts(fit_cases, p)
            conf = fit_confidence(fit_cases, p)
            table_[family] = {
                **model,
                **cuts,
                "confidence": conf,
                "fitted_on": note + ("" if "cosine" in feats else ", without cosine"),
            }
        CALIBRATION.write_text(json.dumps(table_, indent=2) + "\n", encoding="utf-8")
        print(f"written {CALIBRATION} and {RANKING}")
    calibration = table_[args.family]

    # 5. report
    results = []
    for y in years:
        half = "fit" if y in args.fit_years else "report"
        results.append({"half": half, **report(case[y], calibration, f"public {y}")})
    cols = sorted({k for r in results for k in r}, key=lambda k: list(results[0]).index(k)
                  if k in results[0] else 99)  # fmt: skip
    print(table(results, cols))
    devs = dev_report(dev, calibration)
    print(table(devs, list(devs[0])))
    path = write_result("fit_news", {
        "fit_years": args.fit_years, "report_years": args.report_years,
        "ranking": {"old": vars(old), "new": vars(new), "trace": trace,
                    "results": ranking_results},
        "reader": {"old": old_reader, "new": new_reader, "trace": reader_trace,
                   "results": reader_results},
        "calibration": calibration, "results": results, "dev": devs,
        "questions": {y: len(qs) for y, qs in questions.items()},
    })  # fmt: skip
    print(f"written {path}")


if __name__ == "__main__":
    main()
