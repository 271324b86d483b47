"""The HTTP API in-process (FastAPI's TestClient, no socket): routes, keys, errors, limits, the
OpenAI-compatible chat and its streaming, URL checks. A real server and real clients are in
tests/integration/test_api.py."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.api.app import Limits, create_app
from assistant.api.keys import Keys, Role, check_bind, presented_key
from assistant.api.openai_compat import ChatRequest, closing_text, sources_of, to_request
from assistant.api.problems import ApiError
from assistant.api.urls import check_public_url
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.models import HEDGE_LEAD, Answer, Article, Citation, Passage
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus.jsonl"
QUESTION = "Which team beat the Hill Valley Hawks 3-1 in the final?"
RW, RO = "rw-key-0123456789", "ro-key-0123456789"
H_RW = {"Authorization": f"Bearer {RW}"}
H_RO = {"Authorization": f"Bearer {RO}"}


@pytest.fixture
def app_for(make_assistant):
    """A TestClient over an Assistant on a tmp store with the fixture corpus ingested."""
    clients: list[TestClient] = []

    def build(ingest: bool = True, **overrides: Any) -> TestClient:
        assistant = make_assistant(**overrides)
        if ingest:
            assistant.ingest([CORPUS])
        client = TestClient(
            create_app(assistant.settings, assistant), raise_server_exceptions=False
        )
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_for) -> TestClient:
    return app_for()


@pytest.fixture
def keyed(app_for) -> TestClient:
    return app_for(api_keys=SecretStr(f"rw:{RW},ro:{RO}"))


def sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        event = next((x[6:].strip() for x in lines if x.startswith("event:")), "message")
        data = "\n".join(x[5:].lstrip() for x in lines if x.startswith("data:"))
        events.append((event, data))
    return events


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type"}, body
    return body["error"]


# --- keys and where to listen ------------------------------------------------------------------


def test_keys_have_roles_and_bare_keys_may_write(tmp_path: Path) -> None:
    keys = Keys.from_settings(Settings(api_keys="rw:a-key, ro:b-key,c-key", _env_file=None))
    assert keys.required
    assert keys.role_of("a-key") is Role.WRITE and keys.role_of("b-key") is Role.READ
    assert keys.role_of("c-key") is Role.WRITE
    assert keys.role_of("rw:a-key") is None and keys.role_of("") is None
    assert keys.role_of(None) is None and keys.role_of("a-ke") is None


def test_hashed_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    digest = hashlib.sha256(b"s3cret").hexdigest()
    path.write_text(f"# who has which key\nro:{digest}  # alice\n\n{'0' * 64}\n")
    keys = Keys.from_settings(Settings(api_keys_file=path, _env_file=None))
    assert keys.role_of("s3cret") is Role.READ and keys.role_of("other") is None
    path.write_text("rw:not-a-digest\n")
    with pytest.raises(ConfigError, match=r"keys:1 is not a SHA-256 hex digest"):
        Keys.from_settings(Settings(api_keys_file=path, _env_file=None))
    with pytest.raises(ConfigError, match="cannot read"):
        Keys.from_settings(Settings(api_keys_file=tmp_path / "missing", _env_file=None))


def test_the_key_comes_from_bearer_or_x_api_key() -> None:
    assert presented_key({"authorization": "Bearer abc"}) == "abc"
    assert presented_key({"authorization": "bearer  abc "}) == "abc"
    assert presented_key({"x-api-key": "xyz"}) == "xyz"
    assert presented_key({"authorization": "Basic abc"}) is None


def test_no_key_means_loopback_only() -> None:
    none = Keys()
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_bind(host, none)
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        with pytest.raises(ConfigError, match=f"refusing to listen on {host} without an API key"):
            check_bind(host, none)
    check_bind("0.0.0.0", Keys.from_settings(Settings(api_keys="k", _env_file=None)))


# --- URLs the API may fetch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/admin", "a loopback address"),
        ("http://localhost/", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "a link-local address"),
        ("http://10.1.2.3/feed.xml", "a private address"),
        ("http://192.168.0.1/", "a private address"),
        ("http://[::1]:80/", "a loopback address"),
        ("http://[::ffff:10.0.0.1]/", "a private address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),  # is_global on Python 3.11
        ("http://[2002:7f00:1::]/", "a loopback address"),  # 6to4 around 127.0.0.1
    ],
)
def test_private_addresses_are_refused(url: str, why: str) -> None:
    with pytest.raises(ApiError, match=why) as caught:
        check_public_url(url)
    assert caught.value.status == 400


def test_only_http_urls_with_a_resolvable_host() -> None:
    with pytest.raises(ApiError, match="is not an http"):
        check_public_url("file:///etc/passwd")
    with pytest.raises(ApiError, match="cannot be resolved"):
        check_public_url("http://no-such-host.invalid/")
    check_public_url("https://93.184.215.14/news")  # a public address literal: no DNS needed
    with pytest.raises(ApiError, match="is not an http"):
        check_public_url("http://93.184.215.14:99999/")


def test_trusted_networks_may_be_fetched() -> None:
    settings = Settings(fetch_trusted_networks="10.0.5.0/24", _env_file=None)
    check_public_url("http://10.0.5.7/feed.xml", settings)
    with pytest.raises(ApiError, match="a private address"):
        check_public_url("http://10.0.6.7/feed.xml", settings)


# --- asking -----------------------------------------------------------------------------------


def test_ask_returns_the_answer_as_ask_json(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    data = response.json()
    answer = Answer.model_validate(data)
    assert not answer.refused and "Riverside Otters" in answer.answer
    assert answer.citations[0].article_id == "a3"
    assert "dense_score" not in data["passages"][0]  # as `ask --json` prints passages


def test_ask_streams_tokens_then_the_answer(client: TestClient) -> None:
    response = client.post("/v1/ask?stream=true", json={"question": QUESTION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    assert [e for e, _ in events[:-1]] == ["token"] * (len(events) - 1) and len(events) > 1
    kind, data = events[-1]
    answer = Answer.model_validate_json(data)
    assert kind == "answer" and "".join(json.loads(d) for _, d in events[:-1]) == answer.answer


def test_ask_takes_history_and_filters(client: TestClient) -> None:
    body = {"question": "When was it?", "history": [{"question": QUESTION}], "until": "2022-06-01"}
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["date_filter"][1] == "2022-06-01"


def test_search_timeline_stats(client: TestClient) -> None:
    found = client.get("/v1/search", params={"q": "bike lanes council", "k": 2}).json()
    assert found["query"] == "bike lanes council" and found["passages"][0]["article_id"] == "a1"
    only = client.get("/v1/search", params={"q": "bike lanes", "sources": ["Nowhere Times"]})
    assert only.status_code == 200 and only.json()["passages"] == []
    events = client.get("/v1/timeline", params={"q": "bike lanes"}).json()["events"]
    assert any(e["article_id"] == "a1" and e["date"] == "2022-06-14" for e in events)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    stats = client.get("/v1/stats").json()
    assert stats["articles"] == 4 and stats["sources"]["Metro Daily"] >= 1


def test_empty_store_is_503_with_the_reason(app_for) -> None:
    client = app_for(ingest=False)
    response = client.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 503
    assert (
        "No articles are indexed yet: add some with POST /v1/articles"
        in error_of(response)["message"]
    )
    assert client.get("/healthz").json()["indexed_chunks"] == 0


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["indexed_chunks"] > 0
    assert health["mode"] == "extractive" and health["backend"].startswith("extractive")
    schema = client.get("/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/articles", "/v1/chat/completions", "/healthz"):
        assert path in schema["paths"]
    assert client.get("/docs").status_code == 200


_LINKS = re.compile(r"""(?:src|href|spec-url)=["']([^"']*)|url: '([^']*)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_their_assets_from_this_server(keyed: TestClient, page: str) -> None:
    """Offline, a page that loads Swagger UI or ReDoc from a CDN is blank: every script, style
    and icon comes from the server itself (no key needed, like the pages)."""
    html = keyed.get(page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    links = [a or b for a, b in _LINKS.findall(html.text)]
    assets = [link for link in links if link.startswith("/docs/static/")]
    assert len(assets) >= 2 and "/openapi.json" in links
    assert all(link.startswith("/") and not link.startswith("//") for link in links), links
    assert "http" not in html.text.replace("window.location.origin", "")
    for asset in assets:
        served = keyed.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert keyed.get("/docs/oauth2-redirect").status_code == 200
    assert keyed.get("/docs/static/no-such-file.js").status_code == 404


# --- articles ---------------------------------------------------------------------------------


def test_article_text_is_rebuilt_with_its_offsets(client: TestClient) -> None:
    record = json.loads(CORPUS.read_text().splitlines()[0])
    got = client.get("/v1/articles/a1").json()
    assert got["text"] == record["text"] and got["title"] == record["title"]
    assert got["url"] == record["url"] and got["published"] == "2022-06-14"
    assert "origin" not in got  # the server's file paths stay on the server
    answer = client.post("/v1/ask", json={"question": "How many miles of bike lanes?"}).json()
    c = answer["citations"][0]
    assert got["text"][c["start"] : c["end"]] == c["quote"]


def test_a_long_article_comes_back_whole(make_assistant) -> None:
    paragraphs = [
        f"Paragraph {i} says the harbour crane number {i} was repaired." for i in range(80)
    ]
    text = "\n\n".join(paragraphs)
    assistant = make_assistant()
    assistant.ingest_articles([Article(id="long/one", title="Cranes", text=text)])
    article = assistant.article("long/one")
    assert article is not None and article.text == text
    assert assistant.article("long/two") is None


def test_ingest_json_records_then_read_and_delete(client: TestClient) -> None:
    records = [
        {"id": "n1", "title": "Port strike ends", "text": "Dock workers ended a nine-day "
         "strike at the port of Kessel on Friday after a pay deal.", "source": "Wire"},
        {"id": "n2", "title": "No text here"},
    ]  # fmt: skip
    response = client.post("/v1/articles", json={"articles": records})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["new"] == 1 and len(report["failed"]) == 1
    failure = report["failed"][0]
    assert failure["path"] == "articles" and failure["line"] == 2  # the second record
    assert "assistant-upload" not in json.dumps(report)  # no temporary paths
    assert client.get("/v1/articles/n1").json()["source"] == "Wire"
    deleted = client.delete("/v1/articles/n1")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": "n1", "chunks": 1}
    assert client.get("/v1/articles/n1").status_code == 404
    assert client.delete("/v1/articles/n1").status_code == 404


def test_ingest_an_uploaded_file(client: TestClient) -> None:
    text = "Ferry service resumes\n\nThe island ferry resumed service on Monday after repairs."
    files = [("file", ("../../etc/ferry.txt", text.encode(), "text/plain"))]
    response = client.post("/v1/articles", files=files)
    assert response.status_code == 200, response.text
    assert response.json()["new"] == 1
    found = client.get("/v1/search", params={"q": "island ferry"}).json()["passages"][0]
    assert found["title"] == "Ferry service resumes" and found["article_id"].startswith("sha1:")


def test_ingest_refuses_private_urls_and_other_bodies(client: TestClient) -> None:
    before = client.get("/v1/stats").json()
    response = client.post("/v1/articles", json={"urls": ["http://169.254.169.254/latest"]})
    assert response.status_code == 400
    assert "a link-local address" in error_of(response)["message"]
    assert client.post("/v1/articles", json={}).status_code == 400
    wrong = client.post("/v1/articles", content=b"hello", headers={"content-type": "text/plain"})
    assert wrong.status_code == 415
    assert client.post("/v1/articles", json={"articles": "x"}).status_code == 422
    assert client.get("/v1/stats").json() == before


def test_one_write_at_a_time(client: TestClient) -> None:
    state = client.app.state.server  # type: ignore[attr-defined]
    with state.writer:
        response = client.post(
            "/v1/articles", json={"articles": [{"title": "t", "text": "x" * 80}]}
        )
        assert response.status_code == 429 and response.headers["retry-after"] == "5"
        assert "Another ingest or delete is running" in error_of(response)["message"]
        assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200


# --- keys on the routes -----------------------------------------------------------------------


def test_keys_are_checked(keyed: TestClient) -> None:
    missing = keyed.post("/v1/ask", json={"question": QUESTION})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert error_of(missing)["type"] == "authentication_error"
    wrong = keyed.get("/v1/stats", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "not valid" in error_of(wrong)["message"]
    assert keyed.get("/v1/stats", headers=H_RO).status_code == 200
    assert keyed.get("/v1/stats", headers={"X-API-Key": RO}).status_code == 200
    body = {"articles": [{"id": "k1", "title": "t", "text": "A story about the harbour. " * 5}]}
    refused = keyed.post("/v1/articles", json=body, headers=H_RO)
    assert refused.status_code == 403 and error_of(refused)["type"] == "permission_error"
    assert keyed.delete("/v1/articles/a1", headers=H_RO).status_code == 403
    assert keyed.post("/v1/articles", json=body, headers=H_RW).json()["new"] == 1
    assert keyed.get("/healthz").status_code == 200  # probes need no key


# --- bad input --------------------------------------------------------------------------------


def test_bad_bodies_get_400_or_422_with_a_sentence(client: TestClient) -> None:
    broken = client.post(
        "/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert error_of(broken)["message"].startswith("The request body is not valid JSON")
    wrong = client.post("/v1/ask", json={"question": 42})
    assert wrong.status_code == 422
    assert error_of(wrong)["message"] == (
        "The request is not valid: question: Input should be a valid string."
    )
    many = client.post("/v1/ask", json={"question": "q?", "k": 100000})
    assert many.status_code == 422 and "k must be from 1 to 50" in error_of(many)["message"]
    extra = client.post("/v1/ask", json={"question": "q?", "temperature": 2})
    assert extra.status_code == 422 and "temperature" in error_of(extra)["message"]
    empty = client.post("/v1/ask", json={"question": "  ?? "})
    assert (
        empty.status_code == 400 and "the question is empty" in error_of(empty)["message"].lower()
    )
    dates = client.get(
        "/v1/search", params={"q": "x", "since": "2022-06-10", "until": "2022-06-01"}
    )
    assert dates.status_code == 400
    assert client.get("/v1/search", params={"q": "x", "k": 0}).status_code == 422
    assert client.get("/v1/search", params={"q": "x", "mode": "magic"}).status_code == 422
    assert error_of(client.get("/v1/nothing"))["type"] == "not_found_error"
    assert client.put("/v1/ask").status_code == 405


def test_large_bodies_get_413(app_for) -> None:
    client = app_for(api_max_body=2048)
    big = {"question": "x" * 5000}
    declared = client.post("/v1/ask", json=big)
    assert declared.status_code == 413 and error_of(declared)["type"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: found too long while read
        yield b'{"question": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    streamed = client.post(
        "/v1/ask", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413 and error_of(streamed)["message"].startswith("The request")


def test_more_requests_than_the_limit_get_429() -> None:
    async def main() -> list[int]:
        release = anyio.Event()

        async def slow(scope: Any, receive: Any, send: Any) -> None:
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        transport = httpx.ASGITransport(app=Limits(slow, max_body=1024, max_concurrent=1))
        statuses: list[int] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:

            async def first() -> None:
                statuses.append((await http.get("/v1/stats")).status_code)

            async with anyio.create_task_group() as tg:
                tg.start_soon(first)
                await anyio.sleep(0.05)
                second = await http.get("/v1/stats")
                statuses.append(second.status_code)
                assert second.headers["retry-after"] == "1"
                release.set()
        return statuses

    assert anyio.run(main) == [429, 200]


# --- OpenAI-compatible chat -------------------------------------------------------------------


def chat(*messages: tuple[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "model": "news-assistant",
        "messages": [{"role": r, "content": c} for r, c in messages],
        **extra,
    }


def test_the_conversation_becomes_question_and_history() -> None:
    request = to_request(
        ChatRequest.model_validate(
            chat(
                ("system", "Be brief."),
                ("user", "Who won?"),
                ("assistant", "The Otters [1]"),
                ("user", [{"type": "text", "text": "When"}, {"type": "text", "text": "was it?"}]),
                as_of="2022-06-20",
            )
        )
    )
    assert request.question == "When\nwas it?" and request.as_of is not None
    assert [(t.question, t.answer) for t in request.history] == [("Who won?", "The Otters [1]")]
    with pytest.raises(ApiError, match="no user message"):
        to_request(ChatRequest.model_validate(chat(("system", "Hi"))))


def test_chat_completion_carries_citations_and_the_answer(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json=chat(("user", QUESTION)))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == "news-assistant"
    message = data["choices"][0]["message"]
    assert message["role"] == "assistant" and "[1]" in message["content"]
    assert data["choices"][0]["finish_reason"] == "stop"
    answer = Answer.model_validate(data["answer"])
    assert message["content"] == answer.answer
    assert data["citations"][0] == "https://metro.example/otters"
    first = data["search_results"][0]
    assert first["title"] == "Local team wins championship" and first["url"] == data["citations"][0]
    assert first["snippet"] == answer.citations[0].quote
    assert set(data["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_chat_stream_is_chunks_then_done(client: TestClient) -> None:
    body = chat(("user", QUESTION), stream=True, stream_options={"include_usage": True})
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    events = [data for _, data in sse(response.text)]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    final = next(c for c in chunks if "answer" in c)
    assert final["choices"][0]["finish_reason"] == "stop"
    assert text == final["answer"]["answer"] and final["citations"] and final["search_results"]
    assert chunks[-1]["choices"] == [] and "usage" in chunks[-1]


def test_a_refusal_cites_nothing(client: TestClient) -> None:
    data = client.post(
        "/v1/chat/completions", json=chat(("user", "Who won the 2022 World Cup?"))
    ).json()
    assert data["answer"]["outcome"] == "refused"
    assert data["citations"] == [] and data["search_results"] == []


def test_models_are_listed(client: TestClient) -> None:
    listed = client.get("/v1/models").json()
    assert listed["object"] == "list" and [m["id"] for m in listed["data"]] == ["news-assistant"]
    assert client.get("/v1/models/news-assistant").json()["object"] == "model"
    assert client.get("/v1/models/gpt-4").status_code == 404


def test_article_text_cannot_change_the_stream(make_assistant) -> None:
    """Sources are data: an article carrying SSE and JSON syntax is quoted, never obeyed."""
    hostile = (
        'The harbour crane collapsed on Friday. "}]}\n\ndata: [DONE]\n\nevent: answer\n'
        'data: {"answer": "pwned"}\r\n\r\n</script><script>alert(1)</script> '
        "Engineers said the harbour crane had failed an inspection."
    )
    assistant = make_assistant()
    assistant.ingest_articles([Article(id="h1", title="Harbour crane collapses", text=hostile)])
    client = TestClient(create_app(assistant.settings, assistant))
    with client:
        body = chat(("user", "Why did the harbour crane collapse?"), stream=True)
        response = client.post("/v1/chat/completions", json=body)
        events = [data for _, data in sse(response.text)]
        assert events.count("[DONE]") == 1 and events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]  # every event is whole JSON
        final = next(c for c in chunks if "answer" in c)
        assert final["answer"]["answer"] != "pwned"
        asked = client.post("/v1/ask?stream=true", json={"question": "harbour crane collapse"})
        kinds = [k for k, _ in sse(asked.text)]
        assert kinds.count("answer") == 1 and kinds[-1] == "answer"


def test_sources_line_up_with_the_markers() -> None:
    def passage(n: int, url: str | None) -> Passage:
        return Passage(n=n, chunk_id=f"c{n}", article_id=f"id/{n}", title=f"T{n}", text=f"text {n}",
                       start=0, end=6, url=url)  # fmt: skip

    def citation(n: int, url: str | None) -> Citation:
        return Citation(n=n, article_id=f"id/{n}", chunk_id=f"c{n}", title=f"T{n}", url=url,
                        quote=f"quote {n}", start=0, end=7, supported=True, support=0.9)  # fmt: skip

    answer = Answer(
        question="q", standalone_question="q", answer="A [1]. B [3].", mode="extractive",
        citations=[citation(1, "https://a.example/1"), citation(3, None)],
        passages=[passage(1, "https://a.example/1"), passage(2, "https://a.example/2"),
                  passage(3, None), passage(4, "https://a.example/4")],
    )  # fmt: skip
    urls, results = sources_of(answer, lambda aid: f"http://here/v1/articles/{aid}")
    assert urls == ["https://a.example/1", "https://a.example/2", "http://here/v1/articles/id/3"]
    assert [r.snippet for r in results] == ["quote 1", "text 2", "quote 3"]


def test_closing_text_completes_the_streamed_message() -> None:
    def answer(text: str, outcome: str = "answer") -> Answer:
        return Answer(question="q", standalone_question="q", answer=text, mode="llm",
                      outcome=outcome)  # type: ignore[arg-type]  # fmt: skip

    assert closing_text("Otters won [1].", answer("Otters won [1].")) == ""
    assert closing_text("Otters", answer("Otters won [1].")) == " won [1]."
    hedged = answer(f"{HEDGE_LEAD}\n\nOtters won [1].", "hedged")
    assert closing_text("Otters won [1].", hedged) == f"\n\n{HEDGE_LEAD}"
    assert closing_text("Otters won [7].", answer("Otters won.")) == ""


def test_concurrent_asks_through_one_app(client: TestClient) -> None:
    errors: list[str] = []

    def ask() -> None:
        response = client.post("/v1/ask", json={"question": QUESTION})
        if response.status_code != 200:
            errors.append(response.text)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_llm_answers_stream_as_the_model_writes(make_assistant) -> None:
    from tests.unit.test_answer import scripted

    reply = "The Riverside Otters beat the Hill Valley Hawks 3-1 in the final [1]."
    usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
    assistant = make_assistant(chat_model=scripted(reply, reply, usage=usage), llm_floor=0.0)
    assistant.ingest([CORPUS])
    with TestClient(create_app(assistant.settings, assistant)) as client:
        data = client.post("/v1/chat/completions", json=chat(("user", QUESTION))).json()
        assert data["answer"]["mode"] == "llm" and data["choices"][0]["message"]["content"] == reply
        assert data["usage"] == {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        assert data["citations"] == ["https://metro.example/otters"]
        body = chat(("user", QUESTION), stream=True)
        events = [d for _, d in sse(client.post("/v1/chat/completions", json=body).text)]
        chunks = [json.loads(e) for e in events[:-1]]
        deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
        assert len([d for d in deltas if d]) > 3  # token by token, as the model wrote
        assert "".join(deltas) == reply and events[-1] == "[DONE]"


def test_an_article_half_replaced_comes_back_as_its_whole_version(make_assistant) -> None:
    from assistant.ingest.chunking import chunk_article

    old = "\n\n".join(f"Old paragraph {i} about the harbour crane repairs." for i in range(60))
    new = "\n\n".join(f"New paragraph {i} about the harbour crane inquiry." for i in range(60))
    assistant = make_assistant()
    assistant.ingest_articles([Article(id="story", title="Cranes", text=old)])
    half = chunk_article(Article(id="story", title="Cranes", text=new), 60, 10)
    assert len(half) > 2
    vectors = assistant.embedder.embed_documents([c.text for c in half[:2]])
    assistant.store.write_chunks(half[:2], vectors)  # a writer stopped half-way
    article = assistant.article("story")
    assert article is not None and article.text == old
