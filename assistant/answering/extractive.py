"""Extractive answers (no chat model): sentences quoted verbatim from the passages, each cited.

:func:`stream_extractive` is the extractive path of :meth:`assistant.answering.answer.Answerer.stream`:
the short answer first, then the sentence(s) that hold it chosen by :mod:`assistant.answering.reader`,
each followed by its ``[n]``, and a closing ``Sources:`` line (a hedged answer opens with "The
articles may answer this — check the quote."). :func:`best_sentences` is the earlier
sentence choice, kept as the baseline of ``benchmarks/bench_reader.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from assistant.answering.choices import PassageSentence, passage_sentences
from assistant.answering.citations import make_citation
from assistant.answering.outcome import Cuts, extractive_confidence, reader_share, refused
from assistant.answering.support import best_support, looks_like_instruction
from assistant.config import Settings
from assistant.models import (
    HEDGE_LEAD,
    Answer,
    AnswerSentence,
    Citation,
    MarkerSpan,
    Passage,
    Reason,
    ShortAnswer,
)
from assistant.search.embeddings import Embedder
from assistant.text import content_tokens, idf_weights

_BRACKET_NUMBER = re.compile(r"\[(\s*\d[\d\s,;\-–]*)\]")


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded to 0.01 (the unit of ``Answer.timings_ms``)."""
    return round(seconds * 1000.0, 2)


def stream_extractive(
    standalone: str,
    passages: list[Passage],
    base: Answer,
    *,
    settings: Settings,
    embedder: Embedder | None,
    cut: Cuts,
    refuse: Callable[[list[Reason]], tuple[str, list[Reason]]],
) -> Iterator[str | Answer]:
    """The short answer first (the phrase of the asked-for type), then the sentence(s) that
    hold it, quoted verbatim and cited; citations carry their real support score.

    Below ``cut.answer_at`` the answer is *hedged* — opened by
    :data:`~assistant.models.HEDGE_LEAD` — when the reader finds a short answer, and refused
    (``refuse`` gives the text and the reasons) when it finds none (see
    :mod:`assistant.answering.outcome`)."""
    from assistant.answering.reader import compose, rank_sentences, short_answer

    started = time.perf_counter()
    p = base.answerability or 0.0
    hedge = p < cut.answer_at
    ranked = rank_sentences(standalone, passages, embedder)
    short = short_answer(standalone, ranked)
    chosen = compose(standalone, ranked, short)[: settings.extractive_sentences]
    base.timings_ms["generate"] = ms(time.perf_counter() - started)
    standing = (
        Reason(code="below_answer_at", value=p, threshold=cut.answer_at)
        if hedge
        else Reason(code="answerability", value=p, threshold=cut.answer_at)
    )
    if not chosen or (hedge and short is None):
        code = "no_readable_sentence" if not chosen else "no_candidate"
        text, reasons = refuse([standing, Reason(code=code)])
        yield text
        base.timings_ms["verify"] = 0.0
        yield refused(base, text, reasons)
        return
    share = reader_share(ranked[chosen[0]].score, ranked[0].score)
    picked = [PassageSentence(ranked[i].passage, ranked[i].start, ranked[i].end) for i in chosen]
    # Number sources in the order the answer cites them: the first quote is [1].
    first_use = list(dict.fromkeys(s.passage.n for s in picked))
    order = first_use + [p.n for p in passages if p.n not in first_use]
    renumbered = {
        old: next(p for p in passages if p.n == old).model_copy(update={"n": new})
        for new, old in enumerate(order, start=1)
    }
    picked = [PassageSentence(renumbered[s.passage.n], s.start, s.end) for s in picked]
    base = base.model_copy(update={"passages": sorted(renumbered.values(), key=lambda p: p.n)})
    t0 = time.perf_counter()
    shown = [_BRACKET_NUMBER.sub(r"(\1)", " ".join(x.text.split())) for x in picked]
    supports = quote_support(picked, shown)
    pieces: list[str] = []
    sentences: list[AnswerSentence] = []
    citations: list[Citation] = []
    short_model: ShortAnswer | None = None
    if hedge:  # unsure: said first, before the candidate
        pieces.append(f"{HEDGE_LEAD}\n\n")
        yield pieces[-1]
    if short is not None and short.sentence == chosen[0]:
        n = picked[0].passage.n
        phrase = _BRACKET_NUMBER.sub(r"(\1)", " ".join(short.text.split()))
        lead = f"{phrase} [{n}]"
        short_model = ShortAnswer(
            text=short.text, n=n, start=short.article_start, end=short.article_end
        )
        at = sum(len(x) for x in pieces)
        marker = MarkerSpan(start=at + len(phrase) + 1, end=at + len(lead), numbers=[n])
        sentences.append(
            AnswerSentence(
                start=at, end=at + len(lead), citations=[n], supported=True, markers=[marker]
            )
        )
        pieces.append(lead + "\n\n")
        yield pieces[-1]
    for i, (sentence, text) in enumerate(zip(picked, shown, strict=True)):
        n = sentence.passage.n
        piece = f"{'' if i == 0 else ' '}{text} [{n}]"
        offset = sum(len(x) for x in pieces) + (0 if i == 0 else 1)
        citation = make_citation(
            sentence.passage, sentence.start, sentence.end, text, supports[i],
            settings.support_threshold,
        )  # fmt: skip
        citations.append(citation)
        end = offset + len(piece.lstrip())
        marker = MarkerSpan(start=end - len(f"[{n}]"), end=end, numbers=[n])
        sentences.append(
            AnswerSentence(
                start=offset, end=end, citations=[n], supported=citation.supported,
                markers=[marker],
            )
        )  # fmt: skip
        pieces.append(piece)
        yield piece
    used = list({s.passage.n: s.passage for s in picked}.values())
    sources = "; ".join(
        f"[{p.n}] {p.source or 'unknown outlet'}"
        + (f", {p.published.isoformat()}" if p.published else "")
        for p in sorted(used, key=lambda p: p.n)
    )
    tail = f"\n\nSources: {sources}"
    yield tail
    base.timings_ms["verify"] = ms(time.perf_counter() - t0)
    yield base.model_copy(
        update={
            "answer": "".join(pieces) + tail,
            "citations": citations,
            "short_answer": short_model,
            "sentences": sentences,
            "unsupported_sentences": [c.sentence for c in citations if not c.supported],
            "outcome": "hedged" if hedge else "answer",
            "confidence": extractive_confidence(p, share, cut.confidence),
            "reasons": [standing, Reason(code="reader_share", value=share)],
        }
    )


def quote_support(picked: Sequence[PassageSentence], shown: Sequence[str]) -> list[float]:
    """The support check run on each quote against its own span (an injected instruction
    or a quote the passage does not hold scores low), as for generated sentences. No
    embedding: a quote's cosine with its own span says nothing the overlap does not."""
    out = []
    for sentence, text in zip(picked, shown, strict=True):
        span = [(sentence.start, sentence.end)]
        support, _, _ = best_support(text, sentence.passage, span, None)
        out.append(0.0 if looks_like_instruction(sentence.text) else support)
    return out


def best_sentences(
    standalone: str, passages: Sequence[Passage], count: int, embedder: Embedder | None
) -> list[PassageSentence]:
    """The earlier extractive sentence choice (answers now use :mod:`assistant.answering.reader`),
    kept as the baseline ``benchmarks/bench_reader.py`` compares the reader with.

    Score = cosine(question, sentence) + IDF-weighted question-word recall + a small boost
    for passages ranked higher by retrieval; ``count`` sentences, no near-duplicates.
    """
    candidates = passage_sentences(passages)
    if not candidates:
        return []
    token_sets = [set(content_tokens(c.text)) for c in candidates]
    idf = idf_weights(token_sets)
    query = set(content_tokens(standalone))
    total = sum(idf.get(t, 1.0) for t in query) or 1.0
    lexical = np.array([sum(idf.get(t, 1.0) for t in query & ts) / total for ts in token_sets])
    scores = lexical.copy()
    if embedder is not None:
        vectors = embedder.embed_documents([c.text for c in candidates])
        cosine = vectors @ np.asarray(embedder.embed_query(standalone))
        scores = 0.5 * scores + 0.5 * cosine
    order = {p.n: i for i, p in enumerate(sorted(passages, key=lambda p: -p.score))}
    scores += np.array([0.1 / (1 + order[c.passage.n]) for c in candidates])
    picked: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if any(_jaccard(token_sets[i], token_sets[j]) > 0.7 for j in picked):
            continue
        picked.append(int(i))
        if len(picked) == count:
            break
    return [candidates[i] for i in picked]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
