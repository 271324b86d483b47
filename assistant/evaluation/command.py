"""``assistant eval``: score the whole pipeline on a question set and write the reports.

Light at import time (``assistant --help`` stays fast): the library is imported inside functions.
:func:`run` is the whole command without the CLI, for tests and scripts; it accepts an injected
``Assistant`` (and judge model), otherwise builds one from ``Settings``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assistant.errors import UsageError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.config import Settings
    from assistant.evaluation.results import CaseResult
    from assistant.evaluation.runner import EvalOptions
    from assistant.models import IngestReport
    from assistant.service import Assistant, ProgressFn

EMPTY_STORE = "no articles indexed: run `assistant ingest seeds/` or pass --corpus"


@dataclass
class EvalOutcome:
    report: dict[str, Any]
    rows: list[CaseResult] = field(default_factory=list)
    exit_code: int = 0


def build_assistant(settings: Settings) -> Assistant:
    """The Assistant an eval runs against (tests replace this to inject fakes)."""
    from assistant.service import Assistant

    return Assistant(settings)


def _echo(message: str) -> None:
    sys.stderr.write(message + "\n")


def run(
    options: EvalOptions,
    *,
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    judge_model: BaseChatModel | None = None,
    echo: Callable[[str], None] = _echo,
    on_row: Callable[[CaseResult], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_ingest: ProgressFn | None = None,
) -> EvalOutcome:
    """Ingest the corpus (if any), evaluate the questions, write report.json/results.jsonl/
    report.html under ``options.out_dir`` and check the floors. ``on_start(total, done)`` is
    called once the pending questions are known; ``on_ingest`` follows the corpus ingest."""
    from assistant.evaluation import report as rep
    from assistant.evaluation.cases import corpus_collection, load_cases
    from assistant.evaluation.gates import check_floor_names, check_gates, load_baseline
    from assistant.evaluation.page import render_html
    from assistant.evaluation.runner import run_cases

    check_floor_names(options.fail_below)  # a typo must fail before a long run, not after
    check_floor_names(options.fail_above, "--fail-above")
    baseline = load_baseline(options.baseline) if options.baseline else None
    cases = load_cases(options.questions, options.limit)
    if options.corpus is not None and not options.corpus.exists():
        msg = f"--corpus {options.corpus} not found"
        raise UsageError(msg)

    if assistant is None:
        from assistant.config import Settings

        settings = settings or Settings()
        if options.corpus is not None:
            settings = settings.model_copy(update={"collection": corpus_collection(options.corpus)})
        assistant = build_assistant(settings)
    settings = assistant.settings
    ingest_summary = None
    if options.corpus is not None:
        ingest_summary = _ingest(assistant, options.corpus, echo, on_ingest)
    if assistant.stats().articles == 0:
        raise UsageError(EMPTY_STORE)
    if options.judge and judge_model is None and not options.retrieval_only:
        judge_model = assistant.judge_model()

    options.out_dir.mkdir(parents=True, exist_ok=True)
    rows, resumed = run_cases(
        assistant, cases, options, judge_model=judge_model, on_row=on_row, on_start=on_start
    )

    public = settings.public_dict()
    metrics = rep.summarize(
        rows,
        retrieval_only=options.retrieval_only,
        judge=options.judge,
        settings=public,
        price=options.price,
    )
    gates = check_gates(metrics, options.fail_below, options.fail_above)
    report = rep.build_report(
        rows,
        metrics,
        settings=public,
        options=options.model_dump(mode="json"),
        questions=len(cases),
        resumed=resumed,
        mode=assistant.mode,
        baseline=baseline,
        baseline_path=str(options.baseline) if options.baseline else None,
        gates=gates,
        ingest=ingest_summary,
    )
    rep.write_json(options.out_dir / "report.json", report)
    (options.out_dir / "report.html").write_text(render_html(report, rows), encoding="utf-8")
    errors = report["counts"]["errors"]
    if errors:
        echo(f"{errors} question(s) failed; see the 'error' field in results.jsonl")
    for failure in gates:
        echo(f"gate failed: {failure}")
    return EvalOutcome(report, rows, 1 if gates or errors else 0)


def _ingest(
    assistant: Assistant,
    corpus: Path,
    echo: Callable[[str], None],
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    report = assistant.ingest([str(corpus)], progress=progress)
    for failure in report.failed[:10]:
        echo(f"failed: {failure}")
    echo(
        f"corpus {corpus} -> collection {assistant.settings.collection!r}: "
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped, {len(report.failed)} failed — {report.chunks_added} chunks "
        f"written, {report.chunks_embedded} embedded in {report.seconds:.1f}s"
    )
    return report.model_dump(mode="json", exclude={"failed"}) | {"failed": len(report.failed)}


def _parse_price(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        a, b = (float(x) for x in value.split(","))
    except ValueError:
        msg = (
            f"--price expects INPUT,OUTPUT in USD per million tokens, e.g. 0.15,0.6, not {value!r}"
        )
        raise UsageError(msg) from None
    return a, b


def _split_floors(items: Sequence[str]) -> list[str]:
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def eval_command(
    questions: Annotated[
        Path,
        typer.Argument(
            help="Question set JSONL (id, question, answer, choices, evidence, answerable, date)."
        ),
    ],
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus", help="Articles to ingest first, into their own collection (idempotent)."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.json, results.jsonl and report.html.")
    ] = Path("eval-out"),
    k: Annotated[
        int,
        typer.Option(
            "--k",
            min=1,
            max=50,
            help="Passages the answer uses (retrieval metrics use the top 10).",
        ),
    ] = 5,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N questions.")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="An earlier report.json: show deltas per metric."),
    ] = None,
    fail_below: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-below",
            help="metric=floor, e.g. retrieval.hit@5=0.8 (repeatable); exit 1 when under.",
        ),
    ] = None,
    fail_above: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-above",
            help="metric=ceiling, e.g. calibration.ece=0.08 (repeatable); exit 1 when over.",
        ),
    ] = None,
    retrieval_only: Annotated[
        bool,
        typer.Option("--retrieval-only", help="Only search: no answers, choices or citations."),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Keep the finished questions in OUT/results.jsonl and ask only the rest.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Questions in parallel in LLM mode (extractive runs one at a time).",
        ),
    ] = 4,
    judge: Annotated[
        bool,
        typer.Option(
            "--judge", help="Also score faithfulness with the LLM as a judge (needs an LLM)."
        ),
    ] = False,
    price: Annotated[
        str | None,
        typer.Option(
            "--price",
            help="USD per million input,output tokens for the cost (default: OpenAI list price).",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON instead of a table.")
    ] = False,
) -> None:
    """Evaluate retrieval, answers, refusals and citations on a question set."""
    import json

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from assistant.evaluation.gates import parse_floors
    from assistant.evaluation.runner import EvalOptions

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    options = EvalOptions(
        questions=questions,
        out_dir=out,
        corpus=corpus,
        k=k,
        limit=limit,
        workers=workers,
        retrieval_only=retrieval_only,
        resume=resume,
        judge=judge,
        baseline=baseline,
        fail_below=parse_floors(_split_floors(fail_below or [])),
        fail_above=parse_floors(_split_floors(fail_above or []), "--fail-above"),
        price=_parse_price(price),
    )
    with Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("eval", total=None, status="")
        tally = {"hit": 0, "retrieval": 0}

        def on_start(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)

        def on_row(row: CaseResult) -> None:
            if row.retrieval:
                tally["retrieval"] += 1
                tally["hit"] += int(bool(row.retrieval.get("hit@5")))
            status = f"hit@5 {tally['hit']}/{tally['retrieval']}" if tally["retrieval"] else ""
            progress.update(task, advance=1, status=status)

        def echo(message: str) -> None:
            progress.console.print(message, markup=False, highlight=False)

        def on_ingest(report: IngestReport, seen: int) -> None:
            status = f"ingest: {seen} articles read, {report.chunks_embedded} chunks embedded"
            progress.update(task, status=status)

        outcome = run(options, echo=echo, on_row=on_row, on_start=on_start, on_ingest=on_ingest)
    if json_out:
        sys.stdout.write(json.dumps(outcome.report["metrics"], indent=2) + "\n")
    else:
        _print_summary(outcome.report, out)
    raise typer.Exit(outcome.exit_code)


def _print_summary(report: dict[str, Any], out_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from assistant.evaluation.page import summary_rows

    console = Console(highlight=False, soft_wrap=True)
    shown_apart = ("outcomes.", "calibration.")  # in their own, shorter table below
    counts = report["counts"]
    table = Table(
        title=f"{counts['evaluated']}/{counts['questions']} questions, {report['mode']} mode"
    )
    with_baseline = "baseline" in report
    for column in ("metric", "value", "n", *(("baseline", "Δ") if with_baseline else ())):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in summary_rows(report, leave_out=shown_apart):
        cells = [row["name"], row["value"], "–" if row["n"] is None else str(row["n"])]
        if with_baseline:
            cells += [row["baseline"] or "–", row["delta"] or "–"]
        table.add_row(*cells)
    console.print(table)
    _print_outcomes(console, report)
    for stage, values in (report["metrics"].get("latency_ms") or {}).items():
        p50, p95 = values.get("p50"), values.get("p95")
        if p50 is not None and p95 is not None:
            console.print(f"latency {stage}: p50 {p50:.0f} ms, p95 {p95:.0f} ms (n={values['n']})")
    usage = report["metrics"].get("usage")
    if usage:
        cost = usage.get("cost_usd")
        console.print(
            f"tokens: {usage['input_tokens']} in, {usage['output_tokens']} out"
            + (f", cost ${cost:.4f}" if cost is not None else "")
        )
    console.print(f"report: {out_dir / 'report.html'}  (also report.json, results.jsonl)")


def _print_outcomes(console: Any, report: dict[str, Any]) -> None:
    """Answer, hedge or refuse: one line per figure, one column for the set and one per part."""
    from rich.table import Table

    from assistant.evaluation.figures import EXPLAINED, FIGURES, outcome_table

    parts = outcome_table(report["metrics"])
    if not parts:
        return
    table = Table(title="Answer, hedge or refuse")
    table.add_column("metric")
    for part in parts:
        table.add_column(part["part"], justify="right")
    for key, name in FIGURES:
        table.add_row(name, *(part[key] for part in parts))
    console.print(table)
    console.print(
        EXPLAINED + " Per part, the names read e.g. outcomes.answerable.refused; the reliability "
        "table and the risk-coverage curve are in the report."
    )
