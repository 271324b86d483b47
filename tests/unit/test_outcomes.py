"""The three outcomes — answer, hedged, refused — in both modes, their confidence and reasons,
and the plain sentences a refusal is made of."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from assistant.answering import outcome
from assistant.answering.answer import Answerer
from assistant.answering.answerability import Confidence, calibration_for
from assistant.answering.outcome import cuts, extractive_confidence, hedge_cut
from assistant.answering.refusal import asked_clause, missing_phrases, refusal_text
from assistant.config import Settings
from assistant.models import HEDGE_LEAD, Answer, Passage
from tests.fakes import HashEmbedder
from tests.unit.test_answer import passage, run, scripted

QUESTION = "How long did the talks between Zarif and the officials last?"


def test_answer_keeps_refused_and_outcome_the_same() -> None:
    old_style = Answer(question="q", standalone_question="q", answer="x", mode="llm", refused=True)
    assert old_style.outcome == "refused"
    new_style = Answer(
        question="q", standalone_question="q", answer="x", mode="llm", outcome="refused"
    )
    assert new_style.refused
    hedged = Answer(question="q", standalone_question="q", answer="x", mode="llm", outcome="hedged")
    assert not hedged.refused
    assert Answer.model_validate_json(old_style.model_dump_json()).outcome == "refused"


# --- the cuts -------------------------------------------------------------------------------


def test_hedge_cut_is_one_piece_of_evidence_short_of_the_answer_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, shipped = calibration_for("all-MiniLM-L6-v2-int8")
    weights = {**shipped.weights, "rare": 1.2}
    calibration = shipped.model_copy(update={"hedge_at": None, "weights": weights})  # unfitted
    monkeypatch.setattr(outcome, "calibration_for", lambda _m: ("all-MiniLM-L6-v2", calibration))
    cut = cuts(Settings(_env_file=None), "all-MiniLM-L6-v2-int8")
    assert cut.answer_at == calibration.answer_at and cut.floor == calibration.floor
    logit = math.log(cut.answer_at / (1 - cut.answer_at)) - calibration.weights["rare"]
    assert cut.hedge_at == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-4)
    assert 0.0 < cut.hedge_at < cut.answer_at
    assert hedge_cut(0.0, calibration) == 0.0 and hedge_cut(1.0, calibration) == 1.0
    # set explicitly; a hedge cut above the answer cut leaves no band
    assert cuts(Settings(_env_file=None, hedge_at=0.3), "x").hedge_at == 0.3
    both = cuts(Settings(_env_file=None, answer_at=0.2, hedge_at=0.5), "x")
    assert both.hedge_at == both.answer_at == 0.2


def test_the_fitted_hedge_cut_and_confidence_model_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, shipped = calibration_for("all-MiniLM-L6-v2-int8")
    model = Confidence(logit_p=1.0, share=2.0, bias=-1.5)
    fitted = shipped.model_copy(update={"answer_at": 0.5, "hedge_at": 0.11, "confidence": model})
    monkeypatch.setattr(outcome, "calibration_for", lambda _m: ("all-MiniLM-L6-v2", fitted))
    cut = cuts(Settings(_env_file=None), "all-MiniLM-L6-v2-int8")
    assert (cut.hedge_at, cut.answer_at, cut.confidence) == (0.11, 0.5, model)
    # a hand-set answer cut: the band keeps its fitted width in logits below it
    moved = cuts(Settings(_env_file=None, answer_at=0.8), "all-MiniLM-L6-v2-int8")
    width = math.log(0.5 / 0.5) - math.log(0.11 / 0.89)
    assert moved.hedge_at == hedge_cut(0.8, fitted)
    assert moved.hedge_at == pytest.approx(
        1 / (1 + math.exp(-(math.log(0.8 / 0.2) - width))), abs=1e-4
    )
    # a negative rare weight never puts the hedge cut above the answer cut
    odd = shipped.model_copy(
        update={"hedge_at": None, "weights": {**shipped.weights, "rare": -1.0}}
    )
    assert hedge_cut(0.6, odd) == 0.6
    # the confidence is the fitted logistic model: sigmoid(-1.5 + logit(0.5) + 2 * 1.0)
    assert extractive_confidence(0.5, 1.0, model) == round(1 / (1 + math.exp(-0.5)), 4)
    assert extractive_confidence(0.9, 1.0, model) > extractive_confidence(0.5, 1.0, model)
    assert extractive_confidence(0.5, 0.2, model) < extractive_confidence(0.5, 1.0, model)
    assert extractive_confidence(0.5, 0.5, None) == 0.25  # without a model: p x share


# --- extractive -----------------------------------------------------------------------------


def test_extractive_in_the_band_is_hedged_with_candidate_and_quote() -> None:
    settings = Settings(_env_file=None, answer_at=0.999, hedge_at=0.0)
    tokens, answer = run(Answerer(settings, None, HashEmbedder()), QUESTION,
                         [passage(1, "a1"), passage(2, "a2")])  # fmt: skip
    assert answer.outcome == "hedged" and not answer.refused
    assert "".join(tokens) == answer.answer and tokens[0].startswith(HEDGE_LEAD)
    assert answer.answer.startswith(f"{HEDGE_LEAD}\n\nthree hours [1]\n\n")
    assert answer.short_answer is not None and answer.short_answer.text == "three hours"
    # the spans still index the text (the lead moved them along)
    first = answer.sentences[0]
    assert answer.answer[first.start : first.end] == "three hours [1]"
    for s in answer.sentences:
        for m in s.markers:
            assert answer.answer[m.start : m.end] == "[1]"
    assert answer.confidence is not None and 0 < answer.confidence <= answer.answerability
    codes = {r.code: r for r in answer.reasons}
    assert codes["below_answer_at"].value == answer.answerability
    assert codes["below_answer_at"].threshold == 0.999 and "reader_share" in codes


def test_extractive_above_the_cut_answers_with_confidence() -> None:
    settings = Settings(_env_file=None, answer_at=0.0)
    _, answer = run(Answerer(settings, None, HashEmbedder()), QUESTION, [passage(1, "a1")])
    assert answer.outcome == "answer" and not answer.answer.startswith(HEDGE_LEAD)
    assert answer.answer.startswith("three hours [1]")
    assert answer.confidence is not None and answer.answerability is not None
    assert answer.confidence <= answer.answerability
    assert answer.reasons[0].code == "answerability"


def test_below_the_hedge_cut_is_refused_in_plain_words() -> None:
    settings = Settings(_env_file=None, answer_at=0.999, hedge_at=0.998)
    _, answer = run(Answerer(settings, None, HashEmbedder()), QUESTION, [passage(1, "a1")])
    assert answer.outcome == "refused" and answer.refused and answer.confidence is None
    assert answer.answer.startswith("The articles don't say.")  # no clause for "did ... last"
    assert "“Zarif visits Tokyo” (Tasnim, 10 August 2019)" in answer.answer
    assert not re.search(r"\d\.\d", answer.answer)
    assert answer.reasons[0].code == "below_hedge_at" and answer.reasons[0].threshold == 0.998


def test_in_the_band_a_question_naming_what_no_passage_mentions_is_refused() -> None:
    settings = Settings(_env_file=None, answer_at=0.999, hedge_at=0.0)
    question = "How long did the talks between Zarif and Lavrov last?"
    _, answer = run(Answerer(settings, None, HashEmbedder()), question, [passage(1, "a1")])
    assert answer.refused
    assert "None of the closest articles mentions “Lavrov”." in answer.answer
    missing = [r for r in answer.reasons if r.code == "missing_terms"]
    assert missing and missing[0].items == ["Lavrov"]


def test_in_the_band_without_a_candidate_it_is_refused() -> None:
    settings = Settings(_env_file=None, answer_at=0.999, hedge_at=0.0)
    question = "When did the talks between Zarif and the officials end?"
    p = passage(1, "a1").model_copy(
        update={"text": "Zarif and the officials held talks that went on for a long while."}
    )
    _, answer = run(Answerer(settings, None, HashEmbedder()), question, [p])
    assert answer.refused and "no_candidate" in [r.code for r in answer.reasons]


# --- LLM ------------------------------------------------------------------------------------


def test_llm_supported_answer_is_an_answer_with_the_verifier_confidence() -> None:
    settings = Settings(_env_file=None, llm_floor=0.0)
    reply = "The talks lasted three hours, officials said [1]."
    tokens, answer = run(Answerer(settings, scripted(reply), HashEmbedder()), QUESTION,
                         [passage(1, "a1")])  # fmt: skip
    assert answer.outcome == "answer" and answer.answer == reply == "".join(tokens)
    assert answer.confidence == min(c.support for c in answer.citations)
    assert any(r.code == "support" for r in answer.reasons)


def test_llm_unsupported_claim_is_hedged_and_says_so_first() -> None:
    settings = Settings(_env_file=None, llm_floor=0.0)
    reply = "The talks lasted three hours [1]. Zarif met the prime minister in Osaka [1]."
    _, answer = run(Answerer(settings, scripted(reply), HashEmbedder()), QUESTION,
                    [passage(1, "a1")])  # fmt: skip
    assert answer.outcome == "hedged" and not answer.refused
    assert answer.answer == f"{HEDGE_LEAD}\n\n{reply}"  # the model's answer kept, below the lead
    for s in answer.sentences:
        for m in s.markers:
            assert answer.answer[m.start : m.end] == "[1]"
    supports = [c.support for c in answer.citations]
    assert answer.confidence == min(supports) < settings.support_threshold
    codes = [r.code for r in answer.reasons]
    assert "unsupported_claims" in codes and "support" in codes


def test_llm_uncited_answer_is_hedged() -> None:
    settings = Settings(_env_file=None, llm_floor=0.0)
    reply = "The talks lasted three hours according to officials."
    _, answer = run(Answerer(settings, scripted(reply), HashEmbedder()), QUESTION,
                    [passage(1, "a1")])  # fmt: skip
    assert answer.outcome == "hedged" and answer.confidence == 0.0


def test_llm_refusal_is_kept_as_the_model_said_it() -> None:
    settings = Settings(_env_file=None, llm_floor=0.0)
    _, answer = run(Answerer(settings, scripted("The articles don't say."), None), QUESTION,
                    [passage(1, "a1")])  # fmt: skip
    assert answer.refused and answer.answer == "The articles don't say."
    assert answer.confidence is None
    assert [r.code for r in answer.reasons] == ["answerability", "model_refused"]


# --- the refusal's sentences ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("Who won the 2022 World Cup?", "who won the 2022 World Cup"),
        ("Who invited whom to visit Iran?", "who invited whom to visit Iran"),
        ("What is the name of the new minister?", "what the name of the new minister is"),
        ("Who is Iraq's defense minister?", "who Iraq's defense minister is"),
        ("How many people were killed in the attack?", "how many people were killed in the attack"),
        ("Who is leading the talks?", "who is leading the talks"),
        ("When did Iran and Iraq sign the agreement?", None),
        ("When was the treaty signed?", None),
        ("Tell me about Iran.", None),
    ],
)
def test_asked_clause(question: str, clause: str | None) -> None:
    assert asked_clause(question) == clause


def _p(n: int, article_id: str, title: str, day: dt.date | None, text: str) -> Passage:
    return Passage(n=n, chunk_id=f"{article_id}:0", article_id=article_id, title=title,
                   source="Tasnim", published=day, text=text, start=0, end=len(text), rank=n)  # fmt: skip


def test_refusal_names_the_closest_articles_once_each_and_the_dates_searched() -> None:
    passages = [
        _p(1, "a", "Iran and Iraq [2] talk", dt.date(2022, 6, 12), "Tehran and Baghdad met."),
        _p(2, "a", "Iran and Iraq [2] talk", dt.date(2022, 6, 12), "More on the meeting."),
        _p(3, "b", "Oil prices", None, "Oil prices rose."),
    ]
    text = refusal_text(
        "The articles don't say.", "Who won the 2022 World Cup?", passages,
        missing=["2022 World Cup"], nowhere=True, date_filter=(dt.date(2022, 6, 12), None),
    )  # fmt: skip
    assert text == (
        "The articles don't say who won the 2022 World Cup. No article mentions “2022 World "
        "Cup”. Only articles published from 12 June 2022 on were searched. The closest articles "
        "are “Iran and Iraq (2) talk” (Tasnim, 12 June 2022) and “Oil prices” (Tasnim, undated)."
    )
    until = (None, dt.date(2022, 1, 2))
    empty = refusal_text("The articles don't say.", "Why?", [], date_filter=until)
    assert empty == (
        "The articles don't say why. No article published up to 2 January 2022 matches the "
        "question."
    )


def test_missing_phrases_tells_the_closest_passages_from_the_whole_collection() -> None:
    passages = [_p(1, "a", "Iran and Iraq", None, "Tehran and Baghdad met in 2021.")]
    assert missing_phrases("Who won the 2022 World Cup in Qatar?", passages) == (
        ["2022 World Cup", "Qatar"],
        False,
    )
    known = {"qatar": 0.5}
    idf = lambda token: known.get(token, 9.0)  # noqa: E731 - every other word unseen
    assert missing_phrases("Who won the World Cup in Qatar?", passages, idf) == (
        ["World Cup", "Qatar"],
        False,  # "Qatar" is in some article of the collection, not in these passages
    )
    assert missing_phrases("Who won the World Cup?", passages, idf) == (["World Cup"], True)
    assert missing_phrases("What did Tehran say in 2021?", passages) == ([], False)
