"""The extractive reader: the sentences that answer a question and the short answer in them.

Pure functions, no model but the sentence embedder:

- :func:`rank_sentences` scores every readable sentence of the passages by the IDF-weighted
  share of the question's terms it holds (and its neighbours and title hold), its cosine with the
  question, whether it holds a phrase of the asked-for type that the question does not already
  contain, and its passage's retrieval rank.
- :func:`short_answer` picks, in the best sentences, the phrase of the asked-for type nearest to
  the question's terms (for "other" questions: the words next to the question's terms that the
  question does not contain, cut at clause boundaries).
- :func:`compose` chooses the sentence(s) to quote: the one holding the short answer, and a second
  only when it adds a phrase of the asked-for type.

The candidate phrases of one sentence and their features (nearness to the question's terms,
size, what a "which NOUN" or "how many" question asks for) come from
:mod:`assistant.answering.candidates`.

Offsets: ``ScoredSentence.start/end`` index ``passage.text``; ``ShortAnswer.start/end`` index
``passage.text`` too (``sentence_start/sentence_end`` index the sentence, and
``article_start/article_end`` the article's text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from assistant.answering.candidates import (
    THING_QUESTION,
    candidate_spans,
    closeness,
    counted_terms,
    focus_nouns,
    named_spans,
    new_phrases,
    size_prior,
    term_matches,
    token_spans,
)
from assistant.answering.phrases import (
    INDIVIDUAL,
    AnswerType,
    Span,
    answer_type,
    demonym_variants,
    person_like,
    question_focus,
    title_before,
    typed_phrases,
)
from assistant.models import Passage
from assistant.search.embeddings import Embedder
from assistant.text import (
    STOPWORDS,
    content_tokens,
    idf_weights,
    proper_nouns,
    split_sentences,
    stem,
)

__all__ = [
    "AnswerType",
    "ScoredSentence",
    "ShortAnswer",
    "answer_type",
    "compose",
    "has_asked_type",
    "rank_sentences",
    "short_answer",
    "typed_phrases",
]

# The reader's weights ship in reader.json beside this module (benchmarks/fit_news.py refits the
# short-answer weights; the sentence weights were fitted by benchmarks/bench_reader.py).
_FITTED = json.loads(
    resources.files("assistant.answering").joinpath("reader.json").read_text(encoding="utf-8")
)
# Sentence score: the weighted features below.
W_TERMS: float = _FITTED["sentence"]["terms"]  # IDF-weighted share of the question's terms
W_CONTEXT: float = _FITTED["sentence"]["context"]  # ... with its neighbours and the headline
W_COSINE: float = _FITTED["sentence"]["cosine"]  # cosine(question, sentence), bundled embedder
W_TYPED: float = _FITTED["sentence"]["typed"]  # a phrase of the asked-for type not in the question
W_RANK: float = _FITTED["sentence"]["rank"]  # retrieval rank of the passage: W_RANK / (1 + rank)
# A second sentence is quoted only when it scores at least this share of the first.
SECOND_SHARE: float = _FITTED["second_share"]
# Short answer score: sentence score (relative to the best) + S_NEAR * nearness to the question's
# terms (IDF-weighted, see closeness) + S_PRIOR * (a span of a few words for "other", a
# person-like name for "who", a number of the counted thing for "how many") + the terms below.
S_NEAR: float = _FITTED["short"]["near"]
S_PRIOR: float = _FITTED["short"]["prior"]
S_EDGE: float = _FITTED["short"]["edge"]  # the question's terms are all on one side of the phrase
S_NAMED: float = _FITTED["short"]["named"]  # a capitalised candidate for "what/which NOUN"
S_FOCUS: float = _FITTED["short"]["focus"]  # holds the noun of "which NOUN" ("Southwest Airlines")
S_CONFLICT: float = _FITTED["short"]["conflict"]  # a name titled for another country or body
TOP_SENTENCES = 5


@dataclass
class ScoredSentence:
    """A sentence of a passage (``passage.text[start:end]``) and how well it answers."""

    passage: Passage
    start: int
    end: int
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


@dataclass
class ShortAnswer:
    """The phrase that answers, inside one ranked sentence."""

    text: str
    kind: AnswerType
    sentence: int  # index into the ranked list
    passage: Passage
    start: int  # offsets into passage.text
    end: int
    sentence_start: int  # offsets into the sentence's text
    sentence_end: int
    score: float = 0.0
    via: int | None = None  # the ranked sentence that names the person by role, when not this one

    @property
    def article_start(self) -> int:
        return self.passage.start + self.start

    @property
    def article_end(self) -> int:
        return self.passage.start + self.end


def _readable(text: str) -> bool:
    return 25 <= len(text) <= 600 and len(text.split()) >= 4 and bool(re.search(r"[a-z]", text))


def _question_terms(question: str) -> set[str]:
    return set(content_tokens(question_focus(question))) | set(content_tokens(question))


def rank_sentences(
    question: str, passages: Sequence[Passage], embedder: Embedder | None
) -> list[ScoredSentence]:
    """All readable sentences of the passages, best first (ties keep passage order)."""
    sentences: list[ScoredSentence] = []
    for passage in passages:
        for s, e in split_sentences(passage.text):
            if _readable(passage.text[s:e]):
                sentences.append(ScoredSentence(passage, s, e))
    if not sentences:
        return []
    kind = answer_type(question)
    tokens = [set(content_tokens(x.text)) for x in sentences]
    idf = idf_weights(tokens)
    asked = _question_terms(question)
    total = sum(idf.get(t, 1.0) for t in asked) or 1.0

    def recall(bag: set[str]) -> float:
        return sum(idf.get(t, 1.0) for t in asked & bag) / total

    rank = {p.n: i for i, p in enumerate(sorted(passages, key=lambda p: -p.score))}
    cosine = np.zeros(len(sentences))
    if embedder is not None:
        vectors = np.asarray(embedder.embed_documents([x.text for x in sentences]))
        cosine = vectors @ np.asarray(embedder.embed_query(question_focus(question)))
    for i, sent in enumerate(sentences):
        context = set(tokens[i]) | set(content_tokens(sent.passage.title))
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentences) and sentences[j].passage is sent.passage:
                context |= tokens[j]
        typed = 0.0
        if kind is not AnswerType.OTHER:
            typed = 1.0 if new_phrases(kind, sent.text, asked) else 0.0
        sent.features = {
            "terms": recall(tokens[i]),
            "context": recall(context),
            "cosine": float(cosine[i]),
            "typed": typed,
            "rank": 1.0 / (1 + rank[sent.passage.n]),
        }
        sent.score = (
            W_TERMS * sent.features["terms"]
            + W_CONTEXT * sent.features["context"]
            + W_COSINE * sent.features["cosine"]
            + W_TYPED * typed
            + W_RANK * sent.features["rank"]
        )
    order = sorted(range(len(sentences)), key=lambda i: -sentences[i].score)
    return [sentences[i] for i in order]


def _full_names(ranked: Sequence[ScoredSentence]) -> dict[str, tuple[int, int, int]]:
    """Surname (lower case) -> (sentence index, start, end) of the best-ranked person-like full
    name ending with it ("al-shammari" -> "Najah Hassan Ali Al-Shammari")."""
    out: dict[str, tuple[int, int, int]] = {}
    for index, sent in enumerate(ranked):
        for s, e in typed_phrases(AnswerType.PERSON, sent.text):
            phrase = sent.text[s:e]
            if person_like(phrase):
                out.setdefault(phrase.split()[-1].lower(), (index, s, e))
    return out


_ROLE = re.compile(r"\bthe((?:\s+[a-z][a-z-]*){1,3})\b")


def _role_holder(sentence: str, ranked: Sequence[ScoredSentence]) -> tuple[int, int, int] | None:
    """(sentence index, start, end) of the person-like name the passages title with a role that
    ``sentence`` names by that role alone: "the defense minister invited ..." -> "Amir Hatami" of
    "Defense Minister of Iran Brigadier General Amir Hatami" (the best-ranked such name)."""
    roles = []
    for m in _ROLE.finditer(sentence):
        words = m.group(1).split()
        for n in (2, 3):  # "the defense minister (invited)": the role is a prefix
            role = set(content_tokens(" ".join(words[:n])))
            if len(words) >= n and len(role) >= 2:  # "the minister" alone names no one
                roles.append(role)
    if not roles:
        return None
    for index, sent in enumerate(ranked):
        for s, e in typed_phrases(AnswerType.PERSON, sent.text):
            if not person_like(sent.text[s:e]):
                continue
            title = set(content_tokens(title_before(sent.text, (s, e))))
            if title and any(role <= title for role in roles):
                return index, s, e
    return None


def _conflicting_names(question: str, ranked: Sequence[ScoredSentence]) -> set[str]:
    """Surnames (lower case) written somewhere in the passages with a title naming another
    country or body than the question does: asked "Who is Iraq's defense minister?", the
    "Defense Minister of Iran ... Amir Hatami" is not the answer, in any sentence."""
    asked_names = proper_nouns(" " + question_focus(question))
    if not asked_names:
        return set()
    asked = _question_terms(question)
    out = set()
    for sent in ranked:
        text = sent.text
        for span in typed_phrases(AnswerType.PERSON, text):
            title = title_before(text, span)
            if not title:
                continue
            named = {t for t in proper_nouns(" " + title)}
            other = {
                t
                for t in named
                if not any(demonym_variants(t) & demonym_variants(a) for a in asked)
            }
            missing = {
                t
                for t in asked_names
                if not any(demonym_variants(t) & demonym_variants(n) for n in named)
            }
            if other and missing:
                out.add(text[span[0] : span[1]].split()[-1].lower())
    return out


def short_answer(
    question: str, ranked: Sequence[ScoredSentence], top: int = TOP_SENTENCES
) -> ShortAnswer | None:
    """The phrase that best answers the question in the ``top`` best sentences, or None."""
    if not ranked:
        return None
    kind = answer_type(question)
    asked = _question_terms(question)
    thing = kind is AnswerType.OTHER and bool(THING_QUESTION.search(question_focus(question)))
    individual = kind is AnswerType.PERSON and bool(INDIVIDUAL.search(question_focus(question)))
    counted = counted_terms(question) if kind is AnswerType.NUMBER else set()
    focus = focus_nouns(question)
    best: tuple[float, int, Span] | None = None
    lead = ranked[0].score or 1.0
    idf = idf_weights([set(content_tokens(x.text)) for x in ranked])
    total = sum(idf.get(t, 1.0) for t in asked)
    conflicted: set[str] = set()
    proper: set[str] = set()
    full: dict[str, tuple[int, int, int]] = {}
    surnames: set[str] = set()
    if kind is AnswerType.PERSON:
        conflicted = _conflicting_names(question, ranked)
        proper = set().union(*(proper_nouns(" " + x.text) for x in ranked[: 4 * top]))
        full = _full_names(ranked[: 4 * top])
        surnames = set(full)
    for index, sent in enumerate(ranked[:top]):
        text = sent.text
        spans = [
            w
            for w in token_spans(text)
            if text[w[0]].isalnum() and text[w[0] : w[1]].lower() not in STOPWORDS
        ]
        hit = term_matches(text, spans, asked)
        weight = [idf.get(stem(text[a:b]), 1.0) for a, b in spans]
        named = set(named_spans(text, asked)) if thing else set()
        for span in candidate_spans(kind, text, asked, thing):
            near, edge = closeness(
                span,
                spans,
                hit,
                weight,
                total,
            )
            if kind is not AnswerType.OTHER:
                edge = 0.0  # a name or a date sits between the terms it relates ("A jury found
                # comedian Bill Cosby liable")
            phrase = text[span[0] : span[1]]
            if (
                proper
                and " " not in phrase
                and (demonym_variants(stem(phrase)) - {stem(phrase)}) & proper
            ):
                continue  # a demonym ("Iraqi" next to "Iraq") describes, it does not name
            prior = 0.0
            if kind is AnswerType.OTHER:
                prior = size_prior(len(phrase.split()))
                if span in named:
                    prior += S_NAMED
            elif counted:
                prior = 1.0 if counted & set(content_tokens(phrase)) else 0.0
            elif individual:
                prior = 1.0 if person_like(phrase) or phrase.lower() in surnames else 0.0
            score = sent.score / lead + S_NEAR * near + S_EDGE * edge + S_PRIOR * prior
            if focus & set(content_tokens(phrase)):
                score += S_FOCUS  # "Which airline ...?" -> "Southwest Airlines"
            if kind is AnswerType.PERSON and phrase.split()[-1].lower() in conflicted:
                score -= S_CONFLICT
            if best is None or score > best[0]:
                best = (score, index, span)
    if best is None:
        return None
    score, index, (s, e) = best
    sent = ranked[index]
    via = None
    if individual and not person_like(sent.text[s:e]) and sent.text[s:e].lower() not in surnames:
        # "Who invited ...?" asked of "the defense minister invited ...": the person the
        # passages title so, with this sentence quoted beside the name's
        holder = _role_holder(sent.text, ranked[: 4 * top])
        if holder is not None and holder[0] != index:
            via, (index, s, e) = index, holder
            sent = ranked[index]
    if kind is AnswerType.PERSON and sent.text[s:e].lower() in full:
        # name the person in full where the passages do ("Al-Shammari" -> "Najah ... Al-Shammari")
        index, s, e = full[sent.text[s:e].lower()]
        sent = ranked[index]
    return ShortAnswer(
        text=sent.text[s:e],
        kind=kind,
        sentence=index,
        passage=sent.passage,
        start=sent.start + s,
        end=sent.start + e,
        sentence_start=s,
        sentence_end=e,
        score=round(score, 4),
        via=via,
    )


def compose(
    question: str, ranked: Sequence[ScoredSentence], short: ShortAnswer | None
) -> list[int]:
    """Indices into ``ranked`` of the sentences to quote: the short answer's sentence first, and
    a second (close in score, holding a phrase of the asked-for type that the first does not)
    only when it adds the asked-for information."""
    if not ranked:
        return []
    first = short.sentence if short is not None else 0
    if short is not None and short.via is not None and short.via != first:
        return [first, short.via]  # the name, then the sentence that names it by role
    kind = answer_type(question)
    asked = _question_terms(question)
    conflicted = _conflicting_names(question, ranked) if kind is AnswerType.PERSON else set()
    individual = kind is AnswerType.PERSON and bool(INDIVIDUAL.search(question_focus(question)))

    def answers(text: str) -> set[str]:
        found = {text[s:e] for s, e in new_phrases(kind, text, asked)}
        if kind is AnswerType.PERSON:
            found = {f for f in found if f.split()[-1].lower() not in conflicted}
            if individual:
                found = {f for f in found if person_like(f)}
        return {f.lower() for f in found}

    have = answers(ranked[first].text) | ({short.text.lower()} if short else set())
    floor = SECOND_SHARE * ranked[first].score
    for i, sent in enumerate(ranked[:TOP_SENTENCES]):
        if i == first or sent.score < floor:
            continue
        if kind is AnswerType.OTHER:
            if short is None:
                return [first, i]
            break
        if answers(sent.text) - have:
            return [first, i]
    return [first]


def has_asked_type(
    question: str, ranked: Sequence[ScoredSentence], top: int = TOP_SENTENCES
) -> bool:
    """Whether the ``top`` best sentences hold a phrase of the asked-for type that the question
    does not (always True for "other" questions): one signal of answerability."""
    kind = answer_type(question)
    if kind is AnswerType.OTHER:
        return True
    asked = _question_terms(question)
    return any(new_phrases(kind, sent.text, asked) for sent in ranked[:top])
