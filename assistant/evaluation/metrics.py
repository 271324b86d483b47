"""Metric functions: pure, deterministic, each checked against hand-computed cases in the tests.

Answer metrics follow the SQuAD evaluation script (normalise, exact match, token F1, taking the
best score over the accepted answers). Retrieval metrics rank *articles* with binary relevance.
Article ids are compared through :func:`normalize_id`, so the same page under two URLs (tracking
parameters, ``#:~:text=`` fragments, ``www.``/``edition.`` front ends, trailing ``/index.html``)
counts as one article.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.service import same_page_key

_ARTICLES = re.compile(r"\b(a|an|the)\b")


# --- answers -----------------------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, punctuation removed (any Unicode punctuation, so curly
    quotes too), articles a/an/the removed, whitespace collapsed.

    >>> normalize_answer("The “Squid Game”!")
    'squid game'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _best(prediction: str, answers: Sequence[str], score: object) -> float:
    if not answers:
        return 0.0
    return max(score(prediction, a) for a in answers)  # type: ignore[operator]


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised accepted answer, else 0.0."""
    pred = normalize_answer(prediction)
    return _best(pred, answers, lambda p, a: float(p == normalize_answer(a)))


def _f1(pred: str, answer: str) -> float:
    pred_tokens = normalize_answer(pred).split()
    gold_tokens = normalize_answer(answer).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """Best token-level F1 (bag of normalised words) of the prediction against any answer."""
    return _best(prediction, answers, _f1)


def contained(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when a normalised accepted answer appears in the normalised prediction as whole words."""
    pred = f" {normalize_answer(prediction)} "

    def inside(_: str, answer: str) -> float:
        gold = normalize_answer(answer)
        return float(bool(gold) and f" {gold} " in pred)

    return _best(prediction, answers, inside)


def choice_matches(choice: str | None, answers: Sequence[str]) -> bool:
    """Whether a picked multiple-choice option is one of the accepted answers (normalised)."""
    if choice is None:
        return False
    picked = normalize_answer(choice)
    return any(picked == normalize_answer(a) for a in answers)


# --- retrieval ---------------------------------------------------------------------------------


def normalize_id(article_id: str) -> str:
    """A comparable form of an article id: the same normalisation ingest gives URLs, plus what
    does not select the page (see ``same_page_key`` in ``assistant.text.urls``).

    >>> normalize_id("https://edition.cnn.com/2022/06/12/x/index.html?utm_source=tw#:~:text=a")
    'cnn.com/2022/06/12/x'
    """
    return same_page_key(article_id)


def dedupe_articles(article_ids: Iterable[str]) -> list[str]:
    """Article ids of ranked passages, first occurrence kept, compared by :func:`normalize_id`."""
    seen: set[str] = set()
    ranked: list[str] = []
    for aid in article_ids:
        key = normalize_id(aid)
        if key not in seen:
            seen.add(key)
            ranked.append(aid)
    return ranked


def _relevant_ranks(ranked: Sequence[str], relevant: Iterable[str], k: int) -> list[int]:
    """1-based ranks (within the first k) of the relevant articles, each article counted once."""
    gold = {normalize_id(r) for r in relevant}
    ranks: list[int] = []
    seen: set[str] = set()
    for rank, aid in enumerate(ranked[:k], start=1):
        key = normalize_id(aid)
        if key in gold and key not in seen:
            seen.add(key)
            ranks.append(rank)
    return ranks


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when any relevant article is among the first k, else 0.0."""
    return float(bool(_relevant_ranks(ranked, relevant, k)))


def mrr_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Reciprocal rank of the first relevant article within the first k (0.0 when none)."""
    ranks = _relevant_ranks(ranked, relevant, k)
    return 1.0 / ranks[0] if ranks else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Binary-relevance nDCG@k: sum of 1/log2(rank+1) over relevant ranks, divided by the ideal
    DCG of min(|relevant|, k) relevant articles at the top. 0.0 when nothing is relevant."""
    gold = {normalize_id(r) for r in relevant}
    if not gold:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank in _relevant_ranks(ranked, gold, k))
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def first_relevant_rank(ranked: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based rank of the first relevant article, or None."""
    ranks = _relevant_ranks(ranked, relevant, len(ranked))
    return ranks[0] if ranks else None


def citation_recall(cited: Iterable[str], relevant: Iterable[str]) -> float:
    """Share of the relevant (evidence) articles that the answer cites."""
    gold = {normalize_id(r) for r in relevant}
    if not gold:
        return 0.0
    return len(gold & {normalize_id(c) for c in cited}) / len(gold)


# --- aggregates --------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> tuple[float | None, int]:
    """Mean of the values that are not None, with their count; (None, 0) when there are none."""
    kept = [float(v) for v in values if v is not None]
    return (sum(kept) / len(kept) if kept else None), len(kept)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's
    default): position (n - 1) * q / 100 in the sorted values. None for no values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95)) -> dict[str, float | None]:
    """``{"p50": ..., "p95": ...}`` for the given percentiles."""
    return {f"p{q:g}": percentile(values, q) for q in qs}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def refusal_prf(
    refused: Sequence[bool], answerable: Sequence[bool]
) -> dict[str, float | int | None]:
    """Refusing is the positive class, unanswerable questions the relevant ones.

    precision = correct refusals / refusals; recall = correct refusals / unanswerable questions;
    F1 their harmonic mean (0.0 when no unanswerable question was refused);
    wrong_refusal_rate = refusals of answerable questions / answerable questions.
    Ratios with a zero denominator are None.
    """
    if len(refused) != len(answerable):
        msg = "refused and answerable must have the same length"
        raise ValueError(msg)
    tp = sum(r and not a for r, a in zip(refused, answerable, strict=True))
    fp = sum(r and a for r, a in zip(refused, answerable, strict=True))
    fn = sum((not r) and (not a) for r, a in zip(refused, answerable, strict=True))
    n_answerable = sum(answerable)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1: float | None = None
    if recall is not None:  # no correct refusal at all scores 0, even when precision is undefined
        f1 = 2 * precision * recall / (precision + recall) if tp and precision else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "wrong_refusal_rate": _ratio(fp, n_answerable),
        "n": len(refused),
        "n_unanswerable": len(refused) - n_answerable,
        "n_answerable": n_answerable,
        "n_refused": tp + fp,
        "n_correct_refusals": tp,
        "n_wrong_refusals": fp,
    }
