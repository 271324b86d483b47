"""The support check: for each cited sentence of an answer, the span that supports it and how well.

Markers are read by the text core (:mod:`assistant.text`); the names are re-exported here.
The scoring of one claim against one passage (the overlap, similarity and penalties below) lives
in :mod:`assistant.answering.support`; this module reads the answer's sentences and markers and
checks every citation with it.

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
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from assistant.answering.support import best_support, looks_like_instruction
from assistant.models import AnswerSentence, Citation, MarkerSpan, Passage
from assistant.search.embeddings import Embedder
from assistant.text import (
    MARKER_RE,
    NUMBER_WORDS,
    STOPWORDS,
    Marker,
    clean_markers,
    content_tokens,
    names,
    normalise_number,
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


def _candidate_spans(text: str) -> list[tuple[int, int]]:
    """Sentences and pairs of adjacent sentences; injected instructions are never support."""
    sentences = [(s, e) for s, e in split_sentences(text) if not looks_like_instruction(text[s:e])]
    spans = list(sentences)
    spans += [(a[0], b[1]) for a, b in itertools.pairwise(sentences)]
    return spans


def _cosines(embedder: Embedder | None, claims: list[str], spans: list[str]) -> np.ndarray | None:
    if embedder is None or not claims or not spans:
        return None
    vectors = embedder.embed_documents(claims + spans)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return np.asarray(vectors[: len(claims)] @ vectors[len(claims) :].T)


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
