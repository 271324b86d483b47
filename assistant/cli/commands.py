"""The commands of ``assistant``: a thin typer app over ``assistant.service``.

Errors are one line on stderr (no traceback unless ``--debug``); exit codes: 0 all good, 1 some
inputs failed or a gate failed, 2 usage or configuration error. What the commands print is in
:mod:`assistant.cli.output`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from assistant.cli.output import (
    cli_state,
    dump_json,
    err,
    handle_errors,
    out,
    parse_date,
    passage_json,
    print_answer,
    print_passage,
)
from assistant.errors import UsageError

if TYPE_CHECKING:
    from assistant.models import IngestReport
    from assistant.service import Assistant

app = typer.Typer(
    help="Ask questions about a collection of news articles; answers cite their sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show tracebacks on errors, library log lines, and the numbers behind an "
            "answer's outcome.",
        ),
    ] = False,
) -> None:
    from assistant.cli.logs import configure_logging

    cli_state["debug"] = debug
    configure_logging(debug)


def _assistant() -> Assistant:
    from assistant.config import Settings
    from assistant.service import Assistant

    return Assistant(Settings())


# --- ingest ------------------------------------------------------------------------------------


@app.command()
@handle_errors
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (txt, md, html, jsonl, json, csv, rss/atom) or http(s) URLs "
            "of article pages and RSS/Atom feeds."
        ),
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Index articles; unchanged ones are skipped, changed ones replaced."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    assistant = _assistant()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        TextColumn("{task.fields[articles]} articles, {task.fields[chunks]} chunks embedded"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=json_out or not err.is_terminal,
    ) as progress:
        task = progress.add_task("ingest", total=None, articles=0, chunks=0)

        def update(report: IngestReport, seen: int) -> None:
            progress.update(task, articles=seen, chunks=report.chunks_embedded)

        report = assistant.ingest([str(p) for p in paths], progress=update)
    for failure in report.failed:
        err.print(f"failed: {escape(str(failure))}")
    for url in report.not_modified:
        err.print(f"[dim]not modified since the last poll: {escape(url)}[/]")
    if json_out:
        dump_json(report.model_dump(mode="json"))
    else:
        out.print(
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.skipped} skipped, {len(report.failed)} failed — "
            f"{report.chunks_added} chunks written, {report.chunks_embedded} embedded "
            f"in {report.seconds:.1f}s"
        )
    if report.failed:
        raise typer.Exit(1)


# --- search / ask ------------------------------------------------------------------------------

SinceOption = Annotated[
    str | None, typer.Option(help="Only articles published on/after (YYYY-MM-DD).")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Only articles published on/before (YYYY-MM-DD).")
]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", help="Only this outlet (repeatable).")
]


@app.command()
@handle_errors
def search(
    question: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages to return.")] = 5,
    since: SinceOption = None,
    until: UntilOption = None,
    source: SourceOption = None,
    mode: Annotated[str, typer.Option(help="fused, rrf, dense or lexical.")] = "fused",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Day the question is asked (YYYY-MM-DD): recency is "
            "measured from it and nothing published later is searched.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Retrieve the passages that best match a question (no answer)."""
    from assistant.service import SEARCH_MODES

    if mode not in SEARCH_MODES:
        msg = f"--mode must be one of {', '.join(SEARCH_MODES)}"
        raise UsageError(msg)
    passages = _assistant().search(
        question,
        k,
        parse_date(since, "--since"),
        parse_date(until, "--until"),
        source,
        mode,
        as_of=parse_date(as_of, "--as-of"),
    )
    if json_out:
        from assistant.models import SearchResult

        result = SearchResult(query=question, passages=passages)
        dump_json(
            result.model_dump(mode="json", exclude={"passages": {"__all__": {"dense_score"}}})
        )
        return
    if not passages:
        out.print("no passages match")
    for p in passages:
        print_passage(p)


@app.command()
@handle_errors
def ask(
    question: Annotated[str, typer.Argument(help="Your question about the articles.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Passages to use.")] = 5,
    since: SinceOption = None,
    until: UntilOption = None,
    source: SourceOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date the question is asked (default today).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
) -> None:
    """Answer a question from the articles, with numbered, verified citations."""
    from assistant.models import Answer, Request

    assistant = _assistant()
    request = Request(
        question=question,
        as_of=parse_date(as_of, "--as-of"),
        k=k,
        since=parse_date(since, "--since"),
        until=parse_date(until, "--until"),
        sources=source,
    )
    if json_out:
        answer = assistant.ask(request)
        data = answer.model_dump(mode="json")
        data["passages"] = [passage_json(p) for p in answer.passages]
        dump_json(data)
        return
    final: Answer | None = None
    streamed = False
    for item in assistant.stream(request):
        if isinstance(item, Answer):
            final = item
        elif assistant.mode == "llm":
            streamed = True
            out.print(escape(item), end="")
    if streamed:
        out.print()
    assert final is not None
    print_answer(final, reprint=not streamed)


# --- timeline / watch (following the news) -----------------------------------------------------


@app.command()
@handle_errors
def timeline(
    query: Annotated[str, typer.Argument(help="The story to follow, e.g. 'plastic treaty'.")],
    since: SinceOption = None,
    until: UntilOption = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Events (stories) at most.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How a story developed: one dated, quoted sentence per story, oldest first."""
    result = _assistant().timeline(
        query, parse_date(since, "--since"), parse_date(until, "--until"), k
    )
    if json_out:
        data = result.model_dump(mode="json")
        for event in data["events"]:
            if not event.get("also_in"):
                event.pop("also_in", None)
        dump_json(data)
        return
    if not result.events:
        out.print("no dated articles match")
    for ev in result.events:
        outlets = ", ".join(c.source or c.article_id for c in ev.also_in)
        also = f" [dim](also reported by {escape(outlets)})[/]" if outlets else ""
        out.print(
            f"[bold]{ev.date}[/]  {escape(ev.title or ev.article_id)} — {escape(ev.source or 'unknown outlet')}{also}"
        )
        out.print(f"    “{escape(ev.quote)}” [dim](chars {ev.start}–{ev.end})[/]")
        if ev.url:
            out.print(f"    {escape(ev.url)}")


@app.command()
@handle_errors
def watch(
    feeds_file: Annotated[Path, typer.Argument(help="One feed URL per line; # starts a comment.")],
    every: Annotated[str, typer.Option(help="Poll interval, e.g. 30s, 15m, 2h.")] = "15m",
    max_polls: Annotated[
        int | None, typer.Option("--max-polls", min=1, help="Stop after this many polls.")
    ] = None,
) -> None:
    """Poll feeds and ingest new items until Ctrl-C (state kept in the store folder)."""
    code = _assistant().watch(
        feeds_file,
        every,
        max_polls,
        out=lambda line: out.print(escape(line)),
        err=lambda line: err.print(escape(line)),
    )
    raise typer.Exit(code)


# --- stats / delete / ui -----------------------------------------------------------------------


@app.command()
@handle_errors
def stats(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Articles, chunks, outlets and date range of the collection."""
    s = _assistant().stats()
    if json_out:
        dump_json(s.model_dump(mode="json"))
        return
    out.print(f"collection {s.collection!r}: {s.articles} articles, {s.chunks} chunks")
    out.print(f"embeddings: {s.embedding_model}")
    out.print(f"published: {s.earliest or '-'} … {s.latest or '-'}")
    for name, count in list(s.sources.items())[:20]:
        out.print(f"  {escape(name)}: {count}")


@app.command()
@handle_errors
def delete(
    article_id: Annotated[str, typer.Argument(help="Article id (see `search --json`).")],
) -> None:
    """Remove an article from every index."""
    removed = _assistant().delete(article_id)
    if not removed:
        err.print(f"error: no article with id {escape(article_id)!r}")
        raise typer.Exit(1)
    out.print(f"deleted {article_id}: {removed} chunks")


@app.command()
@handle_errors
def ui(
    port: Annotated[
        int | None, typer.Option(help="Port (default ASSISTANT_UI_PORT or 8501).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
) -> None:
    """Open the chat in the browser (Streamlit)."""
    from assistant.config import Settings

    settings = Settings()
    from assistant.service import ui_app_path

    app_file = ui_app_path()
    if not app_file.exists():
        msg = f"the UI is not installed with the package ({app_file} missing): reinstall it"
        raise UsageError(msg)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.address",
        host or settings.ui_host,
        "--server.port",
        str(port or settings.ui_port),
        "--browser.gatherUsageStats",
        "false",
        # Streamlit's own log lines (server started, warnings) only with --debug
        "--logger.level",
        "info" if cli_state["debug"] else "error",
    ]
    if os.name == "posix":  # Streamlit takes this process over: a SIGTERM to it stops the chat
        sys.stdout.flush()
        os.execv(sys.executable, cmd)
    raise typer.Exit(subprocess.call(cmd))


# --- serving other tools (assistant.api) -------------------------------------------------------


@app.command()
@handle_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default ASSISTANT_API_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default ASSISTANT_API_PORT, 8000).")
    ] = None,
) -> None:
    """Serve the assistant over HTTP: a JSON API and OpenAI-compatible chat (docs at /docs)."""
    from assistant.api.server import serve as run
    from assistant.config import Settings

    run(Settings(), host, port, cli_state["debug"], say=lambda line: err.print(escape(line)))


@app.command("mcp")
@handle_errors
def mcp_server(
    http: Annotated[
        bool, typer.Option("--http", help="Streamable HTTP at /mcp instead of stdio.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to bind with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port with --http.")] = 8001,
) -> None:
    """Serve search_news, ask_news and timeline to MCP clients (stdio unless --http)."""
    from assistant.api.server import serve_mcp
    from assistant.config import Settings

    serve_mcp(
        Settings(), http, host, port, cli_state["debug"], say=lambda line: err.print(escape(line))
    )


def _register_eval() -> None:
    try:
        from assistant.evaluation.command import eval_command
    except ImportError:  # pragma: no cover - during development only
        return
    app.command("eval")(handle_errors(eval_command))


_register_eval()
