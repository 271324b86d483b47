"""OpenAI-compatible chat: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client (the official ``openai`` package, Open WebUI, LibreChat, ...) can talk to the
assistant as if it were a model called ``news-assistant``. The last user message is the
question, the earlier user and assistant messages are the conversation (so follow-ups are
resolved), system messages are ignored. The reply is an ordinary ``chat.completion`` whose
message is the answer with its ``[n]`` markers, plus three fields of its own:

- ``citations``: URLs, ``citations[n-1]`` for marker ``[n]`` (an article without a URL of its own
  is linked to ``/v1/articles/{id}`` on this server);
- ``search_results``: ``{"title", "url", "date", "snippet"}`` in the same order, the snippet being
  the quoted sentence;
- ``answer``: the full Answer, as ``POST /v1/ask`` returns it.

Streaming sends ``chat.completion.chunk`` events (the answer as it is written; the last one
carries the three fields above) and then ``data: [DONE]``.
Filters ride along as extra fields of the request (``as_of``, ``since``, ``until``, ``sources``,
``k``; ``extra_body=`` in the openai client).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import Reader, State
from assistant.api.problems import ERRORS, ApiError, error_json, message_of, status_of
from assistant.api.schemas import answer_json
from assistant.errors import AssistantError
from assistant.models import HEDGE_LEAD, Answer, Turn
from assistant.models import Request as AskRequest

MODEL_ID = "news-assistant"
CREATED = 1_767_225_600  # 2026-01-01, a fixed "created" for the one model

router = APIRouter(prefix="/v1", responses=ERRORS, tags=["OpenAI-compatible"])


# --- the request -----------------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat request the assistant uses (others are accepted and
    ignored: the answer is the same whatever the temperature)."""

    model_config = ConfigDict(extra="ignore")

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    as_of: dt.date | None = Field(default=None, description="The day asked (default today).")
    since: dt.date | None = None
    until: dt.date | None = None
    sources: list[str] | None = Field(default=None, description="Only these outlets.")
    k: int | None = Field(default=None, ge=1, le=50, description="Passages to read.")


def to_request(chat: ChatRequest) -> AskRequest:
    """The last user message as the question, the messages before it as the conversation."""
    turns = [m for m in chat.messages if m.role in ("user", "assistant")]
    last = max((i for i, m in enumerate(turns) if m.role == "user"), default=None)
    if last is None:
        raise ApiError(400, "The messages hold no user message: the last one is the question.")
    history: list[Turn] = []
    for message in turns[:last]:
        if message.role == "user":
            history.append(Turn(question=message.text))
        elif history and not history[-1].answer:
            history[-1] = history[-1].model_copy(update={"answer": message.text})
    return AskRequest(
        question=turns[last].text,
        history=[t for t in history if t.question.strip()],
        as_of=chat.as_of,
        since=chat.since,
        until=chat.until,
        sources=chat.sources,
        k=chat.k,
    )


# --- the reply -------------------------------------------------------------------------------


class SearchResultItem(BaseModel):
    title: str
    url: str
    date: str | None = None
    snippet: str = ""


class ChatReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatReplyMessage
    finish_reason: str = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[ChatChoice]
    usage: Usage
    citations: list[str] = Field(description="URL of each source: citations[n-1] is [n].")
    search_results: list[SearchResultItem]
    answer: Answer = Field(description="The full Answer, as POST /v1/ask returns it.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = CREATED
    owned_by: str = "news-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def usage_of(answer: Answer) -> Usage:
    prompt = answer.usage.get("input_tokens", 0)
    completion = answer.usage.get("output_tokens", 0)
    total = answer.usage.get("total_tokens", prompt + completion)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def sources_of(
    answer: Answer, link: Callable[[str], str]
) -> tuple[list[str], list[SearchResultItem]]:
    """``citations`` and ``search_results``: one entry per source number, 1 up to the highest
    one the answer cites (none for a refusal), so that ``[n]`` is entry ``n-1``."""
    if not answer.citations:
        return [], []
    quotes: dict[int, str] = {}
    for citation in answer.citations:
        quotes.setdefault(citation.n, citation.quote)
    passages = {p.n: p for p in answer.passages}
    cited = {c.n: c for c in answer.citations}
    urls: list[str] = []
    results: list[SearchResultItem] = []
    for n in range(1, max(cited) + 1):
        source = passages.get(n) or cited.get(n)
        if source is None:
            urls.append("")
            results.append(SearchResultItem(title="", url=""))
            continue
        url = source.url or link(source.article_id)
        snippet = quotes.get(n) or getattr(source, "text", "")[:300]
        urls.append(url)
        results.append(
            SearchResultItem(
                title=source.title or source.article_id,
                url=url,
                date=source.published.isoformat() if source.published else None,
                snippet=snippet,
            )
        )
    return urls, results


def _article_link(request: HttpRequest) -> Callable[[str], str]:
    base = str(request.base_url).rstrip("/")
    return lambda article_id: f"{base}/v1/articles/{quote(article_id, safe='')}"


# --- the routes ------------------------------------------------------------------------------


@router.get("/models", response_model=ModelList, dependencies=[Reader])
def models() -> ModelList:
    """The one model: ``news-assistant``."""
    return ModelList(data=[ModelCard(id=MODEL_ID)])


@router.get("/models/{model_id}", response_model=ModelCard, dependencies=[Reader])
def model(model_id: str) -> ModelCard:
    if model_id != MODEL_ID:
        raise ApiError(404, f"No model is called {model_id!r}; this server has {MODEL_ID!r}.")
    return ModelCard(id=MODEL_ID)


_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat.completion; with stream=true, chat.completion.chunk events "
        "and then data: [DONE]",
        "content": {"text/event-stream": {}},
    }
}


@router.post(
    "/chat/completions", response_model=ChatCompletion, responses=_STREAM_DOC,
    dependencies=[Reader],
)  # fmt: skip
async def chat_completions(chat: ChatRequest, state: State, request: HttpRequest) -> Any:
    """Ask as an OpenAI chat model: the answer with [n] markers, `citations`, `search_results`
    and the full `answer`."""
    ask = to_request(chat)
    link = _article_link(request)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not chat.stream:
        answer = await run_in_threadpool(state.assistant.ask, ask)
        urls, results = sources_of(answer, link)
        reply = ChatCompletion(
            id=completion_id,
            created=created,
            choices=[ChatChoice(message=ChatReplyMessage(content=answer.answer))],
            usage=usage_of(answer),
            citations=urls,
            search_results=results,
            answer=answer,
        )
        data = reply.model_dump(mode="json")
        data["answer"] = answer_json(answer)
        return JSONResponse(data)
    items = state.assistant.stream(ask)
    first = await run_in_threadpool(_next, items)  # errors before the first token: a status
    include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
    chunks = _chunks(first, items, completion_id, created, link, include_usage)
    return EventSourceResponse(chunks, ping=15)


def _next(items: Iterator[str | Answer]) -> str | Answer | None:
    return next(items, None)


def _chunk(completion_id: str, created: int, **fields: Any) -> dict[str, Any]:
    delta = fields.pop("delta", None)
    finish = fields.pop("finish_reason", None)
    choices = [] if delta is None else [
        {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    ]  # fmt: skip
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": choices,
        **fields,
    }


def _event(data: dict[str, Any] | str) -> ServerSentEvent:
    return ServerSentEvent(data=data if isinstance(data, str) else json.dumps(data))


def closing_text(streamed: str, answer: Answer) -> str:
    """What to send after the streamed tokens so the message reads as the final answer: the
    rest of it when the tokens began it, the hedge's warning when the check added one."""
    if answer.answer.startswith(streamed):
        return answer.answer[len(streamed) :]
    if answer.outcome == "hedged" and answer.answer.startswith(HEDGE_LEAD):
        return f"\n\n{HEDGE_LEAD}"
    return ""


async def _chunks(
    first: str | Answer | None,
    items: Iterator[str | Answer],
    completion_id: str,
    created: int,
    link: Callable[[str], str],
    include_usage: bool,
) -> AsyncIterator[ServerSentEvent]:
    yield _event(_chunk(completion_id, created, delta={"role": "assistant", "content": ""}))
    streamed: list[str] = []
    item = first
    try:
        while item is not None and not isinstance(item, Answer):
            streamed.append(item)
            yield _event(_chunk(completion_id, created, delta={"content": item}))
            item = await run_in_threadpool(_next, items)
    except AssistantError as exc:
        yield _event(error_json(status_of(exc), message_of(exc)))
        yield _event("[DONE]")
        return
    if item is not None:
        answer = item
        rest = closing_text("".join(streamed), answer)
        if rest:
            yield _event(_chunk(completion_id, created, delta={"content": rest}))
        urls, results = sources_of(answer, link)
        final = _chunk(completion_id, created, delta={}, finish_reason="stop")
        final["citations"] = urls
        final["search_results"] = [r.model_dump(mode="json") for r in results]
        final["answer"] = answer_json(answer)
        yield _event(final)
        if include_usage:
            usage = usage_of(answer).model_dump()
            yield _event(_chunk(completion_id, created, usage=usage))
    yield _event("[DONE]")
