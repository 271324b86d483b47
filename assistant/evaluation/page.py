"""report.html: one self-contained page (inline CSS, inline SVG plots, no script, no CDN).

The plots' geometry is computed here as plain numbers; the Jinja template (``report.html.j2``,
autoescaped) only places them, so every string from articles and questions is escaped, and only
http(s) URLs ever become links.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.evaluation import figures
from assistant.evaluation import metrics as m
from assistant.evaluation.gates import CALIBRATION_GATES, GATE_METRICS, PER_PART, flatten
from assistant.evaluation.report import HIT_CURVE
from assistant.evaluation.results import CaseResult

TEMPLATE = "report.html.j2"
WORST = 15
SNIPPET_CHARS = 700
# Shares in [0, 1] drawn as bars: the quality metrics --fail-below accepts, of the whole set
# (the parts' figures are in the "Answer, hedge or refuse" table).
BAR_METRICS = tuple(n for n in GATE_METRICS if not n.startswith(PER_PART))
_LOWER = ("ece", "aurc", "risk@cov50", "risk@cov80")
LOWER_IS_BETTER = {
    "refusal.wrong_refusal_rate",
    "outcomes.answerable.refused",
    "outcomes.unanswerable.answer",
    "outcomes.unanswerable.hedged",
    *(n for n in CALIBRATION_GATES if n.rpartition(".")[2] in _LOWER),
}
# Neither direction is better (a share of outcomes of the whole set, a mean confidence) or the
# figure cannot move (every answer to an unanswerable question is wrong): Δ is not coloured.
NEITHER = {
    "outcomes.answer",
    "outcomes.hedged",
    "outcomes.refused",
    "outcomes.answerable.hedged",
    "outcomes.unanswerable.answer_accuracy",
    "outcomes.unanswerable.hedge_right",
    "calibration.unanswerable.accuracy",
    *(n for n in CALIBRATION_GATES if n.endswith("mean_confidence")),
}


def safe_href(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None (javascript:, data:, relative: no link)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _count_for(metrics: dict[str, Any], name: str) -> int | None:
    group, _, metric = name.partition(".")
    values = metrics.get(group) or {}
    *parts, metric = metric.split(".")  # outcomes.answerable.refused: the part's own counts
    for part in parts:
        values = values.get(part) or {}
    specific = {
        "mc_accuracy": "n_mc",
        "answer_accuracy": "n_answer_scored",
        "hedge_right": "n_hedged_scored",
        "valid_share": "n_markers",
        "supported_share": "n_cited_sentences",
        "answers_with_citation": "n_answers",
        "evidence_recall": "n_evidence",
        "faithfulness": "n_claims",
        "recall": "n_unanswerable",
        "precision": "n_refused",
        "wrong_refusal_rate": "n_answerable",
    }
    key = specific.get(metric, "n")
    value = values.get(key, values.get("n"))
    return int(value) if isinstance(value, int) else None


def summary_rows(report: dict[str, Any], leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One row per quality metric (names starting with a ``leave_out`` prefix left out)."""
    metrics = report["metrics"]
    deltas = (report.get("baseline") or {}).get("deltas") or {}
    rows = []
    for name, value in flatten(metrics).items():
        if name.startswith(("latency_ms.", *leave_out)):
            continue
        d = deltas.get(name) or {}
        delta = d.get("delta")
        better = None
        if delta is not None and abs(delta) > 1e-12 and name not in NEITHER:
            better = (delta < 0) if name in LOWER_IS_BETTER else (delta > 0)
        rows.append(
            {
                "name": name,
                "value": _fmt(value),
                "n": _count_for(metrics, name),
                "baseline": _fmt(d.get("baseline")) if d else None,
                "delta": (f"{delta:+.3f}" if delta is not None else "–") if d else None,
                "better": better,
            }
        )
    return rows


def bar_chart(report: dict[str, Any]) -> dict[str, Any]:
    flat = flatten(report["metrics"])
    base = {
        k: v.get("baseline")
        for k, v in ((report.get("baseline") or {}).get("deltas") or {}).items()
    }
    left, width, row_h = 230, 300, 22
    bars = []
    for i, name in enumerate(n for n in BAR_METRICS if n in flat):
        value = flat[name]
        b = base.get(name)
        bars.append(
            {
                "label": name,
                "y": 10 + i * row_h,
                "w": 0 if value is None else width * max(0.0, min(1.0, value)),
                "text": _fmt(value),
                "base_x": None if b is None else left + width * max(0.0, min(1.0, b)),
                "bad": name in LOWER_IS_BETTER,
            }
        )
    return {
        "bars": bars,
        "left": left,
        "width": width,
        "height": 20 + len(bars) * row_h,
        "row_h": row_h,
        "total_w": left + width + 70,
    }


def latency_histogram(rows: Sequence[CaseResult], bins: int = 12) -> dict[str, Any]:
    """Histogram of each question's total time (answer total, or retrieval alone)."""
    values = [r.timings_ms.get("total") for r in rows if r.error is None]
    data = [float(v) for v in values if v is not None]
    width, height, left, bottom = 560, 200, 50, 30
    if not data:
        return {"empty": True}
    lo, hi = min(data), max(data)
    span = (hi - lo) or max(hi, 1.0)
    step = span / bins
    counts = [0] * bins
    for v in data:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    top = max(counts)
    bar_w = (width - left - 10) / bins
    bars = [
        {
            "x": left + i * bar_w,
            "w": bar_w - 2,
            "h": (height - bottom - 10) * c / top,
            "y": height - bottom - (height - bottom - 10) * c / top,
            "count": c,
            "range": f"{lo + i * step:.0f}–{lo + (i + 1) * step:.0f} ms",
        }
        for i, c in enumerate(counts)
    ]
    p50, p95 = m.percentile(data, 50), m.percentile(data, 95)

    def x_of(v: float | None) -> float | None:
        return None if v is None else left + (v - lo) / span * (width - left - 10)

    return {
        "empty": False,
        "bars": bars,
        "width": width,
        "height": height,
        "left": left,
        "axis_y": height - bottom,
        "lo": f"{lo:.0f} ms",
        "hi": f"{hi:.0f} ms",
        "top": top,
        "p50_x": x_of(p50),
        "p95_x": x_of(p95),
        "p50": _fmt(p50, 0),
        "p95": _fmt(p95, 0),
        "n": len(data),
    }


def hit_curve_plot(report: dict[str, Any]) -> dict[str, Any]:
    width, height, left, bottom, top_pad = 420, 220, 45, 30, 10
    inner_w, inner_h = width - left - 15, height - bottom - top_pad

    def points(curve: dict[str, Any] | None) -> list[dict[str, Any]]:
        pts = []
        for k in HIT_CURVE:
            v = (curve or {}).get(str(k))
            if isinstance(v, int | float):
                x = left + (k - 1) / (len(HIT_CURVE) - 1) * inner_w
                pts.append({"x": x, "y": top_pad + inner_h * (1 - v), "k": k, "v": _fmt(v)})
        return pts

    now = points((report.get("curves") or {}).get("hit@k"))
    base = points(((report.get("baseline") or {}).get("curves") or {}).get("hit@k"))
    grid = [{"y": top_pad + inner_h * (1 - g / 4), "label": f"{g / 4:.2f}"} for g in range(5)]
    ticks = [{"x": left + (k - 1) / (len(HIT_CURVE) - 1) * inner_w, "k": k} for k in HIT_CURVE]
    return {
        "empty": not now,
        "width": width,
        "height": height,
        "left": left,
        "right": width - 15,
        "axis_y": height - bottom,
        "grid": grid,
        "ticks": ticks,
        "points": now,
        "line": " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in now),
        "base_line": " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in base),
    }


def badness(row: CaseResult) -> float:
    """How badly a question went: errors, wrong choices and refusals, missed evidence, low F1."""
    if row.error:
        return 10.0
    score = 0.0
    if row.scores.get("mc_correct") == 0.0:
        score += 2.0
    if row.verdicts.get("refusal") in ("wrong_refusal", "missed_refusal"):
        score += 2.0
    if row.evidence and row.retrieval:
        if row.evidence_rank is None:
            score += 1.5
        elif row.evidence_rank > 5:
            score += 0.5
    if row.answered and row.answerable and row.answers:
        score += 1.0 - float(row.scores.get("f1") or 0.0)
        if not row.scores.get("contained"):
            score += 0.5
    return score


def _passage_view(p: dict[str, Any], evidence: set[str]) -> dict[str, Any]:
    text = str(p.get("text") or "")
    return {
        "n": p.get("n"),
        "title": p.get("title") or p.get("article_id") or "untitled",
        "article_id": p.get("article_id"),
        "href": safe_href(p.get("url")),
        "source": p.get("source") or "unknown outlet",
        "published": p.get("published") or "undated",
        "text": text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else ""),
        "evidence": m.normalize_id(str(p.get("article_id") or "")) in evidence,
    }


def worst_questions(rows: Sequence[CaseResult], limit: int = WORST) -> list[dict[str, Any]]:
    ranked = sorted((r for r in rows if badness(r) > 0), key=lambda r: (-badness(r), r.index))
    views = []
    for r in ranked[:limit]:
        evidence = {m.normalize_id(e) for e in r.evidence}
        views.append(
            {
                "id": r.id,
                "question": r.question,
                "date": r.date or "",
                "error": r.error,
                "answers": r.answers,
                "answer": r.answer,
                "refused": r.refused,
                "outcome": r.outcome,
                "confidence": None if r.confidence is None else _fmt(r.confidence),
                "choice": r.choice,
                "choices": r.choices,
                "verdicts": r.verdicts,
                "f1": _fmt(r.scores.get("f1")),
                "badness": f"{badness(r):.2f}",
                "evidence_rank": r.evidence_rank,
                "evidence": [{"id": e, "href": safe_href(e)} for e in r.evidence],
                "passages": [_passage_view(p, evidence) for p in r.passages[:3]],
                "citations": [
                    {
                        "n": c.get("n"),
                        "quote": c.get("quote", ""),
                        "supported": c.get("supported"),
                        "title": c.get("title") or c.get("article_id"),
                    }
                    for c in r.citations[:6]
                ],
            }
        )
    return views


def _table(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), "–" if v is None else str(v)) for k, v in values.items()]


def render_html(report: dict[str, Any], rows: Sequence[CaseResult]) -> str:
    """The whole report page as one string."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    latency = [
        {
            "stage": stage,
            "p50": _fmt(v.get("p50"), 1),
            "p95": _fmt(v.get("p95"), 1),
            "mean": _fmt(v.get("mean"), 1),
            "n": v.get("n"),
        }
        for stage, v in (report["metrics"].get("latency_ms") or {}).items()
    ]
    usage = report["metrics"].get("usage")
    baseline = report.get("baseline")
    return env.get_template(TEMPLATE).render(
        report=report,
        summary=summary_rows(report, leave_out=PER_PART),
        outcomes=figures.outcome_table(report["metrics"]),
        outcomes_explained=figures.EXPLAINED,
        reliability=figures.reliability_rows(report["metrics"]),
        reliability_plot=figures.reliability_plot(report["metrics"]),
        risk_plot=figures.risk_coverage_plot(report),
        bars=bar_chart(report),
        histogram=latency_histogram(rows),
        curve=hit_curve_plot(report),
        worst=worst_questions(rows),
        latency=latency,
        usage=_table(usage) if usage else [],
        counts=_table(report.get("counts") or {}),
        settings=_table(report.get("settings") or {}),
        versions=_table(report.get("versions") or {}),
        options=_table(report.get("options") or {}),
        gates=(report.get("gates") or {}).get("failures") or [],
        baseline=baseline,
    )
