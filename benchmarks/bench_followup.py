"""Follow-up questions: the same question asked in full and as a follow-up that refers back.

    python -m benchmarks.bench_followup --squad ../shared/data/squad2-dev --store /tmp/sq-store

The conversation set is built from SQuAD 2.0 dev and RealTimeQA dev (answerable questions with a
gold article and a capitalised name): the conversation opens on the name ("What is the latest on
NAME?" — or, when another question about the same passage also names it, that question), and the
follow-up is the question with the name replaced by a pronoun ("it"; "they" for a multi-word name;
"he" or "she" is not guessed). The first turn is asked, its answer becomes the conversation's
history, then the follow-up is asked (RealTimeQA as of its date). Reported: Hit@5 of the gold passage and
"accepted answer contained" for the follow-up against the same question asked in full, on all
pairs and on the report half (crc32 of the second question's id odd; nothing here is fitted).
Writes benchmarks/results/followup.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import zlib
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_result

_NAME = re.compile(r"(?<=\w )(?:[A-Z][\w'’\-]+)(?:\s+(?:of\s+)?[A-Z][\w'’\-]+)*")


def pairs(questions: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    usable = [
        q for q in questions
        if q.get("answerable", True) and q.get("evidence") and q.get("answer")
    ]  # fmt: skip
    by_article: dict[str, list[dict[str, Any]]] = {}
    for q in usable:
        by_article.setdefault(q["evidence"][0], []).append(q)
    out = []
    for q in usable:
        names = _NAME.findall(q["question"])
        if not names:
            continue
        name = max(names, key=len)
        opener = next(
            (o["question"] for o in by_article[q["evidence"][0]]
             if o is not q and name in o["question"]),
            f"What is the latest on {name}?",
        )  # fmt: skip
        pronoun = "they" if " " in name else "it"
        follow = q["question"].replace(name, pronoun, 1)
        out.append({"first": opener, "second": q, "follow_up": follow, "name": name})
    out.sort(key=lambda p: p["second"]["id"])
    return out[:limit]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--squad", type=Path, required=True, help="Folder with squad2-dev")
    ap.add_argument("--store", type=Path, required=True, help="Store with the squad2 corpus")
    ap.add_argument("--realtimeqa", type=Path, help="Folder with realtimeqa-dev (optional)")
    ap.add_argument("--rt-store", type=Path, help="Store with the RealTimeQA corpus")
    ap.add_argument("--limit", type=int, default=200)
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.evaluation.metrics import contained, dedupe_articles, hit_at_k
    from assistant.evaluation.runner import scoring_text
    from assistant.models import Turn
    from assistant.service import Assistant

    sets = [("squad2", args.squad, args.store)]
    if args.realtimeqa and args.rt_store:
        sets.append(("realtimeqa", args.realtimeqa, args.rt_store))
    rows = []
    for name, folder, store in sets:
        assistant = Assistant(Settings(store_dir=store, _env_file=None), chat_model=None)
        questions = [json.loads(x) for x in (folder / "questions.jsonl").open() if x.strip()]
        for p in pairs(questions, args.limit):
            day = dt.date.fromisoformat(p["second"]["date"]) if p["second"].get("date") else None
            first = assistant.ask(p["first"], as_of=day)
            short = first.short_answer.text if first.short_answer else ""
            history = [Turn(question=p["first"], answer=first.answer,
                            standalone=first.standalone_question, short_answer=short)]  # fmt: skip
            gold, answers = p["second"]["evidence"], p["second"]["answer"]
            row = {"set": name, "id": p["second"]["id"], "date": p["second"].get("date"),
                   "follow_up": p["follow_up"]}  # fmt: skip
            for kind, question, hist in (
                ("full", p["second"]["question"], []),
                ("follow_up", p["follow_up"], history),
            ):
                answer = assistant.ask(question, history=hist, as_of=day)
                shown = sorted(answer.passages, key=lambda x: x.rank or x.n)
                ranked = dedupe_articles(x.article_id for x in shown)
                row[f"{kind}_hit@5"] = hit_at_k(ranked, gold, 5)
                text = scoring_text(answer.answer)
                row[f"{kind}_contained"] = 0.0 if answer.refused else contained(text, answers)
                row[f"{kind}_standalone"] = answer.standalone_question
            rows.append(row)
    summary = []
    groups = []
    for name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == name]
        if name == "realtimeqa":
            groups.append(
                (
                    f"{name} report (> 2022-07-15)",
                    [r for r in mine if (r["date"] or "") > "2022-07-15"],
                )
            )
        else:
            groups.append((f"{name} all", mine))
            groups.append((f"{name} report (crc32 odd)",
                           [r for r in mine if zlib.crc32(r["id"].encode()) % 2 == 1]))  # fmt: skip
    for half, sel in groups:
        n = len(sel) or 1
        line: dict[str, Any] = {"half": half, "pairs": len(sel)}
        for key in ("full_hit@5", "follow_up_hit@5", "full_contained", "follow_up_contained"):
            line[key] = round(sum(r[key] for r in sel) / n, 3)
        line["hit@5 delta"] = round(line["follow_up_hit@5"] - line["full_hit@5"], 3)
        line["contained delta"] = round(line["follow_up_contained"] - line["full_contained"], 3)
        summary.append(line)
    print(table(summary, list(summary[0])))
    path = write_result("followup", {"summary": summary, "examples": rows[:20]})
    print(f"written {path}")


if __name__ == "__main__":
    main()
