"""What ``assistant ask`` prints for each outcome, and where log records go in a run."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import pytest

from assistant.cli import output
from assistant.cli.logs import configure_logging
from assistant.models import HEDGE_LEAD, Answer, Citation, Reason, ShortAnswer

QUOTE = "Earlier in June, Brigadier General Alireza Sabahi Fard said the air defense is ready."


def _answer(outcome: str) -> Answer:
    short = "Alireza Sabahi Fard"
    body = f"{short} [1]\n\n{QUOTE} [1]\n\nSources: [1] Tasnim"
    start = QUOTE.index(short)
    return Answer(
        question="Who is the commander?", standalone_question="Who is the commander?",
        answer=f"{HEDGE_LEAD}\n\n{body}" if outcome == "hedged" else body, mode="extractive",
        outcome=outcome, confidence=0.36,
        citations=[Citation(n=1, article_id="a", chunk_id="c", title="Iran Urges Closer Ties",
                            source="Tasnim", quote=QUOTE, start=100, end=100 + len(QUOTE),
                            supported=True, support=0.9)],
        short_answer=ShortAnswer(text=short, n=1, start=100 + start, end=100 + start + len(short)),
        reasons=[Reason(code="below_answer_at", value=0.3661, threshold=0.37)],
    )  # fmt: skip


@pytest.fixture
def debug_off() -> Iterator[None]:
    output.cli_state["debug"] = False
    yield
    output.cli_state["debug"] = False


def test_a_hedged_answer_says_it_is_unsure_and_lists_each_source_once(
    capsys: pytest.CaptureFixture[str], debug_off: None
) -> None:
    output.print_answer(_answer("hedged"))
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "unsure answer (extractive, no LLM configured)"
    assert lines[1] == HEDGE_LEAD and lines[2] == "Alireza Sabahi Fard [1]"
    assert "Sources:" not in out  # the sources block below lists them, once
    assert out.count("[1] Iran Urges Closer Ties — Tasnim, undated") == 1
    assert "0.36" not in out  # numbers only with --debug


def test_an_answer_is_labelled_as_before(
    capsys: pytest.CaptureFixture[str], debug_off: None
) -> None:
    output.print_answer(_answer("answer"))
    out = capsys.readouterr().out
    assert out.startswith("extractive answer (no LLM configured)\nAlireza Sabahi Fard [1]\n")
    assert HEDGE_LEAD not in out and "Sources:" not in out


def test_debug_prints_the_numbers_behind_the_outcome_on_stderr(
    capsys: pytest.CaptureFixture[str], debug_off: None
) -> None:
    output.cli_state["debug"] = True
    output.print_answer(_answer("hedged"))
    captured = capsys.readouterr()
    assert "0.36" not in captured.out
    assert "outcome hedged, confidence 0.360" in captured.err
    assert "below_answer_at 0.3661 (threshold 0.37)" in captured.err


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("assistant")
    saved = (root.handlers[:], root.level, ours.handlers[:], ours.level, ours.propagate)
    yield
    root.handlers[:], ours.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    ours.setLevel(saved[3])
    ours.propagate = saved[4]
    logging.captureWarnings(False)


def _without_pytest_handlers() -> None:
    """Leave the root logger as a fresh process has it (pytest adds capture handlers)."""
    logging.getLogger().handlers[:] = []


def test_normal_runs_show_progress_lines_but_no_library_logs(
    capsys: pytest.CaptureFixture[str], clean_logging: None
) -> None:
    _without_pytest_handlers()
    configure_logging(debug=False)
    configure_logging(debug=False)  # twice in one process: still one line per record
    logging.warning("Please consider to run pre-processing before quantization.")
    logging.getLogger("bm25s").setLevel(logging.DEBUG)
    logging.getLogger("bm25s").debug("Building index from IDs objects")
    # how a warning reaches the console (called directly: pytest records warn() calls itself)
    warnings.showwarning("a library's FutureWarning", FutureWarning, "lib.py", 1)
    logging.getLogger("assistant.search.embeddings").info("Preparing the embedding model…")
    logging.getLogger("assistant.search.embeddings").debug("internal detail")
    err = capsys.readouterr().err
    assert err.splitlines() == ["Preparing the embedding model…"]


def test_debug_runs_show_library_logs_with_their_names(
    capsys: pytest.CaptureFixture[str], clean_logging: None
) -> None:
    _without_pytest_handlers()
    configure_logging(debug=True)
    logging.getLogger("bm25s").setLevel(logging.DEBUG)
    logging.getLogger("bm25s").debug("Building index from IDs objects")
    logging.getLogger("assistant.search.embeddings").info("Preparing the embedding model…")
    err = capsys.readouterr().err
    assert "DEBUG:bm25s:Building index from IDs objects" in err
    assert "INFO:assistant.search.embeddings:Preparing the embedding model…" in err
