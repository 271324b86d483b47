"""Run a question set through the assistant: one row per question, resumable, concurrent.

Each question is searched (top 10 passages, for the retrieval metrics) and asked (top ``k``
passages) as of its ``date``; questions with ``choices`` are also put to ``Assistant.choose``.
Finished rows are appended to ``results.jsonl`` one flushed line at a time, so an interrupted run
resumes where it stopped (``resume=True``); at the end the file is rewritten in question order.
Only the public ``Assistant`` API is used (search, ask, choose, stats, ingest).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import AssistantError, UsageError
from assistant.evaluation import metrics as m
from assistant.models import Answer, EvalCase, Passage, sha1

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.service import Assistant

RETRIEVAL_DEPTH = 10
ABORT_AFTER = 3  # when the first questions all fail, stop: the rest would fail the same way
PASSAGE_CHARS = 1200  # passage text kept per retrieved passage in results.jsonl
_COLLECTION_BAD = re.compile(r"[^a-zA-Z0-9._-]+")
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
    price: tuple[float, float] | None = Field(
        default=None, description="USD per million input and output tokens."
    )

    def run_key(self, mode: str) -> str:
        """Rows made under another key are asked again on resume."""
        return f"mode={mode};k={self.k};retrieval_only={self.retrieval_only};judge={self.judge}"


class CaseResult(BaseModel):
    """One evaluated question: what was retrieved and answered, and the per-question scores."""

    id: str
    index: int = Field(description="Position in the question set (rows are sorted by it).")
    question: str
    date: str | None = None
    answerable: bool = True
    answers: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    run_key: str = ""
    error: str | None = None
    # retrieval
    passages: list[dict[str, Any]] = Field(default_factory=list)
    retrieved_articles: list[str] = Field(default_factory=list)
    evidence_rank: int | None = None
    retrieval: dict[str, float] = Field(default_factory=dict)
    # answer
    answered: bool = False
    mode: str | None = None
    model: str = ""
    answer: str | None = None
    refused: bool | None = None
    answer_passages: list[str] = Field(default_factory=list, description="Chunk ids shown.")
    answer_retrieval: dict[str, float] = Field(
        default_factory=dict,
        description="Retrieval metrics of the passages the answer received (after follow-up "
        "rewriting and date phrases), in retrieval order.",
    )
    choice: str | None = None
    choice_scores: dict[str, float] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    citation_stats: dict[str, float | int | None] = Field(default_factory=dict)
    unsupported_sentences: list[str] = Field(default_factory=list)
    judge: dict[str, Any] | None = None
    verdicts: dict[str, Any] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)


# --- inputs ------------------------------------------------------------------------------------


def load_cases(path: Path, limit: int | None = None) -> list[EvalCase]:
    """Read a question-set JSONL file; a bad line is a usage error naming the line."""
    if not path.is_file():
        msg = f"question set {path} not found"
        raise UsageError(msg)
    cases: list[EvalCase] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError("not a JSON object")
                if isinstance(record.get("answer"), str):
                    record["answer"] = [record["answer"]]
                case = EvalCase.model_validate(record)
            except (ValueError, TypeError, ValidationError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if isinstance(exc, ValidationError):
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first.get("loc", ()))
                    reason = f"{where}: {first.get('msg', '')}"
                msg = f"{path}:{lineno}: not a question record ({reason})"
                raise UsageError(msg) from None
            if not any(ch.isalnum() for ch in case.question):
                msg = f"{path}:{lineno}: the question is empty"
                raise UsageError(msg)
            if case.id in seen:
                msg = f"{path}:{lineno}: question id {case.id!r} appears twice"
                raise UsageError(msg)
            seen.add(case.id)
            cases.append(case)
            if limit is not None and len(cases) >= limit:
                break
    if not cases:
        msg = f"question set {path} has no questions"
        raise UsageError(msg)
    return cases


def corpus_collection(corpus: Path) -> str:
    """The collection an eval corpus is ingested into: ``eval_<stem>_<hash of its path>``.

    Valid for Chroma (3-512 chars of [a-zA-Z0-9._-], alphanumeric at both ends).
    """
    stem = _COLLECTION_BAD.sub("_", corpus.stem).strip("._-")[:40] or "corpus"
    return f"eval_{stem}_{sha1(str(corpus.resolve()))[:8]}"


def scoring_text(answer: str) -> str:
    """The answer as scored against the accepted answers: citation markers and a closing
    ``Sources:`` line removed (a marker ``[1]`` must not match an accepted answer "1")."""
    from assistant.citations import strip_markers

    return strip_markers(_SOURCES_LINE.sub("", answer))


# --- one question ------------------------------------------------------------------------------


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


def _judge(model: BaseChatModel, answer: Answer) -> dict[str, Any]:
    """LLM-as-judge: is each cited sentence supported by the passage it cites?"""
    from assistant.citations import strip_markers
    from assistant.prompts import load_prompt, neutralise

    prompt = load_prompt("judge")
    by_n = {p.n: p for p in answer.passages}
    verdicts: list[dict[str, Any]] = []
    for c in answer.citations:
        passage = by_n.get(c.n)
        claim = strip_markers(c.sentence or c.quote).strip()
        if passage is None or not claim:
            continue
        reply = model.invoke(prompt.invoke({"source": neutralise(passage.text), "claim": claim}))
        text = str(reply.content).strip().upper()
        verdict = next(
            (v for v in ("NOT_FOUND", "CONTRADICTED", "SUPPORTED") if v in text.replace(" ", "_")),
            "UNPARSED",
        )
        verdicts.append({"n": c.n, "claim": claim, "verdict": verdict})
    supported = sum(v["verdict"] == "SUPPORTED" for v in verdicts)
    return {
        "faithfulness": supported / len(verdicts) if verdicts else None,
        "claims": len(verdicts),
        "supported": supported,
        "verdicts": verdicts,
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
    passages = assistant.search(
        case.question, k=max(RETRIEVAL_DEPTH, options.k), until=case.date, as_of=case.date
    )
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
        row.scores = {
            "exact_match": m.exact_match(text, case.answer),
            "f1": m.token_f1(text, case.answer),
            "contained": m.contained(text, case.answer),
        }
        row.verdicts["contained"] = bool(row.scores["contained"])
    row.verdicts["refusal"] = (
        ("correct_refusal" if answer.refused else "missed_refusal")
        if not case.answerable
        else ("wrong_refusal" if answer.refused else "answered")
    )
    if case.choices:
        t0 = time.perf_counter()
        choice, scores = assistant.choose(
            answer.standalone_question, case.choices, answer.passages, as_of=case.date
        )
        row.timings_ms["choose"] = (time.perf_counter() - t0) * 1000
        row.choice, row.choice_scores = choice, {k: float(v) for k, v in scores.items()}
        if case.answer:
            row.scores["mc_correct"] = float(m.choice_matches(choice, case.answer))
            row.verdicts["mc_correct"] = bool(row.scores["mc_correct"])
    if judge_model is not None and answer.citations:
        t0 = time.perf_counter()
        row.judge = _judge(judge_model, answer)
        row.timings_ms["judge"] = (time.perf_counter() - t0) * 1000
    return row


# --- results file ------------------------------------------------------------------------------


def read_results(path: Path) -> list[CaseResult]:
    """Rows of a results.jsonl; unreadable lines (a run killed mid-write) are skipped."""
    rows: list[CaseResult] = []
    if not path.is_file():
        return rows
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rows.append(CaseResult.model_validate_json(line))
            except ValidationError:
                continue
    return rows


class ResultsWriter:
    """Appends one flushed JSON line per finished question (thread-safe)."""

    def __init__(self, path: Path, *, fresh: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        if fresh or not path.exists():
            path.write_text("", encoding="utf-8")
        elif path.stat().st_size:
            with path.open("rb") as fh:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":  # a torn last line: start the next row on its own line
                    with path.open("a", encoding="utf-8") as out:
                        out.write("\n")
        self._fh = path.open("a", encoding="utf-8")

    def append(self, row: CaseResult) -> None:
        line = row.model_dump_json() + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def write_rows(path: Path, rows: Iterable[CaseResult]) -> None:
    """Replace results.jsonl with the final rows, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(row.model_dump_json() + "\n")
    tmp.replace(path)


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
