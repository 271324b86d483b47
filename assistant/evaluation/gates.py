"""Quality gates and baselines: the metrics ``--fail-below`` accepts, floors and deltas.

:func:`flatten` turns the nested metrics of a report into ``{"retrieval.hit@5": 0.8, ...}``; the
floors are checked against it (:func:`check_gates`) and an earlier report.json given as
``--baseline`` is compared through it (:func:`deltas`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import UsageError

# Names accepted by --fail-below (quality metrics; counts and latencies are not floors).
GATE_METRICS: tuple[str, ...] = (
    *(f"retrieval.hit@{k}" for k in (1, 5, 10)),
    "retrieval.mrr@10",
    "retrieval.ndcg@10",
    "answer_retrieval.hit@1",
    "answer_retrieval.hit@5",
    "answer_retrieval.mrr@5",
    "answer.exact_match",
    "answer.f1",
    "answer.contained",
    "answer.short_exact_match",
    "answer.short_f1",
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
