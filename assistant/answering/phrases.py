"""What a question asks for, and the phrases of that type in a sentence (no NER model).

:func:`answer_type` reads the question's wh-word and focus noun ("who", "in what year", "how
many", "which country", "name the ..."), also when it is not the first word ("The bridge was
built by whom?") or follows a lead-in sentence. :func:`typed_phrases` finds the phrases of a
type in a sentence with regular expressions: dates (``July 2017``, ``June 12, 2022``, ``1990s``,
``last week``), numbers with their unit or currency (``$5 million``, ``63 days``, ``10 percent``),
capitalised name groups with their particles (``Bank of England``, ``Najah Hassan Ali
Al-Shammari``) for people and organisations, and the name after ``in``/``at``/``from``... for
places. Spans are ``(start, end)`` offsets into the sentence.
"""

from __future__ import annotations

import re
from enum import StrEnum

from assistant.text import NUMBER_WORDS, STOPWORDS

Span = tuple[int, int]


def _words(text: str) -> list[str]:
    return text.split()


class AnswerType(StrEnum):
    PERSON = "person"  # a person or an organisation
    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    OTHER = "other"


# --- what the question asks for ------------------------------------------------------------------

_AUX = r"(?:is|are|was|were|did|do|does|has|have|had|will|would|can|could|should)"
_MOD = rf"(?:(?!{_AUX}\b)[\w\-']+\s+){{0,2}}"  # up to two modifiers: "which European country"
_DATE_NOUNS = r"year|month|day|date|decade|century|time|season|week|era|period|hour"
_NUMBER_NOUNS = (
    r"percentage|percent|share|proportion|fraction|number|amount|price|cost|sum|rate|total|"
    r"temperature|age|score|figure|size|population|distance|height|length|weight|speed|value|"
    r"salary|budget|fine|fee|margin|count"
)
_PLACE_NOUNS = (
    r"country|countries|city|cities|state|states|nation|region|town|village|continent|province|"
    r"county|island|capital|place|location|area|venue|airport|port|river|mountain|lake|sea|"
    r"ocean|district|neighborhood|neighbourhood|territory|border|destination|site|stadium"
)
_PERSON_NOUNS = (
    r"person|people|man|woman|men|women|president|leader|player|actor|actress|singer|artist|"
    r"author|writer|team|company|companies|firm|organi[sz]ation|group|party|band|official|"
    r"minister|senator|governor|judge|king|queen|prince|princess|ceo|founder|director|coach|"
    r"agency|brand|network|club|university|school|church|celebrity|star|politician|candidate|"
    r"lawmaker|rapper|athlete|champion|winner|musician|scientist|inventor|explorer|emperor|"
    r"ruler|general|commander|owner|manufacturer|airline|retailer|bank|newspaper|magazine|"
    r"(?!(?:other|former|latter|either|neither|after|over|under|water|paper|number|order|power|"
    r"colou?r|letter|border|matter|manner|major|minor|factor|sector|error|center|centre|"
    r"chapter|floor|door|river|weather|theater|theatre|meter|metre)s?\b)"
    r"\w+(?:er|ist|or|ian)"  # researcher, physicist, governor, historian
)
_WH = r"(?:what|which|name\s+the|name\s+a|identify\s+the)"
# "What is the name of the Iranian air defense commander?" asks what "which commander" asks:
# the noun after "the name of" (up to four modifiers before it) says what kind of name.
_NAME_OF = re.compile(
    rf"\b(?:what|which)\s+(?:is|was|are|were)\s+the\s+names?\s+of\s+(?:the\s+|an?\s+)?"
    rf"((?:(?!{_AUX}\b)[\w\-']+\s+){{0,4}}[\w\-']+)"
)
_TYPE_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    (re.compile(r"\bhow\s+(?:many|much)\b"), AnswerType.NUMBER),
    (
        re.compile(
            r"\bhow\s+(?:long|old|far|big|large|tall|high|often|fast|deep|wide|heavy|hot|cold)\b"
        ),
        AnswerType.NUMBER,
    ),
    (re.compile(rf"\b{_WH}\s+{_MOD}(?:{_DATE_NOUNS})s?\b"), AnswerType.DATE),
    (re.compile(r"\bwhen\b(?!\s+(?:what|who|which|how)\b)"), AnswerType.DATE),
    (re.compile(rf"\b{_WH}\s+{_MOD}(?:{_NUMBER_NOUNS})\b"), AnswerType.NUMBER),
    (re.compile(rf"\b{_WH}\s+{_MOD}(?:{_PLACE_NOUNS})s?\b"), AnswerType.PLACE),
    (re.compile(r"\bwhere\b"), AnswerType.PLACE),
    (re.compile(r"\bwho(?:m|se)?\b"), AnswerType.PERSON),
    (re.compile(rf"\b{_WH}\s+{_MOD}(?:{_PERSON_NOUNS})s?\b"), AnswerType.PERSON),
]


def question_focus(question: str) -> str:
    """The part of a question that asks: its last sentence holding a wh-word or a '?'.

    "A bipartisan group met this week. Which measure did they leave out?" -> the second one.
    """
    parts = [p.strip() for p in re.split(r"(?<=[.!?:])\s+(?=[\"“‘(]?[A-Z])", question.strip())]
    wh = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how|name)\b", re.I)
    for part in reversed([p for p in parts if p]):
        if part.endswith("?") or wh.search(part):
            # "When rich countries trade with poor ones, whose wages rise?": the clause after
            # the comma asks; the one before sets the scene
            lead = re.match(r"(?i)(?:when|if|after|before|while|as|since|once)\b[^,?]*,\s*", part)
            if lead and wh.search(part[lead.end() :]):
                return part[lead.end() :]
            return part
    return question.strip()


def answer_type(question: str) -> AnswerType:
    """The kind of phrase that answers ``question`` (``OTHER`` when no rule applies)."""
    focus = " ".join(question_focus(question).lower().split())
    if re.search(r"(?::|\.\.\.|…|_+)\s*$", focus):
        # a sentence to complete ("... was started by a man who was trying to:") asks for
        # its continuation, whatever wh-word a relative clause in it has
        focus = re.sub(r"(?<=\S)\s+(?:who|whom|whose|when|where)\b", " ", focus)
    named = _NAME_OF.search(focus)
    if named:  # "what is the name of the X" asks for the X's name: read it as "which X"
        words = named.group(1).split()
        focus = f"{focus[: named.start()]}which {' '.join(words[-3:])}{focus[named.end() :]}"
    best: tuple[int, AnswerType] | None = None
    for pattern, kind in _TYPE_RULES:  # the earliest asking phrase wins, rules break ties
        m = pattern.search(focus)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind)
    return best[1] if best else AnswerType.OTHER


# --- typed phrases --------------------------------------------------------------------------------

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_UNITS = r"week|weekend|month|year|summer|spring|autumn|fall|winter|season|night|morning|decade"
_DATE_RE = re.compile(
    "|".join(
        [
            rf"\b(?:(?:early|mid|late)[- ])?(?:{_DAY}\s+(?:of\s+)?)?{_MONTH}(?:\s+{_DAY}\b)?"
            rf"(?:,?\s+{_YEAR})?(?![\w])",
            rf"\b{_WEEKDAY}(?:,?\s+{_MONTH}\s+{_DAY}|\s+(?:morning|afternoon|evening|night))?\b",
            rf"\b(?:(?:early|mid|late)[- ])?(?:the\s+)?{_YEAR}s?(?:\s*[-–]\s*(?:{_YEAR}|\d\d))?"
            r"(?![\d,.]\d|\s?%|\s?percent)\b",
            r"\b(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|"
            r"seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|"
            r"sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)\s+century\b",
            rf"\b(?:last|this|next|past|earlier\s+this|later\s+this|earlier\s+that)\s+"
            rf"(?:{_UNITS}|{_WEEKDAY})\b",
            r"\b(?:yesterday|today|tonight|tomorrow)\b",
            r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
            r"\b\d{1,2}(?::\d{2})?\s*(?:a\.m\.|p\.m\.|am\b|pm\b)",
        ]
    )
)
_NUMBER_WORDS = "|".join(sorted(set(NUMBER_WORDS) - {"zero"}, key=len, reverse=True))
_COUNT = (
    rf"(?:\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?|a\s+dozen|dozens|"
    r"hundreds|thousands|millions|billions|half|a\s+third|a\s+quarter)"
)
_SCALE = r"(?:\s*(?:hundred|thousand|million|billion|trillion|m|bn|tn|k)\b)?"
_CURRENCY = r"(?:US\$|[$£€¥₹]|(?:USD|EUR|GBP|Rs\.?)\s?)"
_NUMBER_RE = re.compile(
    rf"(?:\b(?:about|around|nearly|almost|over|more\s+than|less\s+than|fewer\s+than|up\s+to|at\s+"
    rf"least|some|roughly|approximately)\s+)?(?:{_CURRENCY}\s?\d[\d,]*(?:\.\d+)?{_SCALE}"
    rf"|(?<![\w$£€¥])(?i:{_COUNT}){_SCALE}(?:\s*(?:%|percent\b|per\s+cent\b|percentage\s+points?\b)"
    r"|\s+(?:[a-z][a-z\-]+)(?:\s+(?:of|per)\s+[a-z]+)?)?)"
)
_PARTICLE = r"(?:of(?:\s+the)?|de|da|del|della|di|du|la|le|van|von|der|den|bin|ibn|al|el|y|St\.)"
_NAME_WORD = r"(?:(?:[Aa]l|[Ee]l)[-‐](?=[A-Z]))?(?:[A-Z][\w'’\-]*\.?|[A-Z]\.)"
_NAME_RE = re.compile(rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD})*")
_TITLES = frozenset(
    _words(
        """mr mr. mrs mrs. ms ms. dr dr. prof prof. president vice prime minister secretary general
        gen. brigadier major maj. lt. lieutenant colonel col. captain capt. sergeant sgt. commander
        admiral chief senator sen. representative rep. gov. governor mayor king queen prince princess
        pope judge justice chancellor ceo chairman chairwoman chair director coach sir lord lady
        saint rev. reverend father sheikh ayatollah premier ambassador attorney defense defence
        foreign interior health finance deputy former late"""
    )
)
_NOT_NAMES = frozenset(
    _words(
        """i a an the this that these those he she it they we you his her its their our my but and
        or so yet if in on at as for to by with from after before when while since during under
        according also however meanwhile there here what who which where why how one some many
        most last earlier later now then still mr mrs ms dr"""
    )
)
_MONTH_OR_DAY = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY})$")
_PLACE_CUE = re.compile(
    r"\b(?:in|at|from|to|into|near|across|outside|inside|throughout|around|toward|towards|"
    r"across|visit(?:ed|ing)?|via|of)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def _merge(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans in order; of overlapping ones the longest (then first) wins."""
    out: list[Span] = []
    for s, e in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0])):
        if all(e <= a or s >= b for a, b in out):
            out.append((s, e))
    return sorted(out)


def dates(sentence: str) -> list[Span]:
    """Date and time phrases: ``July 2017``, ``June 12, 2022``, ``1990s``, ``last week``."""
    return _merge([(m.start(), m.end()) for m in _DATE_RE.finditer(sentence)])


def quantities(sentence: str) -> list[Span]:
    """Numbers with their unit or currency: ``$5 million``, ``63 days``, ``10 percent``.

    A bare year ("2017") or a date ("June 12") is not a quantity; a unit word is kept only when
    it is not a stopword ("3,000 people" but "3 in the morning" -> "3").
    """
    blocked = dates(sentence)
    out: list[Span] = []
    for m in _NUMBER_RE.finditer(sentence):
        s, e = m.start(), m.end()
        if s > 0 and sentence[s - 1].isalnum():
            continue
        text = sentence[s:e]
        words = text.split()
        # drop a trailing unit word that is a stopword ("three of", "five in")
        while len(words) > 1 and words[-1].lower() in STOPWORDS:
            words.pop()
            e = s + text.rfind(words[-1]) + len(words[-1])
            text = sentence[s:e]
        if not re.search(r"\d|[a-z]", text, re.I):
            continue
        if any(a <= s < b or a < e <= b for a, b in blocked) and not re.search(
            rf"{_CURRENCY}|%|percent", text
        ):
            continue
        out.append((s, e))
    return _merge(out)


def _sentence_word(sentence: str, s: int, word: str) -> bool:
    """A capitalised first word of a sentence that is not a name ("Hailing", "Earlier")."""
    if sentence[:s].strip(" \"“‘'([") or " " in word:
        return False
    low = word.lower()
    return low in STOPWORDS or low in _NOT_NAMES or bool(re.search(r"(?:ing|ed|ly)$", low))


def _strip_name(sentence: str, s: int, e: int, titles: bool) -> Span | None:
    """Trim leading function words (and role titles with what they govern: "Defense Minister of
    Iran Brigadier General Amir Hatami" -> "Amir Hatami") and a trailing possessive."""
    words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", sentence[s:e])]

    def low(i: int) -> str:
        return sentence[words[i][0] : words[i][1]].lower()

    if words and _sentence_word(sentence, words[0][0], low(0)):
        words.pop(0)
    while words and (low(0) in _NOT_NAMES or low(0) in {"of", "the"}):
        words.pop(0)
    if titles and len(words) > 1:
        last_title = max((i for i in range(len(words) - 1) if low(i) in _TITLES), default=-1)
        if last_title >= 0 and low(last_title + 1) not in {"of", "the"}:
            words = words[last_title + 1 :]
    while words and low(-1) in {"of", "the", "al", "de"}:
        words.pop()
    if not words:
        return None
    s, e = words[0][0], words[-1][1]
    text = sentence[s:e]
    for tail in ("'s", "’s", "'", "’", "."):
        if text.endswith(tail) and not re.search(r"\b[A-Z]\.$", text):
            e -= len(tail)
            text = sentence[s:e]
    if not text or _MONTH_OR_DAY.match(text) or text.lower() in _NOT_NAMES:
        return None
    return (s, e)


def names(sentence: str, titles: bool = True) -> list[Span]:
    """Capitalised name groups with particles ("Bank of England", "al-Assad"), without a leading
    sentence word ("The", "In") and, when ``titles``, without role titles ("General")."""
    out = []
    for m in _NAME_RE.finditer(sentence):
        span = _strip_name(sentence, m.start(), m.end(), titles)
        if span is not None:
            out.append(span)
    return out


def places(sentence: str) -> list[Span]:
    """Name groups after a place cue: "in Kyiv", "from the United States", "visited Tehran"."""
    return [(s, e) for s, e in names(sentence) if _PLACE_CUE.search(sentence[max(0, s - 30) : s])]


# A news dateline opening a text: "TEHRAN (Tasnim) –", "WASHINGTON (AP) —", "LONDON, June 3 -".
_DATELINE = re.compile(r"^[A-Z][A-Z .,'’\-]{1,40}(?:\([^)]{1,40}\))?\s*[–—-]+\s+")


def typed_phrases(kind: AnswerType, sentence: str) -> list[Span]:
    """Spans of the phrases of type ``kind`` in ``sentence`` (empty for ``OTHER``); a dateline
    ("TEHRAN (Tasnim) –") says where the story was filed, not what it says, and is skipped."""
    m = _DATELINE.match(sentence)
    if m:
        cut = m.end()
        return [(s + cut, e + cut) for s, e in typed_phrases(kind, sentence[cut:])]
    if kind is AnswerType.DATE:
        return dates(sentence)
    if kind is AnswerType.NUMBER:
        return quantities(sentence)
    if kind is AnswerType.PERSON:
        return names(sentence)
    if kind is AnswerType.PLACE:
        return places(sentence)
    return []


def title_before(sentence: str, span: Span) -> str:
    """The role title written in front of a name found by :func:`names`: "Defense Minister of Iran
    Brigadier General" for "Amir Hatami" ('' when there is none)."""
    for m in _NAME_RE.finditer(sentence):
        if m.start() <= span[0] < m.end():
            return sentence[m.start() : span[0]].strip()
    return ""


# --- names: who is who ---------------------------------------------------------------------------


def demonym_variants(token: str) -> set[str]:
    """A token and its country form when it is a demonym stem ("iraqi" ~ "iraq")."""
    out = {token}
    for suffix, repl in (
        ("ian", ""),
        ("ian", "ia"),
        ("ese", "a"),
        ("ish", ""),
        ("i", ""),
        ("n", ""),
    ):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            out.add(token[: len(token) - len(suffix)] + repl)
    return out


_ORG_WORDS = re.compile(
    r"\b(?:Base|Army|Forces?|Party|Ministry|Department|University|College|School|Council|"
    r"Committee|Company|Corporation|Inc|Ltd|Group|Bank|Agency|Office|Court|Association|Union|"
    r"Organi[sz]ation|Institute|Foundation|Club|Team|League|Federation|Commission|Board|News|"
    r"Times|Post|Airlines?|Air|Navy|Republic|State|States|Kingdom|House|Senate|Congress)\b"
)
INDIVIDUAL = re.compile(
    r"\b(?:who|whom|whose|person|man|woman|president|leader|player|actor|actress|singer|"
    r"author|writer|minister|senator|governor|judge|king|queen|ceo|founder|coach|commander|"
    r"general|politician|candidate|athlete|musician|scientist|inventor)\b",
    re.IGNORECASE,
)


# "What lab ...", "Which show ...": a named thing is likely the answer.
def person_like(phrase: str) -> bool:
    words = phrase.split()
    return 2 <= len(words) <= 5 and not _ORG_WORDS.search(phrase) and " of " not in phrase
