"""Answer, hedge or refuse in the eval: outcome shares, answers and hedges right, reliability
bins, ECE, risk-coverage and AURC against hand-computed numbers; the figures as gates and in
report.html."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.errors import UsageError
from assistant.evaluation import calibration as cal
from assistant.evaluation.figures import outcome_table, reliability_plot, risk_coverage_plot
from assistant.evaluation.gates import GATE_METRICS, check_gates, flatten, parse_floors
from assistant.evaluation.page import render_html, summary_rows
from assistant.evaluation.report import build_report, summarize
from assistant.evaluation.results import CaseResult

# --- the pure functions ------------------------------------------------------------------------


def test_ece_of_a_perfectly_calibrated_set_is_zero() -> None:
    # four at 0.25 with one right, four at 0.75 with three right
    confidences = [0.25] * 4 + [0.75] * 4
    correct = [1, 0, 0, 0, 1, 1, 1, 0]
    assert cal.expected_calibration_error(confidences, correct) == pytest.approx(0.0)


def test_ece_of_a_known_miscalibrated_set() -> None:
    # ten at 0.9 with six right (gap 0.3), ten at 0.15 with three right (gap 0.15):
    # ECE = 10/20 * 0.3 + 10/20 * 0.15 = 0.225
    confidences = [0.9] * 10 + [0.15] * 10
    correct = [1] * 6 + [0] * 4 + [1] * 3 + [0] * 7
    assert cal.expected_calibration_error(confidences, correct) == pytest.approx(0.225)
    # overconfidence and underconfidence both count: one bin over, one under, no cancelling
    assert cal.expected_calibration_error([0.8, 0.8, 0.2, 0.2], [0, 0, 1, 1]) == pytest.approx(0.8)


def test_ece_weights_bins_by_count() -> None:
    # bin 0.9-1.0: three rows at 1.0, all right (gap 0); bin 0.5-0.6: one row at 0.5, wrong
    # (gap 0.5): ECE = 3/4 * 0 + 1/4 * 0.5 = 0.125 (an unweighted mean of the gaps would be 0.25)
    assert cal.expected_calibration_error([1.0, 1.0, 1.0, 0.5], [1, 1, 1, 0]) == pytest.approx(
        0.125
    )
    assert cal.expected_calibration_error([], []) is None


def test_reliability_bins_are_equal_width_and_the_last_is_closed() -> None:
    bins = cal.reliability_bins(
        [0.0, 0.05, 0.1, 0.3, 0.35, 0.99, 1.0, 1.2], [1, 0, 1, 1, 0, 1, 0, 1]
    )
    assert [(b["lo"], b["hi"]) for b in bins][:2] == [(0.0, 0.1), (0.1, 0.2)]
    assert [b["n"] for b in bins] == [2, 1, 0, 2, 0, 0, 0, 0, 0, 3]  # 1.2 is clipped to 1.0
    assert bins[0]["mean_confidence"] == pytest.approx(0.025) and bins[0]["accuracy"] == 0.5
    assert bins[3]["mean_confidence"] == pytest.approx(0.325) and bins[3]["accuracy"] == 0.5
    assert bins[9]["mean_confidence"] == pytest.approx((0.99 + 1 + 1) / 3)
    assert bins[9]["accuracy"] == pytest.approx(2 / 3)
    assert bins[2] == {"lo": 0.2, "hi": 0.3, "n": 0, "mean_confidence": None, "accuracy": None}
    assert [cal.bin_index(c) for c in (0.3, 0.7, 0.6, 0.1 * 3, 0.8999)] == [3, 7, 6, 3, 8]
    with pytest.raises(ValueError, match="same length"):
        cal.reliability_bins([0.5], [])


def test_risk_coverage_on_four_rows_by_hand() -> None:
    # most confident first: 0.9 right, 0.8 wrong, 0.7 right, 0.6 right
    curve = cal.risk_coverage([0.7, 0.9, 0.6, 0.8], [1, 1, 1, 0])
    assert [p["coverage"] for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [p["risk"] for p in curve] == pytest.approx([0.0, 1 / 2, 1 / 3, 1 / 4])
    assert [p["confidence"] for p in curve] == [0.9, 0.8, 0.7, 0.6]
    assert cal.aurc(curve) == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 4) / 4)  # 0.2708
    assert cal.risk_at_coverage(curve, 0.5) == pytest.approx(0.5)
    assert cal.risk_at_coverage(curve, 0.8) == pytest.approx(0.25)  # 3 of 4 rows cover 0.75 < 0.8
    assert cal.risk_at_coverage(curve, 0.75) == pytest.approx(1 / 3)
    # a confidence that ranks the wrong answer last does better; first, worse
    best = cal.aurc(cal.risk_coverage([0.9, 0.8, 0.7, 0.6], [1, 1, 1, 0]))
    worst = cal.aurc(cal.risk_coverage([0.9, 0.8, 0.7, 0.6], [0, 1, 1, 1]))
    assert best == pytest.approx((0 + 0 + 0 + 1 / 4) / 4)
    assert worst == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert cal.aurc([]) is None and cal.risk_at_coverage([], 0.5) is None


def test_risk_coverage_ties_use_the_expected_errors_of_a_random_order() -> None:
    # two tied at 0.9 (one right, one wrong), then two right at 0.5: at k=1 the expected error
    # is 1/2 whichever of the tied rows came first
    for order in ([1, 0, 1, 1], [0, 1, 1, 1]):
        curve = cal.risk_coverage([0.9, 0.9, 0.5, 0.5], order)
        assert [p["risk"] for p in curve] == pytest.approx([1 / 2, 1 / 2, 1 / 3, 1 / 4])


def test_thin_curve_keeps_about_the_asked_points_and_the_last() -> None:
    curve = cal.risk_coverage([i / 1000 for i in range(1000)], [i % 2 for i in range(1000)])
    thin = cal.thin_curve(curve, 100)
    assert len(thin) == 100 and thin[-1] == curve[-1] and thin[0]["coverage"] == 0.01
    assert cal.thin_curve(curve[:5], 100) == curve[:5]


# --- over rows ---------------------------------------------------------------------------------


def _row(i: int, outcome: str | None, confidence: float | None, *, right: bool | None = None,
         answerable: bool = True, **kw: Any) -> CaseResult:  # fmt: skip
    scores = {} if right is None else {"contained": float(right)}
    answers = ["x"] if answerable and right is not None else []
    return CaseResult(
        id=f"r{i}", index=i, question=f"q{i}?", answered=True, outcome=outcome,
        refused=outcome == "refused", confidence=confidence, answerable=answerable,
        answers=answers, scores=scores, **kw,
    )  # fmt: skip


ROWS = [
    _row(0, "answer", 0.9, right=True),
    _row(1, "answer", 0.8, right=False),
    _row(2, "answer", 0.7, right=True),
    _row(3, "hedged", 0.3, right=True),
    _row(4, "hedged", 0.2, right=False),
    _row(5, "refused", None, right=False),
    _row(6, "answer", 0.6, answerable=False),  # answered an unanswerable question: wrong
    _row(7, "refused", None, answerable=False),
    _row(8, "refused", None, answerable=False),
    _row(9, "answer", 0.95),  # answerable without accepted answers: not scored
]


def test_outcome_shares_answers_right_and_hedges_right() -> None:
    out = cal.outcome_metrics(ROWS)
    assert (out["answer"], out["hedged"], out["refused"], out["n"]) == (0.5, 0.2, 0.3, 10)
    # answers scored: r0 right, r1 wrong, r2 right, r6 wrong (unanswerable); r9 unscored
    assert out["answer_accuracy"] == 0.5 and out["n_answer_scored"] == 4
    assert out["hedge_right"] == 0.5 and out["n_hedged_scored"] == 2
    assert out["correct_by"] == "contained"
    part = out["answerable"]
    assert (part["answer"], part["hedged"], part["refused"], part["n"]) == (4 / 7, 2 / 7, 1 / 7, 7)
    assert part["answer_accuracy"] == pytest.approx(2 / 3) and part["n_answer_scored"] == 3
    none = out["unanswerable"]
    assert (none["answer"], none["refused"], none["n"]) == (1 / 3, 2 / 3, 3)
    assert none["answer_accuracy"] == 0.0 and none["hedge_right"] is None


def test_calibration_over_scored_answers_and_hedges() -> None:
    out = cal.calibration_metrics(ROWS)
    # scored with a confidence: 0.9 R, 0.8 W, 0.7 R, 0.3 R, 0.2 W, 0.6 W (r9 unscored)
    assert out["n"] == 6 and out["accuracy"] == 0.5
    assert out["mean_confidence"] == pytest.approx((0.9 + 0.8 + 0.7 + 0.3 + 0.2 + 0.6) / 6)
    # bins 0.9 (R), 0.8 (W), 0.7 (R), 0.6 (W), 0.3 (R), 0.2 (W), one row each:
    # gaps 0.1, 0.8, 0.3, 0.6, 0.7, 0.2 -> ECE = 2.7 / 6 = 0.45
    assert out["ece"] == pytest.approx(0.45)
    # ranked 0.9 R, 0.8 W, 0.7 R, 0.6 W, 0.3 R, 0.2 W: risks 0, 1/2, 1/3, 1/2, 2/5, 1/2
    risks = [0, 1 / 2, 1 / 3, 1 / 2, 2 / 5, 1 / 2]
    assert [p["risk"] for p in out["risk_coverage"]] == pytest.approx(risks)
    assert out["aurc"] == pytest.approx(sum(risks) / 6)
    assert out["risk@cov50"] == pytest.approx(1 / 3) and out["risk@cov80"] == pytest.approx(2 / 5)
    assert sum(b["n"] for b in out["bins"]) == 6 and len(out["bins"]) == 10
    # answerable: the same without r6 (0.6, wrong): gaps 0.1, 0.8, 0.3, 0.7, 0.2 -> 2.1 / 5
    assert out["answerable"]["n"] == 5 and out["answerable"]["ece"] == pytest.approx(0.42)
    assert out["unanswerable"]["n"] == 1 and out["unanswerable"]["ece"] == pytest.approx(0.6)
    assert "bins" in out["answerable"]  # both parts: each has its own tables


def test_rows_written_before_outcomes_existed() -> None:
    old = [
        CaseResult(id="a", index=0, question="?", answered=True, refused=True),
        CaseResult(id="b", index=1, question="?", answered=True, refused=False),
        CaseResult(id="c", index=2, question="?"),  # retrieval only
    ]
    out = cal.outcome_metrics(old)
    assert (out["answer"], out["refused"], out["n"]) == (0.5, 0.5, 2)
    assert cal.calibration_metrics(old)["ece"] is None  # no confidence, nothing to measure


# --- gates, report, page -----------------------------------------------------------------------


def test_the_figures_are_gates_under_their_report_keys() -> None:
    metrics = summarize(ROWS, settings={})
    flat = flatten(metrics)
    assert flat["outcomes.answer_accuracy"] == 0.5
    assert flat["outcomes.answerable.refused"] == pytest.approx(1 / 7)
    assert flat["outcomes.unanswerable.refused"] == pytest.approx(2 / 3)
    assert flat["calibration.ece"] == pytest.approx(0.45)
    assert "calibration.n" not in flat and "calibration.bins" not in flat
    assert not any(name.endswith("correct_by") for name in flat)
    for name in ("outcomes.answer_accuracy", "outcomes.answerable.refused", "calibration.ece",
                 "calibration.aurc", "calibration.risk@cov80", "outcomes.hedge_right"):  # fmt: skip
        assert name in GATE_METRICS and name in flat
    assert set(GATE_METRICS) >= {n for n in flat if n.startswith(("outcomes.", "calibration."))}

    ceilings = parse_floors(["calibration.ece=0.5", "outcomes.answerable.refused=0.2"])
    floors = parse_floors(["outcomes.answer_accuracy=0.5", "outcomes.unanswerable.refused=0.6"])
    assert check_gates(metrics, floors, ceilings) == []
    failed = check_gates(
        metrics,
        {"outcomes.answer_accuracy": 0.6},
        {"calibration.ece": 0.08, "outcomes.answerable.refused": 0.05},
    )
    assert failed == [
        "outcomes.answer_accuracy = 0.5000 is below its floor 0.6",
        "calibration.ece = 0.4500 is above its ceiling 0.08",
        "outcomes.answerable.refused = 0.1429 is above its ceiling 0.05",
    ]
    unmeasured = check_gates({"retrieval": {"hit@5": 1.0}}, {}, {"calibration.ece": 0.1})
    assert unmeasured == ["calibration.ece was not measured in this run (ceiling 0.1)"]
    with pytest.raises(UsageError, match=r"--fail-above: unknown metric 'ece'.*calibration\.ece"):
        parse_floors(["ece=0.1"], "--fail-above")


def test_outcome_table_and_plots() -> None:
    metrics = summarize(ROWS, settings={})
    table = outcome_table(metrics)
    assert [r["part"] for r in table] == ["all", "answerable", "unanswerable"]
    assert table[0]["answer"] == "0.500" and table[0]["answer_accuracy"] == "0.500 (n=4)"
    assert table[2]["hedge_right"] == "–"
    only_answerable = summarize([r for r in ROWS if r.answerable], settings={})
    assert [r["part"] for r in outcome_table(only_answerable)] == ["all"]
    assert outcome_table(summarize(ROWS, retrieval_only=True)) == []

    plot = reliability_plot(metrics)
    assert not plot["empty"] and len(plot["bars"]) == 6  # six non-empty bins
    # the 0.9 bin (one right answer): its bar reaches the top of the frame, its dot sits at 0.9
    top = next(b for b in plot["bars"] if "confidence 0.9" in b["title"])
    assert top["y"] == pytest.approx(plot["top"])
    assert top["cx"] == pytest.approx(plot["left"] + 0.9 * plot["inner_w"])
    risk = risk_coverage_plot({"metrics": metrics})
    points = [tuple(map(float, p.split(","))) for p in risk["line"].split()]
    assert len(points) == 7 and points[-1][0] == pytest.approx(plot["right"])
    assert risk["aurc"] == f"{sum([0, 1 / 2, 1 / 3, 1 / 2, 2 / 5, 1 / 2]) / 6:.3f}"


def test_report_html_shows_the_tables_and_plots_escaped() -> None:
    rows = [*ROWS, _row(10, "hedged", 0.45, right=True, answer="<script>alert(1)</script>")]
    metrics = summarize(rows, settings={})
    report = build_report(rows, metrics, settings={}, options={"fail_above": {"calibration.ece": 0.9}},
                          questions=len(rows), resumed=0, mode="extractive")  # fmt: skip
    html = render_html(report, rows)
    for marker in ('id="outcomes"', 'id="reliability"', 'id="reliability-plot"',
                   'id="risk-coverage-plot"'):  # fmt: skip
        assert marker in html
    assert "<script>" not in html
    assert "All metric floors and ceilings met." in html
    table = html[html.index('id="reliability"') :]
    assert re.search(r"0\.4–0\.5</td><td class=\"num\">1</td>", table)
    # the summary names the gates of the whole set; the parts are in the outcome table
    names = [r["name"] for r in summary_rows(report, leave_out=("outcomes.answerable.",))]
    assert "calibration.ece" in names and "outcomes.answerable.refused" not in names
    assert report["rows"][3]["confidence"] == 0.3 and report["rows"][3]["outcome"] == "hedged"
