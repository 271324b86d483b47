"""The support check: for each cited sentence of an answer, the span that supports it and how well.

Markers are read by the text core (:mod:`assistant.text`); the names are re-exported here.

For every sentence of an answer and every passage it cites, :func:`verify` finds the span of the
passage (one sentence or two adjacent ones) that supports it best and scores the support in [0, 1]:

- *overlap*: weighted recall of the sentence's content words (stemmed; names and numbers count
  double) in the span, the passage's outlet and date also counting as present;
- *similarity*: cosine of the sentence and the span embeddings, rescaled so that unrelated text
  scores 0 (used only when an embedder is given);
- *penalties* for contradiction: a number in the sentence that the span (or the passage's title
  and date) does not contain, a name missing from the whole passage, a negation more or less
  near the shared words than in the span (also when another sentence of the passage says the
  opposite), or an antonym ("rose" where the span says "fell");
- a *substitution* penalty when the sentence is a rewrite of one sentence of the passage (its
  *anchor*, the sentence sharing most of its words) with a number, a month or weekday, or a
  name put in place of the anchor's: "two homers" for "one homer", "Saturday" for "Monday".
  This also catches a swapped value that happens to appear in the neighbouring sentence.

The constants were chosen on the FIT half of ``benchmarks/bench_support.py`` (scripted swaps,
negation flips and other-article sentences against verbatim and lightly reworded ones).

Sentences of a passage that address an AI ("ignore previous instructions", "SYSTEM: ...", fake
``<source>`` tags) never count as support: an injected claim cannot verify itself.

``support = (0.55 * overlap + 0.45 * similarity) * penalties``; a citation is *supported* when
``support >= threshold``. Offsets are into the article text (``passage.start`` + offset in
``passage.text``), so ``article.text[c.start:c.end] == c.quote``.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, Field

from assistant.models import AnswerSentence, Citation, MarkerSpan, Passage
from assistant.search.embeddings import Embedder
from assistant.text import (
    MARKER_RE,
    NUMBER_WORDS,
    STOPWORDS,
    Marker,
    clean_markers,
    content_tokens,
    date_words,
    names,
    normalise_number,
    number_list,
    numbers,
    parse_markers,
    split_sentences,
    stem,
    strip_markers,
)

# Re-exported: answer.py and older callers import these from here.
__all__ = [
    "MARKER_RE",
    "NUMBER_WORDS",
    "STOPWORDS",
    "Marker",
    "VerifiedAnswer",
    "clean_markers",
    "content_tokens",
    "is_claim",
    "is_refusal",
    "make_citation",
    "names",
    "normalise_number",
    "numbers",
    "parse_markers",
    "split_sentences",
    "stem",
    "strip_markers",
    "verify",
]

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


class VerifiedAnswer(BaseModel):
    text: str = Field(description="The answer with invalid markers removed.")
    citations: list[Citation] = Field(default_factory=list)
    invalid_markers: int = 0
    unsupported_sentences: list[str] = Field(default_factory=list)
    uncited_sentences: list[str] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(
        default_factory=list, description="Sentence spans of ``text`` with citations and verdicts."
    )


@dataclass
class _AnswerClaim:
    """A sentence of the answer: its span in the text (markers included) and its markers."""

    start: int
    end: int
    text: str = ""
    markers: list[Marker] = field(default_factory=list)

    @property
    def cited(self) -> list[int]:
        return list(dict.fromkeys(n for m in self.markers for n in m.numbers))


def answer_claims(text: str) -> list[_AnswerClaim]:
    """The sentences of an answer with their markers (offsets into ``text``).

    A sentence that starts with markers ("... in June. [2] Next ...") gives them to the previous
    one, whose span then ends after them.
    """
    claims: list[_AnswerClaim] = []
    for s, e in split_sentences(text):
        chunk = text[s:e]
        markers = [Marker(m.start + s, m.end + s, m.numbers) for m in parse_markers(chunk)]
        leading = [m for m in markers if not strip_markers(text[s : m.start]).strip()]
        if leading and claims:
            claims[-1].markers += leading
            claims[-1].end = leading[-1].end
            markers = [m for m in markers if m not in leading]
            s = leading[-1].end
            while s < e and text[s].isspace():
                s += 1
            if s >= e:
                continue
        claims.append(_AnswerClaim(s, e, strip_markers(text[s:e]), markers))
    return claims


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


def _candidate_spans(text: str) -> list[tuple[int, int]]:
    """Sentences and pairs of adjacent sentences; injected instructions are never support."""
    sentences = [(s, e) for s, e in split_sentences(text) if not looks_like_instruction(text[s:e])]
    spans = list(sentences)
    spans += [(a[0], b[1]) for a, b in itertools.pairwise(sentences)]
    return spans


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


def _cosines(embedder: Embedder | None, claims: list[str], spans: list[str]) -> np.ndarray | None:
    if embedder is None or not claims or not spans:
        return None
    vectors = embedder.embed_documents(claims + spans)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return np.asarray(vectors[: len(claims)] @ vectors[len(claims) :].T)


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


def make_citation(
    passage: Passage, start: int, end: int, sentence: str, support: float, threshold: float
) -> Citation:
    """A citation of ``passage.text[start:end]`` (offsets within the passage)."""
    return Citation(
        n=passage.n,
        article_id=passage.article_id,
        chunk_id=passage.chunk_id,
        title=passage.title,
        source=passage.source,
        published=passage.published,
        url=passage.url,
        quote=passage.text[start:end],
        start=passage.start + start,
        end=passage.start + end,
        supported=support >= threshold,
        support=round(support, 4),
        sentence=sentence,
    )


def _plain(value: str) -> str:
    return " ".join(
        re.sub(r"[^a-z ]", " ", value.lower().replace("’", "").replace("'", "")).split()
    )


def is_refusal(text: str, refusal: str) -> bool:
    """Whether ``text`` refuses: it says the refusal sentence and cites nothing. ``"The articles
    don't say when, but X [1]"`` is a partial answer, not a refusal. Case and quotes are
    ignored."""
    body, target = _plain(strip_markers(text)), _plain(refusal)
    if not target or parse_markers(text):
        return False
    return target in body


def drop_refusal_clause(claim: str, refusal: str) -> str:
    """``"The articles don't say when, but X."`` -> ``"X."``: the cited rest of a partial
    answer is what has to be supported."""
    words = re.findall(r"[A-Za-z]+", refusal.replace("’", "'").replace("'", ""))
    if not words:
        return claim
    lead = r"\W*".join(re.escape(w) for w in words)
    m = re.match(
        rf"\s*{lead}\b[^,;:.]*[,;:]\s*(?:but|however|though|although|yet)?\s*",
        claim.replace("’", "").replace("'", ""),
        re.IGNORECASE,
    )
    if m is None:
        return claim
    plain = claim.replace("’", "").replace("'", "")
    rest = plain[m.end() :]
    # map back onto the original (apostrophes removed only for matching)
    cut = len(claim) - len(rest) if claim.endswith(rest) else 0
    out = claim[cut:] if cut else claim
    return out[:1].upper() + out[1:] if out else claim


def is_claim(sentence: str) -> bool:
    """Sentences that state something (not a lead-in "Here is what I found:" or a question)."""
    bare = strip_markers(sentence).strip()
    if not bare or bare.endswith((":", "?")):
        return False
    return len(content_tokens(bare)) >= 2 or bool(numbers(bare))


def verify(
    answer_text: str,
    passages: Sequence[Passage],
    embedder: Embedder | None,
    threshold: float,
    *,
    refusal: str = "",
    require_citations: bool = True,
) -> VerifiedAnswer:
    """Check every citation of an answer against the passages it names (see module docstring).

    Uncited claims are listed in ``uncited_sentences`` and, when ``require_citations``, also in
    ``unsupported_sentences``; so are sentences none of whose citations is supported.
    """
    by_n = {p.n: p for p in passages}
    text, invalid = clean_markers(answer_text, set(by_n))
    claims = answer_claims(text)
    result = VerifiedAnswer(text=text, invalid_markers=invalid)
    todo: list[tuple[str, Passage]] = []
    for item in claims:
        if not item.text or (refusal and not item.cited and is_refusal(item.text, refusal)):
            continue
        if refusal and item.cited:
            item.text = drop_refusal_clause(item.text, refusal)
        if not item.cited:
            if is_claim(item.text):
                result.uncited_sentences.append(item.text)
                if require_citations:
                    result.unsupported_sentences.append(item.text)
            continue
        todo.extend((item.text, by_n[n]) for n in item.cited)

    spans = {p.n: _candidate_spans(p.text) for _, p in todo}
    texts = [p.text[s:e] for p in {p.n: p for _, p in todo}.values() for s, e in spans[p.n]]
    claim_ix = {c: i for i, c in enumerate(dict.fromkeys(c for c, _ in todo))}
    span_ix = {t: i for i, t in enumerate(dict.fromkeys(texts))}
    cos = _cosines(embedder, list(claim_ix), list(span_ix))
    supported_claims: dict[str, bool] = {}
    for claim, passage in todo:
        sims = None
        if cos is not None:
            row = cos[claim_ix[claim]]
            sims = [float(row[span_ix[passage.text[s:e]]]) for s, e in spans[passage.n]]
        support, s, e = best_support(claim, passage, spans[passage.n], sims)
        citation = make_citation(passage, s, e, claim, support, threshold)
        result.citations.append(citation)
        supported_claims[claim] = supported_claims.get(claim, False) or citation.supported
    result.unsupported_sentences += [c for c, ok in supported_claims.items() if not ok]
    unsupported = set(result.unsupported_sentences)
    result.sentences = [
        AnswerSentence(
            start=c.start,
            end=c.end,
            citations=c.cited,
            supported=c.text not in unsupported,
            markers=[
                MarkerSpan(start=m.start, end=m.end, numbers=list(m.numbers)) for m in c.markers
            ],
        )
        for c in claims
    ]
    return result
