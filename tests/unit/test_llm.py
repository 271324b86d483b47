"""The chat-model adapter against a tiny local HTTP server that speaks OpenAI's API.

Only the HTTP boundary is scripted: the real openai client (retries, backoff) and ChatOpenAI run.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from assistant.answering.answer import Answerer
from assistant.answering.llm import build_chat_model, describe_backend, llm_error, redact
from assistant.config import Settings
from assistant.errors import LLMError
from assistant.models import Passage
from tests.fakes import HashEmbedder

SECRET = "sk-test-SECRET0123456789abcdef"


class Reply:
    def __init__(self, status: int, body: dict[str, Any] | None = None, delay: float = 0.0,
                 headers: dict[str, str] | None = None, text: str = "") -> None:  # fmt: skip
        self.status, self.body, self.delay, self.text = status, body, delay, text
        self.headers = headers or {}


class FakeOpenAI:
    """Serves scripted replies in order (the last one repeats) and records the requests."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("authorization")}
                )
                reply = owner.replies[min(len(owner.requests) - 1, len(owner.replies) - 1)]
                time.sleep(reply.delay)
                if reply.status == 200:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self._ok(body, reply.text)  # (the client may have given up: timeout)
                    return
                data = json.dumps(reply.body or {}).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _ok(self, request: dict[str, Any], text: str) -> None:
                base = {"id": "c1", "created": 0, "model": request.get("model", "m")}
                if not request.get("stream"):
                    data = json.dumps({**base, "object": "chat.completion", "choices": [
                        {"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}).encode()  # fmt: skip
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for word in text.split(" "):
                    chunk = {**base, "object": "chat.completion.chunk", "choices": [
                        {"index": 0, "delta": {"content": word + " "},
                         "finish_reason": None}]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _settings(url: str | None, key: str | None = None, **kw: Any) -> Settings:
    s = Settings(_env_file=None, llm_base_url=url, llm_model="tiny", llm_timeout=5.0, **kw)
    return s.model_copy(update={"llm_api_key": SecretStr(key) if key else None})


def _error_json(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": None, "param": None}}


PASSAGE = Passage(
    n=1, chunk_id="c1", article_id="a1", title="Zarif in Tokyo", source="Tasnim",
    published=date(2019, 8, 10), text="Zarif met officials in Tokyo on Monday.", start=0, end=39,
    dense_score=0.9,
)  # fmt: skip


def _ask(settings: Settings) -> list[Any]:
    chat = build_chat_model(settings)
    assert chat is not None
    answerer = Answerer(settings, chat, HashEmbedder())
    return list(answerer.stream("Q?", "Where did Zarif meet officials?", [PASSAGE], None, {}))


@pytest.fixture
def closed_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield port


def test_no_llm_configured_means_extractive() -> None:
    s = _settings(None)
    assert build_chat_model(s) is None
    assert describe_backend(s) == "extractive (no LLM configured)"


def test_describe_backend() -> None:
    assert describe_backend(_settings(None, SECRET)) == "tiny via OpenAI"
    assert describe_backend(_settings("http://localhost:11434/v1")) == (
        "tiny at http://localhost:11434/v1"
    )


def test_streams_from_compatible_server_with_placeholder_key() -> None:
    with FakeOpenAI([Reply(200, text="Zarif met officials in Tokyo [1].")]) as server:
        items = _ask(_settings(server.url, llm_max_tokens=77))
    tokens, answer = items[:-1], items[-1]
    assert "".join(tokens).strip() == answer.answer
    assert answer.mode == "llm" and answer.citations and answer.citations[0].supported
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer not-needed"
    assert request["body"]["stream"] is True and request["body"]["max_tokens"] == 77
    assert request["body"]["model"] == "tiny"


def test_server_down_gives_one_clear_line(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1"
    with pytest.raises(LLMError) as info:
        _ask(_settings(url, llm_max_retries=0))
    message = str(info.value)
    assert message.startswith(f"cannot reach the LLM server at {url}: connection refused")
    assert "is it running?" in message and "\n" not in message


def test_wrong_key_is_reported_without_the_key() -> None:
    body = _error_json(f"Incorrect API key provided: {SECRET}.", "invalid_request_error")
    with FakeOpenAI([Reply(401, body)]) as server, pytest.raises(LLMError) as info:
        _ask(_settings(server.url, SECRET, llm_max_retries=2))
    message = str(info.value)
    assert "rejected the API key (401)" in message and "ASSISTANT_LLM_API_KEY" in message
    assert SECRET not in message and "SECRET0123" not in message
    assert len(server.requests) == 1  # 401 is not retried
    assert server.requests[0]["auth"] == f"Bearer {SECRET}"


def test_rate_limit_is_retried_then_succeeds() -> None:
    limited = Reply(429, _error_json("slow down", "rate_limit"), headers={"retry-after-ms": "10"})
    with FakeOpenAI([limited, Reply(200, text="Tokyo [1].")]) as server:
        items = _ask(_settings(server.url, llm_max_retries=2))
    assert len(server.requests) == 2
    assert items[-1].answer == "Tokyo [1]."


def test_rate_limit_after_retries() -> None:
    limited = Reply(429, _error_json("slow down", "rate_limit"), headers={"retry-after-ms": "10"})
    with (
        FakeOpenAI([limited]) as server,
        pytest.raises(LLMError, match=r"rate limiting \(429\).*after 1 retries"),
    ):
        _ask(_settings(server.url, llm_max_retries=1))
    assert len(server.requests) == 2


def test_server_error_is_retried_then_reported() -> None:
    failing = Reply(500, _error_json("boom", "server_error"), headers={"retry-after-ms": "10"})
    with (
        FakeOpenAI([failing]) as server,
        pytest.raises(LLMError, match=r"answered 500 \(boom\) — the server failed"),
    ):
        _ask(_settings(server.url, llm_max_retries=1))
    assert len(server.requests) == 2


def test_unknown_model() -> None:
    body = _error_json("model 'tiny' not found", "invalid_request_error")
    with (
        FakeOpenAI([Reply(404, body)]) as server,
        pytest.raises(LLMError, match=r"model 'tiny' was not found .*\(404\)"),
    ):
        _ask(_settings(server.url))


def test_timeout() -> None:
    with FakeOpenAI([Reply(200, text="late", delay=2.0)]) as server:
        settings = _settings(server.url, llm_max_retries=0).model_copy(update={"llm_timeout": 0.3})
        with pytest.raises(LLMError, match=r"did not answer within 0.3 s"):
            _ask(settings)


def test_condense_errors_are_translated_too(closed_port: int) -> None:
    from assistant.models import Turn

    settings = _settings(f"http://127.0.0.1:{closed_port}/v1", llm_max_retries=0)
    answerer = Answerer(settings, build_chat_model(settings), None)
    with pytest.raises(LLMError, match="cannot reach"):
        answerer.condense("And him?", [Turn(question="Who is Zarif?", answer="A minister.")])


def test_redact_and_generic_errors() -> None:
    settings = _settings(None, "my-custom-secret-value")
    assert "my-custom-secret-value" not in redact("key my-custom-secret-value here", settings)
    assert redact("Bearer abc.def and sk-proj-abcdefghij", None) == "*** and ***"
    error = llm_error(ValueError(f"bad {SECRET}"), settings)
    assert isinstance(error, LLMError) and SECRET not in str(error)
    assert str(error).startswith("the LLM call failed: ValueError")
