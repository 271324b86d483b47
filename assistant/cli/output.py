"""What the ``assistant`` command prints: rich answers and passages, JSON, one-line errors.

Errors are one line on stderr (no traceback unless ``--debug``); exit codes: 0 all good, 1 some
inputs failed or a gate failed, 2 usage or configuration error.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from assistant.errors import AssistantError, UsageError

if TYPE_CHECKING:
    from assistant.models import Answer, Citation, Passage


out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
cli_state: dict[str, bool] = {"debug": False}

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn errors into one line on stderr and the documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AssistantError as exc:
            if cli_state["debug"]:
                raise
            err.print(f"error: {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if cli_state["debug"]:
                raise
            from pydantic import ValidationError

            if isinstance(exc, ValidationError):  # bad ASSISTANT_* setting
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
                err.print(f"error: invalid setting {where}: {escape(first.get('msg', ''))}")
                raise typer.Exit(2) from None
            err.print(
                f"error: {type(exc).__name__}: {escape(str(exc).splitlines()[0] if str(exc) else '')}"
                " (run with --debug for details)"
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        msg = f"{option} must be a date like 2022-06-17, not {value!r}"
        raise UsageError(msg) from None


def dump_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def passage_json(p: Passage) -> dict[str, Any]:
    return p.model_dump(mode="json", exclude={"dense_score"})


def _source_line(p: Any) -> str:
    bits = [p.source or "unknown outlet", p.published.isoformat() if p.published else "undated"]
    return f"{p.title or p.article_id} — {', '.join(bits)}"


def print_passage(p: Passage) -> None:
    ranks = f"dense #{p.dense_rank or '-'}, bm25 #{p.lexical_rank or '-'}, score {p.score:.4f}"
    out.print(f"[bold][{p.n}][/] {escape(_source_line(p))}  [dim]({ranks})[/]")
    if p.url:
        out.print(f"    {escape(p.url)}")
    out.print(f"    {escape(p.text[:600])}{'…' if len(p.text) > 600 else ''}\n")


_SOURCES_LINE = re.compile(r"\n\s*Sources?:[^\n]*\s*$")


def _label(answer: Answer) -> str:
    """What kind of answer this is, in a few plain words."""
    if answer.outcome == "refused":
        return "no answer in the articles"
    if answer.outcome == "hedged":
        how = " (extractive, no LLM configured)" if answer.mode == "extractive" else ""
        return f"[yellow]unsure answer{how}[/]"
    return "extractive answer (no LLM configured)" if answer.mode == "extractive" else "answer"


def _body(answer: Answer) -> str:
    """The answer's text; the closing ``Sources:`` line is left out when the sources block
    below lists the sources (with titles, quotes and links) anyway."""
    text = answer.answer
    return _SOURCES_LINE.sub("", text) if answer.citations else text


def print_answer(answer: Answer, reprint: bool = True) -> None:
    """The answer (unless ``reprint`` is False: it was streamed), its warnings and its sources,
    each source once; with ``--debug`` the outcome's numbers on stderr."""
    from assistant.models import HEDGE_LEAD

    if answer.standalone_question != answer.question:
        out.print(f"[dim]searched for: {escape(answer.standalone_question)}[/]")
    text = _body(answer)
    hedged = answer.outcome == "hedged" and text.startswith(HEDGE_LEAD)
    if reprint:
        out.print(f"[bold]{_label(answer)}[/]")
        if hedged:
            out.print(f"[yellow]{escape(HEDGE_LEAD)}[/]")
            text = text[len(HEDGE_LEAD) :].lstrip("\n")
        out.print(escape(text))
    elif hedged:  # streamed: the model's text came without it
        out.print(f"\n[yellow]{escape(HEDGE_LEAD)}[/]")
    for sentence in answer.unsupported_sentences:
        out.print(f"[yellow]unsupported:[/] {escape(sentence)}")
    if answer.invalid_markers:
        out.print(
            f"[yellow]{answer.invalid_markers} citation marker(s) pointed to no source and were removed[/]"
        )
    if answer.citations:
        out.print("\n[bold]sources[/]")
    shown: set[int] = set()
    for c in answer.citations:
        if c.n in shown:
            continue
        shown.add(c.n)
        mark = "" if c.supported else " [yellow](weak support)[/]"
        out.print(f"[bold][{c.n}][/] {escape(_source_line(c))}{mark}")
        if c.url:
            out.print(f"    {escape(c.url)}")
        out.print(f"    “{_quote(c, answer)}” [dim](chars {c.start}–{c.end})[/]")
    if cli_state["debug"]:
        print_reasons(answer)


def _quote(c: Citation, answer: Answer) -> str:
    """The quote, escaped, with the short answer in bold where it lies inside it."""
    short = answer.short_answer
    if short is None or short.n != c.n or not (c.start <= short.start < short.end <= c.end):
        return escape(c.quote)
    a, b = short.start - c.start, short.end - c.start
    return f"{escape(c.quote[:a])}[bold]{escape(c.quote[a:b])}[/]{escape(c.quote[b:])}"


def print_reasons(answer: Answer) -> None:
    """The numbers behind the outcome, on stderr (``--debug``)."""
    confidence = "-" if answer.confidence is None else f"{answer.confidence:.3f}"
    answerability = "-" if answer.answerability is None else f"{answer.answerability:.3f}"
    err.print(
        f"[dim]outcome {answer.outcome}, confidence {confidence}, answerability {answerability}[/]"
    )
    for r in answer.reasons:
        bits = [r.code]
        if r.value is not None:
            bits.append(f"{r.value:.4g}")
        if r.threshold is not None:
            bits.append(f"(threshold {r.threshold:.4g})")
        if r.items:
            bits.append("; ".join(r.items))
        err.print(f"[dim]  reason: {escape(' '.join(bits))}[/]")
