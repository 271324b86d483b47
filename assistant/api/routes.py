"""The JSON API under ``/v1`` and ``/healthz``: ask (JSON or server-sent events), search,
timeline, stats, and the articles (read, ingest, delete).

Work runs off the event loop, in the thread pool: an ask never holds up another request, and
an ingest (one at a time per server, under the store's write lock) does not hold up asks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assistant.api.deps import Reader, ServerState, State, Writer
from assistant.api.problems import ERRORS, ApiError, error_json, message_of, status_of
from assistant.api.schemas import (
    Deleted,
    Health,
    IngestBody,
    answer_json,
    article_json,
    passage_json,
)
from assistant.api.urls import check_public_url, public_only
from assistant.config import __version__
from assistant.errors import AssistantError
from assistant.models import (
    Answer,
    Article,
    Failure,
    IngestReport,
    SearchResult,
    Stats,
    Timeline,
)
from assistant.models import Request as AskRequest
from assistant.service import SEARCH_MODES

router = APIRouter(prefix="/v1", responses=ERRORS)
health_router = APIRouter()

Day = dt.date | None

# --- asking ----------------------------------------------------------------------------------

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The Answer; with ?stream=true server-sent events instead: 'token' "
        "events (JSON strings) as the answer is written, then one 'answer' event (the Answer)",
        "content": {"text/event-stream": {}},
    }
}


@router.post("/ask", response_model=Answer, responses=_STREAM_DOC, dependencies=[Reader])
async def ask(
    body: AskRequest,
    state: State,
    stream: Annotated[bool, Query(description="Send server-sent events as it is written.")] = False,
) -> Any:
    """Answer a question from the articles, with numbered, verified citations."""
    if body.k is not None and not 1 <= body.k <= 50:
        raise ApiError(422, f"The request is not valid: k must be from 1 to 50, not {body.k}.")
    assistant = state.assistant
    if not stream:
        answer = await run_in_threadpool(assistant.ask, body)
        return JSONResponse(answer_json(answer))
    items = assistant.stream(body)
    first = await run_in_threadpool(_next, items)  # errors before the first token: a status
    return EventSourceResponse(_answer_events(first, items), ping=15)


def _next(items: Iterator[str | Answer]) -> str | Answer | None:
    return next(items, None)


async def _answer_events(
    first: str | Answer | None, items: Iterator[str | Answer]
) -> AsyncIterator[ServerSentEvent]:
    item = first
    try:
        while item is not None:
            if isinstance(item, Answer):
                yield ServerSentEvent(data=json.dumps(answer_json(item)), event="answer")
            else:
                yield ServerSentEvent(data=json.dumps(item), event="token")
            item = await run_in_threadpool(_next, items)
    except AssistantError as exc:
        yield ServerSentEvent(
            data=json.dumps(error_json(status_of(exc), message_of(exc))), event="error"
        )


# --- searching -------------------------------------------------------------------------------


@router.get("/search", response_model=SearchResult, dependencies=[Reader])
def search(
    state: State,
    q: Annotated[str, Query(description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=100, description="Passages to return.")] = 5,
    since: Annotated[Day, Query(description="Only articles published on/after.")] = None,
    until: Annotated[Day, Query(description="Only articles published on/before.")] = None,
    sources: Annotated[list[str] | None, Query(description="Only these outlets.")] = None,
    as_of: Annotated[Day, Query(description="The day asked: nothing later is searched.")] = None,
    mode: Annotated[str, Query(description=", ".join(SEARCH_MODES))] = "fused",
) -> Any:
    """The passages that best match a query (no answer)."""
    if mode not in SEARCH_MODES:
        msg = f"mode must be one of {', '.join(SEARCH_MODES)}."
        raise ApiError(422, msg)
    passages = state.assistant.search(q, k, since, until, sources, mode, as_of=as_of)
    return JSONResponse({"query": q, "passages": [passage_json(p) for p in passages]})


@router.get("/timeline", response_model=Timeline, dependencies=[Reader])
def timeline(
    state: State,
    q: Annotated[str, Query(description="The story to follow.")],
    since: Day = None,
    until: Day = None,
    k: Annotated[int, Query(ge=1, le=50, description="Events (stories) at most.")] = 10,
) -> Timeline:
    """How a story developed: one dated, quoted sentence per story, oldest first."""
    return state.assistant.timeline(q, since, until, k)


@router.get("/stats", response_model=Stats, dependencies=[Reader])
def stats(state: State) -> Stats:
    """Articles, chunks, outlets and date range of the collection."""
    return state.assistant.stats()


# --- articles --------------------------------------------------------------------------------


@router.get("/articles/{article_id:path}", response_model=Article, dependencies=[Reader])
def get_article(state: State, article_id: str) -> Any:
    """A stored article: its metadata and the text that citation offsets index."""
    article = state.assistant.article(article_id)
    if article is None:
        raise ApiError(404, f"No article has the id {article_id!r}.")
    return JSONResponse(article_json(article))


@router.delete("/articles/{article_id:path}", response_model=Deleted, dependencies=[Writer])
def delete_article(state: State, article_id: str) -> Deleted:
    """Remove an article from every index."""
    with state.writing():
        removed = state.assistant.delete(article_id)
    if not removed:
        raise ApiError(404, f"No article has the id {article_id!r}.")
    return Deleted(deleted=article_id, chunks=removed)


_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": IngestBody.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Files as `assistant ingest` reads them (txt, md, "
                            "html, jsonl, json, csv, rss/atom).",
                        },
                        "url": {"type": "array", "items": {"type": "string"}},
                    },
                }
            },
        },
    }
}


@router.post(
    "/articles", response_model=IngestReport, dependencies=[Writer], openapi_extra=_INGEST_BODY
)
async def ingest(request: HttpRequest, state: State) -> IngestReport:
    """Ingest article records (JSON), uploaded files (multipart) or URLs of pages and feeds.

    The report is the one `assistant ingest --json` prints: bad records, files or URLs are
    listed under `failed` and the rest lands. URLs are fetched from public addresses only: a
    URL naming a private, loopback or link-local address is refused with a 400, and a redirect
    or feed item leading to one is listed under `failed`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    folder = Path(tempfile.mkdtemp(prefix="assistant-upload-"))
    try:
        if content_type == "application/json":
            body = IngestBody.model_validate_json(await request.body())
            urls = [u.strip() for u in body.urls if u.strip()]
            names = _write_records(folder, body.articles)
        elif content_type == "multipart/form-data":
            form = await request.form(max_files=100, max_fields=200)
            uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
            urls = [str(u).strip() for u in form.getlist("url") if isinstance(u, str) and u.strip()]
            names = {}
            for number, upload in enumerate(uploads):
                target = folder / str(number) / _safe_name(upload.filename or "upload.txt")
                target.parent.mkdir()
                target.write_bytes(await upload.read())
                names[str(target)] = upload.filename or target.name
        else:
            msg = (
                'Send JSON ({"articles": [...], "urls": [...]}) or a multipart upload with '
                "'file' fields."
            )
            raise ApiError(415, msg)
        if not names and not urls:
            raise ApiError(400, "Nothing to ingest: give articles, files or urls.")
        if not state.settings.api_allow_private_urls:
            for url in urls:
                await run_in_threadpool(check_public_url, url, state.settings)
        report = await run_in_threadpool(_ingest, state, [*names, *urls])
        return _renamed(report, names)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ingest(state: ServerState, inputs: list[str]) -> IngestReport:
    """Every connection the ingest makes (each URL, redirect hop and feed item) goes to public
    addresses only, unless the server allows private ones (:mod:`assistant.api.urls`)."""
    with state.writing():
        return state.assistant.ingest(
            inputs, content_ids=True, public_only=public_only(state.settings)
        )


def _write_records(folder: Path, records: list[dict[str, Any]]) -> dict[str, str]:
    """The records as a corpus JSONL file that ingest reads like the CLI's (none: no file)."""
    if not records:
        return {}
    path = folder / "articles.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {str(path): "articles"}


_UNSAFE = re.compile(r"[^\w.\-]+")


def _safe_name(filename: str) -> str:
    """A file name without folders or odd characters, keeping the suffix ingest reads by."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip("._") or "upload"
    return name[-120:]


def _renamed(report: IngestReport, names: dict[str, str]) -> IngestReport:
    """Failures named by what the client sent (an upload's name, 'articles'), not by the
    server's temporary paths."""

    def rename(failure: Failure) -> Failure:
        for path, name in names.items():
            if failure.path.startswith(path):
                return failure.model_copy(update={"path": name + failure.path[len(path) :]})
        return failure

    return report.model_copy(update={"failed": [rename(f) for f in report.failed]})


# --- health ----------------------------------------------------------------------------------


@health_router.get("/healthz", response_model=Health, responses=ERRORS)
def healthz(state: State) -> Any:
    """Whether the store answers and the index is loaded, and which model answers."""
    assistant = state.assistant
    try:
        chunks = len(assistant.lexical())
    except Exception as exc:
        message = f"The store cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return JSONResponse(error_json(503, message), status_code=503)
    return Health(
        status="ok",
        store="reachable",
        indexed_chunks=chunks,
        mode=assistant.mode,
        backend=assistant.describe_backend(),
        version=__version__,
    )
