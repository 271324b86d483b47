"""Source cards: the passage behind each citation, its quotes highlighted, escaped like the answer.

Pure functions from :class:`~assistant.models.Answer` (its citations and passages) to HTML, built
with the escaping of :mod:`ui.components`; nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from assistant.models import Answer, Citation, Passage, ShortAnswer, StoryCopy

from .components import _link, anchor_id, esc, fmt_date, safe_url


def quote_spans(passage: Passage, citations: Sequence[Citation]) -> list[tuple[int, int]]:
    """Spans of ``passage.text`` holding the citations' quotes, merged and sorted.

    The citation offsets index the article; ``start - passage.start`` is the offset in the
    passage. If the text there is not the quote (another chunking), the quote is searched for.
    """
    spans: list[tuple[int, int]] = []
    text = passage.text
    for c in citations:
        if not c.quote:
            continue
        s, e = c.start - passage.start, c.end - passage.start
        if not (0 <= s < e <= len(text) and text[s:e] == c.quote):
            s = text.find(c.quote)
            if s < 0:
                s = text.find(c.quote.strip())
                if s < 0:
                    continue
                e = s + len(c.quote.strip())
            else:
                e = s + len(c.quote)
        spans.append((s, e))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def highlight(
    text: str,
    spans: Sequence[tuple[int, int]],
    strong: tuple[int, int] | None = None,
    *,
    unsure: bool = False,
) -> str:
    """Escaped ``text`` with each span wrapped in ``<mark>``; ``strong`` (the short answer,
    inside a span) is also wrapped in ``<strong>`` — or, ``unsure`` (a hedged candidate), in a
    dotted underline, never the answer's bold."""
    out: list[str] = []
    pos = 0
    for s, e in spans:
        out.append(esc(text[pos:s]))
        if strong is not None and s <= strong[0] < strong[1] <= e:
            a, b = strong
            phrase = esc(text[a:b])
            shown = (
                f'<span class="qa-candidate">{phrase}</span>'
                if unsure
                else f'<strong class="qa-short">{phrase}</strong>'
            )
            inner = f"{esc(text[s:a])}{shown}"
            out.append(f"<mark>{inner}{esc(text[b:e])}</mark>")
        else:
            out.append(f"<mark>{esc(text[s:e])}</mark>")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def _meta_html(source: str | None, published: dt.date | None, url: str | None) -> str:
    bits = [esc(source or "unknown outlet"), esc(fmt_date(published))]
    good = safe_url(url)
    if good:
        host = urlsplit(good).netloc
        bits.append(_link(good, host or good))
    return " &middot; ".join(bits)


def card_html(
    n: int,
    msg_id: int | str,
    passage: Passage | None,
    citations: Sequence[Citation],
    short: ShortAnswer | None = None,
    *,
    unsure: bool = False,
) -> str:
    """Source card n: title, outlet, date, link and the passage with its quotes highlighted
    (and the short answer, when it lies in this passage, in bold inside its quote; a hedged
    answer's candidate, ``unsure``, underlined instead)."""
    first = citations[0] if citations else None
    ref = passage or first
    title = (ref.title if ref else "") or "Untitled article"
    source = ref.source if ref else None
    published = ref.published if ref else None
    url = ref.url if ref else None
    if passage is not None:
        inside = None
        if short is not None and short.n == n:
            a, b = short.start - passage.start, short.end - passage.start
            inside = (a, b) if 0 <= a < b <= len(passage.text) else None
        body = highlight(passage.text, quote_spans(passage, citations), inside, unsure=unsure)
    else:  # no passage to show: the quotes alone
        body = " &hellip; ".join(f"<mark>{esc(c.quote)}</mark>" for c in citations)
    weak = [c for c in citations if not c.supported]
    parts = [
        f'<div class="qa-card" id="{anchor_id(msg_id, n)}" data-n="{n}">',
        f'<div class="qa-card-head"><span class="qa-n">&#91;{n}&#93;</span>{esc(title)}</div>',
        f'<div class="qa-meta">{_meta_html(source, published, url)}</div>',
        f'<div class="qa-passage">{body}</div>',
    ]
    if passage is not None and passage.also_in:
        parts.append(also_in_html(passage.also_in))
    if weak and len(weak) == len(citations):
        parts.append('<div class="qa-weak">&#9888; weak support for the cited sentence</div>')
    parts.append("</div>")
    return "".join(parts)


def also_in_html(copies: Sequence[StoryCopy]) -> str:
    """'also reported by' and the other outlets of the story, linked when their url is http(s)."""
    names = [_link(c.url, c.source or c.article_id) for c in copies]
    return f'<div class="qa-also">also reported by {", ".join(names)}</div>'


def cited_numbers(answer: Answer) -> list[int]:
    """Card numbers in the order they are first cited."""
    return list(dict.fromkeys(c.n for c in answer.citations))


def citations_for(answer: Answer, n: int) -> list[Citation]:
    return [c for c in answer.citations if c.n == n]


def passage_for(answer: Answer, n: int) -> Passage | None:
    for p in answer.passages:
        if p.n == n:
            return p
    return None
