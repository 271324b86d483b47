"""Answer, hedge or refuse, measured: how often each outcome came, how often answers and hedges
were right, and whether ``confidence`` means what it says.

The pure functions (:func:`reliability_bins`, :func:`expected_calibration_error`,
:func:`risk_coverage`, :func:`aurc`, :func:`risk_at_coverage`) take parallel lists of confidences
and 0/1 correctness; :func:`outcome_metrics` and :func:`calibration_metrics` apply them to the
evaluated rows.

**Right** is the eval's per-row ``contained`` score (an accepted answer appears, as whole words,
in the answer with its citation markers removed, :func:`~assistant.evaluation.metrics.contained`);
an answer or hedge to a question marked unanswerable is wrong. An answerable question without
accepted answers is not scored (it counts in the outcome shares only).

**Calibration** is computed over the scored rows that got a confidence (answers and hedges;
refusals have none): a reliability table of 10 equal-width confidence bins (count, mean
confidence, observed accuracy), the expected calibration error (ECE: the bins' gaps between
accuracy and mean confidence, weighted by their counts), and the risk-coverage curve: the rows
sorted by confidence, most confident first; at coverage k/N the risk is the error rate among the
first k. Rows of equal confidence cannot be told apart, so within a tie the *expected* errors of a
random order are used (the curve does not depend on the order rows arrived in). AURC is the mean
risk over k = 1..N (lower is better; a confidence that ranks every right answer first reaches the
lowest AURC the error rate allows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.evaluation.results import CaseResult

CORRECT_BY = "contained"
BINS = 10
RISK_AT = (50, 80)  # calibration.risk@cov50 / risk@cov80: error rate among the most confident
CURVE_POINTS = 100  # risk-coverage points kept in the report (AURC uses every k)
OUTCOMES = ("answer", "hedged", "refused")
PARTS = ("answerable", "unanswerable")


# --- pure functions ----------------------------------------------------------------------------


def _check(confidences: Sequence[float], correct: Sequence[float]) -> list[tuple[float, float]]:
    if len(confidences) != len(correct):
        msg = "confidences and correct must have the same length"
        raise ValueError(msg)
    return [
        (min(1.0, max(0.0, float(c))), float(y)) for c, y in zip(confidences, correct, strict=True)
    ]


def bin_index(confidence: float, bins: int = BINS) -> int:
    """The bin of a confidence in [0, 1]: ``[i/bins, (i+1)/bins)``, the last bin closed."""
    return min(bins - 1, max(0, math.floor(confidence * bins + 1e-9)))


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[float], bins: int = BINS
) -> list[dict[str, Any]]:
    """One entry per equal-width bin of [0, 1]: ``lo``, ``hi``, ``n``, ``mean_confidence``,
    ``accuracy`` (the last two None for an empty bin). Confidences are clipped to [0, 1]."""
    groups: list[list[tuple[float, float]]] = [[] for _ in range(bins)]
    for c, y in _check(confidences, correct):
        groups[bin_index(c, bins)].append((c, y))
    out = []
    for i, group in enumerate(groups):
        n = len(group)
        out.append(
            {
                "lo": round(i / bins, 6),
                "hi": round((i + 1) / bins, 6),
                "n": n,
                "mean_confidence": sum(c for c, _ in group) / n if n else None,
                "accuracy": sum(y for _, y in group) / n if n else None,
            }
        )
    return out


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[float], bins: int = BINS
) -> float | None:
    """ECE: sum over bins of (bin count / N) * |accuracy - mean confidence|; None for no rows."""
    table = reliability_bins(confidences, correct, bins)
    total = sum(b["n"] for b in table)
    if not total:
        return None
    return sum(b["n"] / total * abs(b["accuracy"] - b["mean_confidence"]) for b in table if b["n"])


def risk_coverage(confidences: Sequence[float], correct: Sequence[float]) -> list[dict[str, float]]:
    """For k = 1..N: ``coverage`` k/N, ``risk`` (expected errors among the k most confident / k,
    ties broken at random) and ``confidence`` (the k-th highest)."""
    pairs = sorted(_check(confidences, correct), key=lambda p: -p[0])
    n = len(pairs)
    curve: list[dict[str, float]] = []
    start, errors_before = 0, 0.0
    while start < n:
        end = start
        while end < n and pairs[end][0] == pairs[start][0]:
            end += 1
        tie_errors = sum(1.0 - y for _, y in pairs[start:end])
        tie_rate = tie_errors / (end - start)
        for k in range(start + 1, end + 1):
            errors = errors_before + (k - start) * tie_rate
            curve.append({"coverage": k / n, "risk": errors / k, "confidence": pairs[start][0]})
        errors_before += tie_errors
        start = end
    return curve


def aurc(curve: Sequence[dict[str, float]]) -> float | None:
    """Area under the risk-coverage curve: the mean risk over the coverage levels k/N."""
    return sum(p["risk"] for p in curve) / len(curve) if curve else None


def risk_at_coverage(curve: Sequence[dict[str, float]], coverage: float) -> float | None:
    """The risk at the smallest coverage level that reaches ``coverage`` (0 < coverage <= 1)."""
    if not curve:
        return None
    k = max(1, math.ceil(coverage * len(curve) - 1e-9))
    return curve[min(k, len(curve)) - 1]["risk"]


def thin_curve(
    curve: Sequence[dict[str, float]], points: int = CURVE_POINTS
) -> list[dict[str, float]]:
    """At most about ``points`` evenly spaced points of a long curve (the last one kept)."""
    if len(curve) <= points:
        return list(curve)
    keep = sorted({max(1, math.ceil(i * len(curve) / points)) for i in range(1, points + 1)})
    return [curve[k - 1] for k in keep]


# --- over the evaluated rows -------------------------------------------------------------------


def outcome_of(row: CaseResult) -> str | None:
    """The row's outcome (rows written before outcomes existed: refused or answer)."""
    if not row.answered:
        return None
    if row.outcome in OUTCOMES:
        return row.outcome
    return "refused" if row.refused else "answer"


def correctness(row: CaseResult) -> float | None:
    """1.0 right, 0.0 wrong, None not scored (see the module docstring)."""
    if not row.answerable:
        return 0.0
    if not row.answers:
        return None
    value = row.scores.get(CORRECT_BY)
    return None if value is None else float(value)


def _share(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def _mean_right(rows: Iterable[CaseResult]) -> tuple[float | None, int]:
    scored = [y for y in (correctness(r) for r in rows) if y is not None]
    return _share(sum(scored), len(scored)), len(scored)


def outcome_summary(rows: Sequence[CaseResult]) -> dict[str, Any]:
    """Shares of each outcome; ``answer_accuracy`` (of the scored answers, the share right) and
    ``hedge_right`` (of the scored hedges, the share holding the right answer)."""
    answered = [r for r in rows if outcome_of(r) is not None]
    out: dict[str, Any] = {
        name: _share(sum(outcome_of(r) == name for r in answered), len(answered))
        for name in OUTCOMES
    }
    out["n"] = len(answered)
    out["answer_accuracy"], out["n_answer_scored"] = _mean_right(
        r for r in answered if outcome_of(r) == "answer"
    )
    out["hedge_right"], out["n_hedged_scored"] = _mean_right(
        r for r in answered if outcome_of(r) == "hedged"
    )
    return out


def _parts(rows: Sequence[CaseResult]) -> dict[str, list[CaseResult]]:
    """The answerable and unanswerable rows, each part only when the set has such questions."""
    parts = {
        "answerable": [r for r in rows if r.answerable],
        "unanswerable": [r for r in rows if not r.answerable],
    }
    return {name: part for name, part in parts.items() if part}


def outcome_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    """:func:`outcome_summary` of the whole set and of its answerable / unanswerable parts."""
    out = outcome_summary(rows)
    out["correct_by"] = CORRECT_BY
    for name, part in _parts(rows).items():
        out[name] = outcome_summary(part)
    return out


def calibration_summary(rows: Sequence[CaseResult], *, tables: bool = True) -> dict[str, Any]:
    """ECE, AURC, risk at 50% and 80% coverage, mean confidence and accuracy of the scored rows
    that got a confidence; with ``tables`` the reliability bins and the risk-coverage curve."""
    pairs = [
        (float(r.confidence), y)
        for r in rows
        if outcome_of(r) in ("answer", "hedged")
        and r.confidence is not None
        and (y := correctness(r)) is not None
    ]
    confidences, correct = [c for c, _ in pairs], [y for _, y in pairs]
    curve = risk_coverage(confidences, correct)
    out: dict[str, Any] = {
        "ece": expected_calibration_error(confidences, correct),
        "aurc": aurc(curve),
        **{f"risk@cov{c}": risk_at_coverage(curve, c / 100) for c in RISK_AT},
        "mean_confidence": _share(sum(confidences), len(pairs)),
        "accuracy": _share(sum(correct), len(pairs)),
        "n": len(pairs),
    }
    if tables:
        out["bins"] = reliability_bins(confidences, correct)
        out["risk_coverage"] = thin_curve(curve)
    return out


def calibration_metrics(rows: Sequence[CaseResult]) -> dict[str, Any]:
    """:func:`calibration_summary` of the whole set (with its tables) and of each part."""
    out = calibration_summary(rows)
    out["correct_by"] = CORRECT_BY
    parts = _parts(rows)
    for name, part in parts.items():  # tables of a part only when it is not the whole set
        out[name] = calibration_summary(part, tables=len(parts) > 1)
    return out
