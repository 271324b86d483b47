"""A whole eval run over a tiny corpus with a scripted chat model; resume; gates; the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, SecretStr
from typer.testing import CliRunner

from assistant.config import Settings
from assistant.errors import AssistantError, LLMError, UsageError
from assistant.evaluation import command
from assistant.evaluation.cases import corpus_collection, load_cases
from assistant.evaluation.results import read_results
from assistant.evaluation.runner import EvalOptions
from assistant.service import Assistant
from tests.fakes import HashEmbedder

MUSEUM_ID = "https://www.metro-news.example/2022/07/20/museum-bronzes/index.html?utm_source=feed"
ARTICLES = [
    {"id": "bridge", "title": "Harbor Bridge reopens", "published": "2022-06-10",
     "source": "Coast Herald", "url": "https://coast.example/bridge",
     "text": "The Harbor Bridge in Port Elm reopened on Monday after a two-year repair that cost "
             "310 million dollars. Mayor Ines Dorado cut the ribbon as ferries sounded horns."},
    {"id": "wheat", "title": "Drought hits wheat farmers", "published": "2022-06-15",
     "source": "Farm Wire",
     "text": "A long drought cut the wheat harvest in the Valdoria plains by a third this year, "
             "and farmers asked the provincial government for emergency aid."},
    {"id": "chess", "title": "Chess prodigy wins title", "published": "2022-07-02",
     "source": "Lindholm Post", "url": "https://lindholm.example/chess",
     "text": "Twelve-year-old Mira Kovac won the national chess championship in Lindholm on "
             "Saturday, beating the defending champion in the final round."},
    {"id": MUSEUM_ID, "title": "Museum returns bronze statues", "published": "2022-07-20",
     "source": "Metro News", "url": MUSEUM_ID,
     "text": "The Arvo City Museum returned four bronze statues to Benin on Wednesday, after a "
             "five-year campaign by scholars and the Benin royal court."},
    {"id": "club", "title": "Chess club opens in Lindholm", "published": "2022-05-01",
     "source": "Lindholm Post",
     "text": "A new chess club opened in Lindholm's old library, offering free lessons to "
             "children every Tuesday and a small tournament each month."},
]  # fmt: skip
QUESTIONS = [
    {"id": "q1", "question": "When did the Harbor Bridge in Port Elm reopen?",
     "answer": ["Monday", "on Monday"], "evidence": ["bridge"], "date": "2022-06-20"},
    {"id": "q2", "question": "Who won the national chess championship in Lindholm?",
     "answer": ["Mira Kovac"], "choices": ["Anna Berg", "Mira Kovac", "Lena Ott"],
     "evidence": ["chess"], "date": "2022-07-05"},
    # the evidence is the same page under another URL form (edition., fragment, no tracking)
    {"id": "q3", "question": "Which museum returned the bronze statues to Benin?",
     "answer": ["Arvo City Museum", "The Arvo City Museum"],
     "choices": ["Louvre", "Arvo City Museum", "British Museum"],
     "evidence": ["https://edition.metro-news.example/2022/07/20/museum-bronzes#:~:text=bronze"],
     "date": "2022-07-25"},
    {"id": "q4", "question": "What did the Lindholm central bank decide about interest rates?",
     "answerable": False, "date": "2022-07-25"},
    # asked before the chess article was published: it cannot be found, the answer refuses
    {"id": "q5", "question": "Who was the winner of the Lindholm chess championship?",
     "answer": ["Mira Kovac"], "evidence": ["chess"], "date": "2022-06-01"},
]  # fmt: skip
REFUSAL = "The articles don't say."
REPLIES = {  # question -> answer reply (and the number of the choice to pick)
    "q1": ("The Harbor Bridge in Port Elm reopened on Monday [1].", None),
    "q2": ("Mira Kovac won the chess championship in Lindholm [1]. She is twelve [7].", "3"),
    "q3": ("The Arvo City Museum returned four bronze statues to Benin [1].", "2"),
}  # fmt: skip
USAGE = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}


class KeyedChat(BaseChatModel):
    """A scripted chat model that answers by question (so concurrent calls stay deterministic)
    and reports token usage; anything unscripted gets the refusal sentence."""

    replies: dict[str, tuple[str, str | None]] = Field(default_factory=dict)
    calls: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "keyed-fake"

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        match = re.search(r"^Question: (.*)$", prompt, re.MULTILINE)
        question = match.group(1).strip() if match else ""
        self.calls.append(question)
        case = next((q for q in QUESTIONS if q["question"] == question), None)
        answer, choice = self.replies.get(case["id"] if case else "", (REFUSAL, None))
        return (choice or "1") if "Choices:" in prompt else answer

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kw: Any,
    ) -> ChatResult:  # fmt: skip
        reply = AIMessage(content=self._reply(messages), usage_metadata=USAGE)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kw: Any
                ) -> Iterator[ChatGenerationChunk]:  # fmt: skip
        for piece in re.split(r"(?<= )", self._reply(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=USAGE))  # type: ignore[arg-type]


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    corpus = _write_jsonl(tmp_path / "corpus.jsonl", ARTICLES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    return corpus, questions


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(_env_file=None, store_dir=tmp_path / "store", collection="evaltest",
                    answer_at=0.0, llm_floor=0.0, **kw)  # fmt: skip


def _options(tmp_path: Path, questions: Path, **kw: Any) -> EvalOptions:
    return EvalOptions(questions=questions, out_dir=tmp_path / "out", **kw)


def test_full_run_with_a_scripted_chat_model(tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    settings = _settings(tmp_path, llm_api_key=SecretStr("sk-test-secret-123456"))
    chat = KeyedChat(replies=REPLIES)
    assistant = Assistant(settings, embedder=HashEmbedder(), chat_model=chat)
    options = _options(tmp_path, questions, corpus=corpus, workers=4, price=(1.0, 2.0))
    messages: list[str] = []
    outcome = command.run(options, assistant=assistant, echo=messages.append)

    assert outcome.exit_code == 0
    assert any("5 new" in line for line in messages)  # the corpus was ingested first
    rows = {r.id: r for r in outcome.rows}
    assert [r.id for r in outcome.rows] == ["q1", "q2", "q3", "q4", "q5"]

    # retrieval: q1-q3 find their article first (q3 through URL normalisation), q5 cannot
    assert rows["q1"].retrieved_articles[0] == "bridge" and rows["q1"].evidence_rank == 1
    assert rows["q3"].evidence_rank == 1
    assert rows["q5"].evidence_rank is None
    assert all(p["published"] <= "2022-06-01" for p in rows["q5"].passages)  # asked as of
    metrics = outcome.report["metrics"]
    assert metrics["retrieval"] == {
        "hit@1": 0.75, "hit@5": 0.75, "hit@10": 0.75, "mrr@10": 0.75, "ndcg@10": 0.75, "n": 4,
    }  # fmt: skip

    # answers, choices, refusals
    assert rows["q1"].scores["contained"] == 1.0 and rows["q1"].scores["exact_match"] == 0.0
    # scored without the marker: 8 words "harbor bridge in port elm reopened on monday" against
    # "on monday" (the better accepted answer): P = 2/8, R = 1 -> F1 = 0.4
    assert rows["q1"].scores["f1"] == pytest.approx(0.4)
    assert rows["q2"].choice == "Lena Ott" and rows["q2"].scores["mc_correct"] == 0.0
    assert rows["q3"].choice == "Arvo City Museum" and rows["q3"].scores["mc_correct"] == 1.0
    answer = metrics["answer"]
    assert answer["n"] == 4 and answer["mc_accuracy"] == 0.5 and answer["n_mc"] == 2
    assert answer["contained"] == 0.75  # q5 refused
    assert rows["q4"].refused and rows["q5"].refused and not rows["q1"].refused
    refusal = metrics["refusal"]
    assert (refusal["precision"], refusal["recall"]) == (0.5, 1.0)
    assert refusal["wrong_refusal_rate"] == 0.25 and refusal["n_unanswerable"] == 1

    # answer, hedge or refuse: q2's uncited sentence makes it a hedge (confidence 0), which holds
    # the right answer; q1 and q3 are right answers; q4 and q5 refused
    assert [rows[q].outcome for q in ("q1", "q2", "q3", "q4", "q5")] == [
        "answer", "hedged", "answer", "refused", "refused",
    ]  # fmt: skip
    outcomes = metrics["outcomes"]
    assert (outcomes["answer"], outcomes["hedged"], outcomes["refused"]) == (0.4, 0.2, 0.4)
    assert outcomes["answer_accuracy"] == 1.0 and outcomes["n_answer_scored"] == 2
    assert outcomes["hedge_right"] == 1.0 and outcomes["n_hedged_scored"] == 1
    assert outcomes["answerable"]["refused"] == 0.25 and outcomes["unanswerable"]["refused"] == 1.0
    calibration = metrics["calibration"]
    confident = [rows[q].confidence or 0.0 for q in ("q1", "q2", "q3")]
    assert rows["q2"].confidence == 0.0 and calibration["n"] == 3
    # all three are right, so each bin's gap is 1 - its mean confidence: ECE = mean(1 - c)
    assert calibration["ece"] == pytest.approx(sum(1 - c for c in confident) / 3)
    assert calibration["aurc"] == 0.0 and len(calibration["bins"]) == 10

    # citations: q2's [7] points to no shown passage
    assert rows["q2"].citation_stats["markers"] == 2 and rows["q2"].citation_stats["valid"] == 1
    cites = metrics["citations"]
    assert cites["valid_share"] == 0.75 and cites["n_markers"] == 4
    assert cites["answers_with_citation"] == 1.0 and cites["n_answers"] == 3
    assert cites["evidence_recall"] == 1.0 and cites["n_evidence"] == 3

    # latency and usage: q4 and q5 were refused by the model, so 5 generations + 2 choices
    assert {"retrieve", "generate", "verify", "total"} <= set(metrics["latency_ms"])
    assert metrics["latency_ms"]["choose"]["n"] == 2
    usage = metrics["usage"]
    assert usage["input_tokens"] == 500 and usage["output_tokens"] == 50
    assert usage["cost_usd"] == pytest.approx((500 * 1.0 + 50 * 2.0) / 1e6)

    # outputs
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"] == json.loads(json.dumps(metrics))
    assert report["counts"]["questions"] == 5 and report["counts"]["errors"] == 0
    assert report["settings"]["collection"] == "evaltest" and report["mode"] == "llm"
    assert report["settings"]["llm_api_key_set"] is True
    assert [r["id"] for r in report["rows"]] == ["q1", "q2", "q3", "q4", "q5"]
    assert report["curves"]["hit@k"]["1"] == 0.75 and report["version"]
    assert [r.id for r in read_results(out / "results.jsonl")] == ["q1", "q2", "q3", "q4", "q5"]
    html = (out / "report.html").read_text()
    assert 'id="summary"' in html and "Mira Kovac" in html
    assert 'id="reliability-plot"' in html and 'id="risk-coverage-plot"' in html
    for path in out.iterdir():
        assert "sk-test-secret" not in path.read_text(), path


def test_extractive_run_and_retrieval_only(tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    assistant = Assistant(_settings(tmp_path), embedder=HashEmbedder(), chat_model=None)
    assistant.ingest([corpus])
    outcome = command.run(_options(tmp_path, questions), assistant=assistant, echo=print)
    assert outcome.report["mode"] == "extractive" and outcome.exit_code == 0
    rows = {r.id: r for r in outcome.rows}
    assert rows["q3"].choice == "Arvo City Museum"  # the passages support it
    assert rows["q1"].citations and rows["q1"].scores["contained"] == 1.0
    # the short answer is scored apart from the whole answer, and so is what answers received
    assert {"short_f1", "short_exact_match"} <= set(rows["q1"].scores)
    answer_metrics = outcome.report["metrics"]["answer"]
    assert answer_metrics["short_f1"] is not None
    assert answer_metrics["short_f1"] >= answer_metrics["f1"]  # one phrase vs whole sentences
    assert outcome.report["metrics"]["answer_retrieval"]["hit@1"] is not None
    assert rows["q1"].answer_retrieval["hit@1"] == 1.0

    baseline = tmp_path / "out" / "report.json"
    options = _options(tmp_path, questions, retrieval_only=True, baseline=baseline)
    only = command.run(options, assistant=assistant, echo=print)
    assert set(only.report["metrics"]) == {"retrieval", "latency_ms"}
    assert all(not r.answered and r.answer is None for r in only.rows)
    deltas = only.report["baseline"]["deltas"]
    assert deltas["retrieval.hit@1"]["delta"] == 0.0
    assert deltas["answer.mc_accuracy"]["value"] is None
    assert "Δ" in (tmp_path / "out" / "report.html").read_text()


def test_judge_scores_faithfulness(tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    assistant = Assistant(
        _settings(tmp_path), embedder=HashEmbedder(), chat_model=KeyedChat(replies=REPLIES)
    )
    assistant.ingest([corpus])
    verdicts = iter([AIMessage(content=v) for v in ["SUPPORTED", "Verdict: CONTRADICTED"] * 10])
    judge = GenericFakeChatModel(messages=verdicts)
    options = _options(tmp_path, questions, limit=2, judge=True, workers=1)
    outcome = command.run(options, assistant=assistant, judge_model=judge, echo=print)
    # q1 has one cited sentence (SUPPORTED), q2 one valid citation (CONTRADICTED)
    picked = [r.judge["verdicts"][0]["verdict"] for r in outcome.rows]  # type: ignore[index]
    assert picked == ["SUPPORTED", "CONTRADICTED"]
    assert outcome.report["metrics"]["judge"] == {"faithfulness": 0.5, "n_claims": 2, "n": 2}


def test_resume_after_interruption(tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    assistant = Assistant(
        _settings(tmp_path), embedder=HashEmbedder(), chat_model=KeyedChat(replies=REPLIES)
    )
    assistant.ingest([corpus])
    asked: list[str] = []
    ask = assistant.ask

    def counting_ask(question: str, **kw: Any) -> Any:
        asked.append(question)
        return ask(question, **kw)

    assistant.ask = counting_ask  # type: ignore[method-assign]

    def interrupt_after_two(row: Any) -> None:
        if len(asked) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        command.run(_options(tmp_path, questions, workers=1), assistant=assistant, echo=print,
                    on_row=interrupt_after_two)  # fmt: skip
    results = tmp_path / "out" / "results.jsonl"
    assert [r.id for r in read_results(results)] == ["q1", "q2"]
    with results.open("a") as fh:  # killed in the middle of writing the third row
        fh.write('{"id": "q3", "index": 2, "question": "Which mus')

    asked.clear()
    outcome = command.run(_options(tmp_path, questions, resume=True, workers=1),
                          assistant=assistant, echo=print)  # fmt: skip
    assert asked == [q["question"] for q in QUESTIONS[2:]]  # q1 and q2 were not asked again
    assert outcome.report["counts"]["resumed"] == 2 and outcome.report["counts"]["evaluated"] == 5
    assert [r.id for r in read_results(results)] == ["q1", "q2", "q3", "q4", "q5"]
    assert len(results.read_text().splitlines()) == 5  # the torn line is gone

    asked.clear()  # without --resume everything is asked again
    command.run(_options(tmp_path, questions, workers=1), assistant=assistant, echo=print)
    assert len(asked) == 5


def test_failed_questions_are_kept_and_retried(tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    assistant = Assistant(_settings(tmp_path), embedder=HashEmbedder(), chat_model=None)
    assistant.ingest([corpus])
    ask = assistant.ask

    def flaky(question: str, **kw: Any) -> Any:
        if "Harbor" in question:
            raise RuntimeError("server went away")
        return ask(question, **kw)

    assistant.ask = flaky  # type: ignore[method-assign]
    outcome = command.run(_options(tmp_path, questions), assistant=assistant, echo=print)
    assert outcome.exit_code == 1 and outcome.report["counts"]["errors"] == 1
    assert outcome.rows[0].error == "RuntimeError: server went away"
    assistant.ask = ask  # type: ignore[method-assign]
    again = command.run(_options(tmp_path, questions, resume=True), assistant=assistant, echo=print)
    assert again.exit_code == 0 and again.report["counts"]["resumed"] == 4


def test_a_run_whose_first_questions_all_fail_stops(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    corpus, questions = files
    assistant = Assistant(_settings(tmp_path), embedder=HashEmbedder(), chat_model=None)
    assistant.ingest([corpus])

    def down(question: str, **kw: Any) -> Any:
        raise LLMError("cannot reach the LLM server at http://127.0.0.1:9")

    assistant.ask = down  # type: ignore[method-assign]
    with pytest.raises(AssistantError, match=r"first 3 questions all failed.*--resume"):
        command.run(_options(tmp_path, questions), assistant=assistant, echo=print)
    rows = read_results(tmp_path / "out" / "results.jsonl")
    error = "LLMError: cannot reach the LLM server at http://127.0.0.1:9"
    assert [r.error for r in rows] == [error] * 3


def test_bad_question_sets(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    for text, fragment in [
        ('{"id": "a", "question": "ok?"}\n{"id": "b"}\n', "bad.jsonl:2"),
        ('{"id": "a", "question": "ok?"}\n{"id": "a", "question": "again?"}\n', "twice"),
        ("not json\n", "bad.jsonl:1"),
        ("\n", "no questions"),
        ('{"id": "a", "question": "ok?", "date": "yesterday"}\n', "date"),
    ]:
        bad.write_text(text)
        with pytest.raises(UsageError, match=fragment):
            load_cases(bad)
    with pytest.raises(UsageError, match="not found"):
        load_cases(tmp_path / "missing.jsonl")
    bad.write_text('{"id": "a", "question": "ok?", "answer": "single string"}\n')
    assert load_cases(bad)[0].answer == ["single string"]


def test_corpus_collection_name_is_valid_for_chroma(tmp_path: Path) -> None:
    name = corpus_collection(tmp_path / "Real Time QA (dev)!.jsonl")
    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", name)
    assert name.startswith("eval_Real_Time_QA_dev_")
    assert corpus_collection(tmp_path / "a.jsonl") != corpus_collection(tmp_path / "b" / "a.jsonl")


# --- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    from assistant.config import Settings as S

    monkeypatch.chdir(tmp_path)  # no .env of the developer
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("ASSISTANT_REFUSE_THRESHOLD", "0.1")
    built: list[S] = []

    def build(settings: S) -> Assistant:
        built.append(settings)
        return Assistant(settings, embedder=HashEmbedder(), chat_model=None)

    monkeypatch.setattr(command, "build_assistant", build)
    runner = CliRunner()
    runner.built = built  # type: ignore[attr-defined]
    return runner


def _invoke(runner: CliRunner, *args: str) -> Any:
    from assistant.cli import app

    return runner.invoke(app, ["eval", *args])


def test_cli_gates_and_exit_codes(cli: CliRunner, tmp_path: Path, files: tuple[Path, Path]) -> None:
    corpus, questions = files
    out = str(tmp_path / "gate")
    floors = ["--fail-below", "retrieval.hit@5=0.7", "--fail-below", "answer.mc_accuracy=0.5"]
    ok = _invoke(cli, str(questions), "--corpus", str(corpus), "--out", out, *floors)
    assert ok.exit_code == 0, ok.output
    assert "retrieval.hit@5" in ok.output and "report.html" in ok.output
    collection = cli.built[0].collection  # type: ignore[attr-defined]
    assert collection == corpus_collection(corpus)
    report = json.loads((tmp_path / "gate" / "report.json").read_text())
    assert report["settings"]["collection"] == collection and report["ingest"]["new"] == 5

    low = _invoke(cli, str(questions), "--corpus", str(corpus), "--out", out,
                  "--fail-below", "retrieval.hit@1=0.9,answer.mc_accuracy=0.5")  # fmt: skip
    assert low.exit_code == 1
    assert "gate failed: retrieval.hit@1 = 0.7500 is below its floor 0.9" in low.output
    report = json.loads((tmp_path / "gate" / "report.json").read_text())
    assert report["ingest"]["unchanged"] == 5  # re-runs do not re-embed the corpus
    assert len(report["gates"]["failures"]) == 1

    # the answer / hedge / refuse figures are gates too: floors and ceilings (q5 is refused)
    calibrated = _invoke(cli, str(questions), "--corpus", str(corpus), "--out", out,
                         "--fail-below", "outcomes.answer_accuracy=0.9,outcomes.unanswerable.refused=1",
                         "--fail-above", "calibration.ece=0.5,outcomes.answerable.refused=0.25")  # fmt: skip
    assert calibrated.exit_code == 0, calibrated.output
    assert "Answer, hedge or refuse" in calibrated.output
    assert (
        "outcomes.answer_accuracy" in calibrated.output and "calibration.ece" in calibrated.output
    )
    over = _invoke(cli, str(questions), "--corpus", str(corpus), "--out", out,
                   "--fail-above", "outcomes.answerable.refused=0.1")  # fmt: skip
    assert over.exit_code == 1
    assert "gate failed: outcomes.answerable.refused = 0.2500 is above its ceiling 0.1" in (
        over.output
    )
    report = json.loads((tmp_path / "gate" / "report.json").read_text())
    assert report["options"]["fail_above"] == {"outcomes.answerable.refused": 0.1}
    assert len(report["gates"]["failures"]) == 1

    unknown = _invoke(cli, str(questions), "--out", out, "--fail-below", "retrieval.hit@3=0.5")
    assert unknown.exit_code == 2 and "unknown metric 'retrieval.hit@3'" in unknown.output
    unknown = _invoke(cli, str(questions), "--out", out, "--fail-above", "ece=0.1")
    assert unknown.exit_code == 2 and "--fail-above: unknown metric 'ece'" in unknown.output


def test_cli_refuses_an_empty_collection(
    cli: CliRunner, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    _, questions = files
    result = _invoke(cli, str(questions), "--out", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert "no articles indexed: run `assistant ingest seeds/` or pass --corpus" in result.output
    missing = _invoke(cli, str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "not found" in missing.output
