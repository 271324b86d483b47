"""A labelled claim set for the support check, made from dev passages by deterministic rules.

Every claim is one sentence checked against one passage (a chunk, as retrieval returns it):

- supported: ``verbatim`` (a sentence of the passage) and ``reworded`` (the same sentence after
  one or two light rewrites: clause order, a synonym for a common verb, dropped modifiers or
  attribution, contractions, passive to active);
- contradicted: ``number_swap``, ``date_swap`` (month, weekday, year), ``name_swap`` (a person or
  place of the same kind from another article of the corpus), ``negation`` (added or removed);
- unsupported: ``other_article`` (a sentence of the nearest other article by BM25, checked
  against the original passage; sentences whose content words the passage mostly holds are
  skipped, they would be supported).

No model writes claims; every random choice comes from one seeded ``random.Random``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from assistant.models import Chunk
from assistant.text import NUMBER_WORDS, content_tokens, split_sentences

SUPPORTED_KINDS = ("verbatim", "reworded")
FLAGGED_KINDS = ("number_swap", "date_swap", "name_swap", "negation", "other_article")


@dataclass
class Claim:
    kind: str
    text: str
    chunk: Chunk
    source_sentence: str
    rule: str = ""

    @property
    def should_flag(self) -> bool:
        return self.kind in FLAGGED_KINDS


# --- supported: light rewordings ------------------------------------------------------------

_LEAD = re.compile(
    r"^((?:In|On|At|After|Before|During|Since|Last|Earlier|Later|Following|Despite|By|For|"
    r"Under|When|While|Although|As|If|Because|Over|Within|Through)(?: [^, ]+){1,5}),\s+"
    r"(?!(?:and|but|or|so|which|who|while|where|when)\b)(.+?)([.!?])$"
)


def _wordlist(text: str) -> list[str]:
    return text.split()


_SYNONYMS = {
    "announced": "declared", "began": "started", "started": "began", "bought": "purchased",
    "helped": "assisted", "showed": "revealed", "shows": "reveals", "tried": "attempted",
    "received": "got", "needed": "required", "needs": "requires", "asked": "requested",
    "built": "constructed", "ended": "concluded", "chose": "selected", "gave": "provided",
    "found": "discovered", "wanted": "wished", "planned": "intended", "plans": "intends",
    "allowed": "permitted", "kept": "maintained", "spoke": "talked", "large": "big",
    "big": "large", "many": "numerous", "important": "significant", "quickly": "rapidly",
    "increased": "rose", "decreased": "fell", "killed": "slew", "hopes": "wishes",
    "called": "named", "located": "situated", "known": "recognised", "created": "made",
    "believed": "thought", "includes": "contains", "included": "contained", "major": "key",
    "launched": "started", "warned": "cautioned", "rejected": "turned down",
}  # fmt: skip
_NOT_ADVERBS = frozenset(
    _wordlist(
        """july italy family early supply reply apply rally ally belly holy fly jelly assembly
        anomaly monopoly sicily emily billy kelly daily weekly monthly yearly only lily
        butterfly bully comply multiply july's imply ugly silly friendly elderly likely
        unlikely"""
    )
)
_CONTRACT = [
    ("do not", "don't"), ("does not", "doesn't"), ("did not", "didn't"), ("is not", "isn't"),
    ("are not", "aren't"), ("was not", "wasn't"), ("were not", "weren't"), ("has not", "hasn't"),
    ("have not", "haven't"), ("had not", "hadn't"), ("will not", "won't"), ("cannot", "can't"),
    ("would not", "wouldn't"), ("could not", "couldn't"), ("should not", "shouldn't"),
    ("it is", "it's"), ("they are", "they're"), ("we are", "we're"), ("that is", "that's"),
    ("there is", "there's"), ("I am", "I'm"), ("he is", "he's"), ("she is", "she's"),
]  # fmt: skip
_ATTRIBUTION = re.compile(
    r",\s+(?:(?:he|she|they|officials|police|the \w+|[A-Z][\w.]*(?: [A-Z][\w.]*){0,3}) "
    r"(?:said|says|told \w+|added|explained)|(?:said|says|according to) [^,]{2,50})([.!?])$"
)
_PASSIVE = re.compile(
    r"^((?:The|A|An|His|Her|Their|Its) [a-z]+(?: [a-z]+)?) (was|were) ([a-z]+ed) by "
    r"((?:the )?[A-Z][\w.]*(?: [A-Z][\w.]*){0,3})(\b.*)$"
)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clause_order(s: str, rng: random.Random) -> str:
    m = _LEAD.match(s)
    if not m:
        return s
    lead, rest, end = m.groups()
    first, _, tail = lead.partition(" ")
    return f"{_capitalise(rest)} {first.lower()} {tail}{end}"


def _synonym(s: str, rng: random.Random) -> str:
    words = [m for m in re.finditer(r"\b[a-z]+\b", s) if m.group() in _SYNONYMS]
    if not words:
        return s
    m = rng.choice(words)
    return s[: m.start()] + _SYNONYMS[m.group()] + s[m.end() :]


def _drop_modifiers(s: str, rng: random.Random) -> str:
    out = re.sub(r"\s*\([^()]{1,60}\)", "", s)
    out = re.sub(
        r"\b(?:very|really|also|just|still|already|currently|reportedly|recently)\s+", "", out
    )

    def adverb(m: re.Match[str]) -> str:
        return m.group() if m.group(1).lower() in _NOT_ADVERBS else ""

    out = re.sub(r"(?<![A-Z])\b([a-z]{3,}ly)\b\s+(?=[a-z])", adverb, out)
    return out


def _drop_attribution(s: str, rng: random.Random) -> str:
    return _ATTRIBUTION.sub(r"\1", s)


def _contractions(s: str, rng: random.Random) -> str:
    pairs = [(a, b) for a, b in _CONTRACT if re.search(rf"\b{a}\b", s)]
    pairs += [(b, a) for a, b in _CONTRACT if re.search(rf"\b{re.escape(b)}", s)]
    if not pairs:
        return s
    a, b = rng.choice(pairs)
    pattern = rf"\b{re.escape(a)}\b" if a[-1].isalpha() else rf"\b{re.escape(a)}"
    return re.sub(pattern, b, s, count=1)


def _active(s: str, rng: random.Random) -> str:
    m = _PASSIVE.match(s)
    if not m:
        return s
    patient, _, verb, agent, rest = m.groups()
    return f"{_capitalise(agent)} {verb} {patient[0].lower()}{patient[1:]}{rest}"


REWORDINGS: dict[str, Callable[[str, random.Random], str]] = {
    "clause_order": _clause_order,
    "synonym": _synonym,
    "drop_modifiers": _drop_modifiers,
    "drop_attribution": _drop_attribution,
    "contraction": _contractions,
    "active": _active,
}


def reword(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    """Up to two light rewrites of the sentence (which ones: seeded), or None if none applies."""
    names = list(REWORDINGS)
    rng.shuffle(names)
    applied: list[str] = []
    text = sentence
    for name in names:
        new = REWORDINGS[name](text, rng)
        if new != text and new.strip():
            text, applied = new, [*applied, name]
        if len(applied) == 2:
            break
    return (text, "+".join(sorted(applied))) if applied else None


# --- contradicted: swaps and flips ------------------------------------------------------------

_NUM = re.compile(r"(?<![\w.,$])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w,]\d|\w)")
_MONTHS = _wordlist(
    """January February March April May June July August September October November December"""
)
_WEEKDAYS = _wordlist("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(w for w in NUMBER_WORDS if w != "zero") + r")\b")


def _is_year(text: str) -> bool:
    return len(text) == 4 and 1900 <= int(text) <= 2099


def number_swap(sentence: str, rng: random.Random) -> str | None:
    """Another value for one number of the sentence (years are dates, not numbers here)."""
    found = [m for m in _NUM.finditer(sentence) if not (_is_year(m.group(1)) and not m.group(2))]
    words = list(_NUMBER_WORD_RE.finditer(sentence))
    if not found and not words:
        return None
    pick = rng.choice(found + words)
    if pick in words:
        old = int(NUMBER_WORDS[pick.group()])
        choices = [w for w, v in NUMBER_WORDS.items() if v not in {"0", str(old)}]
        return sentence[: pick.start()] + rng.choice(choices) + sentence[pick.end() :]
    whole = int(pick.group(1).replace(",", ""))
    new = whole + rng.randint(1, max(2, whole // 2)) if whole >= 2 else whole + rng.randint(2, 9)
    text = f"{new:,}" if "," in pick.group(1) else str(new)
    return sentence[: pick.start()] + text + (pick.group(2) or "") + sentence[pick.end() :]


def date_swap(sentence: str, rng: random.Random) -> str | None:
    """Another month, weekday or year for one date word of the sentence."""
    options: list[tuple[int, int, str]] = []
    for table in (_MONTHS, _WEEKDAYS):
        for m in re.finditer(r"\b(" + "|".join(table) + r")\b", sentence):
            if m.group() == "May" and not re.search(r"May \d", sentence[m.start() :]):
                continue  # the verb, not the month
            other = rng.choice([x for x in table if x != m.group()])
            options.append((m.start(), m.end(), other))
    for m in re.finditer(r"\b(19\d\d|20\d\d)\b", sentence):
        year = int(m.group())
        options.append((m.start(), m.end(), str(year + rng.choice([-3, -2, -1, 1, 2, 3]))))
    if not options:
        return None
    s, e, new = rng.choice(options)
    return sentence[:s] + new + sentence[e:]


_NEGATED = re.compile(
    r"\b(is|are|was|were|has|have|had|will|would|can|could|should|does|do|did|must) not\b"
)
_CONTRACTED = {
    "isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "hasn't": "has",
    "haven't": "have", "hadn't": "had", "won't": "will", "wouldn't": "would", "can't": "can",
    "couldn't": "could", "doesn't": "does", "didn't": "did", "don't": "do", "cannot": "can",
}  # fmt: skip
_AUX = re.compile(
    r"\b(is|are|was|were|has|have|had|will|would|can|could|should|must)\b(?! not\b|n't)"
    r"(?=\s+(?!only\b|also\b|just\b|even\b)[a-z])"
)


def negation_flip(sentence: str, rng: random.Random) -> str | None:
    """Remove the sentence's first negation, or add one after its first auxiliary verb."""
    m = _NEGATED.search(sentence)
    if m:
        return sentence[: m.start()] + m.group(1) + sentence[m.end() :]
    m2 = re.search(r"\b(" + "|".join(re.escape(k) for k in _CONTRACTED) + r")\b", sentence)
    if m2:
        return sentence[: m2.start()] + _CONTRACTED[m2.group()] + sentence[m2.end() :]
    m3 = _AUX.search(sentence)
    if m3:
        return sentence[: m3.end()] + " not" + sentence[m3.end() :]
    return None


# --- names: a small gazetteer built from the corpus ---------------------------------------------

_TITLE = (
    r"(?:President|Prime Minister|Minister|Mr\.|Mrs\.|Ms\.|Dr\.|Gen\.|General|Sen\.|Senator|"
    r"Rep\.|Governor|Gov\.|King|Queen|Prince|Judge|Chancellor|Secretary|Coach|Captain)"
)
_CAPS = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_PERSON_AFTER_TITLE = re.compile(rf"{_TITLE} ({_CAPS}(?: {_CAPS}){{1,2}})")
_PERSON_SAID = re.compile(rf"\b({_CAPS}(?: {_CAPS}){{1,2}}),? (?:said|says|told|added)\b")
_PLACE = re.compile(rf"\b(?:in|to|from) ({_CAPS})(?=[,.]| and\b)")
_NOT_NAMES = frozenset(
    _MONTHS
    + _WEEKDAYS
    + _wordlist("The This That He She They It We Its Sen Gen Rep Gov Mr Mrs Ms Dr St Mt Jan Feb")
    + re.findall(r"[A-Z][a-z]+", _TITLE)
)


def build_gazetteer(texts: list[str], min_count: int = 3) -> dict[str, list[str]]:
    """People (after a title or before "said") and places (after in/to/from) seen in the corpus."""
    people: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for text in texts:
        people.update(m.group(1) for m in _PERSON_AFTER_TITLE.finditer(text))
        people.update(m.group(1) for m in _PERSON_SAID.finditer(text))
        places.update(m.group(1) for m in _PLACE.finditer(text))
    person = sorted(
        p for p, c in people.items() if c >= min_count and not set(p.split()) & _NOT_NAMES
    )
    single = {w for p in person for w in p.split()}
    place = sorted(
        p for p, c in places.items() if c >= min_count and p not in _NOT_NAMES and p not in single
    )
    return {"person": person, "place": place}


def name_swap(
    sentence: str, passage: str, gazetteer: dict[str, list[str]], rng: random.Random
) -> str | None:
    """Replace one person or place of the sentence with another of the same kind that the
    passage does not mention (and that shares no word with the original)."""
    options: list[tuple[int, int, str]] = []
    for kind, entries in gazetteer.items():
        for entry in entries:
            for m in re.finditer(rf"\b{re.escape(entry)}\b", sentence):
                options.append((m.start(), m.end(), kind))
    if not options:
        return None
    s, e, kind = rng.choice(sorted(options))
    old = set(sentence[s:e].split())
    for _ in range(50):
        new = rng.choice(gazetteer[kind])
        if not set(new.split()) & old and not re.search(rf"\b{re.escape(new)}\b", passage):
            return sentence[:s] + new + sentence[e:]
    return None


# --- sentence choice --------------------------------------------------------------------------


def claim_sentences(text: str) -> list[str]:
    """Sentences of a passage fit to be claims: one sentence, 8-45 words, not a quote."""
    out = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        words = sentence.split()
        if not 8 <= len(words) <= 45 or sentence[0] in "\"“'‘(-" or "\n" in sentence:
            continue
        if sentence[-1] not in ".!" or len(content_tokens(sentence)) < 4:
            continue
        if (
            len(split_sentences(sentence)) != 1
            or sum(c.isupper() for c in sentence) > len(sentence) // 3
        ):
            continue
        out.append(sentence)
    return out


def other_article_sentence(
    passage: str, other_text: str, rng: random.Random, max_recall: float = 0.5
) -> str | None:
    """The sentence of the other article closest to the passage in content words whose words
    the passage does not mostly hold (so it is about the same topic but not supported)."""
    held = set(content_tokens(passage))
    best: tuple[float, str] | None = None
    for sentence in claim_sentences(other_text):
        tokens = set(content_tokens(sentence))
        recall = len(tokens & held) / max(1, len(tokens))
        if recall >= max_recall:
            continue
        key = recall + rng.random() * 1e-6
        if best is None or key > best[0]:
            best = (key, sentence)
    return best[1] if best else None
