"""Aggregate evaluated rows into metrics and write report.json (with settings and versions).

The HTML page is drawn by :mod:`assistant.evaluation.page`; floors (``--fail-below``) and baseline
deltas are in :mod:`assistant.evaluation.gates`. Every metric comes with the number of questions it
was computed over (``n`` / ``n_*``); a metric that could not be computed is ``None``.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.calibration import calibration_metrics, outcome_metrics
from assistant.evaluation.gates import deltas
from assistant.evaluation.results import CaseResult

# List prices, USD per million (input, output) tokens, used when the model is OpenAI's and no
# --price is given. Longest matching prefix wins ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini").
OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}
PACKAGES = (
    "chromadb",
    "langchain-core",
    "langchain-openai",
    "openai",
    "sentence-transformers",
    "torch",
    "bm25s",
    "pydantic",
)
HIT_CURVE = tuple(range(1, 11))


# --- aggregation -------------------------------------------------------------------------------


def _avg(values: Sequence[float | None]) -> tuple[float | None, int]:
    return m.mean(values)


def retrieval_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    scored = [r for r in rows if r.retrieval]
    out: dict[str, Any] = {}
    for name in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"):
        out[name] = _avg([r.retrieval.get(name) for r in scored])[0]
    out["n"] = len(scored)
    return out


def answer_retrieval_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    """The same measures on the passages the answers received (k of them, not 10)."""
    scored = [r for r in rows if r.answer_retrieval]
    names = list(dict.fromkeys(name for r in scored for name in r.answer_retrieval))
    out: dict[str, Any] = {
        name: _avg([r.answer_retrieval.get(name) for r in scored])[0] for name in names
    }
    out["n"] = len(scored)
    return out


def hit_curve(rows: Sequence[CaseResult]) -> list[float | None]:
    """Hit@k for k = 1..10 (the share of questions whose evidence is in the top k articles)."""
    scored = [r for r in rows if r.retrieval]
    return [_avg([r.retrieval.get(f"hit@{k}") for r in scored])[0] for k in HIT_CURVE]


def answer_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    answered = [r for r in rows if r.answered]
    scored = [r for r in answered if r.answerable and r.answers]
    out: dict[str, Any] = {}
    for name in ("exact_match", "f1", "contained", "short_exact_match", "short_f1"):
        out[name] = _avg([r.scores.get(name) for r in scored])[0]
    out["n"] = len(scored)
    mc = [r.scores["mc_correct"] for r in answered if r.scores.get("mc_correct") is not None]
    out["mc_accuracy"], out["n_mc"] = _avg(mc)
    return out


def refusal_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    """Refusal precision/recall (a hedged answer is not a refusal) and how many were hedged."""
    answered = [r for r in rows if r.answered]
    out = m.refusal_prf([bool(r.refused) for r in answered], [r.answerable for r in answered])
    hedged = [r for r in answered if r.outcome == "hedged"]
    out["n_hedged"] = len(hedged)
    out["n_hedged_unanswerable"] = sum(not r.answerable for r in hedged)
    return out


def citation_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    answered = [r for r in rows if r.answered and r.citation_stats]
    given = [r for r in answered if not r.refused]

    def total(key: str, of: Sequence[CaseResult]) -> int:
        return sum(int(r.citation_stats.get(key) or 0) for r in of)

    markers, sentences = total("markers", answered), total("cited_sentences", answered)
    recall = [r.citation_stats.get("evidence_recall") for r in given]
    evidence_recall, n_evidence = _avg([float(v) for v in recall if v is not None])
    with_citation, n_answers = _avg(
        [float(r.citation_stats.get("has_citation") or 0) for r in given]
    )
    return {
        "valid_share": total("valid", answered) / markers if markers else None,
        "n_markers": markers,
        "supported_share": total("supported_sentences", answered) / sentences
        if sentences
        else None,
        "n_cited_sentences": sentences,
        "answers_with_citation": with_citation,
        "n_answers": n_answers,
        "evidence_recall": evidence_recall,
        "n_evidence": n_evidence,
    }


def latency_metrics(rows: Sequence[CaseResult]) -> dict[str, dict[str, float | int | None]]:
    """p50/p95/mean (ms) per stage, over the questions that went through that stage."""
    stages: dict[str, list[float]] = {}
    for r in rows:
        if r.error is None:
            for stage, ms in r.timings_ms.items():
                stages.setdefault(stage, []).append(float(ms))
    preferred = ["retrieve", "generate", "verify", "choose", "total"]
    order = [s for s in preferred if s in stages] + sorted(s for s in stages if s not in preferred)
    out: dict[str, dict[str, float | int | None]] = {}
    for stage in order:
        values = stages[stage]
        out[stage] = {**m.percentiles(values), "mean": sum(values) / len(values), "n": len(values)}
    return out


def _price(
    model: str, settings: dict[str, Any], price: tuple[float, float] | None
) -> tuple[float, float] | None:
    if price is not None:
        return price
    if settings.get("llm_base_url"):
        return None  # a local or third-party server: cost unknown unless --price is given
    for prefix in sorted(OPENAI_PRICES, key=len, reverse=True):
        if model.startswith(prefix):
            return OPENAI_PRICES[prefix]
    return None


def usage_metrics(
    rows: Sequence[CaseResult], settings: dict[str, Any], price: tuple[float, float] | None
) -> dict[str, Any] | None:
    """Token totals and cost, when the backend reported usage."""
    with_usage = [r for r in rows if r.usage]
    if not with_usage:
        return None
    totals: dict[str, int] = {}
    for r in with_usage:
        for key, value in r.usage.items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    tokens_in = totals.get("input_tokens", totals.get("prompt_tokens", 0))
    tokens_out = totals.get("output_tokens", totals.get("completion_tokens", 0))
    model = next((r.model for r in with_usage if r.model), str(settings.get("llm_model", "")))
    rate = _price(model, settings, price)
    cost = (tokens_in * rate[0] + tokens_out * rate[1]) / 1e6 if rate else None
    return {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "total_tokens": totals.get("total_tokens", tokens_in + tokens_out),
        "cost_usd": cost,
        "cost_per_question_usd": cost / len(with_usage) if cost is not None else None,
        "model": model,
        "n": len(with_usage),
    }


def judge_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    judged = [r.judge for r in rows if r.judge]
    claims = sum(int(j.get("claims") or 0) for j in judged)
    supported = sum(int(j.get("supported") or 0) for j in judged)
    return {
        "faithfulness": supported / claims if claims else None,
        "n_claims": claims,
        "n": len(judged),
    }


def summarize(
    rows: Sequence[CaseResult],
    *,
    retrieval_only: bool = False,
    judge: bool = False,
    settings: dict[str, Any] | None = None,
    price: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """All metrics of a run (rows with an error are left out and counted separately)."""
    ok = [r for r in rows if r.error is None]
    out: dict[str, Any] = {"retrieval": retrieval_metrics(ok)}
    if not retrieval_only:
        out["answer_retrieval"] = answer_retrieval_metrics(ok)
        out["answer"] = answer_metrics(ok)
        out["refusal"] = refusal_metrics(ok)
        out["citations"] = citation_metrics(ok)
        out["outcomes"] = outcome_metrics(ok)
        out["calibration"] = calibration_metrics(ok)
    if judge:
        out["judge"] = judge_metrics(ok)
    out["latency_ms"] = latency_metrics(ok)
    usage = usage_metrics(ok, settings or {}, price)
    if usage is not None:
        out["usage"] = usage
    return out


def counts(rows: Sequence[CaseResult], questions: int, resumed: int) -> dict[str, int]:
    return {
        "questions": questions,
        "evaluated": sum(r.error is None for r in rows),
        "errors": sum(r.error is not None for r in rows),
        "resumed": resumed,
        "answerable": sum(r.answerable for r in rows),
        "unanswerable": sum(not r.answerable for r in rows),
        "with_evidence": sum(bool(r.evidence) for r in rows),
        "with_choices": sum(bool(r.choices) for r in rows),
        "with_answers": sum(bool(r.answers) for r in rows),
    }


# --- provenance --------------------------------------------------------------------------------


def git_commit(root: Path | None = None) -> str | None:
    """HEAD of the project's git checkout (suffixed ``-dirty`` with local changes), or None.

    Only a source checkout is asked: an installed package may sit inside someone else's
    repository (a project's .venv), whose commit says nothing about this code.
    """
    if root is None:
        root = Path(__file__).resolve().parents[2]
        if not (root / "pyproject.toml").is_file() or not (root / "assistant").is_dir():
            return None  # installed from the wheel: not a source checkout
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if status else head or None


def provenance() -> str:
    """The git commit of a source checkout, else the installed package's name and version."""
    return git_commit() or f"news-assistant=={package_version()}"


def package_version() -> str:
    """The assistant's version (from the package, else from the installed distribution)."""
    try:
        from assistant import __version__

        return str(__version__)
    except ImportError:  # a stale editable install can leave `assistant` a namespace package
        try:
            return metadata.version("news-assistant")
        except metadata.PackageNotFoundError:
            return "unknown"


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {
        "assistant": package_version(),
        "python": platform.python_version(),
    }
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def compact_row(row: CaseResult) -> dict[str, Any]:
    """The per-question line of report.json (results.jsonl has everything)."""
    return {
        "id": row.id,
        "question": row.question,
        "date": row.date,
        "answerable": row.answerable,
        "error": row.error,
        "evidence_rank": row.evidence_rank,
        "retrieved_articles": row.retrieved_articles,
        "answer": row.answer,
        "refused": row.refused,
        "outcome": row.outcome,
        "confidence": row.confidence,
        "choice": row.choice,
        "scores": row.scores,
        "retrieval": {
            k: v
            for k, v in row.retrieval.items()
            if k in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")
        },
        "verdicts": row.verdicts,
        "citations": len(row.citations),
        "timings_ms": {k: round(v, 1) for k, v in row.timings_ms.items()},
    }


def build_report(
    rows: Sequence[CaseResult],
    metrics: dict[str, Any],
    *,
    settings: dict[str, Any],
    options: dict[str, Any],
    questions: int,
    resumed: int,
    mode: str,
    baseline: dict[str, Any] | None = None,
    baseline_path: str | None = None,
    gates: list[str] | None = None,
    ingest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "metrics": metrics,
        "curves": {"hit@k": {str(k): v for k, v in zip(HIT_CURVE, hit_curve(rows), strict=True)}},
        "counts": counts(rows, questions, resumed),
        "mode": mode,
        "options": options,
        "settings": settings,
        "version": package_version(),
        "versions": versions(),
        "commit": provenance(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ingest": ingest,
        "gates": {"failures": gates or []},
        "rows": [compact_row(r) for r in rows],
    }
    if baseline is not None:
        report["baseline"] = {
            "path": baseline_path,
            "commit": baseline.get("commit"),
            "created": baseline.get("created"),
            "deltas": deltas(metrics, baseline),
            "curves": baseline.get("curves"),
            "risk_coverage": ((baseline.get("metrics") or {}).get("calibration") or {}).get(
                "risk_coverage"
            ),
        }
    return report


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
