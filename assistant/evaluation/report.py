"""Aggregate evaluated rows into metrics; write report.json, and gate on floors.

The HTML page is drawn by :mod:`assistant.evaluation.html`. Every metric comes with the number of
questions it was computed over (``n`` / ``n_*``); a metric that could not be computed is ``None``.
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

from assistant.errors import UsageError
from assistant.evaluation import metrics as m
from assistant.evaluation.runner import CaseResult

# Names accepted by --fail-below (quality metrics; counts and latencies are not floors).
GATE_METRICS: tuple[str, ...] = (
    *(f"retrieval.hit@{k}" for k in (1, 5, 10)),
    "retrieval.mrr@10",
    "retrieval.ndcg@10",
    "answer.exact_match",
    "answer.f1",
    "answer.contained",
    "answer.mc_accuracy",
    "refusal.precision",
    "refusal.recall",
    "refusal.f1",
    "refusal.wrong_refusal_rate",
    "citations.valid_share",
    "citations.supported_share",
    "citations.answers_with_citation",
    "citations.evidence_recall",
    "judge.faithfulness",
)
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
    for name in ("exact_match", "f1", "contained"):
        out[name] = _avg([r.scores.get(name) for r in scored])[0]
    out["n"] = len(scored)
    mc = [r.scores["mc_correct"] for r in answered if r.scores.get("mc_correct") is not None]
    out["mc_accuracy"], out["n_mc"] = _avg(mc)
    return out


def refusal_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    answered = [r for r in rows if r.answered]
    return m.refusal_prf([bool(r.refused) for r in answered], [r.answerable for r in answered])


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


# --- gates and baselines -----------------------------------------------------------------------


def flatten(metrics: dict[str, Any]) -> dict[str, float | None]:
    """``{"retrieval.hit@5": 0.8, ...}``: the named quality metrics (no counts, no latencies)."""
    flat: dict[str, float | None] = {}
    for group, values in metrics.items():
        if group in ("latency_ms", "usage") or not isinstance(values, dict):
            continue
        for name, value in values.items():
            if (
                name == "n"
                or name.startswith("n_")
                or not (value is None or isinstance(value, int | float))
            ):
                continue
            flat[f"{group}.{name}"] = None if value is None else float(value)
    for stage, values in (metrics.get("latency_ms") or {}).items():
        for q in ("p50", "p95"):
            if isinstance(values.get(q), int | float):
                flat[f"latency_ms.{stage}.{q}"] = float(values[q])
    return flat


def parse_floors(items: Sequence[str]) -> dict[str, float]:
    """``["retrieval.hit@5=0.8"]`` -> ``{"retrieval.hit@5": 0.8}``; bad input is a usage error."""
    floors: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            msg = f"--fail-below expects metric=value, e.g. retrieval.hit@5=0.8, not {item!r}"
            raise UsageError(msg)
        if name not in GATE_METRICS:
            msg = f"--fail-below: unknown metric {name!r}; known: {', '.join(GATE_METRICS)}"
            raise UsageError(msg)
        try:
            floors[name] = float(value)
        except ValueError:
            msg = f"--fail-below {name}: {value!r} is not a number"
            raise UsageError(msg) from None
    return floors


def check_floor_names(floors: dict[str, float]) -> None:
    """Unknown metric names in floors are a usage error."""
    for name in floors:
        if name not in GATE_METRICS:
            msg = f"--fail-below: unknown metric {name!r}; known: {', '.join(GATE_METRICS)}"
            raise UsageError(msg)


def check_gates(metrics: dict[str, Any], floors: dict[str, float]) -> list[str]:
    """One line per metric under its floor (or not measured in this run)."""
    flat = flatten(metrics)
    failures: list[str] = []
    for name, floor in floors.items():
        value = flat.get(name)
        if value is None:
            failures.append(f"{name} was not measured in this run (floor {floor:g})")
        elif value < floor:
            failures.append(f"{name} = {value:.4f} is below its floor {floor:g}")
    return failures


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"--baseline {path}: cannot read a report.json ({exc})"
        raise UsageError(msg) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        msg = f"--baseline {path}: not an eval report.json (no 'metrics')"
        raise UsageError(msg)
    return data


def deltas(metrics: dict[str, Any], baseline: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per metric: value now, value in the baseline and the difference (now - baseline)."""
    now, before = flatten(metrics), flatten(baseline.get("metrics") or {})
    out: dict[str, dict[str, float | None]] = {}
    for name in [*now, *(n for n in before if n not in now)]:
        a, b = now.get(name), before.get(name)
        out[name] = {
            "value": a,
            "baseline": b,
            "delta": a - b if a is not None and b is not None else None,
        }
    return out


# --- provenance --------------------------------------------------------------------------------


def git_commit(root: Path | None = None) -> str | None:
    """HEAD of the project's git checkout (suffixed ``-dirty`` with local changes), or None."""
    root = root or Path(__file__).resolve().parents[2]
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
        "commit": git_commit(),
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
        }
    return report


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
