"""The seed article with the real bundled model: right phrase first, follow-ups, a refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.models import HEDGE_LEAD, Answer, Turn
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


@pytest.mark.parametrize(
    "question",
    ["Who invited his Iraqi counterpart to visit Iran?", "Who invited whom to visit Iran?"],
)
def test_a_person_named_by_role_is_answered_with_the_name_and_both_quotes(
    seeded, question: str
) -> None:
    # "the defense minister invited his Iraqi counterpart" names no one; the article's lead
    # titles Amir Hatami "Defense Minister of Iran": the name first, then both sentences
    answer = seeded.ask(question)
    assert answer.outcome != "refused", answer.answer
    assert answer.short_answer is not None and answer.short_answer.text == "Amir Hatami"
    quotes = [c.quote for c in answer.citations]
    assert "Defense Minister of Iran Brigadier General Amir Hatami" in quotes[0]
    assert any("the defense minister invited his Iraqi counterpart" in q for q in quotes)


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
    assert answer.refused and answer.outcome == "refused" and not answer.citations
    # a plain sentence: what the articles don't say, and what they do cover
    text = answer.answer
    assert text.startswith("The articles don't say who won the 2022 World Cup.")
    assert "“Iran Urges Closer Military Ties with Iraq” (Tasnim, undated)" in text
    assert "World Cup”" in text.split(".", 1)[1]  # the part of the question not found
    # no internal scores in what the user reads; they are in the reasons
    assert not re.search(r"\d\.\d|answerability|below", text)
    assert answer.confidence is None
    [low] = [r for r in answer.reasons if r.code == "below_hedge_at"]
    assert low.value is not None and low.threshold is not None and low.value < low.threshold


# --- the three outcomes on the seed article alone ---------------------------------------------


def test_the_commander_is_named_not_refused(seeded) -> None:
    """Today's calibrated answerability is just below the answer cut for this wording; the
    reader's candidate and its quote are offered (answered or hedged), never a refusal."""
    answer = seeded.ask("What is the name of the Iranian air defense commander?")
    assert answer.outcome in ("answer", "hedged") and not answer.refused, answer.answer
    assert answer.short_answer is not None
    assert answer.short_answer.text == "Alireza Sabahi Fard"
    quote = answer.citations[0].quote
    assert "Brigadier General Alireza Sabahi Fard" in quote
    assert answer.confidence is not None and 0.0 < answer.confidence <= 1.0
    if answer.outcome == "hedged":  # marked unsure in the text itself, before the candidate
        assert answer.answer.startswith(HEDGE_LEAD)
        assert answer.answer.index("Alireza Sabahi Fard") > len(HEDGE_LEAD)


def test_the_border_question_mentions_irans_western_border(seeded) -> None:
    answer = seeded.ask("Which country's border does the air defense cooperation protect?")
    assert answer.outcome in ("answer", "hedged") and not answer.refused, answer.answer
    assert "Iran’s western border" in answer.citations[0].quote
    assert "Iran’s western border" in answer.answer
    assert answer.short_answer is not None and answer.short_answer.text == "Iran"
    assert {r.code for r in answer.reasons} & {"answerability", "below_answer_at"}


def test_refused_is_the_outcome_on_every_seed_answer(seeded) -> None:
    for question in ("Who won the 2022 World Cup?", "Who invited whom to visit Iran?",
                     "Which country's border does the air defense cooperation protect?"):  # fmt: skip
        answer = seeded.ask(question)
        assert answer.refused == (answer.outcome == "refused")
        assert (answer.confidence is None) == answer.refused


def test_ask_json_carries_outcome_confidence_and_reasons(seeded) -> None:
    runner = CliRunner()
    env = {"ASSISTANT_STORE_DIR": str(seeded.settings.store_dir)}
    for question, outcomes in [
        ("What is the name of the Iranian air defense commander?", {"answer", "hedged"}),
        ("Who won the 2022 World Cup?", {"refused"}),
    ]:
        result = runner.invoke(app, ["ask", question, "--json"], env=env)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["outcome"] in outcomes and data["refused"] == (data["outcome"] == "refused")
        assert "confidence" in data and isinstance(data["reasons"], list) and data["reasons"]
        assert all(isinstance(r["code"], str) for r in data["reasons"])
        if data["outcome"] != "refused":
            assert 0.0 < data["confidence"] <= 1.0


def test_ask_prints_each_source_once_and_says_what_it_is(seeded) -> None:
    env = {"ASSISTANT_STORE_DIR": str(seeded.settings.store_dir)}
    question = "What is the name of the Iranian air defense commander?"
    result = CliRunner().invoke(app, ["ask", question], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sources:" not in out and out.count("\nsources\n") == 1
    assert out.count("[1] Iran Urges Closer Military Ties with Iraq — Tasnim") == 1
    if "unsure answer" in out:
        assert HEDGE_LEAD in out
    refused = CliRunner().invoke(app, ["ask", "Who won the 2022 World Cup?"], env=env)
    assert refused.stdout.startswith("no answer in the articles\nThe articles don't say who won")
