"""Sentence- and paragraph-aware chunking with exact character offsets.

Sentences come from :func:`assistant.text.split_sentences` (re-exported here). ``chunk_article`` packs whole sentences into chunks of about
``chunk_tokens`` tokens, prefers paragraph breaks as boundaries, and starts each chunk with a few
whole trailing sentences of the previous one. ``article.text[c.start:c.end] == c.text`` always.
"""

from __future__ import annotations

import re

from assistant.models import Article, Chunk, sha1
from assistant.text import split_sentences

__all__ = ["chunk_article", "count_tokens", "split_sentences"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\S+")
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
            )
        )
    return chunks
