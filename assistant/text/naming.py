"""Names: the one name extractor of every stage (follow-ups, answerability, the reader, the
support check)."""

from __future__ import annotations

import re

from assistant.text.tokens import STOPWORDS, content_tokens

# --- names -------------------------------------------------------------------------------------
# One extractor of names for every stage: a name is a capitalised word that is not a function
# word or a role title. ``proper_nouns`` gives the stems of such words (as ``content_tokens``
# writes them, so they compare with any token set); ``name_phrases`` the runs of them as written.

ROLE_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "minister",
        "general",
        "brigadier",
        "major",
        "president",
        "secretary",
        "chief",
        "commander",
        "senator",
        "governor",
        "prime",
        "deputy",
        "defense",
        "defence",
        "foreign",
    ]
)
_CAPITALISED = r"[A-Z][\w'’\-]+"
# inside a sentence: after a word, a comma or a closing quote/bracket and one space
_MID_SENTENCE_NAME = re.compile(rf"(?<=[\w,;:)”\"] ){_CAPITALISED}")
_OPENING_NAME = re.compile(rf"[\s\"“‘'(]*({_CAPITALISED})")
_NAME_RUN = re.compile(r"[A-Z][\w'’\-]*(?:\s+(?:of\s+|al-\s*)?[A-Z][\w'’\-]*)*")


def _is_name(word: str, titles: bool = False) -> bool:
    """A capitalised word that names something: not a function word ("The", "I'm") or, unless
    ``titles``, a role title."""
    low = word.lower().replace("’", "'").split("'")[0]
    return low not in STOPWORDS and low != "whose" and (titles or low not in ROLE_TITLES)


def _name_tokens(word: str, titles: bool) -> list[str]:
    if not _is_name(word, titles):
        return []
    return content_tokens(word)


def proper_nouns(text: str, *, opening: bool = False, titles: bool = False) -> set[str]:
    """Stems of the capitalised words of ``text`` inside a sentence (its opening word too when
    ``opening``; role titles such as "President" too when ``titles``): the names it mentions."""
    found: set[str] = set()
    first = _OPENING_NAME.match(text) if opening else None
    if first:
        found.update(_name_tokens(first.group(1), titles))
    for m in _MID_SENTENCE_NAME.finditer(text):
        found.update(_name_tokens(m.group(), titles))
    return found


def names(text: str) -> set[str]:
    """Stems of every capitalised word, the opening one and role titles included (the names a
    claim's support is checked for): :func:`proper_nouns` with ``opening`` and ``titles``."""
    return proper_nouns(text, opening=True, titles=True)


def name_phrases(text: str) -> list[str]:
    """Runs of capitalised words as written ("Joe Biden", "Bank of England"), each once, in
    order, without leading function words, question words or role titles ("Did President Joe
    Biden" -> "Joe Biden")."""
    out: list[str] = []
    for m in _NAME_RUN.finditer(text):
        words = m.group().split()
        while words and not _is_name(words[0]) and not (len(words[0]) > 1 and words[0].isupper()):
            words = words[1:]
        phrase = " ".join(words)
        if phrase and phrase not in out:
            out.append(phrase)
    return out
