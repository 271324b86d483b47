"""Answer, hedge or refuse, shown: the outcome table (the text report and report.html), the
reliability table, and the geometry of the reliability and risk-coverage plots (inline SVG in
report.html, placed by the autoescaped template; only numbers and fixed labels are computed here).

The figures themselves are computed by :mod:`assistant.evaluation.calibration`.
"""

from __future__ import annotations

from typing import Any

from assistant.evaluation.calibration import CORRECT_BY, PARTS

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT_PAD = 420, 240, 45, 36, 10, 15
EXPLAINED = (
    f"An answer is right when an accepted answer appears in it (the {CORRECT_BY} score); any answer "
    "to a question marked unanswerable is wrong. Calibration is measured over the answers and "
    "hedges that could be scored."
)


# (key of an outcome_table row, the metric's name in report.json and for gates)
FIGURES = (
    ("questions", "questions"),
    ("answer", "outcomes.answer"),
    ("hedged", "outcomes.hedged"),
    ("refused", "outcomes.refused"),
    ("answer_accuracy", "outcomes.answer_accuracy"),
    ("hedge_right", "outcomes.hedge_right"),
    ("ece", "calibration.ece"),
    ("aurc", "calibration.aurc"),
)


def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _with_n(value: float | None, n: Any) -> str:
    return "–" if value is None else f"{value:.3f} (n={n})"


def outcome_table(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """One row for the whole set and, when it has unanswerable questions, one per part: the
    share of each outcome, answers right, hedges right, ECE and AURC (strings, "–" if none)."""
    outcomes, calibration = metrics.get("outcomes"), metrics.get("calibration") or {}
    if not outcomes:
        return []
    parts: list[tuple[str, dict[str, Any], dict[str, Any]]] = [("all", outcomes, calibration)]
    if all(p in outcomes for p in PARTS):
        parts += [(p, outcomes[p], calibration.get(p) or {}) for p in PARTS]
    return [
        {
            "part": label,
            "questions": str(o.get("n", 0)),
            "answer": fmt(o.get("answer")),
            "hedged": fmt(o.get("hedged")),
            "refused": fmt(o.get("refused")),
            "answer_accuracy": _with_n(o.get("answer_accuracy"), o.get("n_answer_scored")),
            "hedge_right": _with_n(o.get("hedge_right"), o.get("n_hedged_scored")),
            "ece": _with_n(c.get("ece"), c.get("n")),
            "aurc": fmt(c.get("aurc")),
        }
        for label, o, c in parts
    ]


def reliability_rows(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """The reliability table of the whole set: bin, count, mean confidence, share right, gap."""
    rows = []
    for b in (metrics.get("calibration") or {}).get("bins") or []:
        conf, acc = b.get("mean_confidence"), b.get("accuracy")
        gap = None if conf is None or acc is None else acc - conf
        rows.append(
            {
                "bin": f"{b['lo']:.1f}–{b['hi']:.1f}",
                "n": str(b["n"]),
                "mean_confidence": fmt(conf),
                "accuracy": fmt(acc),
                "gap": "–" if gap is None else f"{gap:+.3f}",
            }
        )
    return rows


def _frame() -> dict[str, Any]:
    inner_w, inner_h = WIDTH - LEFT - RIGHT_PAD, HEIGHT - BOTTOM - TOP
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT_PAD,
        "top": TOP,
        "axis_y": HEIGHT - BOTTOM,
        "inner_w": inner_w,
        "inner_h": inner_h,
        "grid": [{"y": TOP + inner_h * (1 - g / 4), "label": f"{g / 4:.2f}"} for g in range(5)],
        "ticks": [{"x": LEFT + inner_w * t / 5, "label": f"{t / 5:.1f}"} for t in range(6)],
    }


def _x(frame: dict[str, Any], v: float) -> float:
    return float(frame["left"] + frame["inner_w"] * max(0.0, min(1.0, v)))


def _y(frame: dict[str, Any], v: float) -> float:
    return float(frame["top"] + frame["inner_h"] * (1 - max(0.0, min(1.0, v))))


def reliability_plot(metrics: dict[str, Any]) -> dict[str, Any]:
    """Bars of the share right per confidence bin, a dot at (mean confidence, share right) sized
    by the bin's count, and the diagonal a calibrated confidence would follow."""
    calibration = metrics.get("calibration") or {}
    bins = [b for b in calibration.get("bins") or [] if b.get("n")]
    frame = _frame()
    top = max((b["n"] for b in bins), default=1)
    bars = []
    for b in bins:
        x0, x1 = _x(frame, b["lo"]), _x(frame, b["hi"])
        y = _y(frame, b["accuracy"])
        bars.append(
            {
                "x": x0 + 1,
                "w": max(0.0, x1 - x0 - 2),
                "y": y,
                "h": frame["axis_y"] - y,
                "cx": _x(frame, b["mean_confidence"]),
                "r": 2.5 + 4.5 * (b["n"] / top) ** 0.5,
                "title": (
                    f"confidence {b['lo']:.1f}–{b['hi']:.1f}: {b['n']} answers, mean confidence "
                    f"{b['mean_confidence']:.3f}, right {b['accuracy']:.3f}"
                ),
            }
        )
    return {
        **frame,
        "empty": not bins,
        "bars": bars,
        "diagonal": (_x(frame, 0), _y(frame, 0), _x(frame, 1), _y(frame, 1)),
        "ece": fmt(calibration.get("ece")),
        "n": calibration.get("n", 0),
    }


def _polyline(frame: dict[str, Any], curve: list[dict[str, Any]] | None) -> str:
    points = [(0.0, curve[0]["risk"])] if curve else []
    points += [(p["coverage"], p["risk"]) for p in curve or []]
    return " ".join(f"{_x(frame, c):.1f},{_y(frame, r):.1f}" for c, r in points)


def risk_coverage_plot(report: dict[str, Any]) -> dict[str, Any]:
    """The error rate among the most confident answers and hedges as coverage grows (dashed: the
    baseline's curve; dotted: the error rate of all of them, what a confidence that ranks nothing
    would give at every coverage)."""
    calibration = report["metrics"].get("calibration") or {}
    curve = calibration.get("risk_coverage") or []
    base = (report.get("baseline") or {}).get("risk_coverage")
    frame = _frame()
    overall = curve[-1]["risk"] if curve else None
    return {
        **frame,
        "empty": not curve,
        "line": _polyline(frame, curve),
        "base_line": _polyline(frame, base if isinstance(base, list) else None),
        "overall_y": None if overall is None else _y(frame, overall),
        "aurc": fmt(calibration.get("aurc")),
        "overall": fmt(overall),
        "n": calibration.get("n", 0),
    }
