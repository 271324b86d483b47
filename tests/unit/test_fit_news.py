"""The refit's decisions (benchmarks/fit_news.py): which questions it may read, the outcome rule
it simulates, how it picks the cuts, and the calibration error it reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.fit_news import choose_cuts, ece, outcome, year_questions


def _q(qid: str, date: str, **extra: object) -> dict[str, object]:
    return {"id": qid, "question": "Who?", "date": date, "week": date, "answer": ["x"],
            "results": ["https://a.example/1"], "in_dev": False, **extra}  # fmt: skip


def test_fit_questions_leave_out_dev_held_out_weeks_and_questions_without_results(
    tmp_path: Path,
) -> None:
    rows = [
        _q("keep", "2022-11-18"),
        _q("dev", "2022-07-22", in_dev=True),
        _q("held-first-day", "2022-08-26"),
        _q("held-last-day", "2022-11-11"),
        _q("held-week", "2022-11-10", week="2022-11-11"),
        _q("no-results", "2022-12-02", results=[]),
    ]
    (tmp_path / "questions-2022.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    assert [q["id"] for q in year_questions(tmp_path, 2022)] == ["keep"]
    assert year_questions(tmp_path, 2019) == []


def _row(**kw: object) -> dict[str, object]:
    row = {"kind": "as-is", "answerable": True, "passages": 5, "produced": True, "short": True,
           "missing": False, "right": True, "share": 1.0}  # fmt: skip
    return {**row, **kw}


def test_the_simulated_outcome_follows_the_products_rule() -> None:
    assert outcome(0.9, _row(), 0.2, 0.5) == "answer"
    assert outcome(0.3, _row(), 0.2, 0.5) == "hedged"
    assert outcome(0.3, _row(short=False), 0.2, 0.5) == "refused"  # nothing to offer
    assert outcome(0.3, _row(missing=True), 0.2, 0.5) == "refused"  # names another story
    assert outcome(0.9, _row(missing=True), 0.2, 0.5) == "answer"
    assert outcome(0.1, _row(), 0.2, 0.5) == "refused"
    assert outcome(0.9, _row(passages=0), 0.2, 0.5) == "refused"


def test_cuts_answer_right_often_enough_and_refuse_few_answerable_questions() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 1.0, 400)
    rows = [_row(right=bool(rng.uniform() < pi)) for pi in p]  # right about p of the time
    cuts = choose_cuts(rows, p)
    assert cuts["hedge_at"] <= cuts["answer_at"]
    answered = p >= cuts["answer_at"]
    assert np.mean([r["right"] for r, a in zip(rows, answered, strict=True) if a]) >= 0.60
    lower = [r["right"] for r, pi in zip(rows, p, strict=True) if pi >= cuts["answer_at"] - 0.05]
    assert np.mean(lower) < 0.60 + 0.05  # the lowest such cut, not any higher one
    refused = [outcome(pi, r, cuts["hedge_at"], cuts["answer_at"]) == "refused"
               for pi, r in zip(p, rows, strict=True)]  # fmt: skip
    assert np.mean(refused) <= 0.05
    assert cuts["hedge_at"] >= 0.03  # the highest cut that still refuses at most 5%
    assert (p >= cuts["floor"]).mean() >= 0.99


def test_calibration_error() -> None:
    assert ece([], []) is None
    assert ece([0.25] * 4, [True, False, False, False]) == 0.0
    assert ece([0.9] * 10, [True] * 5 + [False] * 5) == 0.4


def test_the_reader_weights_ship_with_the_package() -> None:
    from importlib import resources

    from assistant.answering import reader
    from benchmarks.fit_news import _reader_values

    shipped = json.loads(
        resources.files("assistant.answering").joinpath("reader.json").read_text(encoding="utf-8")
    )
    assert shipped["fitted_on"]
    assert {name: getattr(reader, name) for name in _reader_values(shipped)} == _reader_values(
        shipped
    )
    assert shipped["second_share"] == reader.SECOND_SHARE


def test_the_reader_search_leaves_the_pinned_rules_alone(monkeypatch) -> None:
    import benchmarks.fit_news as fit

    calls: list[dict[str, object]] = []

    def score(_cases: object, params: dict[str, dict[str, float]]) -> float:
        calls.append(params)
        return sum(params["short"].values()) + sum(params["sentence"].values())  # more is better

    monkeypatch.setattr(fit, "short_right", score)
    start = json.loads(
        (Path(fit.__file__).parent.parent / "assistant/answering/reader.json").read_text()
    )
    best, _ = fit.fit_reader([], start)
    for group, name in fit.FIXED:
        assert best[group][name] == start[group][name]
        assert all(c[group][name] == start[group][name] for c in calls)  # type: ignore[index]
    assert best["short"]["near"] == max(fit.SHORT_GRID)  # the others do move
