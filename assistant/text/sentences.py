"""Sentences: a regex splitter that knows abbreviations, initials, decimals and list items; its
spans index the text exactly (chunking and citations rely on that)."""

from __future__ import annotations

import re

Span = tuple[int, int]

_CANDIDATE = re.compile(r"""[.!?…]+['"’”)\]]*(?=\s)|[。！？]+['"’”)\]」』]*|\n""")
_NEXT_WORD = re.compile(r"""\s*['"“‘(\[]*(\w+)""")
_LIST_MARKER = re.compile(r"[ \t]*(?:[-*•–—]\s|\d{1,3}[.)]\s)")
_ENUMERATOR = re.compile(r"\d{1,3}|[A-Za-z]|[ivxIVX]{1,4}")
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")

# Abbreviations after which a sentence (almost) never ends: titles and the like.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "messrs", "dr", "prof", "gen", "sen", "rep", "reps", "gov", "lt", "col",
    "sgt", "capt", "cmdr", "adm", "maj", "cpl", "pvt", "st", "ste", "rev", "hon", "pres", "supt",
    "det", "insp", "atty", "amb", "brig", "fr", "mt", "ft", "vs", "cf", "approx", "dept", "est",
    "fig", "vol", "ch", "sec", "art", "ave", "blvd", "rd", "hwy", "mssrs", "op", "ed", "eds",
}  # fmt: skip
# Abbreviations that may also end a sentence: split only when a typical sentence opener follows.
_MAYBE_FINAL = {
    "inc", "ltd", "co", "corp", "jr", "sr", "etc", "bros", "llc", "plc", "al", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed",
    "thu", "thur", "thurs", "fri", "sat", "sun", "no", "nos", "p", "pp",
}  # fmt: skip
_OPENERS = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "but", "and", "or", "so", "yet",
    "in", "on", "at", "as", "if", "for", "to", "this", "that", "these", "those", "his", "her",
    "their", "its", "our", "my", "there", "here", "when", "while", "after", "before", "however",
    "meanwhile", "what", "why", "how", "who", "where", "one", "some", "many", "most", "now", "then",
    "still", "also", "last", "earlier", "later", "according", "both", "each", "all", "since",
    "during", "under", "despite", "although", "though", "because", "with", "without", "by",
    "from", "officials", "police", "authorities", "yes", "no", "not", "only", "even",
}  # fmt: skip


# --- sentences ---------------------------------------------------------------------------------


def _next_word(text: str, pos: int) -> str:
    m = _NEXT_WORD.match(text, pos)
    return m.group(1).lower() if m else ""


def _next_char(text: str, pos: int) -> str:
    """First non-whitespace character at or after ``pos`` ('' at the end)."""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    return text[pos] if pos < n else ""


def _word_before(text: str, start: int, pos: int) -> str:
    """The whitespace-delimited word ending at ``pos`` (not before ``start``), quotes stripped."""
    lo = max(start, pos - 40)
    cut = max(text.rfind(" ", lo, pos), text.rfind("\n", lo, pos), text.rfind("\t", lo, pos))
    return text[(cut + 1 if cut >= 0 else lo) : pos].lstrip("\"'“‘([")


def _period_ends_sentence(text: str, start: int, dot: int, after: int) -> bool:
    """Judge a single '.' at ``dot`` (sentence so far begins at ``start``; ``after`` follows)."""
    word = _word_before(text, start, dot)
    if not word:
        return True
    lower = word.lower()
    if lower in _ABBREVIATIONS:
        return False
    if lower in _MAYBE_FINAL or _ACRONYM.fullmatch(word) or (len(word) == 1 and word.isupper()):
        return _next_word(text, after) in _OPENERS
    if _ENUMERATOR.fullmatch(word):  # "1." / "A." / "iv." opening a line is a list label
        return bool(text[start : dot - len(word)].strip(" \t\n\"'“‘(["))
    return True


def _is_boundary(text: str, start: int, m: re.Match[str]) -> bool:
    """Whether the punctuation run ``m`` ends the sentence that began at ``start``."""
    after = m.end()
    nxt = _next_char(text, after)
    if not nxt:
        return True
    if nxt.islower():
        return False
    run = m.group()
    if run[0] == "." and not run.startswith(".."):
        return _period_ends_sentence(text, start, m.start(), after)
    return True


def _newline_breaks(text: str, i: int) -> bool:
    """A single line break ends a sentence after a blank line, before a list item or after ':'."""
    j = i + 1
    n = len(text)
    while j < n and text[j] in " \t\r\f\v":
        j += 1
    if j >= n or text[j] == "\n":
        return True
    k = i - 1
    while k >= 0 and text[k] in " \t\r\f\v":
        k -= 1
    if k < 0 or text[k] == "\n":
        return True
    if _LIST_MARKER.match(text, i + 1):
        return True
    prev = text[k]
    return not (prev.isalnum() or prev in ",;-–—(\"'’”)].!?…")


def _emit(text: str, start: int, end: int, spans: list[Span], offset: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start + offset, end + offset))


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans ``(start, end)`` in ``text`` (plus ``offset``), trimmed of whitespace.

    Spans are in order, never overlap and together cover every non-whitespace character.
    Abbreviations ("Gen.", "U.S.", "Jan. 6"), initials ("J. K.") and decimals do not end a
    sentence; blank lines always do; a single line break does after ':' or before a list item.
    """
    spans: list[Span] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        if m.group() == "\n":
            if not _newline_breaks(text, m.start()):
                continue
        elif not _is_boundary(text, start, m):
            continue
        _emit(text, start, m.end(), spans, offset)
        start = m.end()
    _emit(text, start, len(text), spans, offset)
    return spans
