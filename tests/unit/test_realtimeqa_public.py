"""The RealTimeQA public-repository converter: the held-out guard first, then the conversion."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from benchmarks import realtimeqa_public as rq

SENTINEL = "HELD-OUT-SENTINEL"


def _q(qid: str, day: str, text: str, evidence: str = "", answer: str = "1") -> dict[str, Any]:
    return {
        "question_id": qid,
        "question_date": day,
        "question_source": "CNN",
        "question_url": "https://edition.cnn.com/quiz",
        "question_sentence": text,
        "choices": ["Oslo", "Paris", "Rome", "Lima"],
        "answer": [answer],
        "evidence": evidence,
    }


def _result(url: str, text: str, title: str = "T") -> dict[str, Any]:
    return {
        "url": url,
        "title": title,
        "text": text,
        "authors": ["A"],
        "publish_date": "2022/08/18",
    }


def _write(root: Path, rel: str, rows: list[Any]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def _fake_repo(root: Path) -> None:
    link = '<a href="https://www.cnn.com/2022/08/18/a/index.html?utm_source=x">Paris</a> said'
    _write(
        root,
        "past/2022/20220819_qa.jsonl",
        [
            _q("20220819_0", "2022/08/18", "Which city?", evidence=link),
            "{not json",
            _q("20220819_1", "2022-08-19", "Which other city?"),
            _q("20220819_0", "2022/08/18", "Which city?", evidence=link),  # duplicate row
        ],
    )
    _write(
        root,
        "past/2022/20220819_gcs.jsonl",
        [
            {
                "question_id": "20220819_0",
                "search_time": "2022/08/19/10:00",
                "search_result": [
                    _result("https://edition.cnn.com/2022/08/18/a/index.html", "ad junk"),
                    _result("https://www.usatoday.com/b/", "Nothing here."),
                    {"url": "https://dead.example/x", "title": "dead"},
                ],
            },
            {
                "question_id": "20220819_1",
                "search_time": "2022/08/19/10:00",
                "search_result": [_result("https://www.cnn.com/2022/08/18/a", "In Paris today.")],
            },
        ],
    )
    gold = [_result("https://www.cnn.com/2022/08/18/a/index.html", "The summit is in Paris.")]
    _write(
        root,
        "past/2022/20220819_gold.jsonl",
        [{"question_id": "20220819_0", "search_result": gold}],
    )
    # the days just outside the held-out range pass
    _write(root, "past/2022/20220825_qa.jsonl", [_q("20220825_0", "2022/08/25", "Day before?")])
    _write(root, "past/2022/20221112_qa.jsonl", [_q("20221112_0", "2022/11/12", "Day after?")])
    # a later week whose file passes, but one question is itself dated inside the range
    _write(
        root,
        "past/2022/20221118_qa.jsonl",
        [
            _q("20221118_0", "2022/11/11", "Dated inside the range?"),
            _q("20221118_1", "2022/11/17", "Dated after the range?"),
        ],
    )
    # held out: both boundary days, a week inside, a range aggregate touching it
    # (dated after the range, so only the file-name guard keeps it out)
    sentinel_q = _q("20220826_0", "2022/11/18", SENTINEL)
    for rel in (
        "past/2022/20220826_qa.jsonl",
        "past/2022/20220826_gcs.jsonl",
        "past/2022/20220826_gold.jsonl",
        "past/2022/20221014_qa.jsonl",
        "past/2022/20221111_qa.jsonl",
        "past/2022/20220617-20220826_qa.jsonl",
    ):
        _write(root, rel, [sentinel_q])
    _write(root, "past/2022/pm_qa.jsonl", [_q("pm_0", "2022/06/01", SENTINEL)])  # undated
    _write(root, "baseline_results/2022/20220826_qa_closed_gpt3.jsonl", [SENTINEL])


def _dev(root: Path) -> Path:
    dev = root / "dev"
    _write(dev, "questions.jsonl", [{"id": "20220819_0", "question": "q", "date": "2022-08-18"}])
    _write(dev, "articles.jsonl", [{"id": "https://www.usatoday.com/b", "title": "", "text": "x"}])
    return dev


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("day", "held"),
    [
        (dt.date(2022, 8, 26), True),  # first day of the range
        (dt.date(2022, 11, 11), True),  # last day of the range
        (dt.date(2022, 10, 1), True),
        (dt.date(2022, 8, 25), False),  # the day before
        (dt.date(2022, 11, 12), False),  # the day after
    ],
)
def test_held_out_range_includes_both_boundary_days(day: dt.date, held: bool) -> None:
    assert (dt.date(2022, 8, 26), dt.date(2022, 11, 11)) == rq.HELD_OUT
    assert rq.is_held_out(day) is held
    assert rq.file_held_out(f"past/2022/{day:%Y%m%d}_qa.jsonl") is held


@pytest.mark.parametrize(
    ("name", "held"),
    [
        ("past/2022/20220826_gcs.jsonl", True),
        ("past/2022/20221111_gold.jsonl", True),
        ("past/2022/20220617-20220826_qa.jsonl", True),  # an aggregate touching the range
        ("past/2022/20220617-20221014_qa_nota.jsonl", True),
        ("past/2022/20220617-20220722_qa.jsonl", False),
        ("past/2022/20220624-time_qa.jsonl", False),
        ("past/2022/20221118_qa.jsonl", False),
        ("past/2022/pm_qa.jsonl", None),  # no date: neither held out nor readable
        ("past/2022/20221345_qa.jsonl", None),
    ],
)
def test_file_dates_come_from_the_name(name: str, held: bool | None) -> None:
    assert rq.file_held_out(name) is held


def test_reading_a_held_out_or_undated_file_is_refused_before_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_repo(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(builtins, "open", lambda *a, **k: opened.append(str(a[0])))
    repo = rq.Repo(tmp_path)
    for rel in ("past/2022/20220826_qa.jsonl", "past/2022/pm_qa.jsonl"):
        with pytest.raises(rq.HeldOutError):
            repo.lines(rel)
    assert opened == [] and repo.opened == []


def test_conversion_never_opens_held_out_files_and_never_emits_their_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "repo", tmp_path / "out"
    _fake_repo(src)
    dev = _dev(tmp_path)
    real_open = builtins.open
    opened: list[str] = []

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        assert not any(s in str(file) for s in ("20220826", "20221014", "20221111", "pm_qa"))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    manifest = rq.run(src, out, None, False, dev)
    monkeypatch.setattr(builtins, "open", real_open)
    printed = capsys.readouterr()

    assert any("20220819_qa.jsonl" in p for p in opened)
    for text in (out / "articles-2022.jsonl", out / "questions-2022.jsonl"):
        assert SENTINEL not in text.read_text()
    questions = {q["question"]: q for q in _read(out / "questions-2022.jsonl")}
    assert set(questions) == {
        "Which city?",
        "Which other city?",
        "Day before?",
        "Day after?",
        "Dated after the range?",
    }
    counts = manifest["years"]["2022"]
    assert counts["weeks_held_out"] == 3  # 2022-08-26, 2022-10-14, 2022-11-11
    assert counts["questions_dropped_held_out_date"] == 1
    assert counts["bad_lines"] == 1 and counts["duplicate_questions"] == 1
    assert "past/2022/pm_qa.jsonl" in printed.out and "no date" in printed.out
    assert "20220819_qa.jsonl:2" in printed.err  # the bad line, named once
    assert "past/2022/20220617-20220826_qa.jsonl" in manifest["held_out"]["files_not_read"]
    assert (
        manifest["held_out"]["from"] == "2022-08-26" and manifest["held_out"]["to"] == "2022-11-11"
    )


def test_articles_are_deduplicated_and_evidence_resolves_like_realtimeqa_dev(
    tmp_path: Path,
) -> None:
    src, out = tmp_path / "repo", tmp_path / "out"
    _fake_repo(src)
    rq.run(src, out, {2022}, False, _dev(tmp_path))
    articles = {a["id"]: a for a in _read(out / "articles-2022.jsonl")}
    page = "https://cnn.com/2022/08/18/a"  # www/edition/index.html/utm variants: one article
    assert set(articles) == {page, "https://usatoday.com/b"}
    assert articles[page]["text"] == "The summit is in Paris."  # the gold text wins
    assert articles[page]["source"] == "edition.cnn.com"
    assert articles[page]["published"] == "2022-08-18" and articles[page]["title"] == "T"
    assert articles["https://usatoday.com/b"]["in_dev"] is True
    questions = {q["id"]: q for q in _read(out / "questions-2022.jsonl")}
    first = questions["20220819_0"]
    assert first["answer"] == ["Paris"] and first["date"] == "2022-08-18"
    assert first["evidence"] == [page] and first["evidence_text"] == "Paris said"
    assert first["results"] == [page, "https://usatoday.com/b"]
    assert first["answer_in_results"] == [page]
    assert first["in_dev"] is True and questions["20220819_1"]["in_dev"] is False
    assert questions["20220819_1"]["results"] == [page]


def test_years_are_resumable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "repo", tmp_path / "out"
    _fake_repo(src)
    rq.run(src, out, None, False, None)
    (out / "questions-2022.jsonl").write_text("")
    rq.run(src, out, None, False, None)
    assert "2022: output exists, skipped" in capsys.readouterr().out
    assert (out / "questions-2022.jsonl").read_text() == ""
    rq.run(src, out, None, True, None)
    assert len(_read(out / "questions-2022.jsonl")) == 5


def test_a_bare_git_dir_is_read_at_head_without_touching_held_out_blobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    _fake_repo(work)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(work)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "fake"], check=True)
    real_popen = subprocess.Popen
    asked: list[str] = []

    def popen(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        if "cat-file" in cmd:  # reading a blob (subprocess.run also comes through here)
            asked.append(cmd[-1])
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    manifest = rq.run(work / ".git", tmp_path / "out", None, False, None)
    assert rq.Repo(work / ".git").bare
    assert "HEAD:past/2022/20220819_qa.jsonl" in asked
    assert not [
        a for a in asked if any(s in a for s in ("20220826", "20221014", "20221111", "pm_"))
    ]
    assert len(manifest["source"]["commit"]) == 40
    assert SENTINEL not in (tmp_path / "out" / "questions-2022.jsonl").read_text()


def test_pages_published_inside_the_held_out_weeks_are_never_written(tmp_path: Path) -> None:
    """A later week's search may return a page published in the held-out weeks (perhaps a
    held-out question's evidence): it is dropped, whichever week's file brought it."""
    src, out = tmp_path / "repo", tmp_path / "out"
    _fake_repo(src)
    inside = {**_result("https://news.example/held", "Published inside " + SENTINEL)}
    inside["publish_date"] = "2022/09/15"
    edge = {**_result("https://news.example/edge", "Published the day after.")}
    edge["publish_date"] = "2022/11/12"
    _write(
        src,
        "past/2022/20221118_gcs.jsonl",
        [
            {
                "question_id": "20221118_1",
                "search_time": "2022/11/18",
                "search_result": [inside, edge],
            }
        ],
    )
    manifest = rq.run(src, out, {2022}, False, _dev(tmp_path))
    text = (out / "articles-2022.jsonl").read_text()
    assert SENTINEL not in text and "https://news.example/edge" in text
    assert manifest["years"]["2022"]["articles_published_in_held_out_dropped"] == 1
    later = {q["id"]: q for q in _read(out / "questions-2022.jsonl")}["20221118_1"]
    assert later["results"] == ["https://news.example/edge"]
