"""Run a question set through the assistant: one row per question, resumable, concurrent.

Each question is searched (top 10 passages, for the retrieval metrics) and asked (top ``k``
passages) as of its ``date``; questions with ``choices`` are also put to ``Assistant.choose``.
Finished rows are appended to ``results.jsonl`` one flushed line at a time, so an interrupted run
resumes where it stopped (``resume=True``); at the end the file is rewritten in question order.
Only the public ``Assistant`` API is used (search, ask, choose, stats, ingest). Question sets are
read by :mod:`~assistant.evaluation.cases`; the row model and the results.jsonl file are in
:mod:`~assistant.evaluation.results`.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from assistant.errors import AssistantError
from assistant.evaluation import metrics as m
from assistant.evaluation.results import CaseResult, ResultsWriter, read_results, write_rows
from assistant.models import Answer, EvalCase, Passage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.service import Assistant

RETRIEVAL_DEPTH = 10
CHOICE_DEPTH = 10  # passages multiple-choice scoring reads (chosen on RealTimeQA's fit half)
ABORT_AFTER = 3  # when the first questions all fail, stop: the rest would fail the same way
PASSAGE_CHARS = 1200  # passage text kept per retrieved passage in results.jsonl
_SOURCES_LINE = re.compile(r"\n\s*Sources?:[^\n]*\s*$", re.IGNORECASE)


class EvalOptions(BaseModel):
    """What to evaluate and how; the CLI options of ``assistant eval``."""

    questions: Path
    out_dir: Path = Path("eval-out")
    corpus: Path | None = None
    k: int = Field(default=5, ge=1, le=50)
    limit: int | None = Field(default=None, ge=1)
    workers: int = Field(default=4, ge=1, description="Parallel questions in LLM mode.")
    retrieval_only: bool = False
    resume: bool = False
    judge: bool = False
    baseline: Path | None = None
    fail_below: dict[str, float] = Field(default_factory=dict)
    fail_above: dict[str, float] = Field(
        default_factory=dict, description="Ceilings: metric -> the most it may be."
    )
    price: tuple[float, float] | None = Field(
        default=None, description="USD per million input and output tokens."
    )

    def run_key(self, mode: str) -> str:
        """Rows made under another key are asked again on resume."""
        return f"mode={mode};k={self.k};retrieval_only={self.retrieval_only};judge={self.judge}"


# --- one question ------------------------------------------------------------------------------


def scoring_text(answer: str) -> str:
    """The answer as scored against the accepted answers: citation markers and a closing
    ``Sources:`` line removed (a marker ``[1]`` must not match an accepted answer "1")."""
    from assistant.service import strip_markers

    return strip_markers(_SOURCES_LINE.sub("", answer))


def _passage_row(p: Passage) -> dict[str, Any]:
    row = p.model_dump(mode="json", exclude={"dense_score"})
    if len(p.text) > PASSAGE_CHARS:
        row["text"] = p.text[:PASSAGE_CHARS] + "…"
    return row


def _citation_stats(answer: Answer, case: EvalCase) -> dict[str, float | int | None]:
    shown = {p.n for p in answer.passages}
    valid = sum(c.n in shown for c in answer.citations)
    sentences: dict[str, bool] = {}
    for i, c in enumerate(answer.citations):
        key = c.sentence.strip() or f"#{i}"
        sentences[key] = sentences.get(key, False) or c.supported
    cited = [c.article_id for c in answer.citations]
    recall = None
    if case.evidence and case.answerable and not answer.refused:
        recall = m.citation_recall(cited, case.evidence)
    return {
        "markers": len(answer.citations) + answer.invalid_markers,
        "valid": valid,
        "cited_sentences": len(sentences),
        "supported_sentences": sum(sentences.values()),
        "has_citation": int(bool(answer.citations)),
        "evidence_recall": recall,
    }


def evaluate_case(
    assistant: Assistant,
    case: EvalCase,
    index: int,
    options: EvalOptions,
    run_key: str = "",
    judge_model: BaseChatModel | None = None,
) -> CaseResult:
    """Search, ask (and choose) one question and score it."""
    row = _new_row(case, index, run_key)
    t0 = time.perf_counter()
    passages = assistant.search(case.question, k=max(RETRIEVAL_DEPTH, options.k), as_of=case.date)
    search_ms = (time.perf_counter() - t0) * 1000
    row.passages = [_passage_row(p) for p in passages[:RETRIEVAL_DEPTH]]
    row.retrieved_articles = m.dedupe_articles(p.article_id for p in passages[:RETRIEVAL_DEPTH])
    if case.evidence:
        ranked, gold = row.retrieved_articles, case.evidence
        row.evidence_rank = m.first_relevant_rank(ranked, gold)
        row.retrieval = {f"hit@{k}": m.hit_at_k(ranked, gold, k) for k in range(1, 11)}
        row.retrieval["mrr@10"] = m.mrr_at_k(ranked, gold, 10)
        row.retrieval["ndcg@10"] = m.ndcg_at_k(ranked, gold, 10)
        row.verdicts["evidence_found"] = row.evidence_rank is not None
    if options.retrieval_only:
        row.timings_ms = {"retrieve": search_ms, "total": search_ms}
        return row

    answer = assistant.ask(case.question, as_of=case.date, k=options.k)
    row.answered = True
    row.mode, row.model = answer.mode, answer.model
    row.answer, row.refused = answer.answer, answer.refused
    row.outcome, row.confidence = answer.outcome, answer.confidence
    row.reasons = [r.model_dump(mode="json", exclude_defaults=True) for r in answer.reasons]
    row.answer_passages = [p.chunk_id for p in answer.passages]
    if case.evidence:
        shown = sorted(answer.passages, key=lambda p: (p.rank or p.n, p.n))
        got = m.dedupe_articles(p.article_id for p in shown)
        row.answer_retrieval = {
            f"hit@{k}": m.hit_at_k(got, case.evidence, k) for k in (1, options.k)
        }
        row.answer_retrieval[f"mrr@{options.k}"] = m.mrr_at_k(got, case.evidence, options.k)
    row.citations = [c.model_dump(mode="json") for c in answer.citations]
    row.citation_stats = _citation_stats(answer, case)
    row.unsupported_sentences = list(answer.unsupported_sentences)
    row.usage = dict(answer.usage)
    row.timings_ms = {**answer.timings_ms, "search@10": search_ms}
    if case.answerable and case.answer:
        text = scoring_text(answer.answer)
        short = answer.short_answer.text if answer.short_answer and not answer.refused else ""
        row.scores = {
            "exact_match": m.exact_match(text, case.answer),
            "f1": m.token_f1(text, case.answer),
            "contained": m.contained(text, case.answer),
            "short_exact_match": m.exact_match(short, case.answer) if short else 0.0,
            "short_f1": m.token_f1(short, case.answer) if short else 0.0,
        }
        row.verdicts["contained"] = bool(row.scores["contained"])
    row.verdicts["refusal"] = (
        ("correct_refusal" if answer.refused else "missed_refusal")
        if not case.answerable
        else ("wrong_refusal" if answer.refused else "answered")
    )
    if case.choices:
        t0 = time.perf_counter()
        # choices are weighed on more evidence than the answer quotes from: the same search
        # with CHOICE_DEPTH passages (0.698 vs 0.678 with the answer's 5 on the fit half)
        _, evidence, _, _ = assistant.retrieve(case.question, as_of=case.date, k=CHOICE_DEPTH)
        choice, scores = assistant.choose(
            answer.standalone_question, case.choices, evidence, as_of=case.date
        )
        row.timings_ms["choose"] = (time.perf_counter() - t0) * 1000
        row.choice, row.choice_scores = choice, {k: float(v) for k, v in scores.items()}
        if case.answer:
            row.scores["mc_correct"] = float(m.choice_matches(choice, case.answer))
            row.verdicts["mc_correct"] = bool(row.scores["mc_correct"])
    if judge_model is not None and answer.citations:
        t0 = time.perf_counter()
        row.judge = assistant.judge(answer, judge_model)
        row.timings_ms["judge"] = (time.perf_counter() - t0) * 1000
    return row


# --- the run -----------------------------------------------------------------------------------


def run_cases(
    assistant: Assistant,
    cases: Sequence[EvalCase],
    options: EvalOptions,
    *,
    judge_model: BaseChatModel | None = None,
    on_row: Callable[[CaseResult], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> tuple[list[CaseResult], int]:
    """Evaluate every case not finished yet; returns all rows in question order and how many
    were taken over from an earlier run."""
    results_path = options.out_dir / "results.jsonl"
    run_key = options.run_key(assistant.mode)
    done: dict[str, CaseResult] = {}
    if options.resume:
        for row in read_results(results_path):
            if row.error is None and row.run_key == run_key:
                done[row.id] = row
    wanted = {case.id for case in cases}
    done = {cid: row for cid, row in done.items() if cid in wanted}
    resumed = len(done)
    writer = ResultsWriter(results_path, fresh=not options.resume)
    pending = [(i, case) for i, case in enumerate(cases) if case.id not in done]
    workers = options.workers if assistant.mode == "llm" else 1
    if on_start is not None:
        on_start(len(cases), resumed)

    def one(index: int, case: EvalCase) -> CaseResult:
        try:
            row = evaluate_case(assistant, case, index, options, run_key, judge_model)
        except AssistantError as exc:
            if exc.exit_code == 2:  # configuration: every other question would fail the same way
                raise
            row = _failed_row(case, index, run_key, exc)
        except Exception as exc:  # one bad question must not sink a long run
            row = _failed_row(case, index, run_key, exc)
        row.index = index
        return row

    tally = {"ok": 0, "failed": 0}

    def finish(row: CaseResult) -> None:
        writer.append(row)
        done[row.id] = row
        tally["failed" if row.error else "ok"] += 1
        if on_row:
            on_row(row)
        if not tally["ok"] and ABORT_AFTER <= tally["failed"] < len(pending):
            msg = (
                f"the first {tally['failed']} questions all failed (last: {row.error}); "
                "fix the cause and run again with --resume"
            )
            raise AssistantError(msg)

    if pending:  # load the embedding model and the BM25 index outside of any timing
        with contextlib.suppress(Exception):  # the question itself will report a problem
            assistant.search(pending[0][1].question, k=1)
    try:
        if pending:  # the first question alone, so the threads start with warm caches
            finish(one(*pending[0]))
        rest = pending[1:]
        if workers <= 1:
            for index, case in rest:
                finish(one(index, case))
        else:
            _run_pool(rest, one, finish, workers)
    finally:
        writer.close()
    rows = sorted(done.values(), key=lambda r: r.index)
    write_rows(results_path, rows)
    return rows, resumed


def _run_pool(
    items: Sequence[tuple[int, EvalCase]],
    one: Callable[[int, EvalCase], CaseResult],
    finish: Callable[[CaseResult], None],
    workers: int,
) -> None:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval")
    try:
        queue = iter(items)
        running: set[Future[CaseResult]] = set()
        for item in queue:
            running.add(pool.submit(one, *item))
            if len(running) >= workers * 2:
                break
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                finish(fut.result())
                nxt = next(queue, None)
                if nxt is not None:
                    running.add(pool.submit(one, *nxt))
    finally:  # on Ctrl-C or an error: drop what has not started, keep what landed
        pool.shutdown(wait=False, cancel_futures=True)


def _failed_row(case: EvalCase, index: int, run_key: str, exc: BaseException) -> CaseResult:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return _new_row(case, index, run_key, error=f"{type(exc).__name__}: {first}")


def _new_row(case: EvalCase, index: int, run_key: str, **extra: Any) -> CaseResult:
    """A result row holding the question's own fields, before anything is asked."""
    return CaseResult(
        id=case.id,
        index=index,
        question=case.question,
        date=case.date.isoformat() if case.date else None,
        answerable=case.answerable,
        answers=case.answer,
        choices=case.choices,
        evidence=case.evidence,
        run_key=run_key,
        **extra,
    )
