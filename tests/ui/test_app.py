"""The chat page under Streamlit's AppTest, with a scripted fake chat model.

Each test builds an ``Assistant`` on a temporary embedded store (fake embedder) and hands the page
a factory returning it: ``ui.page.main(factory)`` is the page's one injection point.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from assistant.answering.feedback import read_feedback
from assistant.models import Answer
from assistant.service import Assistant
from tests.conftest import ROOT, SEED

QUESTION = "What did Al-Shammari praise Iran for?"
GOOD_REPLY = (
    "Al-Shammari praised Iran for supporting Iraq in the fight against terrorist groups [1][2]."
)
OTHER = {
    "id": "other-1",
    "title": "Baghdad hosts regional water talks",
    "text": (
        "Officials from Iraq and Iran met in Baghdad on Monday to discuss sharing the waters of "
        "the Tigris. The Iraqi water minister praised Iran for releasing more water this summer."
    ),
    "source": "Example Times",
    "published": "2022-06-20",
    "url": "https://example.org/water-talks",
}
HOSTILE = {
    "id": "hostile-1",
    "title": "Evil <script>window.__pwned=1</script> headline",
    "text": (
        'Zebra smugglers <img src=x onerror="window.__pwned=2"> crossed the border. '
        "The zebra smugglers sold **bold** [link](javascript:alert(1)) :red[zebras] $x^2$ "
        "at the market."
    ),
    "source": "Hostile <b>News</b>",
    "published": "2022-07-01",
    "url": "javascript:alert(1)",
}


class Script:
    """Replies for the fake chat model, in call order; an exception item is raised instead."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = list(items)

    def __iter__(self) -> Script:
        return self

    def __next__(self) -> Any:
        if not self.items:
            raise StopIteration
        item = self.items.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def fake_chat(*replies: Any) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=Script(replies))


def _app(factory):  # type: ignore[no-untyped-def]  # run as a script: no annotations
    from ui.page import main

    main(factory)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in (OTHER, HOSTILE)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def store(make_assistant: Callable[..., Assistant], corpus: Path) -> Assistant:
    """The seed article plus two others, indexed once; returns the extractive Assistant."""
    a = make_assistant(answer_at=0.0)
    report = a.ingest([str(SEED), str(corpus)])
    assert report.new == 3, report
    return a


def make_app(assistant: Assistant) -> AppTest:
    at = AppTest.from_function(_app, args=(lambda: assistant,), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def llm_assistant(store: Assistant, *replies: Any) -> Assistant:
    return Assistant(store.settings, embedder=store.embedder, chat_model=fake_chat(*replies))


def bodies(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html")]


def visible(fragment: str) -> str:
    """What the reader sees of an HTML fragment: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def answers(at: AppTest) -> list[str]:
    return [b for b in bodies(at) if 'class="qa-answer"' in b]


def cards(at: AppTest) -> list[str]:
    return [b for b in bodies(at) if 'class="qa-card"' in b]


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def last_answer(at: AppTest) -> Answer:
    turns = at.session_state["turns"]
    assert turns[-1].answer is not None, turns[-1].error
    return turns[-1].answer


# --- asking ---------------------------------------------------------------------------------


def test_ask_shows_answer_with_linked_markers_and_highlighted_source(store: Assistant) -> None:
    at = make_app(llm_assistant(store, GOOD_REPLY))
    ask(at, QUESTION)

    (body,) = answers(at)
    assert "supporting Iraq in the fight against terrorist groups" in visible(body)
    turn_id = at.session_state["turns"][-1].id
    assert f'href="#src-{turn_id}-1"' in body
    assert 'data-mode="llm"' in body
    assert "Searched for" not in visible(body)  # a first question is not rewritten

    shown = cards(at)
    assert shown, "no source cards"
    assert any(f'id="src-{turn_id}-1"' in c for c in shown)
    marked = [visible(m) for c in shown for m in re.findall(r"<mark>.*?</mark>", c, flags=re.S)]
    assert any("praised Iran for supporting Iraq" in m for m in marked), marked
    seed_card = next(c for c in shown if "praised Iran for supporting Iraq" in visible(c))
    assert "Iran Urges Closer Military Ties with Iraq" in visible(seed_card)
    assert "Tasnim" in visible(seed_card)
    # feedback widgets: thumbs for the answer, one flag button per cited card
    assert len(at.feedback) == 1
    assert any(b.label == "Doesn't support this" for b in at.button)


def test_extractive_answer_is_labelled(store: Assistant) -> None:
    at = make_app(store)
    ask(at, QUESTION)
    (body,) = answers(at)
    assert 'data-mode="extractive"' in body
    assert "Extractive answer" in visible(body)
    assert cards(at)
    assert "extractive" in " ".join(c.value for c in at.sidebar.caption)


def test_unsupported_sentence_is_marked(store: Assistant) -> None:
    reply = GOOD_REPLY + " The moon is made of green cheese [1]."
    at = make_app(llm_assistant(store, reply))
    ask(at, QUESTION)
    answer = last_answer(at)
    assert any("cheese" in s for s in answer.unsupported_sentences)
    (body,) = answers(at)
    flagged = re.findall(r'<span class="qa-unsupported"[^>]*>(.*?)</span>', body, flags=re.S)
    assert any("green cheese" in visible(f) for f in flagged)
    assert "unsupported" in visible(body)


def test_follow_up_shows_rewritten_question(store: Assistant) -> None:
    rewritten = "What else did Al-Shammari say about Iran and Iraq?"
    follow_up_reply = (
        "Al-Shammari said the two neighbouring states share a lot of interests [1][2]."
    )
    at = make_app(llm_assistant(store, GOOD_REPLY, rewritten, follow_up_reply))
    ask(at, QUESTION)
    ask(at, "What else did he say?")

    first, second = answers(at)
    assert "Searched for" not in visible(first)
    assert f"Searched for: {rewritten}" in visible(second)
    assert len(at.chat_message) == 4  # two questions, two answers: the history stays


def test_refusal_is_labelled(store: Assistant) -> None:
    at = make_app(llm_assistant(store, "The articles don't say."))
    ask(at, "Who won the 1998 World Cup?")
    (body,) = answers(at)
    assert 'data-mode="refused"' in body
    assert "No answer in the articles" in visible(body)
    assert last_answer(at).refused


def test_outlet_filter_changes_the_search(store: Assistant) -> None:
    at = make_app(store)
    outlets = at.sidebar.multiselect[0]
    assert set(outlets.options) >= {"Tasnim", "Example Times"}
    outlets.set_value(["Example Times"]).run()
    at.sidebar.slider[0].set_value(3).run()
    ask(at, QUESTION)
    answer = last_answer(at)
    assert answer.passages
    assert {p.source for p in answer.passages} == {"Example Times"}
    assert len(answer.passages) <= 3
    assert all("Tasnim" not in visible(c) for c in cards(at))


def test_date_filter_is_passed_on(store: Assistant) -> None:
    import datetime as dt

    at = make_app(store)
    at.sidebar.date_input[0].set_value(dt.date(2022, 6, 15)).run()
    at.sidebar.date_input[1].set_value(dt.date(2022, 6, 30)).run()
    ask(at, QUESTION)
    answer = last_answer(at)
    assert answer.date_filter == (dt.date(2022, 6, 15), dt.date(2022, 6, 30))
    assert {p.article_id for p in answer.passages} == {"other-1"}


# --- safety ---------------------------------------------------------------------------------


def test_article_markup_is_escaped(store: Assistant) -> None:
    at = make_app(store)
    outlets = at.sidebar.multiselect[0]
    outlets.set_value(["Hostile <b>News</b>"]).run()
    ask(at, "What did the zebra smugglers sell at the market?")
    shown = cards(at) + answers(at)
    assert shown
    for fragment in shown:
        lowered = fragment.lower()
        assert "<script" not in lowered and "<img" not in lowered and "<b>" not in lowered
        assert "javascript:" not in lowered
    text = " ".join(visible(c) for c in cards(at))
    assert "<script>window.__pwned=1</script>" in text
    assert '<img src=x onerror="window.__pwned=2">' in text
    assert "**bold** [link](javascript:alert(1)) :red[zebras] $x^2$" in text


# --- errors ---------------------------------------------------------------------------------


def test_empty_store_is_one_clear_message(make_assistant: Callable[..., Assistant]) -> None:
    at = make_app(make_assistant())
    assert any("No articles are indexed yet" in i.value for i in at.info)
    ask(at, QUESTION)
    assert len(at.error) == 1
    assert "no articles are indexed yet" in at.error[0].value


def test_llm_down_is_one_message_and_the_next_question_works(store: Assistant) -> None:
    down = ConnectionError("Connection refused")
    at = make_app(llm_assistant(store, down, GOOD_REPLY))
    ask(at, QUESTION)
    assert len(at.error) == 1
    message = at.error[0].value
    assert "\n" not in message.strip() and "Traceback" not in message
    ask(at, QUESTION)
    assert len(at.error) == 1  # the old error stays in the history, the new answer is fine
    assert answers(at)


class DropsMidStream(GenericFakeChatModel):
    """Streams a few tokens, then the connection to the LLM server goes away."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        for token in ["Al-Shammari ", "praised ", "Iran "]:
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))
        raise ConnectionError("Connection reset by peer")


def test_llm_server_going_away_mid_stream_is_one_message_and_next_works(store: Assistant) -> None:
    broken = Assistant(
        store.settings, embedder=store.embedder, chat_model=DropsMidStream(messages=iter([]))
    )
    state = {"assistant": broken}
    at = AppTest.from_function(_app, args=(lambda: state["assistant"],), default_timeout=60)
    at.run()
    ask(at, QUESTION)
    assert len(at.error) == 1 and "Traceback" not in at.error[0].value
    assert not at.exception
    state["assistant"] = llm_assistant(store, GOOD_REPLY)  # the server is back
    ask(at, QUESTION)
    assert len(at.error) == 1 and answers(at)


# --- upload ---------------------------------------------------------------------------------


def test_upload_ingests_files_and_reports_failures(store: Assistant) -> None:
    at = make_app(store)
    before = store.stats().articles
    good = json.dumps(
        {
            "id": "up-1",
            "title": "Uploaded story",
            "text": "An uploaded article about the "
            "Euphrates river levels falling sharply this summer in Iraq.",
            "source": "Upload Post",
        }
    )
    at.sidebar.file_uploader[0].set_value(
        [
            ("story.jsonl", good.encode() + b"\n", "application/json"),
            ("broken.jsonl", b"{not json at all\n", "application/json"),
            ("empty.txt", b"", "text/plain"),
        ]
    )
    at.run()
    at.sidebar.button(key="ingest").click().run()
    assert not at.exception, at.exception
    assert store.stats().articles == before + 1
    summary = " ".join(w.value for w in at.sidebar.warning)
    assert "1 new" in summary and "2 failed" in summary, summary
    failures = " ".join(c.value for c in at.sidebar.caption)
    assert "broken" in failures and "empty" in failures
    # the page still works and knows the new outlet
    assert "Upload Post" in at.sidebar.multiselect[0].options


def test_ingest_uploads_directly(store: Assistant) -> None:
    from ui.upload import ingest_uploads

    steps: list[tuple[float, str]] = []
    report = ingest_uploads(
        store,
        [
            (
                "../../etc/evil name.txt",
                b"A plain text article about Basra dates being exported "
                b"to Iran in large numbers this year.\n",
            )
        ],
        lambda done, text: steps.append((done, text)),
    )
    assert report.new == 1 and not report.failed
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0
    assert "1 new" in steps[-1][1]


# --- feedback and export --------------------------------------------------------------------


def test_feedback_is_appended_to_the_feedback_file(store: Assistant) -> None:
    secret = "sk-test-0123456789abcdef"
    settings = store.settings.model_copy(update={"llm_api_key": SecretStr(secret)})
    assistant = Assistant(settings, embedder=store.embedder, chat_model=fake_chat(GOOD_REPLY))
    at = make_app(assistant)
    ask(at, QUESTION)

    at.feedback[0].set_value(0).run()
    flag = next(b for b in at.button if b.label == "Doesn't support this")
    flag.click().run()
    assert not at.exception

    path = settings.feedback_file
    records = read_feedback(path)
    assert [r["verdict"] for r in records] == ["down", "unsupported"]
    first = records[0]
    assert first["question"] == QUESTION
    assert "terrorist groups" in first["answer"]
    assert first["citations"] and first["citations"][0]["quote"]
    assert first["time"].endswith("+00:00")
    assert isinstance(records[1]["citation_n"], int)
    assert secret not in path.read_text(encoding="utf-8")
    # the flagged citation's button is now disabled
    assert any(b.disabled and b.label.startswith("Reported") for b in at.button)


def test_clear_and_export(store: Assistant) -> None:
    from ui.export import conversation_markdown

    at = make_app(llm_assistant(store, GOOD_REPLY))
    ask(at, QUESTION)
    turns = at.session_state["turns"]
    md = conversation_markdown([(t.question, t.answer, t.error) for t in turns])
    assert f"## 1. {QUESTION}" in md
    assert "**Sources**" in md and "Iran Urges Closer Military Ties with Iraq" in md
    assert "> “" in md
    assert not at.sidebar.get("download_button")[0].proto.disabled

    at.sidebar.button(key="clear").click().run()
    assert at.session_state["turns"] == []
    assert not answers(at)


# --- the real entry point -------------------------------------------------------------------


def test_app_file_opens_on_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "empty-store"))
    from ui.page import get_assistant

    get_assistant.clear()
    try:
        at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        assert any("No articles are indexed yet" in i.value for i in at.info)
        assert get_assistant() is get_assistant()  # one Assistant (and model) per process
    finally:
        get_assistant.clear()
