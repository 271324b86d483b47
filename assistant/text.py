"""The one text core: tokens, sentences and citation markers, shared by every module.

- *Tokens*: :func:`content_tokens` gives stemmed content words (PyStemmer's English Snowball
  stemmer after a table of irregular past forms, number words as digits) and normalised numbers,
  without :data:`STOPWORDS`; :func:`numbers` and :func:`names` pick the numbers and capitalised
  words of a text. BM25 keeps its own tokeniser (bm25s) until it is switched with a measurement.
- *Sentences*: :func:`split_sentences` is a regex splitter that knows abbreviations, initials,
  decimals and list items; its spans index the text exactly (chunking relies on that).
- *Citation markers*: :data:`MARKER_RE` and :func:`parse_markers` read ``[1]``, ``[1, 2]``,
  ``[1-3]`` and ``[Source 2]``; :func:`clean_markers` drops numbers that name no passage and
  :func:`strip_markers` removes all markers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.errors import UsageError

Span = tuple[int, int]

# [1]  [1, 2]  [1-3]  [Source 2]  (consecutive markers [1][2] are separate matches)
MARKER_RE = re.compile(
    r"\[\s*(?:(?:source|passage|doc|ref)s?\s*[#:]?\s*)?(\d{1,3}(?:\s*(?:[-–,;]|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
CANONICAL_MARKER_RE = re.compile(r"\[\d+(?:, \d+)*\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


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


# --- tokens ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a word after mapping irregular past forms and number words."""
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


def normalise_number(text: str) -> str:
    """ "1,250" -> "1250", "2.50" -> "2.5": the same number written the same way."""
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


def number_list(text: str) -> list[str]:
    """The numbers of ``text`` (digits normalised, number words as digits), repeats kept."""
    found = [normalise_number(n) for n in _NUMBER.findall(text)]
    found += [NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS]
    return found


def numbers(text: str) -> set[str]:
    """The set of numbers of ``text`` (see :func:`number_list`)."""
    return set(number_list(text))


_DATE_WORD = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)\b"
)
_MONTH_ALIASES = {"sept": "sep"}


def date_words(text: str) -> list[str]:
    """Month and weekday names of ``text`` (capitalised only: "may" the verb is not a month),
    as three-letter keys: "July" and "Jul." are both "jul"."""
    out = []
    for m in re.finditer(r"\b[A-Z][a-z]+", text):
        word = m.group().lower()
        if _DATE_WORD.fullmatch(word):
            out.append(_MONTH_ALIASES.get(word, word)[:3])
    return out


# --- names -------------------------------------------------------------------------------------
# One extractor of names for every stage: a name is a capitalised word that is not a function
# word or a role title. ``proper_nouns`` gives the stems of such words (as ``content_tokens``
# writes them, so they compare with any token set); ``name_phrases`` the runs of them as written.

ROLE_TITLES = frozenset(
    _words(
        """mr mrs ms dr minister general brigadier major president secretary chief commander
        senator governor prime deputy defense defence foreign"""
    )
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


# --- citation markers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A citation marker in a text: its span and the passage numbers it names."""

    start: int
    end: int
    numbers: tuple[int, ...]


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
        if good and len(good) == len(marker.numbers) and CANONICAL_MARKER_RE.fullmatch(original):
            continue
        before = text[pos : marker.start]
        if good:
            pieces.append(before + "[" + ", ".join(map(str, good)) + "]")
        else:
            pieces.append(before.rstrip(" \t") if before.strip() else before)
        pos = marker.end
    pieces.append(text[pos:])
    return "".join(pieces), invalid


def idf_weights(docs: Sequence[set[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each token over a small set of texts."""
    df: dict[str, int] = {}
    for doc in docs:
        for token in doc:
            df[token] = df.get(token, 0) + 1
    n = len(docs)
    return {t: math.log(1.0 + (n + 1) / (c + 0.5)) for t, c in df.items()}


# --- questions ---------------------------------------------------------------------------------

MAX_QUESTION_CHARS = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def clean_question(question: str) -> str:
    """Control characters removed, whitespace collapsed, length capped; empty is a usage error."""
    text = _ANSI.sub(" ", question)  # terminal escape sequences pasted along with a question
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        msg = "the question is empty: ask something about the articles"
        raise UsageError(msg)
    return text[:MAX_QUESTION_CHARS]
