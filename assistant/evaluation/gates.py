"""Quality gates and baselines: the metrics ``--fail-below`` / ``--fail-above`` accept, floors,
ceilings and deltas.

:func:`flatten` turns the nested metrics of a report into ``{"retrieval.hit@5": 0.8,
"outcomes.answerable.refused": 0.1, ...}`` (a gate name is the path of its key in
``report.json``'s ``metrics``); floors and ceilings are checked against it (:func:`check_gates`)
and an earlier report.json given as ``--baseline`` is compared through it (:func:`deltas`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import UsageError

# Answer, hedge or refuse (assistant/evaluation/calibration.py), of the whole set and of its
# answerable / unanswerable parts: "outcomes.answer_accuracy", "outcomes.answerable.refused", ...
OUTCOME_GATES: tuple[str, ...] = tuple(
    f"outcomes.{part}{name}"
    for part in ("", "answerable.", "unanswerable.")
    for name in ("answer", "hedged", "refused", "answer_accuracy", "hedge_right")
)
CALIBRATION_GATES: tuple[str, ...] = tuple(
    f"calibration.{part}{name}"
    for part in ("", "answerable.", "unanswerable.")
    for name in ("ece", "aurc", "risk@cov50", "risk@cov80", "mean_confidence", "accuracy")
)
PER_PART = tuple(
    f"{g}.{p}." for g in ("outcomes", "calibration") for p in ("answerable", "unanswerable")
)
# Names accepted by --fail-below / --fail-above (quality metrics; counts and latencies are not).
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
    *OUTCOME_GATES,
    *CALIBRATION_GATES,
)


def _numbers(prefix: str, values: dict[str, Any], flat: dict[str, float | None]) -> None:
    """Numbers of a metrics group, nested groups (a set's parts) as ``prefix.part.name``; counts
    (``n``, ``n_*``), strings and lists (tables, curves) are left out."""
    for name, value in values.items():
        if isinstance(value, dict):
            _numbers(f"{prefix}.{name}", value, flat)
        elif name == "n" or name.startswith("n_") or isinstance(value, bool):
            continue
        elif value is None or isinstance(value, int | float):
            flat[f"{prefix}.{name}"] = None if value is None else float(value)


def flatten(metrics: dict[str, Any]) -> dict[str, float | None]:
    """``{"retrieval.hit@5": 0.8, ...}``: the named quality metrics (no counts, no latencies)."""
    flat: dict[str, float | None] = {}
    for group, values in metrics.items():
        if group in ("latency_ms", "usage") or not isinstance(values, dict):
            continue
        _numbers(group, values, flat)
    for stage, values in (metrics.get("latency_ms") or {}).items():
        for q in ("p50", "p95"):
            if isinstance(values.get(q), int | float):
                flat[f"latency_ms.{stage}.{q}"] = float(values[q])
    return flat


def _unknown(name: str, option: str) -> UsageError:
    known = [g for g in GATE_METRICS if not g.startswith(PER_PART)]
    return UsageError(
        f"{option}: unknown metric {name!r}; known: {', '.join(known)} (outcomes.* and "
        "calibration.* also per part, e.g. outcomes.answerable.refused, "
        "calibration.unanswerable.mean_confidence)"
    )


def parse_floors(items: Sequence[str], option: str = "--fail-below") -> dict[str, float]:
    """``["retrieval.hit@5=0.8"]`` -> ``{"retrieval.hit@5": 0.8}``; bad input is a usage error.
    The same syntax gives ceilings (``option="--fail-above"``, e.g. ``calibration.ece=0.08``)."""
    bounds: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            msg = f"{option} expects metric=value, e.g. retrieval.hit@5=0.8, not {item!r}"
            raise UsageError(msg)
        if name not in GATE_METRICS:
            raise _unknown(name, option)
        try:
            bounds[name] = float(value)
        except ValueError:
            msg = f"{option} {name}: {value!r} is not a number"
            raise UsageError(msg) from None
    return bounds


def check_floor_names(floors: dict[str, float], option: str = "--fail-below") -> None:
    """Unknown metric names in floors (or ceilings) are a usage error."""
    for name in floors:
        if name not in GATE_METRICS:
            raise _unknown(name, option)


def check_gates(
    metrics: dict[str, Any],
    floors: dict[str, float],
    ceilings: dict[str, float] | None = None,
) -> list[str]:
    """One line per metric under its floor or above its ceiling (or not measured in this run)."""
    flat = flatten(metrics)
    failures: list[str] = []
    for name, floor in floors.items():
        value = flat.get(name)
        if value is None:
            failures.append(f"{name} was not measured in this run (floor {floor:g})")
        elif value < floor:
            failures.append(f"{name} = {value:.4f} is below its floor {floor:g}")
    for name, ceiling in (ceilings or {}).items():
        value = flat.get(name)
        if value is None:
            failures.append(f"{name} was not measured in this run (ceiling {ceiling:g})")
        elif value > ceiling:
            failures.append(f"{name} = {value:.4f} is above its ceiling {ceiling:g}")
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
