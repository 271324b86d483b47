"""Rows of RealTimeQA's public files as DESIGN.md records: questions, search-result articles,
evidence notes, and the dev set's weeks (``benchmarks.realtimeqa_public`` reads the files)."""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from assistant.text.urls import same_page_key

MAX_TEXT: Final = 100_000
DEV: Final = Path("/work/shared/data/realtimeqa-dev")


class _Evidence(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href and href.startswith(("http://", "https://")) and href not in self.hrefs:
            self.hrefs.append(href)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_evidence(html: str) -> tuple[list[str], str]:
    """The linked URLs (first occurrence order) and the plain text of an evidence note."""
    ev = _Evidence()
    ev.feed(html or "")
    ev.close()
    return ev.hrefs, " ".join("".join(ev.text).split())


def page_key(url: str) -> str:
    """The project's same-page key: the key of an article id ``https://<key>`` is ``<key>``."""
    return same_page_key(url)


def _norm(text: str) -> str:
    table_ = {ord(c): " " for c in "\u201c\u201d\"'\u2018\u2019.,;:!?()"}
    return " ".join(text.lower().translate(table_).split())


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        return None


def parse_question(row: Any, week: dt.date) -> dict[str, Any]:
    """A question in the realtimeqa-dev shape; ValueError says why a row is unusable."""
    if not isinstance(row, dict) or not row.get("question_sentence"):
        raise ValueError("no question_sentence")
    choices = row.get("choices")
    if isinstance(choices, str):
        choices = ast.literal_eval(choices)
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise ValueError(f"bad choices {choices!r}")
    given = row.get("answer")
    given = [given] if isinstance(given, str | int) else given
    try:
        answer = [choices[int(i)] for i in given or []]
    except (ValueError, IndexError, TypeError) as exc:
        raise ValueError(f"bad answer {given!r}") from exc
    if not answer or not all(a.strip() for a in answer):
        raise ValueError(f"no answer ({given!r} of {choices!r})")
    day = _date(row.get("question_date"))
    if day is None:
        raise ValueError(f"bad question_date {row.get('question_date')!r}")
    hrefs, note = parse_evidence(str(row.get("evidence") or ""))
    return {
        "id": str(row.get("question_id") or ""),
        "question": " ".join(str(row["question_sentence"]).split()),
        "date": day.isoformat(),
        "choices": choices,
        "answer": answer,
        "evidence": hrefs,  # resolved to article ids at the end of the year
        "source": str(row.get("question_source") or ""),
        "week": week.isoformat(),
        "url": str(row.get("question_url") or ""),
        "evidence_text": note,
    }


def article_record(item: dict[str, Any], title: str | None = None) -> dict[str, Any] | None:
    """An article from a search/gold result, or None if it has no text or no URL."""
    url = str(item.get("url") or "").strip()
    text = str(item.get("text") or "").strip()
    if not url.startswith(("http://", "https://")) or not text:
        return None
    rec: dict[str, Any] = {
        "id": "https://" + page_key(url),
        "url": url,
        "title": " ".join(str(title if title is not None else item.get("title") or "").split()),
        "text": text[:MAX_TEXT],
    }
    published = _date(item.get("publish_date") or "")
    if published:
        rec["published"] = published.isoformat()
    rec["source"] = (urlsplit(url).hostname or "").lower()
    authors = item.get("authors")
    rec["authors"] = [str(a) for a in authors] if isinstance(authors, list) else []
    if len(text) > MAX_TEXT:
        rec["truncated"] = True
    return rec


@dataclass
class Dev:
    """What realtimeqa-dev holds: question ids and dates, article page keys."""

    ids: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: Path | None) -> Dev:
        dev = cls()
        if folder is None or not (folder / "questions.jsonl").is_file():
            return dev
        with open(folder / "questions.jsonl", encoding="utf-8") as fh:
            for line in fh:
                q = json.loads(line)
                dev.ids.add(q["id"])
                dev.dates.add(q.get("date", ""))
        with open(folder / "articles.jsonl", encoding="utf-8") as fh:
            dev.keys.update(page_key(json.loads(line)["id"]) for line in fh)
        return dev
