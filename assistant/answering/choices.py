"""Multiple-choice questions without an LLM: which choice do the passages support best?

Used by :meth:`assistant.answering.answer.Answerer.pick_choice` when no chat model is configured (and when
the model's reply names no choice). Quiz logic lives here, apart from answering.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.models import Passage
from assistant.search.embeddings import Embedder
from assistant.text import NUMBER_WORDS, content_tokens, idf_weights, split_sentences

_BOILERPLATE = re.compile(
    r"cookie|subscribe|newsletter|sign up|click here|all rights reserved|advertisement|"
    r"follow us|read more|terms of (?:use|service)|privacy policy",
    re.IGNORECASE,
)


@dataclass
class PassageSentence:
    passage: Passage
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


def passage_sentences(
    passages: Sequence[Passage], *, readable: bool = True
) -> list[PassageSentence]:
    """Sentences of all passages; ``readable`` drops fragments, headings and boilerplate."""
    out = []
    for passage in passages:
        for s, e in split_sentences(passage.text):
            text = passage.text[s:e]
            if readable and (
                len(text) < 25
                or len(text) > 600
                or len(text.split()) < 4
                or not re.search(r"[a-z]", text)
                or _BOILERPLATE.search(text)
            ):
                continue
            out.append(PassageSentence(passage, s, e))
    return out


# --- scoring ------------------------------------------------------

# Weights of the choice score, tuned on realtimeqa-dev (k=10: 0.73 accuracy): a sentence's
# question match gets CHOICE_BASE added, passages lose weight with rank, mentions and embeddings
# add a bit; only the CHOICE_EMBED_TOP best question-matching sentences (and those naming a
# choice) are embedded.
CHOICE_BASE = 0.15
CHOICE_RANK_DECAY = 0.15
CHOICE_MENTIONS = 0.1
CHOICE_EMBEDDING = 0.35
CHOICE_EMBED_TOP = 20
_NUM_WORDS = {w: int(n) for w, n in NUMBER_WORDS.items() if int(n) <= 12}
_UNITS = {
    "%": r"(?:\s?%|\s?per\s?cent)",
    "m": r"(?:\s?m\b|\s?million)",
    "bn": r"(?:\s?bn\b|\s?billion)",
    "k": r"(?:\s?k\b|,000|\s?thousand)",
    "million": r"(?:\s?m\b|\s?million)",
    "billion": r"(?:\s?bn\b|\s?billion)",
    "trillion": r"(?:\s?tn\b|\s?trillion)",
}
_NUMERIC_CHOICE = re.compile(
    r"(?P<cur>[$£€])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"(?:\s?(?P<unit>%|bn|m|k|million|billion|trillion)(?![a-z]))?",
    re.IGNORECASE,
)


def _norm_phrase(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))) + " "


def _norm_numbers(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


def _number_pattern(choice: str) -> re.Pattern[str] | None:
    """A regex finding the number of a numeric choice ("$5", "10%", "£7m", "Four") in text."""
    text = _norm_numbers(choice.strip().strip("\"“”'‘’"))
    m = _NUMERIC_CHOICE.search(text)
    if m is None:
        word = re.search(r"\b(" + "|".join(_NUM_WORDS) + r")\b", text.lower())
        if word is None:
            return None
        n = _NUM_WORDS[word.group(1)]
        return re.compile(rf"(?<![\w.]){n}(?![\d]|\.\d)|\b{word.group(1)}\b", re.IGNORECASE)
    number = re.escape(m["num"].replace(",", ""))
    cur = re.escape(m["cur"]) + r"\s?" if m["cur"] else r"(?<![$£€\d.,])"
    unit = _UNITS.get((m["unit"] or "").lower(), "")
    words = [w for w, i in _NUM_WORDS.items() if str(i) == m["num"]]
    alternative = rf"|\b{words[0]}\b" if words and not m["cur"] and not unit else ""
    ordinal = r"(?!st\b|nd\b|rd\b|th\b)" if not unit else ""
    return re.compile(rf"{cur}{number}(?![\d]|\.\d){ordinal}{unit}{alternative}", re.IGNORECASE)


def _choice_match(
    choice: str,
    own: set[str],
    question: str,
    texts: Sequence[str],
    token_sets: Sequence[set[str]],
) -> np.ndarray:
    """Per sentence, how well it mentions the choice: 1 for the phrase (or its number), else the
    share of the choice's distinctive words it contains."""
    pattern = _number_pattern(choice)
    if pattern is not None and not pattern.search(_norm_numbers(question)):
        return np.array([1.0 if pattern.search(_norm_numbers(t)) else 0.0 for t in texts])
    phrase = _norm_phrase(choice)
    match = np.zeros(len(texts))
    if own:
        match = np.array([len(own & ts) / len(own) for ts in token_sets])
    if phrase.strip():
        match = np.maximum(match, [1.0 if phrase in _norm_phrase(t) else 0.0 for t in texts])
    return match


def score_choices(
    question: str,
    choices: Sequence[str],
    passages: Sequence[Passage],
    embedder: Embedder | None,
) -> dict[str, float]:
    """How well the passages support each choice as the answer to the question.

    For every sentence of the passages: *question match* = IDF-weighted recall of the question's
    words in the sentence, its neighbours and its title; *choice match* = 1 if the choice appears (numbers with their unit: "$5",
    "10%", "£7m"), else the share of the choice's distinctive words (not shared with other
    choices or the question); a choice named in a passage's title is mentioned by all of its
    sentences. A choice scores the best ``choice match x question match`` over
    the sentences (weighted by passage rank), plus a little for the total evidence mass; with an
    embedder, plus the best cosine of "question + choice" with a sentence. "All of the above"
    wins when two or more other choices are supported; for "which of these is NOT ..." / "all
    of these except" questions the scores are negated, so the least supported choice wins.
    """
    sentences = passage_sentences(passages, readable=False)
    if not sentences:
        return {c: 0.0 for c in choices}
    texts = [s.text for s in sentences]
    token_sets = [set(content_tokens(t)) for t in texts]
    q_match = _question_match(question, sentences, token_sets)
    rank = {p.n: i for i, p in enumerate(sorted(passages, key=lambda p: -p.score))}
    weight = np.array([1.0 / (1.0 + CHOICE_RANK_DECAY * rank[s.passage.n]) for s in sentences])
    query = set(content_tokens(question))
    choice_tokens = {c: set(content_tokens(c)) for c in choices}
    titles = [p.title for p in passages]
    title_tokens = [set(content_tokens(t)) for t in titles]
    position = {p.n: i for i, p in enumerate(passages)}
    title_index = np.array([position[s.passage.n] for s in sentences])
    lexical: dict[str, float] = {}
    mentioned = np.zeros(len(sentences), dtype=bool)
    for choice in choices:
        if not choice.strip():
            lexical[choice] = -1.0
            continue
        others = set().union(*(choice_tokens[o] for o in choices if o != choice))
        own = choice_tokens[choice] - others - query or choice_tokens[choice] - others
        words = own or choice_tokens[choice]
        c_match = _choice_match(choice, words, question, texts, token_sets)
        # a choice named in a passage's title counts as mentioned by each of its sentences
        in_title = _choice_match(choice, words, question, titles, title_tokens)
        c_match = np.maximum(c_match, in_title[title_index])
        mentioned |= c_match > 0
        best = float(np.max(c_match * (CHOICE_BASE + q_match) * weight))
        lexical[choice] = best + CHOICE_MENTIONS * math.log1p(float(np.sum(c_match * q_match)))
    scores = dict(lexical)
    if embedder is not None:
        # embed only sentences that mention a choice or match the question best (speed)
        top_q = np.argsort(-q_match, kind="stable")[:CHOICE_EMBED_TOP]
        pick = sorted(set(np.flatnonzero(mentioned).tolist()) | set(top_q.tolist()))
        vectors = np.asarray(embedder.embed_documents([texts[i] for i in pick]))
        asks = np.asarray(embedder.embed_documents([f"{question} {c}" for c in choices]))
        sims = (asks @ vectors.T) * weight[pick]
        for i, choice in enumerate(choices):
            if choice.strip():
                scores[choice] += CHOICE_EMBEDDING * float(np.max(sims[i]))
    everything = [c for c in choices if _norm_phrase(c) == " all of the above "]
    if everything:
        top = max(lexical.values())
        backed = [c for c in choices if c not in everything and lexical[c] >= 0.5 * top > 0]
        if len(backed) >= 2:
            scores[everything[0]] = max(scores.values()) + 0.01
    if _asks_for_the_exception(question):
        scores = {c: -v if c.strip() else -1.0 for c, v in scores.items()}
    return {c: round(v, 6) for c, v in scores.items()}


def _question_match(
    question: str, sentences: Sequence[PassageSentence], token_sets: Sequence[set[str]]
) -> np.ndarray:
    """IDF-weighted recall of the question's words in each sentence, its neighbours and title."""
    idf = idf_weights(token_sets)
    query = set(content_tokens(question))
    total = sum(idf.get(t, 2.0) for t in query) or 1.0
    out = np.zeros(len(sentences))
    for i, sent in enumerate(sentences):
        ctx = set(token_sets[i]) | set(content_tokens(sent.passage.title))
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentences) and sentences[j].passage.n == sent.passage.n:
                ctx |= token_sets[j]
        out[i] = sum(idf.get(t, 2.0) for t in query & ctx) / total
    return out


def _asks_for_the_exception(question: str) -> bool:
    """ "He was in all of these films except:", "Which of these was not invited?" """
    if re.search(r"\bexcept\b", question, re.IGNORECASE):
        return True
    return bool(
        re.search(r"\b(?:of|among) (?:these|the following)\b", question, re.IGNORECASE)
        and re.search(r"\bnot\b|n['’]t\b", question, re.IGNORECASE)
    )
