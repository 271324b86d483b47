"""Sentence- and paragraph-aware chunking with exact character offsets.

``split_sentences`` is a regex sentence splitter that knows abbreviations, initials and decimals;
the citation checker reuses it. ``chunk_article`` packs whole sentences into chunks of about
``chunk_tokens`` tokens, prefers paragraph breaks as boundaries, and starts each chunk with a few
whole trailing sentences of the previous one. ``article.text[c.start:c.end] == c.text`` always.
"""

from __future__ import annotations

import re

from assistant.models import Article, Chunk, origin_path, sha1

Span = tuple[int, int]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\S+")
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


# --- token counting ----------------------------------------------------------------------------


def count_tokens(text: str, start: int = 0, end: int | None = None) -> int:
    """Cheap token count: words and punctuation marks (``\\w+|[^\\w\\s]``)."""
    return len(_TOKEN.findall(text, start, len(text) if end is None else end))


def _cut_by_tokens(text: str, start: int, end: int, limit: int) -> list[tuple[int, int, int]]:
    """Pieces of at most ``limit`` tokens of a span without whitespace (a monster 'word')."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    return [
        (tokens[i][0], tokens[min(i + limit, len(tokens)) - 1][1], min(limit, len(tokens) - i))
        for i in range(0, len(tokens), limit)
    ]


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int, int]]:
    """Cut a sentence longer than ``limit`` tokens at whitespace into even pieces."""
    total = count_tokens(text, start, end)
    limit = -(-total // -(-total // limit))  # even pieces: no tiny last one
    pieces: list[tuple[int, int, int]] = []
    cur_start, cur_end, cur_tokens = -1, -1, 0
    for word in _WORD.finditer(text, start, end):
        tokens = count_tokens(text, word.start(), word.end())
        if cur_start >= 0 and cur_tokens + tokens > limit:
            pieces.append((cur_start, cur_end, cur_tokens))
            cur_start, cur_tokens = -1, 0
        if tokens > limit:
            pieces.extend(_cut_by_tokens(text, word.start(), word.end(), limit))
            continue
        if cur_start < 0:
            cur_start = word.start()
        cur_end, cur_tokens = word.end(), cur_tokens + tokens
    if cur_start >= 0:
        pieces.append((cur_start, cur_end, cur_tokens))
    return pieces


# --- chunking ----------------------------------------------------------------------------------


class _Units:
    """Sentences (or pieces of over-long ones): spans, token counts, paragraph starts."""

    def __init__(self, text: str, limit: int) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.tokens: list[int] = []
        self.para: list[bool] = []
        previous_end = 0
        for start, end in split_sentences(text):
            new_para = text.count("\n", previous_end, start) >= 2
            tokens = count_tokens(text, start, end)
            parts = (
                [(start, end, tokens)] if tokens <= limit else _split_long(text, start, end, limit)
            )
            for i, (s, e, t) in enumerate(parts):
                self.starts.append(s)
                self.ends.append(e)
                self.tokens.append(t)
                self.para.append(new_para and i == 0)
            previous_end = end

    def __len__(self) -> int:
        return len(self.starts)


def _overlap_start(units: _Units, first_new: int, floor: int, overlap: int, limit: int) -> int:
    """First overlap unit: whole trailing units before ``first_new``, after ``floor``."""
    budget = overlap
    j = first_new
    while j - 1 > floor:
        tokens = units.tokens[j - 1]
        allowed = budget + overlap // 2 if j == first_new else budget  # a little slack for one
        if tokens > allowed or tokens + (overlap - budget) + units.tokens[first_new] > limit:
            break
        budget -= tokens
        j -= 1
    return j


def _pack(units: _Units, limit: int, overlap: int) -> list[tuple[int, int]]:
    """Unit index ranges ``[first, last]`` of the chunks."""
    ranges: list[tuple[int, int]] = []
    n = len(units)
    min_fill = limit // 2
    first_new = 0
    while first_new < n:
        begin = _overlap_start(units, first_new, ranges[-1][0], overlap, limit) if ranges else 0
        total = sum(units.tokens[begin : first_new + 1])
        k = first_new + 1
        last_para = -1
        while k < n and total + units.tokens[k] <= limit:
            if units.para[k] and total >= min_fill:
                last_para = k
            total += units.tokens[k]
            k += 1
        if k < n and not units.para[k] and last_para > 0:
            k = last_para
        ranges.append((begin, k - 1))
        first_new = k
    return ranges


def chunk_article(
    article: Article, chunk_tokens: int = 220, overlap_tokens: int = 40
) -> list[Chunk]:
    """Split an article into chunks of about ``chunk_tokens`` tokens with exact offsets.

    Chunk ids are ``{sha1(article.id)[:16]}-{content_hash[:12]}-{index:04d}``: the same for the
    same article content, different when the content changes.
    """
    if chunk_tokens < 1:
        msg = f"chunk_tokens must be at least 1, not {chunk_tokens}"
        raise ValueError(msg)
    overlap = max(0, min(overlap_tokens, chunk_tokens // 2))
    text = article.text
    units = _Units(text, chunk_tokens)
    ranges = _pack(units, chunk_tokens, overlap)
    content_hash = article.content_hash
    prefix = f"{sha1(article.id)[:16]}-{content_hash[:12]}"
    chunks: list[Chunk] = []
    for index, (first, last) in enumerate(ranges):
        start, end = units.starts[first], units.ends[last]
        chunks.append(
            Chunk.model_construct(
                id=f"{prefix}-{index:04d}",
                article_id=article.id,
                index=index,
                count=len(ranges),
                text=text[start:end],
                start=start,
                end=end,
                title=article.title,
                source=article.source,
                published=article.published,
                url=article.url,
                content_hash=content_hash,
                origin=origin_path(article.origin),
            )
        )
    return chunks
