"""Answer, hedge or refuse: the three outcomes of an answer, its confidence and its reasons.

``Answer.outcome`` means the same in both modes:

- ``answer``: the short answer first, cited — the passages hold it as far as the checks can tell;
- ``hedged``: a candidate and its quote that *may* answer, shown as unsure ("The articles may
  answer this — check the quote."): the reader decides;
- ``refused``: the articles don't say (what they do cover is said instead).

**Extractive mode** decides on the calibrated answerability ``p`` of the passages
(:mod:`assistant.answering.answerability`) with two cuts: ``p >= answer_at`` answers;
``hedge_at <= p < answer_at`` is hedged when the question's names and numbers are all in the
passages and the reader finds a candidate short answer in a quoted sentence (else refused);
``p < hedge_at`` is refused.

The cuts are fitted by ``benchmarks/fit_news.py`` (``calibration.json``, per embedding family) on
RealTimeQA's public quizzes of the fit years, each question asked as is, with its evidence removed
and among another week's articles: ``hedge_at`` is the highest cut at which at most 5% of the
answerable fit questions are refused; ``answer_at`` the lowest cut at which at least 60% of the
answers to answerable fit questions hold the answer. With ``answer_at`` set by hand
(``Settings.answer_at``) and no ``hedge_at``, the hedge cut keeps the fitted band's width in
logits below it; a calibration without a fitted ``hedge_at`` puts it *one piece of evidence
short*: ``logit(answer_at)`` minus the weight of ``rare`` (the signal that the question's rarest
words — the words naming its story — stand together in one passage).

**LLM mode**: below the calibrated ``floor`` the model is not asked (refused). The model's own
refusal is kept (refused); its answer is verified (:func:`assistant.answering.citations.verify`)
and is an ``answer`` when every claim it makes is cited and supported (support at least
``support_threshold``), ``hedged`` otherwise.

``Answer.confidence`` estimates the probability that the answer is right (holds an accepted
answer). Extractive: the fitted logistic model of the calibration over ``logit(p)`` and the
reader's share (the reader's score of the quoted sentence over its best sentence's; 1 when the
short answer lies in the best sentence), fitted on whether the answers of the fit years held the
answer; without a fitted model, ``p`` times the share. LLM: the support of the weakest claim (0
when a claim is uncited). None for refusals.

``Answer.reasons`` (:class:`~assistant.models.Reason`) codes: ``answerability`` (value ``p``,
threshold the cut it passed), ``below_answer_at`` / ``below_hedge_at`` / ``below_llm_floor``
(value ``p``, threshold the cut it missed), ``missing_terms`` (items: the question's names or
numbers no passage mentions), ``no_passages``, ``no_candidate`` (no short answer to offer),
``no_readable_sentence``, ``reader_share``, ``model_refused``, ``support`` (value the weakest
claim's support, threshold ``support_threshold``), ``unsupported_claims`` (items: the
sentences), ``no_citations``, ``date_filter`` (items: the dates searched between, ``""`` for an
open end).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.answerability import Calibration, Confidence, calibration_for
from assistant.config import Settings
from assistant.models import HEDGE_LEAD, Answer, AnswerSentence, Citation, MarkerSpan, Reason


@dataclass(frozen=True)
class Cuts:
    """The answerability cuts in force: hedged from ``hedge_at``, answered from ``answer_at``;
    with an LLM, not asked below ``floor``."""

    hedge_at: float
    answer_at: float
    floor: float
    confidence: Confidence | None = None


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def hedge_cut(answer_at: float, calibration: Calibration) -> float:
    """``hedge_at`` for a hand-set ``answer_at`` (see the module docstring): as far below it, in
    logits, as the fitted hedge cut lies below the fitted answer cut; without a fitted hedge cut,
    one piece of evidence short (the weight of ``rare``, when positive)."""
    if answer_at <= 0.0 or answer_at >= 1.0:
        return answer_at
    fitted_hedge, fitted_answer = calibration.hedge_at, calibration.answer_at
    if fitted_hedge is not None and 0.0 < fitted_hedge < fitted_answer < 1.0:
        gap = _logit(fitted_answer) - _logit(fitted_hedge)
    else:
        gap = max(calibration.weights.get("rare", 0.0), 0.0)
    return round(1.0 / (1.0 + math.exp(-(_logit(answer_at) - gap))), 4)


def cuts(settings: Settings, embedding_model: str) -> Cuts:
    """The cuts of the settings, the calibration of the embedding model filling in unset ones."""
    _, calibration = calibration_for(embedding_model)
    answer_at = settings.answer_at if settings.answer_at is not None else calibration.answer_at
    if settings.hedge_at is not None:
        hedge_at = settings.hedge_at
    elif calibration.hedge_at is not None and settings.answer_at is None:
        hedge_at = calibration.hedge_at
    else:
        hedge_at = hedge_cut(answer_at, calibration)
    floor = settings.llm_floor if settings.llm_floor is not None else calibration.floor
    return Cuts(
        hedge_at=min(hedge_at, answer_at),
        answer_at=answer_at,
        floor=floor,
        confidence=calibration.confidence,
    )


def date_reason(date_filter: tuple[dt.date | None, dt.date | None] | None) -> list[Reason]:
    if not date_filter:
        return []
    since, until = date_filter
    items = [since.isoformat() if since else "", until.isoformat() if until else ""]
    return [Reason(code="date_filter", items=items)]


def refused(base: Answer, text: str, reasons: Sequence[Reason]) -> Answer:
    """``base`` as a refusal saying ``text``."""
    return base.model_copy(
        update={
            "answer": text,
            "refused": True,
            "outcome": "refused",
            "confidence": None,
            "reasons": list(reasons),
            "citations": [],
            "short_answer": None,
            "sentences": [],
        }
    )


def reader_share(sentence_score: float, best_score: float) -> float:
    """The quoted sentence's reader score over the best sentence's, in [0, 1]."""
    if best_score <= 0.0:
        return 1.0
    return round(min(1.0, max(0.0, sentence_score / best_score)), 4)


def extractive_confidence(
    answerability: float, share: float, model: Confidence | None = None
) -> float:
    """The fitted model's probability that the answer is right; without one, ``p`` x share."""
    if model is None:
        return round(answerability * share, 4)
    return round(model.of(answerability, share), 4)


def llm_confidence(citations: Sequence[Citation], unsupported: Sequence[str]) -> float:
    """The support of the weakest claim: each cited sentence counts with its best citation; an
    uncited claim (listed in ``unsupported`` without a citation) counts 0."""
    best: dict[str, float] = {}
    for c in citations:
        key = c.sentence.strip()
        best[key] = max(best.get(key, 0.0), c.support)
    cited = set(best)
    if any(s.strip() not in cited for s in unsupported) or not best:
        return 0.0
    return round(min(best.values()), 4)


def llm_outcome(
    citations: Sequence[Citation], unsupported: Sequence[str], threshold: float
) -> tuple[str, float, list[Reason]]:
    """(outcome, confidence, reasons) of a verified LLM answer that does not refuse."""
    confidence = llm_confidence(citations, unsupported)
    if not citations:
        return "hedged", confidence, [Reason(code="no_citations")]
    support = Reason(code="support", value=confidence, threshold=threshold)
    if unsupported:
        claims = Reason(code="unsupported_claims", items=list(unsupported))
        return "hedged", confidence, [support, claims]
    return "answer", confidence, [support]


def with_hedge_lead(
    text: str, sentences: Sequence[AnswerSentence]
) -> tuple[str, list[AnswerSentence]]:
    """``text`` opened by :data:`~assistant.models.HEDGE_LEAD`, the sentence spans moved along."""
    prefix = f"{HEDGE_LEAD}\n\n"
    shift = len(prefix)
    moved = [
        s.model_copy(
            update={
                "start": s.start + shift,
                "end": s.end + shift,
                "markers": [
                    MarkerSpan(start=m.start + shift, end=m.end + shift, numbers=m.numbers)
                    for m in s.markers
                ],
            }
        )
        for s in sentences
    ]
    return prefix + text, moved
