"""The API key never appears in anything a run prints or writes (answers, errors, reports, feedback).

OpenAI's own API cannot run here, so a local HTTP server speaks its protocol (the HTTP boundary).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from tests.conftest import ROOT
from tests.unit.test_llm import FakeOpenAI, Reply

KEY = "sk-test-DoNotLeak-7f3a9c2e51b84d06"
CORPUS = ROOT / "tests" / "fixtures" / "corpus.jsonl"


def _all_text(folder: Path) -> str:
    parts = []
    for path in folder.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.mark.slow
def test_a_run_with_a_key_leaks_it_nowhere(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "store"
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(store))
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", str(CORPUS)])
    assert ingest.exit_code == 0, ingest.output
    outputs = [ingest.output]

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    answer = "The Riverside Otters won the final 3-1 [1]."
    with FakeOpenAI([Reply(200, text=answer)]) as server:
        monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", server.url)
        asked = runner.invoke(
            app, ["ask", "Which team beat the Hill Valley Hawks 3-1 in the final?", "--json"]
        )
        assert asked.exit_code == 0, asked.output
        data = json.loads(asked.output)
        assert data["mode"] == "llm" and data["citations"], data["answer"]
        assert server.requests and server.requests[0]["auth"] == f"Bearer {KEY}"  # it was used
        outputs.append(asked.output)

        questions = tmp_path / "q.jsonl"
        questions.write_text(
            json.dumps(
                {
                    "id": "q1",
                    "question": "Which team won the final?",
                    "answer": ["Riverside Otters"],
                }
            )
            + "\n",
            encoding="utf-8",
        )
        evaluated = runner.invoke(app, ["eval", str(questions), "--out", str(tmp_path / "eval")])
        assert evaluated.exit_code in (0, 1), evaluated.output
        outputs.append(evaluated.output)

        from assistant.answering.feedback import append_feedback
        from assistant.config import Settings

        append_feedback(Settings(), _answer_from(data), "down")

    with FakeOpenAI(
        [
            Reply(
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {KEY}",
                        "type": "invalid_request_error",
                    }
                },
            )
        ]
    ) as server:
        monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", server.url)
        rejected = runner.invoke(
            app, ["ask", "Which team beat the Hill Valley Hawks 3-1 in the final?"]
        )
        assert rejected.exit_code != 0
        assert "key" in rejected.output.lower()
        outputs.append(rejected.output)

    written = _all_text(store) + _all_text(tmp_path / "eval")
    assert (tmp_path / "eval" / "report.json").exists() and (store / "feedback.jsonl").exists()
    for text in [*outputs, written]:
        assert KEY not in text
        assert KEY[8:20] not in text  # not even a fragment


def _answer_from(data: dict):
    from assistant.models import Answer

    return Answer.model_validate(data)
