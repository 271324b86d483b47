"""Citation markers in answers: parse ``[n]``, drop invalid ones, find and score the support.

For every sentence of an answer and every passage it cites, :func:`verify` finds the span of the
passage (one sentence or two adjacent ones) that supports it best and scores the support in [0, 1]:

- *overlap*: weighted recall of the sentence's content words (stemmed; names and numbers count
  double) in the span, the passage's outlet and date also counting as present;
- *similarity*: cosine of the sentence and the span embeddings, rescaled so that unrelated text
  scores 0 (used only when an embedder is given);
- *penalties* for contradiction: a number in the sentence that the span (or the passage's title
  and date) does not contain, a name missing from the whole passage, a negation present on one
  side only (also when another sentence of the passage says the opposite), or an antonym ("rose"
  where the span says "fell").

Sentences of a passage that address an AI ("ignore previous instructions", "SYSTEM: ...", fake
``<source>`` tags) never count as support: an injected claim cannot verify itself.

``support = (0.55 * overlap + 0.45 * similarity) * penalties``; a citation is *supported* when
``support >= threshold``. Offsets are into the article text (``passage.start`` + offset in
``passage.text``), so ``article.text[c.start:c.end] == c.quote``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, Field

from assistant.embeddings import Embedder
from assistant.models import Citation, Passage

# [1]  [1, 2]  [1-3]  [Source 2]  (consecutive markers [1][2] are separate matches)
MARKER_RE = re.compile(
    r"\[\s*(?:(?:source|passage|doc|ref)s?\s*[#:]?\s*)?(\d{1,3}(?:\s*(?:[-–,;]|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_CANONICAL = re.compile(r"\[\d+(?:, \d+)*\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|\w+n['’]t)\b", re.IGNORECASE
)


def _words(text: str) -> list[str]:
    return text.split()


NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            """zero one two three four five six seven eight nine ten eleven twelve thirteen
            fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
        )
    )
}
STOPWORDS = frozenset(
    _words(
        """a about above after again against all also am an and any are as at be because been
        before being below between both but by can could did do does doing down during each few
        for from further had has have having he her here hers herself him himself his how i if in
        into is it its itself just me more most my myself no nor not of off on once only or other
        our ours ourselves out over own same she should so some such than that the their theirs
        them themselves then there these they this those through to too under until up very was
        we were what when where which while who whom why will with would you your yours yourself
        yourselves according article articles source sources report reports reported said says
        say told stated states per via however meanwhile may might must shall us one separately
        additionally furthermore moreover overall finally instead still yet already"""
    )
)
# Irregular past forms common in news, mapped to the base form before stemming ("met" ~ "meet").
_IRREGULAR = dict(
    pair.split(":")
    for pair in _words(
        """met:meet won:win lost:lose took:take taken:take gave:give given:give went:go gone:go
        made:make came:come became:become held:hold left:leave paid:pay sold:sell bought:buy
        built:build led:lead ran:run found:find fell:fall fallen:fall rose:rise risen:rise
        struck:strike shot:shoot began:begin begun:begin chose:choose chosen:choose spoke:speak
        spoken:speak wrote:write written:write sent:send spent:spend brought:bring thought:think
        knew:know known:know saw:see seen:see got:get kept:keep stood:stand drove:drive
        driven:drive flew:fly flown:fly grew:grow grown:grow threw:throw thrown:throw
        broke:break broken:break caught:catch fought:fight meant:mean sank:sink sunk:sink
        sought:seek stole:steal stolen:steal swore:swear sworn:swear taught:teach tore:tear
        torn:tear wore:wear worn:wear withdrew:withdraw withdrawn:withdraw hid:hide hidden:hide
        forbade:forbid forbidden:forbid froze:freeze frozen:freeze bit:bite bitten:bite
        blew:blow blown:blow drew:draw drawn:draw ate:eat eaten:eat fed:feed felt:feel fled:flee
        forgot:forget forgotten:forget heard:hear lay:lie lain:lie lit:light rode:ride
        ridden:ride rang:ring rung:ring sang:sing sung:sing slept:sleep slid:slide spun:spin
        sprang:spring stuck:stick stung:sting swam:swim swum:swim swept:sweep
        understood:understand woke:wake woken:wake wound:wind overtook:overtake
        overtaken:overtake undertook:undertake sat:sit shook:shake shaken:shake shone:shine
        sped:speed upheld:uphold"""
    )
)
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
_ABBREVIATIONS = frozenset(
    _words(
        """mr mrs ms dr prof sr jr st gen col lt sgt gov sen rep rev inc ltd co corp vs etc no jan
        feb mar apr jun jul aug sep sept oct nov dec u.s u.k e.g i.e a.m p.m"""
    )
)


@dataclass(frozen=True)
class Marker:
    """A citation marker in a text: its span and the passage numbers it names."""

    start: int
    end: int
    numbers: tuple[int, ...]


class VerifiedAnswer(BaseModel):
    text: str = Field(description="The answer with invalid markers removed.")
    citations: list[Citation] = Field(default_factory=list)
    invalid_markers: int = 0
    unsupported_sentences: list[str] = Field(default_factory=list)
    uncited_sentences: list[str] = Field(default_factory=list)


# --- sentences and tokens ------------------------------------------------------------------------

_SENT_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9\[])|\n\s*\n|\n(?=\s*[-*•\d])")


def _fallback_split(text: str, offset: int = 0) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        word = re.search(r"([\w.]+)\.$", text[start : m.start() + 1])
        if m.group().startswith(".") and word and word.group(1).lower() in _ABBREVIATIONS:
            continue
        if m.group().startswith(".") and word and len(word.group(1)) == 1:  # initials: "J. Smith"
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s + offset, e + offset))
    return out


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, shifted by ``offset``.

    Uses the ingest sentence splitter when present, else a small regex splitter.
    """
    try:
        from assistant.ingest.chunking import split_sentences as ingest_split
    except ImportError:
        return _fallback_split(text, offset)
    return [(s, e) for s, e in ingest_split(text, offset) if text[s - offset : e - offset].strip()]


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    word = word.removesuffix("'s").strip("'-")
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    word = _IRREGULAR.get(word, word)
    stemmer = _stemmer()
    if stemmer is not None:
        return str(stemmer.stemWord(word))
    for suffix in ("ing", "ed", "es", "s"):  # pragma: no cover
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word  # pragma: no cover


_ANTONYMS = _antonyms(
    """rise:fall rose:fell increase:decrease increased:decreased up:down gain:loss gained:lost
    win:lose won:lost higher:lower more:less most:least approve:reject approved:rejected
    accept:refuse accepted:refused open:close opened:closed start:end started:ended begin:end
    raise:cut raised:cut expand:shrink grew:shrank strong:weak strengthen:weaken ally:enemy
    support:oppose supported:opposed allow:ban allowed:banned legal:illegal guilty:innocent
    convicted:acquitted alive:dead survive:die survived:died arrive:leave arrived:left
    maximum:minimum majority:minority profit:loss surplus:deficit buy:sell bought:sold"""
)


def normalise_number(text: str) -> str:
    text = text.replace(",", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def content_tokens(text: str) -> list[str]:
    """Stemmed content words and normalised numbers, stopwords removed, in order."""
    out = []
    for word in _WORD.findall(text):
        if word[0].isdigit():
            out.append(normalise_number(word))
        elif word.lower() not in STOPWORDS:
            out.append(stem(word))
    return [t for t in out if t]


def numbers(text: str) -> set[str]:
    found = {normalise_number(n) for n in _NUMBER.findall(text)}
    found |= {NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}
    return found


def names(text: str) -> set[str]:
    """Stems of capitalised words (a rough proper-noun set; a sentence-initial word counts too)."""
    found = set()
    first = re.match(r"[\s\"“‘'(]*([A-Z][a-zA-Z'’\-]+)", text)
    if first and first.group(1).lower() not in STOPWORDS and first.group(1).lower() != "i":
        found.add(stem(first.group(1)))
    for m in re.finditer(r"(?<=[\w,;:)”\"] )[A-Z][a-zA-Z'’\-]+", text):
        word = m.group().lower()
        if word not in STOPWORDS:
            found.add(stem(word))
    return found


def negated_near(text: str, tokens: set[str], window: int = 4) -> bool:
    """Whether a negation in ``text`` precedes (within ``window`` words) one of ``tokens``.

    Looking only near shared words keeps an unrelated "no comment" in a passage from counting.
    """
    words = re.findall(r"\w+(?:['’]\w+)?", text)
    for i, word in enumerate(words):
        if _NEGATION.fullmatch(word):
            following = {w if w[0].isdigit() else stem(w) for w in words[i + 1 : i + 1 + window]}
            if following & tokens:
                return True
    return False


# --- markers -------------------------------------------------------------------------------------


def parse_markers(text: str) -> list[Marker]:
    """All citation markers in ``text``; ranges ``[1-3]`` expand to (1, 2, 3)."""
    out = []
    for m in MARKER_RE.finditer(text):
        nums: list[int] = []
        for part in re.split(r"\s*(?:[,;]|and)\s*", m.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2 and bounds[0] and bounds[1]:
                lo, hi = int(bounds[0]), int(bounds[1])
                nums.extend(range(lo, hi + 1) if 0 <= hi - lo <= 10 else [lo, hi])
            elif part.strip():
                nums.append(int(bounds[0]))
        out.append(Marker(m.start(), m.end(), tuple(dict.fromkeys(nums))))
    return out


def strip_markers(text: str) -> str:
    """The text without markers (and without the space before them)."""
    return re.sub(r"\s*" + MARKER_RE.pattern, "", text, flags=re.IGNORECASE).strip()


def clean_markers(text: str, valid: set[int]) -> tuple[str, int]:
    """Remove numbers that name no shown passage; return the new text and how many were removed."""
    invalid = 0
    pieces: list[str] = []
    pos = 0
    for marker in parse_markers(text):
        good = [n for n in marker.numbers if n in valid]
        invalid += len(marker.numbers) - len(good)
        original = text[marker.start : marker.end]
        if good and len(good) == len(marker.numbers) and _CANONICAL.fullmatch(original):
            continue
        before = text[pos : marker.start]
        if good:
            pieces.append(before + "[" + ", ".join(map(str, good)) + "]")
        else:
            pieces.append(before.rstrip(" \t") if before.strip() else before)
        pos = marker.end
    pieces.append(text[pos:])
    return "".join(pieces), invalid


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
    context = set(content_tokens(f"{passage.text} {passage.title} {passage.source or ''}"))
    # demonyms ("Japanese" for a story set in Tokyo) paraphrase places; they are not checked
    missing_names = [n for n in names(claim) if n not in context and not _DEMONYM.search(n)]
    penalty *= 0.5 ** min(len(missing_names), 2)
    claim_tokens, span_tokens = set(content_tokens(claim)), set(content_tokens(span))
    shared = claim_tokens & span_tokens
    if negated_near(strip_markers(claim), shared) != negated_near(span, shared):
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
            if negated_near(claim, shared) != negated_near(passage.text[s:e], shared):
                return True
    return False


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
            score = 0.55 * overlap + 0.45 * _rescale(cosines[i])
        score *= contradiction_penalty(claim, passage.text[s:e], passage)
        shorter = e - s < best[2] - best[1]
        if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and shorter):
            best = (score, s, e)
    if best[0] < 0:  # nothing in the passage can support anything
        return 0.0, 0, 0
    if _negation_conflict(claim, passage, spans, overlaps):
        best = (best[0] * 0.5, best[1], best[2])
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
    sentences = split_sentences(text)
    # A sentence that starts with markers ("... in June. [2] Next ...") gives them to the previous.
    claims: list[tuple[str, list[int]]] = []
    for s, e in sentences:
        chunk = text[s:e]
        markers = parse_markers(chunk)
        leading = [m for m in markers if not strip_markers(chunk[: m.start]).strip()]
        if leading and claims:
            claims[-1][1].extend(n for m in leading for n in m.numbers)
            markers = [m for m in markers if m not in leading]
            chunk = chunk[leading[-1].end :]
        claims.append((strip_markers(chunk), [n for m in markers for n in m.numbers]))

    result = VerifiedAnswer(text=text, invalid_markers=invalid)
    todo: list[tuple[str, Passage]] = []
    for claim, cited in claims:
        if not claim or (refusal and not cited and is_refusal(claim, refusal)):
            continue
        if refusal and cited:
            claim = drop_refusal_clause(claim, refusal)
        cited = list(dict.fromkeys(cited))
        if not cited:
            if is_claim(claim):
                result.uncited_sentences.append(claim)
                if require_citations:
                    result.unsupported_sentences.append(claim)
            continue
        todo.extend((claim, by_n[n]) for n in cited)

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
    return result
