"""The seed article with the real bundled model: right phrase first, follow-ups, a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.models import Answer, Turn
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    from assistant.config import Settings
    from assistant.service import Assistant

    store: Path = tmp_path_factory.mktemp("seed") / "store"
    a = Assistant(Settings(store_dir=store, _env_file=None), chat_model=None)
    a.ingest([ROOT / "seeds"])
    return a


def _first_line(answer: Answer) -> str:
    return answer.answer.split("\n")[0]


@pytest.mark.parametrize(
    ("question", "phrase", "sentence"),
    [
        ("When did Iran and Iraq sign the military agreement?", "July 2017", "In July 2017"),
        ("Who did Hatami congratulate?", "Najah Hassan Ali Al-Shammari", "congratulated"),
        ("Who is Iraq's new defense minister?", "Najah Hassan Ali Al-Shammari", "taking the post"),
        ("Who invited whom to visit Iran?", None, "invited his Iraqi counterpart"),
    ],
)
def test_seed_questions_are_answered_phrase_first(
    seeded, question: str, phrase: str | None, sentence: str
) -> None:
    answer = seeded.ask(question)
    assert not answer.refused, answer.answer
    assert sentence in answer.citations[0].quote
    if phrase is not None:
        assert answer.short_answer is not None and answer.short_answer.text == phrase
        assert _first_line(answer) == f"{phrase} [1]"


def test_follow_ups_are_answered_from_the_right_sentences(seeded) -> None:
    history: list[Turn] = []
    expected = [
        ("Who did Hatami congratulate?", "congratulated Najah Hassan Ali Al-Shammari"),
        ("What did he praise Iran for?", "Al-Shammari praised Iran"),
        ("And when did the two countries sign an agreement?", "In July 2017"),
    ]
    for question, quote in expected:
        answer = seeded.ask(question, history=history)
        assert not answer.refused and quote in answer.citations[0].quote, answer.standalone_question
        short = answer.short_answer.text if answer.short_answer else ""
        history.append(
            Turn(
                question=question,
                answer=answer.answer,
                standalone=answer.standalone_question,
                short_answer=short,
            )
        )
    assert history[-1].short_answer == "July 2017"


def test_question_the_seed_does_not_cover_is_refused(seeded) -> None:
    answer = seeded.ask("Who won the 2022 World Cup?")
    assert answer.refused and not answer.citations
    assert answer.answer.startswith("The articles don't say.")
