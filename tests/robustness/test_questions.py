"""Odd questions get clear handling: no crash, no traceback, one line for the user."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import UsageError
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus.jsonl"


@pytest.fixture
def assistant(make_assistant):
    a = make_assistant()
    a.ingest([CORPUS])
    return a


@pytest.mark.parametrize("question", ["", "   ", "?!?...", "\x00\x01\x1b[31m", "¿¡…—"])
def test_empty_or_punctuation_only_is_a_usage_error(assistant, question: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        assistant.ask(question)


def test_a_20000_character_question_is_capped_not_fatal(assistant) -> None:
    question = ("Which team won the championship final? " * 600)[:20000]
    answer = assistant.ask(question)
    assert len(answer.standalone_question) <= 2000
    assert answer.passages and answer.passages[0].article_id == "a3"


def test_control_characters_are_removed(assistant) -> None:
    answer = assistant.ask("Which\x00 team\x1b[2J won the\u200b championship\x07 final?")
    assert "\x00" not in answer.standalone_question and "\x1b" not in answer.standalone_question
    assert answer.passages[0].article_id == "a3"


@pytest.mark.parametrize(
    "question", ["¿Quién ganó la final del campeonato?", "谁赢得了冠军?", "Кто выиграл?"]
)
def test_other_languages_answer_or_refuse_cleanly(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.refused or answer.citations
    assert answer.answer


def test_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(app, ["ask", "   ?? "])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_cli_bad_date_and_bad_setting_exit_2(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    bad_date = CliRunner().invoke(app, ["search", "heat", "--since", "last tuesday"])
    assert bad_date.exit_code == 2 and "--since must be a date" in bad_date.output
    monkeypatch.setenv("ASSISTANT_K", "zero")
    bad_setting = CliRunner().invoke(app, ["stats"])
    assert bad_setting.exit_code == 2 and "invalid setting k" in bad_setting.output


def test_cli_empty_store_is_one_clear_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(app, ["search", "heat wave"])
    assert result.exit_code == 1
    assert "no articles are indexed yet" in result.output and "Traceback" not in result.output
