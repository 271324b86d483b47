"""`assistant mcp` as MCP clients meet it: the official SDK's own client lists and calls the tools
over stdio (the client starts the server) and over streamable HTTP (a real server, with keys),
on a store holding the seed article and one dated story (real bundled embedding model)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import SEED
from tests.integration.servers import death_report, free_port, stop
from tests.integration.test_api import clean_env, cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KEY = "mcp-integration-key-31f0"
TOOLS = {"search_news", "ask_news", "timeline"}
DATED = {
    "id": "pact-2019",
    "title": "Iran and Iraq sign air defence pact",
    "published": "2019-08-20",
    "source": "Wire",
    "url": "https://wire.example/pact",
    "text": "Iran and Iraq signed an air defence pact in Baghdad on Tuesday, officials said. "
    "The pact covers radar sharing along the border and joint training of crews.",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mcp")
    extra = tmp / "dated.jsonl"
    extra.write_text(json.dumps(DATED) + "\n")
    done = cli("ingest", str(SEED), str(extra), env=clean_env(tmp), cwd=tmp)
    assert done.returncode == 0, done.stderr
    return tmp


async def exercise(client: Client) -> dict[str, Any]:
    """List the tools and call each; what came back, by tool."""
    listed = await client.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    results: dict[str, Any] = {}
    calls = {
        "ask_news": {"question": "What did Al-Shammari praise Iran for?"},
        "search_news": {"query": "air defence pact radar", "k": 3},
        "timeline": {"query": "Iran Iraq air defence pact"},
    }
    for name, arguments in calls.items():
        result = await client.call_tool(name, arguments)
        assert not result.is_error, result.content
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
        results[name] = result.structured_content
    refused = await client.call_tool("ask_news", {"question": "Who won the 2022 World Cup?"})
    results["refused"] = refused.structured_content
    bad = await client.call_tool("search_news", {"query": "pact", "since": "2019-13-01"})
    assert bad.is_error and "since" in bad.content[0].text  # type: ignore[union-attr]
    return results


def check(results: dict[str, Any]) -> None:
    answer = results["ask_news"]
    assert answer["answer"].startswith("supporting Iraq [1]")
    assert answer["citations"][0]["title"] == "Iran Urges Closer Military Ties with Iraq"
    assert "Al-Shammari praised Iran" in answer["citations"][0]["quote"]
    passages = results["search_news"]["passages"]
    assert passages[0]["article_id"] == "pact-2019" and passages[0]["url"] == DATED["url"]
    events = results["timeline"]["events"]
    assert [e["article_id"] for e in events] == ["pact-2019"] and events[0]["date"] == "2019-08-20"
    assert results["refused"]["outcome"] == "refused" and results["refused"]["citations"] == []


def test_mcp_over_stdio(store: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "assistant.cli", "mcp"], env=clean_env(store), cwd=store
    )

    async def main() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=120) as client:
            return await exercise(client)

    check(anyio.run(main))


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if died := death_report("assistant mcp --http", proc, log):
            raise RuntimeError(died)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    msg = f"assistant mcp --http did not listen on {port} within {timeout}s"
    raise TimeoutError(msg)


@pytest.fixture(scope="module")
def http_server(store: Path) -> Iterator[str]:
    port = free_port()
    log = store / "mcp-http.log"
    env = clean_env(store, ASSISTANT_API_KEYS=f"ro:{KEY}")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "mcp", "--http", "--port", str(port)],
            cwd=store, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_port(port, proc, log)
        yield f"http://127.0.0.1:{port}/mcp"
        assert proc.poll() is None, log.read_text()
    finally:
        stop(proc)
    assert "Traceback" not in log.read_text()


def test_mcp_over_streamable_http_with_a_key(http_server: str) -> None:
    async def main() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {KEY}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=120) as http,
            Client(streamable_http_client(http_server, http_client=http)) as client,
        ):
            return await exercise(client)

    check(anyio.run(main))


def test_mcp_over_http_needs_the_key(http_server: str) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    missing = httpx.post(http_server, json=hello)
    assert missing.status_code == 401
    assert missing.json()["error"]["message"] == "An API key is required."
    wrong = httpx.post(http_server, json=hello, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
