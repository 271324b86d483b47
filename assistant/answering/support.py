"""Support scoring: how well a span of a passage supports a claim, and the passage's best span.

:func:`best_support` scores each candidate span of a passage for a claim (one sentence or two
adjacent ones, listed as ``assistant.answering.citations._candidate_spans`` gives them: the
sentences first, then the pairs): the *overlap* of the claim's content words
(:func:`overlap_score`), the rescaled embedding *similarity* when cosines are given, and the
*penalties* for contradiction (:func:`contradiction_penalty`: a missing number or name, a flipped
negation, an antonym) and for a swapped number, date word or name against the claim's anchor
sentence (:func:`substitution_penalty`). :func:`looks_like_instruction` spots text addressed to
an AI, which never counts as support. :func:`assistant.answering.citations.verify` runs this on
every citation of an answer; its module docstring gives the formula.

The constants were chosen on the FIT half of ``benchmarks/bench_support.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from functools import lru_cache

import numpy as np

from assistant.models import Passage
from assistant.text import (
    content_tokens,
    date_words,
    names,
    number_list,
    numbers,
    stem,
    strip_markers,
)

_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|\w+n['’]t)\b", re.IGNORECASE
)
# The claim is read as a rewrite of its best-overlapping sentence when it shares this much of its
# words with it; then a swapped number or date word multiplies the support by the first factor,
# a swapped name by the second (chosen on the FIT half of benchmarks/bench_support.py).
OVERLAP_WEIGHT = 0.55  # support = w * overlap + (1 - w) * similarity, then the penalties
ANCHOR_OVERLAP = 0.5
SUBSTITUTION_PENALTY = 0.4
NAME_SUBSTITUTION_PENALTY = 0.6
NEGATION_PENALTY = 0.5
MISSING_NAME_PENALTY = 0.4  # per name of the claim the passage never mentions (at most two)
_DEMONYM = re.compile(r"(?:es|ian|ish|ean)$")  # stems: japanes, iranian, british, european


def _antonyms(pairs: str) -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for pair in pairs.split():
        a, b = (stem(w) for w in pair.split(":"))
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return table


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|sources?|"
    r"above|previous|guidelines)\b|(?:^|\n|\(quoted\) )\s*(?:system|assistant|developer)\s*:|"
    r"\breveal\b.{0,30}\b(?:prompt|instructions)\b|"
    r"\b(?:tell|inform|convince) the (?:user|reader)\b|"
    r"\byou (?:must|should|will) (?:now )?(?:answer|say|reply|respond|tell|state|output)\b|"
    r"\bas an? (?:ai|language model|assistant)\b|\bnew instructions?\b|\bsystem prompt\b|"
    r"<\s*/?\s*(?:source|system|instructions?)\b",
    re.IGNORECASE,
)


_ANTONYMS = _antonyms(
    """rise:fall rose:fell increase:decrease increased:decreased up:down gain:loss gained:lost
    win:lose won:lost higher:lower more:less most:least approve:reject approved:rejected
    accept:refuse accepted:refused open:close opened:closed start:end started:ended begin:end
    raise:cut raised:cut expand:shrink grew:shrank strong:weak strengthen:weaken ally:enemy
    support:oppose supported:opposed allow:ban allowed:banned legal:illegal guilty:innocent
    convicted:acquitted alive:dead survive:die survived:died arrive:leave arrived:left
    maximum:minimum majority:minority profit:loss surplus:deficit buy:sell bought:sold"""
)


_TOKEN_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")


def negations_near(text: str, tokens: set[str], window: int = 4) -> int:
    """How many negations of ``text`` precede (within ``window`` words) one of ``tokens``.

    Looking only near shared words keeps an unrelated "no comment" in a passage from counting;
    counting them (not just asking whether there is one) catches a negation added next to
    another ("choose not to pursue" stays, "are unable" becomes "are not unable").
    """
    words = _TOKEN_WORD.findall(text)
    count = 0
    for i, word in enumerate(words):
        if _NEGATION.fullmatch(word):
            following = set(content_tokens(" ".join(words[i + 1 : i + 1 + window])))
            if not following:  # "the impacts aren't over": the negated word comes before
                before = content_tokens(" ".join(words[max(0, i - window) : i]))
                following = set(before[-1:])
            count += bool(following & tokens)
    return count


def negation_differs(claim: str, span: str, shared: set[str]) -> bool:
    """Whether one side negates a shared word more often than the other."""
    return negations_near(claim, shared) != negations_near(span, shared)


# --- support ------------------------------------------------------------------------------------


def looks_like_instruction(text: str) -> bool:
    """Text addressed to an AI ("ignore previous instructions", "SYSTEM: ...") — not evidence."""
    return bool(_INSTRUCTION.search(text))


def _meta_tokens(passage: Passage) -> set[str]:
    meta = set(content_tokens(passage.source or ""))
    if passage.published:
        day = passage.published
        meta |= {str(day.year), str(day.month), str(day.day), f"{day.month:02d}", f"{day.day:02d}"}
        meta.add(stem(day.strftime("%B")))
    return meta


def overlap_score(claim: str, span: str, extra: Collection[str] = ()) -> float:
    """Weighted recall of the claim's content tokens in the span (names and numbers weigh 2)."""
    tokens = content_tokens(claim)
    if not tokens:
        return 0.0
    present = set(content_tokens(span)) | set(extra)
    heavy = names(claim) | numbers(claim)
    total = got = 0.0
    for token in dict.fromkeys(tokens):
        weight = 2.0 if token in heavy else 1.0
        total += weight
        if token in present:
            got += weight
    return got / total


@lru_cache(maxsize=64)
def _context_tokens_of(text: str, title: str, source: str) -> frozenset[str]:
    return frozenset(content_tokens(f"{text} {title} {source}"))


def _context_tokens(passage: Passage) -> frozenset[str]:
    """Content tokens of the passage, its title and outlet (cached: asked once per span)."""
    return _context_tokens_of(passage.text, passage.title, passage.source or "")


def contradiction_penalty(claim: str, span: str, passage: Passage) -> float:
    """1.0 when nothing contradicts; lower for a missing number or name, a flipped negation or
    an antonym of a word of the span ("rose" where the span says "fell")."""
    penalty = 1.0
    meta = f"{passage.title} {passage.source or ''} {passage.published or ''}"
    if passage.published:
        meta += f" {passage.published.day} {passage.published.month} {passage.published.year}"
    allowed_numbers = numbers(span) | numbers(meta)
    passage_numbers = numbers(passage.text)
    for number in numbers(claim) - allowed_numbers:
        penalty *= 0.6 if number in passage_numbers else 0.3
    context = _context_tokens(passage)
    # demonyms ("Japanese" for a story set in Tokyo) paraphrase places; they are not checked
    missing_names = [n for n in names(claim) if n not in context and not _DEMONYM.search(n)]
    penalty *= MISSING_NAME_PENALTY ** min(len(missing_names), 2)
    claim_tokens, span_tokens = set(content_tokens(claim)), set(content_tokens(span))
    shared = claim_tokens & span_tokens
    if negation_differs(strip_markers(claim), span, shared):
        penalty *= 0.5
    for word in claim_tokens - span_tokens:
        if _ANTONYMS.get(word, set()) & span_tokens:  # "rose" where the source says "fell"
            penalty *= 0.4
            break
    return penalty


def _negation_conflict(
    claim: str, passage: Passage, spans: list[tuple[int, int]], overlaps: list[float]
) -> bool:
    """A span about the same thing as the claim (high overlap) says the opposite."""
    top = max(overlaps, default=0.0)
    claim_tokens = set(content_tokens(claim))
    for (s, e), overlap in zip(spans, overlaps, strict=True):
        if overlap >= max(0.5, top - 0.15):
            shared = claim_tokens & set(content_tokens(passage.text[s:e]))
            if negation_differs(claim, passage.text[s:e], shared):
                return True
    return False


def _swapped(claim: list[str], source: list[str]) -> bool:
    """The claim has an item the source lacks while the source has one the claim lacks."""
    a, b = Counter(claim), Counter(source)
    return bool(a - b) and bool(b - a)


def substitution_penalty(claim: str, anchor: str, context: Collection[str] = ()) -> float:
    """Lower when the claim is the anchor sentence with a number, a date word or a name put
    in place of another: "two homers" for "one homer", "Saturday" for "Monday", "Warsaw" for
    "Florida". Repeats count ("from 4 to 4" is not "from 2 to 4"). A name the passage (or its
    title and outlet, ``context``) mentions elsewhere is not a substitute: "According to
    Tasnim, Zarif met ..." for "Iran's minister Javad Zarif met ..." is a rewording."""
    penalty = 1.0
    if _swapped(number_list(claim), number_list(anchor)):
        penalty *= SUBSTITUTION_PENALTY
    if _swapped(date_words(claim), date_words(anchor)):
        penalty *= SUBSTITUTION_PENALTY
    claim_tokens, anchor_tokens = set(content_tokens(claim)), set(content_tokens(anchor))
    added = [
        n for n in names(claim) if n not in anchor_tokens and n not in context and not n.isdigit()
    ]
    dropped = [n for n in names(anchor) if n not in claim_tokens and not n.isdigit()]
    if added and dropped:
        penalty *= NAME_SUBSTITUTION_PENALTY
    if negation_differs(claim, anchor, claim_tokens & anchor_tokens):
        penalty *= NEGATION_PENALTY  # seen against the anchor alone, not a two-sentence span
    return penalty


def _rescale(cosine: float) -> float:
    return float(np.clip((cosine - 0.25) / 0.65, 0.0, 1.0))


def best_support(
    claim: str, passage: Passage, spans: list[tuple[int, int]], cosines: list[float] | None
) -> tuple[float, int, int]:
    """The best-supporting span of the passage for the claim: (support, start, end)."""
    meta = _meta_tokens(passage)
    overlaps = [overlap_score(claim, passage.text[s:e], meta) for s, e in spans]
    best: tuple[float, int, int] = (-1.0, 0, 0)
    for i, ((s, e), overlap) in enumerate(zip(spans, overlaps, strict=True)):
        score = overlap
        if cosines is not None:
            score = OVERLAP_WEIGHT * overlap + (1 - OVERLAP_WEIGHT) * _rescale(cosines[i])
        score *= contradiction_penalty(claim, passage.text[s:e], passage)
        shorter = e - s < best[2] - best[1]
        if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and shorter):
            best = (score, s, e)
    if best[0] < 0:  # nothing in the passage can support anything
        return 0.0, 0, 0
    if _negation_conflict(claim, passage, spans, overlaps):
        best = (best[0] * 0.5, best[1], best[2])
    singles = (len(spans) + 1) // 2  # _candidate_spans lists the sentences first, then pairs
    top = max(range(singles), key=lambda i: overlaps[i]) if singles else -1
    if top >= 0 and overlaps[top] >= ANCHOR_OVERLAP:
        s, e = spans[top]
        penalty = substitution_penalty(claim, passage.text[s:e], _context_tokens(passage))
        best = (best[0] * penalty, best[1], best[2])
    return max(0.0, min(1.0, best[0])), best[1], best[2]
