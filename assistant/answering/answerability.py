"""Is the answer in these passages? A calibrated decision from the signals a careful reader uses.

Signals (all in [0, 1] except where noted), computed from the question and the passages an answer
would read:

- ``cosine``: the best passage's cosine similarity to the question (model-specific scale);
- ``window``: IDF-weighted share of the question's content words found in the best window (a
  sentence, its neighbours and the headline) — the answer usually sits next to the asked terms;
- ``coverage``: the same share over all passages together;
- ``rare``: IDF-weighted share of the question's three rarest words found in one passage (the
  words that name the story; common words match anything);
- ``names`` / ``numbers``: share of the question's names (:func:`assistant.text.proper_nouns`,
  the one name extractor of every stage) and numbers/years
  that appear anywhere in the passages — a question about "the 2022 World Cup" is not answered by
  articles that never name it;
- ``missing``: the IDF of the rarest question word absent from every passage, over the largest
  possible IDF (a missing rare word is strong evidence against);
- ``typed``: whether the best window holds a phrase of the asked-for type (a date for "when", a
  number for "how many", a name for "who", ...) that the question does not already contain.

A logistic model over these gives ``probability``; its weights, the two cut points and the
confidence model are fitted by ``benchmarks/fit_news.py`` on RealTimeQA's public quizzes and the fit
halves of the dev sets, per embedding model family (``cosine`` has another scale with OpenAI
embeddings; an unknown model uses the weights fitted without it), and stored in
``assistant/answering/calibration.json``. Extractive answers are refused below ``hedge_at`` and
hedged below ``answer_at`` (:mod:`assistant.answering.outcome`); with an LLM only ``floor``
refuses before the model is asked (nothing remotely related was found), otherwise the model
decides under the prompt's rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, Field

from assistant.models import Passage
from assistant.text import content_tokens, numbers, proper_nouns, split_sentences

FEATURES = ("cosine", "window", "coverage", "rare", "names", "numbers", "missing", "typed")
LEXICAL_MODEL = "lexical"  # the calibration without ``cosine``, for unknown embedding models

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan\.?|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sept?\.?|oct\.?|nov\.?|dec\.?"
)
_DATE = re.compile(
    rf"\b(?:(?:19|20)\d{{2}}|(?:{_MONTHS})\s+\d{{1,2}}|\d{{1,2}}\s+(?:{_MONTHS})|(?:{_MONTHS})|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"(?:last|next|this)\s+(?:week|month|year)|\d+(?:st|nd|rd|th)\s+century|\d{1,2}/\d{1,2})\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|half)\b",
    re.IGNORECASE,
)
_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (?:many|much|long|far|old|big|large|often)\b|\bwhat "
                          r"(?:percentage|percent|share|number|amount|proportion)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time|century|decade)\b|"
                        r"\bwhich (?:year|date|day|month|century|decade)\b|\bhow long ago\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|man|woman|player|leader|"
                          r"company|organi[sz]ation|group|team|country)\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\bwhich (?:city|country|state|region|place|town)\b|"
                         r"\bin what (?:city|country|state|region|place|town)\b", re.I)),
]  # fmt: skip


class Evidence(BaseModel):
    """The decision's inputs and outcome, kept on the Answer for the UI and the evaluation."""

    features: dict[str, float] = Field(default_factory=dict)
    probability: float = 0.0
    answer_type: str = "other"


class Confidence(BaseModel):
    """P(the extractive answer is right) = sigmoid(bias + w_p * logit(p) + w_share * share), with
    ``p`` the answerability and ``share`` the reader's share (assistant/answering/outcome.py)."""

    logit_p: float
    share: float
    bias: float

    def of(self, p: float, share: float) -> float:
        q = min(max(p, 1e-4), 1.0 - 1e-4)
        z = self.bias + self.logit_p * math.log(q / (1.0 - q)) + self.share * share
        return 1.0 / (1.0 + math.exp(-z))


class Calibration(BaseModel):
    weights: dict[str, float]
    bias: float
    answer_at: float = Field(description="Extractive answers are hedged below this probability.")
    hedge_at: float | None = Field(
        default=None,
        description="Extractive answers are refused below this probability (unset: one piece "
        "of evidence short of answer_at, assistant/answering/outcome.py).",
    )
    floor: float = Field(description="With an LLM, refuse without asking below this probability.")
    confidence: Confidence | None = Field(
        default=None, description="Unset: confidence = answerability x reader share."
    )
    fitted_on: str = ""


@lru_cache(maxsize=1)
def _calibrations() -> dict[str, Calibration]:
    text = (
        resources.files("assistant.answering")
        .joinpath("calibration.json")
        .read_text(encoding="utf-8")
    )
    return {name: Calibration.model_validate(c) for name, c in json.loads(text).items()}


def calibration_for(embedding_model: str) -> tuple[str, Calibration]:
    """The calibration of the embedding model's family (``all-MiniLM-L6-v2-int8`` is MiniLM)."""
    table = _calibrations()
    for name in sorted(table, key=len, reverse=True):
        if name != LEXICAL_MODEL and embedding_model.startswith(name):
            return name, table[name]
    return LEXICAL_MODEL, table[LEXICAL_MODEL]


def answer_type(question: str) -> str:
    for kind, pattern in _TYPES:
        if pattern.search(question):
            return kind
    return "other"


def has_typed_phrase(kind: str, text: str, question: str) -> bool:
    """Whether ``text`` holds a phrase of the asked-for kind that the question does not hold."""
    if kind == "other":
        return True
    asked = {t.lower() for t in re.findall(r"[\w'’\-]+", question)}
    if kind == "date":
        return any(m.group().lower() not in asked for m in _DATE.finditer(text))
    if kind == "number":
        return any(m.group().lower() not in asked for m in _NUMBER.finditer(text))
    return bool(proper_nouns(text) - set(content_tokens(question)))


def signals(
    question: str, passages: Sequence[Passage], idf: Callable[[str], float] | None = None
) -> dict[str, float]:
    """The features of the module docstring (zeros when there is nothing to read)."""
    zero = dict.fromkeys(FEATURES, 0.0)
    tokens = list(dict.fromkeys(content_tokens(question)))
    if not passages or not tokens:
        return zero
    weigh = idf or (lambda _t: 1.0)
    weights = {t: max(weigh(t), 1e-3) for t in tokens}
    total = sum(weights.values())
    top_idf = max(max(weights.values()), 1e-3) if idf is None else max(weigh("\x00"), 1e-3)
    kind = answer_type(question)
    rarest = sorted(tokens, key=lambda t: -weights[t])[:3]
    best_rare = 0.0
    seen: set[str] = set()
    best_window, best_text = -1.0, ""
    for p in passages:
        title = set(content_tokens(p.title))
        spans = split_sentences(p.text)
        sets = [set(content_tokens(p.text[s:e])) for s, e in spans]
        own_tokens = title.union(*sets) if sets else title
        seen |= own_tokens
        best_rare = max(best_rare, sum(weights[t] for t in rarest if t in own_tokens))
        for i, own in enumerate(sets):
            window = own | title
            window |= sets[i - 1] if i > 0 else set()
            window |= sets[i + 1] if i + 1 < len(sets) else set()
            share = sum(weights[t] for t in tokens if t in window) / total
            if share > best_window:
                best_window, best_text = share, p.text[spans[i][0] : spans[i][1]]
    names = proper_nouns(question)
    nums = numbers(question)
    missing = max((weights[t] for t in tokens if t not in seen), default=0.0)
    return {
        "cosine": max((p.dense_score or 0.0) for p in passages),
        "window": max(best_window, 0.0),
        "coverage": sum(weights[t] for t in tokens if t in seen) / total,
        "rare": best_rare / sum(weights[t] for t in rarest),
        "names": len(names & seen) / len(names) if names else 1.0,
        "numbers": len(nums & seen) / len(nums) if nums else 1.0,
        "missing": min(missing / top_idf, 1.0),
        "typed": float(has_typed_phrase(kind, best_text, question)),
    }


def probability(features: dict[str, float], calibration: Calibration) -> float:
    z = calibration.bias + sum(
        w * features.get(name, 0.0) for name, w in calibration.weights.items()
    )
    return 1.0 / (1.0 + math.exp(-z))


def assess(
    question: str,
    passages: Sequence[Passage],
    embedding_model: str,
    idf: Callable[[str], float] | None = None,
) -> Evidence:
    features = signals(question, passages, idf)
    _, calibration = calibration_for(embedding_model)
    return Evidence(
        features={k: round(v, 4) for k, v in features.items()},
        probability=round(probability(features, calibration), 4) if passages else 0.0,
        answer_type=answer_type(question),
    )
