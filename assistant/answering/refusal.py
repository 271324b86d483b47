"""The refusal a user reads: plain sentences, no scores.

"The articles don't say who won the 2022 World Cup." — the refusal sentence of
``prompts/refusal.txt`` with the question turned into the clause it asks about, where that can
be done without a parser (:func:`asked_clause`) — then what was not found ("No article mentions
“2022 World Cup”.", :func:`missing_phrases`), the dates searched when the search was limited to
some, and what the articles do cover: the closest articles with outlet and date. The numbers
behind the decision go to ``Answer.reasons`` (:mod:`assistant.answering.outcome`), never here.

Article titles are untrusted text: they are put in quotes on one line with bracketed numbers
defused (a title cannot pose as a citation marker); the front doors escape them as they escape
any answer text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from assistant.answering.phrases import question_focus
from assistant.models import Passage
from assistant.text import content_tokens


def _words(text: str) -> list[str]:
    return text.split()


_WH = frozenset(_words("who whom whose what which when where why how"))
_BE = frozenset(_words("is are was were"))
_AUX = _BE | frozenset(
    _words("do does did has have had will would can could should may might must shall")
)
# wh-words whose asking phrase is the word alone ("who is", "what was"); "which team",
# "whose car", "how many people" take up to three more words before the verb
_BARE = frozenset(_words("who whom what when where why"))
_PARTICIPLES = frozenset(
    _words(
        """held made built given taken known seen found sent won lost told said paid sold bought
        led hit put set shot cut chosen born done gone run brought kept left meant thought"""
    )
)
_BRACKET_NUMBER = re.compile(r"\[(\s*\d[\d\s,;\-–]*)\]")
# names (capitalised words, not the question's first word) with a number before them
# ("the 2022 World Cup"), and numbers on their own ("in 2019")
_NAME = re.compile(
    r"(?<=[\w,;:)”\"] )(?:\d[\d,.]*\s+)?[A-Z][\w'’\-]+(?:\s+(?:of\s+)?[A-Z][\w'’\-]+)*"
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d")


def _participle(word: str) -> bool:
    bare = word.strip(",;:")
    if not bare.islower():
        return False  # "United", "Red": names, not verbs
    return bare.endswith(("ed", "en", "ing")) or bare in _PARTICIPLES


def asked_clause(question: str) -> str | None:
    """The clause a question asks about ("Who won the 2022 World Cup?" -> "who won the 2022
    World Cup", "What is the name of X?" -> "what the name of X is"), or None when the question
    would need a parser to turn around ("When did Iran sign ...?")."""
    text = " ".join(question_focus(question).split()).rstrip("?!. ")
    words = text.split()
    if not words or len(words) > 25 or words[0].lower() not in _WH:
        return None
    words[0] = words[0].lower()
    lead = words[0]
    span = 1 if lead in _BARE else 4
    aux = next((i for i, w in enumerate(words[1:], 1) if w.lower() in _AUX), None)
    if aux is None or aux > span:
        return " ".join(words)  # no auxiliary: "who won ...", "which team scored ..."
    if words[aux].lower() not in _BE:
        return None  # "did Iran sign" -> "Iran signed": the verb's tense needs a parser
    rest = words[aux + 1 :]
    if rest and _participle(rest[0]):
        return " ".join(words)  # "which team was defeated", "who is leading the talks"
    if not rest or any(_participle(w) for w in rest):
        return None  # "when was the treaty signed": a passive to turn around
    return " ".join([*words[:aux], *rest, words[aux].lower()])


def missing_phrases(
    question: str, passages: Sequence[Passage], idf: Callable[[str], float] | None = None
) -> tuple[list[str], bool]:
    """The question's names and numbers (as written) that none of the passages mentions, and
    whether no article of the whole collection mentions them either (known from the index's
    IDF: a word no article holds has the IDF of a word never seen)."""
    seen: set[str] = set()
    for p in passages:
        seen |= set(content_tokens(f"{p.title} {p.text}"))
    found: list[str] = []
    for m in [*_NAME.finditer(question), *_NUMBER.finditer(question)]:
        phrase = m.group().strip(",.")
        words = content_tokens(phrase)
        new = not any(phrase in f for f in found)
        if words and new and not any(w in seen for w in words):
            found.append(phrase)
    if not found:
        return [], False
    nowhere = False
    if idf is not None:
        unseen = idf("\x00")
        nowhere = all(
            any(idf(w) >= unseen - 1e-9 for w in content_tokens(phrase)) for phrase in found
        )
    return found[:3], nowhere


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _title(passage: Passage) -> str:
    title = _BRACKET_NUMBER.sub(r"(\1)", " ".join((passage.title or "").split()))
    if not title:
        return "an untitled article"
    return f"“{title[:120]}{'…' if len(title) > 120 else ''}”"


def _article(passage: Passage) -> str:
    when = _day(passage.published) if passage.published else "undated"
    return f"{_title(passage)} ({passage.source or 'unknown outlet'}, {when})"


def closest_articles(passages: Sequence[Passage], limit: int = 3) -> list[Passage]:
    """One passage per article, in retrieval order (best first), at most ``limit``."""
    ranked = sorted(passages, key=lambda p: (p.rank or p.n, p.n))
    seen: dict[str, Passage] = {}
    for p in ranked:
        seen.setdefault(p.article_id, p)
    return list(seen.values())[:limit]


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _period(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"between {_day(since)} and {_day(until)}"
    if since:
        return f"from {_day(since)} on"
    return f"up to {_day(until)}" if until else ""


def refusal_text(
    refusal: str,
    question: str,
    passages: Sequence[Passage],
    *,
    missing: Sequence[str] = (),
    nowhere: bool = False,
    date_filter: tuple[dt.date | None, dt.date | None] | None = None,
) -> str:
    """The refusal in plain sentences (see the module docstring)."""
    clause = asked_clause(question)
    head = refusal.rstrip(". ")
    parts = [f"{head} {clause}." if clause and head else refusal]
    period = _period(*date_filter) if date_filter else ""
    if not passages:
        published = f" published {period}" if period else ""
        parts.append(f"No article{published} matches the question.")
        return " ".join(parts)
    if missing:
        quoted = " or ".join(f"“{m}”" for m in missing)
        who = "No article" if nowhere else "None of the closest articles"
        parts.append(f"{who} mentions {quoted}.")
    if period:
        parts.append(f"Only articles published {period} were searched.")
    closest = [_article(p) for p in closest_articles(passages)]
    if len(closest) == 1:
        parts.append(f"The closest article is {closest[0]}.")
    else:
        parts.append(f"The closest articles are {_listing(closest)}.")
    return " ".join(parts)
