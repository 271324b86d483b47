"""Tokens: stemmed content words, numbers, date words and IDF weights; question cleaning."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from assistant.errors import UsageError

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
