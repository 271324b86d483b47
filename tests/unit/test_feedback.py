"""assistant.answering.feedback: append-only JSON lines, never the API key."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from pydantic import SecretStr

from assistant.answering.feedback import append_feedback, feedback_record, read_feedback
from assistant.config import Settings
from assistant.models import Answer, Citation

SECRET = "sk-live-abcdef0123456789"


def make_answer(text: str = "Iran helped Iraq [1].") -> Answer:
    return Answer(
        question="What did Iran do?", standalone_question="What did Iran do?", answer=text,
        mode="llm", model="gpt-4o-mini",
        citations=[Citation(n=1, article_id="a", chunk_id="c", title="T", source="Tasnim",
                            published=dt.date(2019, 8, 10), url="https://x.example/a",
                            quote="Iran helped Iraq.", start=10, end=27, supported=True,
                            support=0.8, sentence="Iran helped Iraq.")],
    )  # fmt: skip


def test_record_fields() -> None:
    now = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    rec = feedback_record(make_answer(), "unsupported", 1, now=now)
    assert rec["time"] == "2024-01-02T03:04:05+00:00"
    assert rec["verdict"] == "unsupported" and rec["citation_n"] == 1
    assert rec["question"] == "What did Iran do?" and rec["answer"] == "Iran helped Iraq [1]."
    (c,) = rec["citations"]
    assert c["published"] == "2019-08-10" and c["quote"] == "Iran helped Iraq." and c["n"] == 1
    assert "citation_n" not in feedback_record(make_answer(), "up")
    with pytest.raises(ValueError):
        feedback_record(make_answer(), "meh")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        feedback_record(make_answer(), "unsupported")


def test_append_only_and_no_key(settings: Settings) -> None:
    s = settings.model_copy(update={"llm_api_key": SecretStr(SECRET)})
    append_feedback(s, make_answer(), "up")
    append_feedback(s, make_answer(f"It said {SECRET} [1]."), "down")
    append_feedback(s, make_answer(), "unsupported", 1)
    raw = s.feedback_file.read_text(encoding="utf-8")
    assert SECRET not in raw
    lines = raw.splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)
    assert [r["verdict"] for r in read_feedback(s.feedback_file)] == ["up", "down", "unsupported"]
    assert s.feedback_file.parent == s.store_dir


def test_concurrent_appends_do_not_interleave(settings: Settings) -> None:
    long_answer = make_answer("x " * 5000 + "[1].")

    def work() -> None:
        for _ in range(20):
            append_feedback(settings, long_answer, "up")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(read_feedback(settings.feedback_file)) == 80
