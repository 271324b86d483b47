"""Short-answer candidates: the phrases of one sentence that may answer a question, and the
features :func:`assistant.answering.reader.short_answer` scores them by.

Pure functions on a sentence's text and the question's (stemmed) terms:

- :func:`new_phrases` keeps the typed phrases of a text that say something the question does not
  (also a sentence feature of :func:`assistant.answering.reader.rank_sentences`);
- :func:`candidate_spans` lists the candidate phrases of the asked-for type that the question does
  not already contain (for "other" questions: runs of words next to the question's terms, cut at
  clause boundaries, and for "which NOUN" questions names and quoted titles);
- :func:`closeness` measures how near a phrase sits to the question's terms;
- :func:`focus_nouns`, :func:`counted_terms` and :func:`size_prior` read what the question asks for
  and how long a short answer should be.

Offsets are into the text given (one sentence).
"""

from __future__ import annotations

import re

from assistant.answering.phrases import (
    AnswerType,
    Span,
    demonym_variants,
    question_focus,
    typed_phrases,
)
from assistant.text import STOPWORDS, content_tokens, stem

_WORD = re.compile(r"[\w'’\-]+|[^\w\s]")


def _words(text: str) -> list[str]:
    return text.split()


_CLAUSE_BREAK = frozenset(
    _words(
        """, ; : ( ) [ ] — – " “ ” which who whom whose that because while although though whereas
        when where after before since until unless if and but or so as"""
    )
)


def new_phrases(kind: AnswerType, text: str, asked: set[str]) -> list[Span]:
    """Typed phrases of ``text`` that say something the question does not (not all its words)."""
    out = []
    for s, e in typed_phrases(kind, text):
        tokens = set(content_tokens(text[s:e]))
        if tokens and not all(demonym_variants(t) & asked for t in tokens):
            out.append((s, e))
    return out


THING_QUESTION = re.compile(
    r"\b(?:what|which)\s+(?!(?:is|are|was|were|did|do|does|has|have|had|will|would|can|could|"
    r"should|kind|type|sort|happens?|happened)\b)[a-z]",
    re.IGNORECASE,
)


_QUOTED = re.compile(r"[“\"‘]([^”\"’\n]{2,80})[”\"’]")


def focus_nouns(question: str) -> set[str]:
    """Stems of the words after "which"/"what" naming what is asked ("Which airline ..." ->
    {"airlin"}, "which national park" -> {"nation", "park"})."""
    m = re.search(
        r"\b(?:what|which|name\s+the)\s+((?:[\w\-]+\s+){0,2}[\w\-]+)",
        question_focus(question),
        re.I,
    )
    if not m:
        return set()
    words = []
    for word in m.group(1).split():
        if word.lower() in STOPWORDS or re.fullmatch(r"(?:is|are|was|were|did|do|does)", word):
            break
        words.append(word)
    return set(content_tokens(" ".join(words)))


def candidate_spans(kind: AnswerType, text: str, asked: set[str], thing: bool) -> list[Span]:
    """Candidate short answers in a sentence for a question of type ``kind``."""
    if kind is AnswerType.PLACE:  # any name: "Sri Lanka has plunged into chaos" has no cue
        return new_phrases(AnswerType.PERSON, text, asked)
    if kind is not AnswerType.OTHER:
        return new_phrases(kind, text, asked)
    dated = typed_phrases(AnswerType.DATE, text)
    out = [
        c
        for c in _clause_candidates(text, asked)
        if not any(a < c[1] and c[0] < b for a, b in dated) or len(text[c[0] : c[1]].split()) > 3
    ]
    if thing:  # "which show": names and quoted titles
        out += [c for c in named_spans(text, asked) if c not in out]
    return out


def named_spans(text: str, asked: set[str]) -> list[Span]:
    """Names and quoted titles ("The Last Supper") the question does not hold."""
    quoted = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(text)]
    quoted = [q for q in quoted if not set(content_tokens(text[q[0] : q[1]])) <= asked]
    return new_phrases(AnswerType.PERSON, text, asked) + quoted


def token_spans(text: str) -> list[Span]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def term_matches(text: str, spans: list[Span], asked: set[str]) -> list[bool]:
    out = []
    for s, e in spans:
        word = text[s:e]
        out.append(
            bool(word[0].isalnum()) and word.lower() not in STOPWORDS and stem(word) in asked
        )
    return out


def closeness(
    span: Span,
    spans: list[Span],
    hit: list[bool],
    weight: list[float],
    total: float,
    clause: Span | None = None,
) -> tuple[float, float]:
    """(nearness, edge) of a phrase to the question's terms in its sentence.

    ``spans`` are the sentence's content-word tokens, ``hit`` which of them the question holds
    and ``weight`` their IDF. Nearness = the IDF-weighted sum of ``1 / (1 + words between)`` over
    the question's terms, divided by ``total`` (the weight of all of them); ``edge`` = 1 when the
    question's terms are all on one side of it: words between two of them usually restate the
    question ("tourism *was dealt major blows* in the late 19th century by yellow fever").
    """
    if not any(hit):
        return 0.0, 0.0
    first = next((i for i, (s, _) in enumerate(spans) if s >= span[0]), len(spans))
    last = max(first, next((i for i, (_, e) in enumerate(spans) if e >= span[1]), len(spans)))
    near, before, behind = 0.0, False, False
    for p, (h, w) in enumerate(zip(hit, weight, strict=True)):
        if not h or first <= p <= last:
            continue
        gap = first - p - 1 if p < first else p - last - 1
        near += w / (1.0 + max(0, gap))
        before, behind = before or p < first, behind or p > last
    return min(1.0, near / (total or 1.0)), float(before != behind)


_PREPOSITIONS = frozenset(
    _words("of in on at for with by from to against into over under about between during after")
)


def _clause_candidates(text: str, asked: set[str]) -> list[Span]:
    """Runs of words next to the question's terms that the question does not contain, cut at
    punctuation and clause words, without leading/trailing function words; a long run also
    gives its part before the first preposition ("the Treaty of Paris" and "the Treaty")."""
    spans = token_spans(text)
    hit = term_matches(text, spans, asked)
    runs: list[list[int]] = []
    current: list[int] = []
    for i, (s, e) in enumerate(spans):
        if hit[i] or text[s:e].lower() in _CLAUSE_BREAK:
            if current:
                runs.append(current)
            current = []
            continue
        current.append(i)
    if current:
        runs.append(current)
    pieces = []
    for run in runs:
        pieces.append(run)
        cut = next(
            (
                k
                for k, i in enumerate(run)
                if k > 0 and text[slice(*spans[i])].lower() in _PREPOSITIONS
            ),
            None,
        )
        if cut is not None and len(run) > 4:
            pieces.append(run[:cut])
    out = []
    for run in pieces:
        while run and text[slice(*spans[run[0]])].lower() in STOPWORDS:
            run = run[1:]
        while run and (
            text[slice(*spans[run[-1]])].lower() in STOPWORDS
            or not text[slice(*spans[run[-1]])][0].isalnum()
        ):
            run = run[:-1]
        if run and (spans[run[0]][0], spans[run[-1]][1]) not in out:
            out.append((spans[run[0]][0], spans[run[-1]][1]))
    return out


def counted_terms(question: str) -> set[str]:
    """The stem of what "how many ..." counts ("How many electorates ..." -> {"elector"})."""
    m = re.search(r"\bhow\s+many\s+([\w\-]+)", question_focus(question), re.IGNORECASE)
    return set(content_tokens(m.group(1))) if m else set()


def size_prior(words: int) -> float:
    """Short answers are a few words long: 1 for 2-4 words, less for 1 and for long runs."""
    if words <= 1:
        return 0.7
    return 1.0 if words <= 4 else 1.0 / (1.0 + 0.25 * (words - 4))
