"""`assistant serve` as other tools meet it: a real uvicorn server in its own process, on a store
holding the seed article (real bundled embedding model), driven by the official openai client
and by httpx. One server for the module; each test leaves the seed answers as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.conftest import ROOT, SEED
from tests.integration.servers import free_port, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RW, RO = "rw-integration-key-5c1e", "ro-integration-key-9b7d"
SEED_ID = SEED.name
QUESTION = "What did Al-Shammari praise Iran for?"
MAX_BODY = 1_000_000


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_STORE_DIR=str(tmp / "store"), PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def http(self, key: str | None = RW, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def openai(self, key: str = RO) -> OpenAI:
        return OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api")
    env = clean_env(
        tmp, ASSISTANT_API_KEYS=f"rw:{RW},ro:{RO}", ASSISTANT_API_MAX_BODY=str(MAX_BODY)
    )
    ingested = cli("ingest", str(SEED), env=env, cwd=tmp)
    assert ingested.returncode == 0, ingested.stderr
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", 120, proc, log, "assistant serve")
        yield Server(url, proc, log)
        assert proc.poll() is None, log.read_text()
    finally:
        stop(proc)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert f"serving the news assistant on {url}" in text


def stats(server: Server) -> dict[str, Any]:
    with server.http(RO) as http:
        return http.get("/v1/stats").json()  # type: ignore[no-any-return]


# --- the OpenAI client ------------------------------------------------------------------------


def test_openai_client_gets_a_cited_answer(server: Server) -> None:
    client = server.openai()
    assert [m.id for m in client.models.list()] == ["news-assistant"]
    reply = client.chat.completions.create(
        model="news-assistant", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content or ""
    assert content.startswith("supporting Iraq [1]"), content
    extra = reply.model_extra or {}
    assert extra["citations"] == [f"{server.url}/v1/articles/{SEED_ID}"]
    [result] = extra["search_results"]
    assert result["title"] == "Iran Urges Closer Military Ties with Iraq"
    assert "Al-Shammari praised Iran for supporting Iraq" in result["snippet"]
    answer = extra["answer"]
    assert answer["outcome"] == "answer" and answer["answer"] == content
    assert answer["citations"][0]["article_id"] == SEED_ID
    with server.http(RO) as http:  # the citation's link is the article, offsets and all
        article = http.get(extra["citations"][0]).json()
    c = answer["citations"][0]
    assert article["text"][c["start"] : c["end"]] == c["quote"]


def test_openai_client_streams_the_same_answer(server: Server) -> None:
    client = server.openai()
    whole = client.chat.completions.create(
        model="news-assistant", messages=[{"role": "user", "content": QUESTION}]
    )
    stream = client.chat.completions.create(
        model="news-assistant",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts: list[str] = []
    finals: list[dict[str, Any]] = []
    usage = None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        if chunk.model_extra and "answer" in chunk.model_extra:
            finals.append(chunk.model_extra)
        usage = chunk.usage or usage
    assert "".join(parts) == whole.choices[0].message.content
    [final] = finals
    assert final["citations"] == (whole.model_extra or {})["citations"]
    assert final["answer"]["citations"][0]["quote"].startswith("For his part, Al-Shammari")
    assert usage is not None


def test_a_follow_up_in_the_messages_is_resolved(server: Server) -> None:
    client = server.openai()
    first = client.chat.completions.create(
        model="news-assistant",
        messages=[{"role": "user", "content": "Who did Hatami congratulate?"}],
    )
    said = first.choices[0].message.content or ""
    assert said.startswith("Najah Hassan Ali Al-Shammari"), said
    follow = client.chat.completions.create(
        model="news-assistant",
        messages=[
            {"role": "system", "content": "You answer questions about the news."},
            {"role": "user", "content": "Who did Hatami congratulate?"},
            {"role": "assistant", "content": said},
            {"role": "user", "content": "What did he praise Iran for?"},
        ],
    )
    answer = (follow.model_extra or {})["answer"]
    assert answer["question"] == "What did he praise Iran for?"
    assert "Al-Shammari" in answer["standalone_question"]
    assert "Al-Shammari praised Iran" in answer["citations"][0]["quote"]


def test_a_question_the_articles_do_not_cover_is_refused(server: Server) -> None:
    reply = server.openai().chat.completions.create(
        model="news-assistant",
        messages=[{"role": "user", "content": "Who won the 2022 World Cup?"}],
    )
    content = reply.choices[0].message.content or ""
    assert content.startswith("The articles don't say who won the 2022 World Cup."), content
    extra = reply.model_extra or {}
    assert extra["answer"]["outcome"] == "refused"
    assert extra["citations"] == [] and extra["search_results"] == []


# --- the JSON API over httpx ------------------------------------------------------------------


def test_the_json_api(server: Server) -> None:
    with server.http(RO) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["indexed_chunks"] >= 2
        answer = http.post("/v1/ask", json={"question": QUESTION}).json()
        assert answer["short_answer"]["text"] == "supporting Iraq"
        events: list[tuple[str, str]] = []
        with http.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    events.append((event, line[5:].strip()))
        assert events[-1][0] == "answer" and {e for e, _ in events[:-1]} == {"token"}
        assert json.loads(events[-1][1])["answer"] == answer["answer"]
        found = http.get("/v1/search", params={"q": "Hatami telephone", "k": 3}).json()
        assert found["passages"][0]["article_id"] == SEED_ID
        assert http.get("/v1/timeline", params={"q": "Hatami"}).status_code == 200
        assert http.get(f"/v1/articles/{SEED_ID}").json()["source"] == "Tasnim"
        assert http.get("/openapi.json").json()["info"]["title"] == "News assistant"
        docs = http.get("/docs").text  # offline: Swagger UI comes from this server, not a CDN
        assert "/docs/static/swagger-ui-bundle.js" in docs and "http" not in docs
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            assert http.get(f"/docs/static/{asset}").status_code == 200


# --- keys --------------------------------------------------------------------------------------


def test_keys(server: Server) -> None:
    with server.http(None) as http:
        missing = http.post("/v1/ask", json={"question": QUESTION})
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "authentication_error"
    with server.http("not-a-key") as http:
        assert http.get("/v1/stats").status_code == 401
    with pytest.raises(openai.AuthenticationError):
        server.openai("not-a-key").chat.completions.create(
            model="news-assistant", messages=[{"role": "user", "content": QUESTION}]
        )
    before = stats(server)
    body = {"articles": [{"id": "ro-1", "title": "Read only", "text": "Nothing lands. " * 10}]}
    with server.http(RO) as http:
        refused = http.post("/v1/articles", json=body)
        assert refused.status_code == 403
        assert "read-write key" in refused.json()["error"]["message"]
        assert http.delete(f"/v1/articles/{SEED_ID}").status_code == 403
    assert stats(server) == before


def test_no_key_means_no_listening_beyond_loopback(tmp_path: Path) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), env=clean_env(tmp_path),
                 cwd=tmp_path, timeout=60)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: refusing to listen on 0.0.0.0 without an API key: set ASSISTANT_API_KEYS "
        "(or ASSISTANT_API_KEYS_FILE), or listen on 127.0.0.1"
    ], result.stderr


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_gets_the_right_status_and_changes_nothing(server: Server) -> None:
    before = stats(server)
    with server.http(RW) as http:

        def post(path: str, **kw: Any) -> tuple[int, str]:
            response = http.post(path, **kw)
            error = response.json()["error"]
            assert set(error) == {"message", "type"} and "Traceback" not in response.text
            return response.status_code, error["message"]

        headers = {"content-type": "application/json"}
        status, message = post("/v1/ask", content=b'{"question": "x",', headers=headers)
        assert status == 400 and message.startswith("The request body is not valid JSON")
        status, message = post("/v1/ask", json={"question": ["a"], "as_of": "yesterday"})
        assert status == 422 and "question" in message and "as_of" in message
        status, message = post("/v1/articles", json={"articles": [{"text": "y" * 100}] * 20_000})
        assert status == 413 and f"at most {MAX_BODY} bytes" in message
        status, message = post("/v1/articles", json={"urls": ["http://169.254.169.254/latest/"]})
        assert status == 400 and "a link-local address" in message
        status, message = post("/v1/articles", json={"urls": ["http://localhost:22/"]})
        assert status == 400 and "a loopback address" in message
        status, message = post("/v1/articles", json={"urls": ["http://10.0.0.7/feed"]})
        assert status == 400 and "a private address" in message
        status, message = post(
            "/v1/chat/completions", json={"model": "news-assistant", "messages": []}
        )
        assert status == 422
        unknown = http.get("/v1/articles/no-such-article")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == "No article has the id 'no-such-article'."
        assert http.delete("/v1/articles/no-such-article").status_code == 404
    assert stats(server) == before


# --- asks while an ingest runs -----------------------------------------------------------------


def _articles(count: int) -> list[dict[str, Any]]:
    words = ["harbour", "crane", "tender", "port", "authority", "dredging", "quay", "shipping",
             "berth", "container", "inspection", "contract", "union", "overtime", "tug"]  # fmt: skip
    out = []
    for i in range(count):
        body = " ".join(words[(i + j) % len(words)] for j in range(220))
        text = (
            f"Port of Kessel, report {i}: the Kessel port authority awarded dredging "
            f"contract number K-{1000 + i}. {body}."
        )
        out.append(
            {
                "id": f"kessel-{i}",
                "title": f"Kessel port report {i}",
                "text": text,
                "published": "2022-07-01",
                "source": "Harbour Wire",
            }
        )
    return out


def test_asks_are_answered_while_an_ingest_runs(server: Server) -> None:
    before = stats(server)
    done: dict[str, Any] = {}

    def ingest() -> None:
        with server.http(RW) as http:
            done["start"] = time.monotonic()
            response = http.post("/v1/articles", json={"articles": _articles(60)}, timeout=240)
            done["end"] = time.monotonic()
            done["response"] = response

    asked: list[tuple[float, int, str]] = []

    def ask() -> None:
        with server.http(RO) as http:
            for _ in range(4):
                response = http.post("/v1/ask", json={"question": QUESTION})
                answer = response.json().get("answer", response.text)
                asked.append((time.monotonic(), response.status_code, answer))

    writer = threading.Thread(target=ingest)
    writer.start()
    while "start" not in done:
        time.sleep(0.01)
    readers = [threading.Thread(target=ask) for _ in range(3)]
    for t in readers:
        t.start()
    for t in [*readers, writer]:
        t.join(timeout=240)
    report = done["response"].json()
    assert done["response"].status_code == 200, report
    assert report["new"] == 60 and report["failed"] == []
    assert len(asked) == 12 and all(status == 200 for _, status, _ in asked), asked
    assert all(text.startswith("supporting Iraq [1]") for _, _, text in asked)
    during = [t for t, _, _ in asked if t < done["end"]]
    assert during, "no ask finished while the ingest ran: asks wait for writes"
    after = stats(server)
    assert after["articles"] == before["articles"] + 60
    with server.http(RO) as http:
        found = http.get("/v1/search", params={"q": "Kessel dredging contract K-1042"}).json()
        assert found["passages"][0]["article_id"] == "kessel-42"
        assert http.get("/v1/articles/kessel-7").json()["source"] == "Harbour Wire"
    with server.http(RW) as http:  # the seed store as it was, for the other tests
        for i in range(60):
            assert http.delete(f"/v1/articles/kessel-{i}").status_code == 200
    assert stats(server)["articles"] == before["articles"]
