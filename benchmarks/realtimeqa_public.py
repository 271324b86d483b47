"""Convert RealTimeQA's public repository into the corpus and question-set JSONL of DESIGN.md.

    python -m benchmarks.realtimeqa_public --repo /work/.mirror/realtimeqa+realtimeqa_public/repo \\
        --out /work/bench/rtqa-public [--years 2022,2023] [--force]

``--repo`` is a bare git dir (read at HEAD with ``git cat-file``) or a checkout. Read: the weekly
``past/<year>/<YYYYMMDD>_qa.jsonl`` question sets, their ``_gcs.jsonl`` search results (full
texts) and ``_gold.jsonl`` linked evidence pages, and ``backnumber/<year>/<YYYYMMDD>_qa.jsonl``
(2020 to June 2022, questions only). Not read: ``_qa_nota``, ``_dpr``, per-outlet and range
aggregates, ``latest/`` (no answers yet), ``baseline_results/``.

HELD OUT: every file dated inside :data:`HELD_OUT` is rejected from its name, before it is opened
(``Repo.lines`` checks again), and any question whose own date is inside it is dropped too.

Per year: ``articles-<year>.jsonl`` (id = ``https://`` + the page's same-page key, so www/edition/
index.html/tracking variants of one page share one id; the search result's url, title, text cut at
100,000 characters, published, source = URL host, authors, in_dev) and ``questions-<year>.jsonl``
(id, question, date, choices, answer, evidence, source as in realtimeqa-dev, plus week, in_dev,
url, evidence_text, results = the question's search-result ids in rank order, answer_in_results =
those whose text contains the answer). ``evidence`` is, as in realtimeqa-dev, the pages linked
from the quiz's evidence note that the year's corpus holds. Gold texts win over search-result
texts of the same page. A year whose files exist is skipped unless ``--force``; bad lines are
reported and skipped. Counts go to stdout and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.common import table
from benchmarks.realtimeqa_rows import (
    DEV,
    Dev,
    _date,
    _norm,
    article_record,
    page_key,
    parse_question,
)

HELD_OUT: Final[tuple[dt.date, dt.date]] = (dt.date(2022, 8, 26), dt.date(2022, 11, 11))
ROOTS: Final = ("past/", "backnumber/", "latest/")
_NAME_DATES = re.compile(r"(\d{8})(?:-(\d{8}))?(?!\d)")
_ID = re.compile(r'\{"id": "((?:[^"\\]|\\.)*)"')
_WEEKLY = re.compile(r"(?:past|backnumber)/\d{4}/(\d{8})_(qa|gcs|gold)\.jsonl")


class HeldOutError(RuntimeError):
    """A held-out file was about to be read."""


def is_held_out(day: dt.date) -> bool:
    return HELD_OUT[0] <= day <= HELD_OUT[1]


def file_dates(path: str) -> tuple[dt.date, dt.date] | None:
    """The dates a file covers, from its name (``YYYYMMDD...`` or ``YYYYMMDD-YYYYMMDD...``)."""
    m = _NAME_DATES.match(path.rsplit("/", 1)[-1])
    if not m:
        return None
    try:
        first = dt.datetime.strptime(m.group(1), "%Y%m%d").date()
        last = dt.datetime.strptime(m.group(2), "%Y%m%d").date() if m.group(2) else first
    except ValueError:
        return None
    return (first, last) if first <= last else (last, first)


def file_held_out(path: str) -> bool | None:
    """True if the file's dates touch HELD_OUT, None if its name gives no date."""
    dates = file_dates(path)
    return None if dates is None else dates[0] <= HELD_OUT[1] and dates[1] >= HELD_OUT[0]


class Repo:
    """The repository's files: a bare git dir (read at HEAD) or a directory tree."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
        self.opened: list[str] = []  # every file whose content was read, in order

    def _git(self, *args: str) -> list[str]:
        flag = "--git-dir" if self.bare else "-C"
        cmd = ["git", flag, str(self.path), *args]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return out.stdout.split("\0" if "-z" in args else "\n") if out.returncode == 0 else []

    def commit(self) -> str:
        return next(iter(self._git("rev-parse", "HEAD")), "").strip()

    def paths(self) -> list[str]:
        if self.bare:
            names = self._git("ls-tree", "-r", "-z", "--name-only", "HEAD")
        else:
            names = [
                Path(d, f).relative_to(self.path).as_posix()
                for d, _, files in os.walk(self.path)
                if ".git" not in Path(d).relative_to(self.path).parts
                for f in files
            ]
        return sorted(n for n in names if n.startswith(ROOTS) and n.endswith(".jsonl"))

    def lines(self, path: str) -> Iterator[str]:
        """The file's lines; raises HeldOutError at once (nothing opened) if it is held out."""
        if file_held_out(path) is not False:  # the second lock: held out or undated
            msg = f"refusing to read {path}: held out or undated"
            raise HeldOutError(msg)
        self.opened.append(path)
        return self._read(path)

    def _read(self, path: str) -> Iterator[str]:
        if not self.bare:
            with open(self.path / path, encoding="utf-8", errors="replace") as fh:
                yield from fh
            return
        cmd = ["git", "--git-dir", str(self.path), "cat-file", "blob", f"HEAD:{path}"]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            yield from io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="replace")


@dataclass
class Plan:
    """Which files to read, by year and week, and which were skipped and why."""

    weeks: dict[int, dict[dt.date, dict[str, str]]] = field(default_factory=dict)
    held_out: dict[int, set[dt.date]] = field(default_factory=lambda: defaultdict(set))
    held_out_files: list[str] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


def plan(paths: list[str]) -> Plan:
    """Sort file names into weeks; nothing is opened here."""
    p = Plan()
    for path in paths:
        held = file_held_out(path)
        if held is None:
            p.undated.append(path)
            continue
        dates = file_dates(path)
        assert dates is not None
        if held:
            p.held_out_files.append(path)
            m = _WEEKLY.fullmatch(path)
            if m and m.group(2) == "qa":
                p.held_out[dates[0].year].add(dates[0])
            continue
        m = _WEEKLY.fullmatch(path)
        if not m:
            p.unused.append(path)
            continue
        week = p.weeks.setdefault(dates[0].year, {}).setdefault(dates[0], {})
        week[m.group(2)] = path
    return p


def _rows(repo: Repo, path: str, counts: dict[str, Any]) -> Iterator[Any]:
    for n, line in enumerate(repo.lines(path), 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            counts["bad_lines"] += 1
            print(f"  bad line {path}:{n}: {exc.msg} (skipped)", file=sys.stderr)


def convert_year(
    repo: Repo, year: int, weeks: dict[dt.date, dict[str, str]], out: Path, dev: Dev
) -> dict[str, Any]:
    """Read a year's weeks and write its two files (atomically); returns the year's counts."""
    c: dict[str, Any] = defaultdict(int)
    seen: dict[str, str] = {}  # page key -> article id written
    hashes: set[str] = set()
    questions: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    art_tmp = out / f".articles-{year}.jsonl.tmp"
    with open(art_tmp, "w", encoding="utf-8") as arts:

        def add(rec: dict[str, Any]) -> str:
            key = page_key(rec["url"])
            if is_held_out(_date(rec.get("published")) or dt.date.min):
                # a page published inside the held-out weeks may be a held-out question's
                # evidence: it is never written, whichever week's search returned it
                c["articles_published_in_held_out_dropped"] += 1
                return ""
            if key in seen:
                c["repeat_results"] += 1
                return seen[key]
            seen[key] = rec["id"]
            rec["in_dev"] = key in dev.keys
            digest = hashlib.sha1(rec["text"].encode()).hexdigest()
            c["same_text_other_url"] += digest in hashes
            hashes.add(digest)
            c["articles"] += 1
            c["articles_in_dev"] += rec["in_dev"]
            c["articles_truncated"] += bool(rec.get("truncated"))
            arts.write(json.dumps(rec, ensure_ascii=False) + "\n")
            return rec["id"]

        for week, files in sorted(weeks.items()):
            if "qa" not in files:
                c["weeks_without_questions"] += 1
                print(f"  {week}: {', '.join(sorted(files.values()))} without a _qa file (skipped)")
                continue
            c["weeks_read"] += 1
            local: dict[str, dict[str, Any]] = {}
            for n, row in enumerate(_rows(repo, files["qa"], c)):
                try:
                    q = parse_question(row, week)
                except (ValueError, SyntaxError) as exc:
                    c["bad_questions"] += 1
                    print(f"  bad question {files['qa']}:{n + 1}: {exc} (skipped)", file=sys.stderr)
                    continue
                if is_held_out(dt.date.fromisoformat(q["date"])):
                    c["questions_dropped_held_out_date"] += 1
                    continue
                qid = q["id"]
                if qid in local and local[qid]["question"] == q["question"]:
                    c["duplicate_questions"] += 1  # the same row twice in one file
                    continue
                if not qid.startswith(f"{week:%Y%m%d}_") or qid in used_ids or qid in local:
                    q["source_id"], q["id"] = qid, f"{week:%Y%m%d}_{n}"  # n: row in the file
                    c["questions_renamed"] += 1
                local.setdefault(qid, q)  # search results are matched by the file's own id
                used_ids.add(q["id"])
                q["in_dev"] = q["id"] in dev.ids or q["date"] in dev.dates
                q["results"], q["answer_in_results"] = [], []
                questions.append(q)
            gold: dict[str, dict[str, Any]] = {}  # page key -> linked evidence page (gold file)
            if "gold" in files:
                for row in _rows(repo, files["gold"], c):
                    if not isinstance(row, dict) or str(row.get("question_id")) not in local:
                        continue
                    for item in row.get("search_result") or []:
                        if isinstance(item, dict) and item.get("text") and item.get("url"):
                            gold.setdefault(page_key(str(item["url"])), item)
            if "gcs" in files:
                c["weeks_with_results"] += 1
                for row in _rows(repo, files["gcs"], c):
                    qid = str(row.get("question_id")) if isinstance(row, dict) else ""
                    asked = local.get(qid)
                    if asked is None or asked["results"]:
                        c["result_rows_unmatched"] += 1
                        continue
                    answers = [f" {a} " for a in (_norm(x) for x in asked["answer"]) if a]
                    for item in row.get("search_result") or []:
                        c["result_entries"] += 1
                        if not isinstance(item, dict) or not item.get("url"):
                            continue
                        best = gold.pop(page_key(str(item["url"])), None) or {}
                        fields = ("text", "authors", "publish_date")  # the gold page's, if any
                        rec = article_record(
                            {**item, **{k: best[k] for k in fields if best.get(k)}}
                        )
                        if rec is None:
                            c["results_without_text"] += 1
                            continue
                        c["results_with_text"] += 1
                        aid = add(rec)
                        if aid and aid not in asked["results"]:
                            asked["results"].append(aid)
                            if any(a in f" {_norm(rec['text'])} " for a in answers):
                                asked["answer_in_results"].append(aid)
            for item in gold.values():  # linked evidence pages no search returned
                if rec := article_record(item, title=""):
                    c["gold_only_articles"] += 1
                    add(rec)
    with open(out / f".questions-{year}.jsonl.tmp", "w", encoding="utf-8") as qs:
        for q in questions:
            keys = [page_key(h) for h in q["evidence"]]
            q["evidence"] = list(dict.fromkeys(seen[k] for k in keys if k in seen))
            c["questions"] += 1
            c["questions_in_dev"] += q["in_dev"]
            c["questions_with_evidence"] += bool(q["evidence"])
            c["questions_with_results"] += bool(q["results"])
            c["questions_answer_in_results"] += bool(q["answer_in_results"])
            qs.write(json.dumps(q, ensure_ascii=False) + "\n")
    os.replace(art_tmp, out / f"articles-{year}.jsonl")
    os.replace(out / f".questions-{year}.jsonl.tmp", out / f"questions-{year}.jsonl")
    c["dedup_ratio"] = (
        round(c["articles"] / c["results_with_text"], 3) if c["results_with_text"] else None
    )
    return dict(c)


def run(
    repo_path: Path, out: Path, years: set[int] | None, force: bool, dev_dir: Path | None
) -> dict[str, Any]:
    repo = Repo(repo_path)
    p = plan(repo.paths())
    out.mkdir(parents=True, exist_ok=True)
    for path in p.undated:
        print(f"skipped (no date in the file name, not read): {path}")
    for day in sorted({d for s in p.held_out.values() for d in s}):
        print(f"held out (not read): week {day}")
    print(
        f"held-out files not read: {len(p.held_out_files)}; other files not used "
        f"(nota, dpr, aggregates, latest): {len(p.unused)}"
    )
    dev = Dev.load(dev_dir)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    done: dict[str, Any] = manifest.get("years", {})
    for year in sorted(set(p.weeks) | set(p.held_out)):
        if years and year not in years:
            continue
        if not force and all(
            (out / f"{k}-{year}.jsonl").is_file() for k in ("articles", "questions")
        ):
            print(f"{year}: output exists, skipped (--force to redo)")
            continue
        t0 = time.perf_counter()
        counts = convert_year(repo, year, p.weeks.get(year, {}), out, dev)
        counts["weeks_held_out"] = len(p.held_out.get(year, ()))
        counts["seconds"] = round(time.perf_counter() - t0, 1)
        done[str(year)] = counts
        manifest_path.write_text(json.dumps({**manifest, "years": done}, indent=2) + "\n")
    _cross_year(out, done)
    dev_weeks = sorted(
        {w for y in p.weeks.values() for w in y if f"{w:%Y%m%d}" in {i[:8] for i in dev.ids}}
    )
    manifest.update(
        source={
            "repo": "realtimeqa/realtimeqa_public",
            "path": str(repo_path),
            "commit": repo.commit(),
        },
        held_out={
            "from": HELD_OUT[0].isoformat(),
            "to": HELD_OUT[1].isoformat(),
            "rule": "files dated in the range are never opened; questions dated in it are dropped",
            "files_not_read": p.held_out_files,
        },
        dev={
            "path": str(dev_dir),
            "overlap_weeks": [w.isoformat() for w in dev_weeks],
            "marked_by": "in_dev on questions (dev id or date) and articles (dev page key)",
        },
        skipped={"undated": p.undated, "unused": p.unused},
        files_read_this_run=repo.opened,
        generated=time.strftime("%Y-%m-%dT%H:%M:%S"),
        years=dict(sorted(done.items())),
    )
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _cross_year(out: Path, done: dict[str, Any]) -> None:
    """Count, per year, the articles whose id is also in another year's file."""
    ids: dict[str, set[str]] = {}
    for year in done:
        path = out / f"articles-{year}.jsonl"
        if path.is_file():
            with open(path, encoding="utf-8") as fh:
                ids[year] = {m.group(1) for line in fh if (m := _ID.match(line))}
    for year, own in ids.items():
        others = set().union(*(v for y, v in ids.items() if y != year))
        done[year]["articles_also_in_other_years"] = len(own & others)


COLUMNS = [
    "year",
    "weeks_read",
    "weeks_held_out",
    "questions",
    "questions_in_dev",
    "result_entries",
    "results_with_text",
    "articles",
    "dedup_ratio",
    "questions_with_evidence",
    "bad_lines",
]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repo", type=Path, required=True, help="bare git dir or checkout")
    ap.add_argument("--out", type=Path, default=Path("/work/bench/rtqa-public"))
    ap.add_argument("--years", default="", help="comma-separated years (default: all)")
    ap.add_argument("--dev", type=Path, default=DEV, help="realtimeqa-dev folder (overlap marking)")
    ap.add_argument("--force", action="store_true", help="redo years whose output exists")
    args = ap.parse_args()
    years = {int(y) for y in args.years.split(",") if y.strip()} or None
    manifest = run(args.repo, args.out, years, args.force, args.dev)
    rows = [{"year": y, **c} for y, c in manifest["years"].items()]
    print(table(rows, COLUMNS))
    print(f"dev overlap weeks: {', '.join(manifest['dev']['overlap_weeks']) or 'none'}")


if __name__ == "__main__":
    main()
