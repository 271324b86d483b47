"""Article ids never come from a bare file stem, and two inputs never replace each other silently."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from assistant.models import Article
from assistant.service import Assistant
from tests.conftest import SEED
from ui.upload import ingest_uploads

PAGE = """<!doctype html><html><head><title>{title}</title></head><body><main><article>
<h1>{title}</h1>
<p>{body} The council met on Tuesday evening and voted on the plan after a long debate.</p>
<p>Residents who spoke at the meeting said they wanted the work finished before winter.</p>
</article></main></body></html>
"""


def story(title: str, body: str) -> str:
    return f"{title}\n\n{body} The report was published by the city on Monday morning.\n"


def four_same_named_files(root: Path) -> None:
    for name, topic in (("a", "harbour dredging"), ("b", "library opening hours")):
        (root / name).mkdir(parents=True)
        title = f"City plans {topic}"
        (root / name / "index.html").write_text(
            PAGE.format(title=title, body=f"The city announced new {topic} rules."), "utf-8"
        )
        (root / name / "story.txt").write_text(
            story(f"Story about {topic}", f"A separate story on {topic} and its costs."), "utf-8"
        )


def texts(a: Assistant) -> dict[str, str]:
    """Article id -> the text of its chunks, as stored."""
    found: dict[str, str] = {}
    for _, docs, metas in a.store.iter_all():
        for doc, meta in zip(docs, metas, strict=True):
            found[meta["article_id"]] = found.get(meta["article_id"], "") + doc
    return found


def test_four_same_named_files_land_as_four_articles(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    four_same_named_files(tmp_path / "in")
    a = make_assistant()
    report = a.ingest([tmp_path / "in"])
    assert (report.new, report.failed) == (4, []), report
    assert a.stats().articles == 4
    assert set(texts(a)) == {"a/index.html", "a/story.txt", "b/index.html", "b/story.txt"}
    again = a.ingest([tmp_path / "in"])
    assert (again.new, again.unchanged, again.failed) == (0, 4, [])


def test_the_same_id_twice_in_one_batch_is_reported_not_overwritten(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    first = {
        "id": "x-1",
        "title": "First",
        "text": "The first article about the river ferry and its new timetable.",
    }
    second = {
        "id": "x-1",
        "title": "Second",
        "text": "A different article about a bus depot on the edge of town.",
    }
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", "utf-8")
    a = make_assistant()
    report = a.ingest([path])
    assert report.new == 1
    [failure] = report.failed
    assert (failure.path, failure.line) == (str(path), 2)
    assert "'x-1'" in failure.reason and f"{path}:1" in failure.reason
    assert "ferry" in texts(a)["x-1"]


def test_two_files_given_directly_with_one_name(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.txt").write_text(
            story(f"Story {folder}", f"Text number {folder} about the tram line."), "utf-8"
        )
    a = make_assistant()
    report = a.ingest([tmp_path / "a" / "story.txt", tmp_path / "b" / "story.txt"])
    assert report.new == 1 and [f.path for f in report.failed] == [str(tmp_path / "b/story.txt")]
    assert "number a" in texts(a)["story.txt"]


def test_another_file_claiming_a_stored_path_id_is_reported(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    for folder, word in (("x", "orchard"), ("y", "airport")):
        (tmp_path / folder / "a").mkdir(parents=True)
        (tmp_path / folder / "a" / "story.txt").write_text(
            story(f"The {word} story", f"A story about the {word}."), "utf-8"
        )
    a = make_assistant()
    assert a.ingest([tmp_path / "x"]).new == 1
    report = a.ingest([tmp_path / "y"])
    [failure] = report.failed
    assert failure.path == str(tmp_path / "y/a/story.txt")
    assert str(tmp_path / "x/a/story.txt") in failure.reason
    assert "orchard" in texts(a)["a/story.txt"]
    # the same file, changed, still updates its article
    (tmp_path / "x" / "a" / "story.txt").write_text(story("The orchard", "Now apples."), "utf-8")
    changed = a.ingest([tmp_path / "x"])
    assert (changed.updated, changed.failed) == (1, [])
    assert "apples" in texts(a)["a/story.txt"]


def test_a_moved_folder_still_updates_its_articles(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "story.txt").write_text(story("Canal", "The canal reopened."), "utf-8")
    a = make_assistant()
    assert a.ingest([tmp_path / "old"]).new == 1
    shutil.move(tmp_path / "old", tmp_path / "new")
    (tmp_path / "new" / "story.txt").write_text(story("Canal", "The canal closed again."), "utf-8")
    report = a.ingest([tmp_path / "new"])
    assert (report.updated, report.new, report.failed) == (1, 0, [])
    assert a.stats().articles == 1 and "closed again" in texts(a)["story.txt"]


def test_old_stem_ids_are_replaced_not_duplicated(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    """A store written by an older version holds the seed under its bare stem and no origin."""
    a = make_assistant()
    [seed] = [item for item in _load(SEED) if isinstance(item, Article)]
    legacy = seed.model_copy(update={"id": SEED.stem, "origin": None, "legacy_id": None})
    unrelated = Article(
        id="story",
        title="Other",
        text="An unrelated record about a bakery that opened on the square.",
    )
    assert a.ingest_articles([legacy, unrelated]).new == 2
    assert set(texts(a)) == {SEED.stem, "story"}

    report = a.ingest([SEED.parent])
    assert (report.new, report.updated, report.failed) == (0, 1, []), report
    assert set(texts(a)) == {SEED.name, "story"}
    assert a.search("Al-Shammari praised Iran", mode="lexical")[0].article_id == SEED.name
    again = a.ingest([SEED.parent])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)


def test_an_old_copy_left_by_a_crash_is_dropped_on_the_next_run(
    tmp_path: Path, make_assistant: Callable[..., Assistant]
) -> None:
    a = make_assistant()
    [seed] = [item for item in _load(SEED) if isinstance(item, Article)]
    a.ingest_articles([seed.model_copy(update={"id": SEED.stem, "origin": None})])
    a.ingest_articles([seed.model_copy(update={"legacy_id": None})])  # new copy, old not dropped
    assert set(texts(a)) == {SEED.stem, SEED.name}
    report = a.ingest([SEED])
    assert report.unchanged == 1 and set(texts(a)) == {SEED.name}


def test_uploads_with_one_name_are_two_articles(make_assistant: Callable[..., Assistant]) -> None:
    a = make_assistant()
    one = story("Bridge", "The bridge toll goes up in May.").encode()
    two = story("Ferry", "The ferry timetable changes in June.").encode()
    report = ingest_uploads(a, [("story.txt", one), ("story.txt", two)])
    assert (report.new, report.failed) == (2, [])
    later = ingest_uploads(a, [("story.txt", one), ("renamed.txt", two)])
    assert (later.new, later.unchanged) == (0, 2)
    assert all(aid.startswith("sha1:") for aid in texts(a))


def _load(path: Path) -> list[object]:
    from assistant.ingest import iter_articles

    return list(iter_articles([path]))


# --- maintained libraries in place of hand-written parsing ---------------------------------------


def test_non_latin_legacy_encodings_are_detected(tmp_path: Path) -> None:
    from assistant.ingest.decoding import decode_bytes

    russian = "Москва приняла новый бюджет\n\nДепутаты проголосовали вчера вечером за проект."
    japanese = "東京都は新しい予算を承認した。議会は昨日投票した。"
    assert decode_bytes(russian.encode("cp1251")) == (russian, None)
    assert decode_bytes(japanese.encode("shift_jis")) == (japanese, None)
    western = "Zürich stimmt ab\n\nDie Wähler in Zürich sagten ja."
    assert decode_bytes(western.encode("cp1252")) == (western, None)


def test_absolute_dates_by_dateutil_never_invent_a_day() -> None:
    import datetime as dt

    from assistant.ingest.metadata import parse_date

    assert parse_date("Tue, 21 Jun 2022 10:00:00 GMT") == dt.date(2022, 6, 21)
    assert parse_date("Mon Jun 20 2022 08:00:00 GMT+0000") == dt.date(2022, 6, 20)
    assert parse_date("17/06/2022") == dt.date(2022, 6, 17)
    assert parse_date("03/04/2022") is None  # day-first and month-first disagree
    assert parse_date("June 2022") is None and parse_date("2022") is None


def test_front_matter_is_yaml_and_a_sloppy_block_still_splits_off() -> None:
    import datetime as dt

    from assistant.ingest.metadata import parse_front_matter

    fields, rest = parse_front_matter("---\ndate: 2022-08-02\ntags: [a, b]\nCount: 3\n---\nBody")
    assert fields == {"date": dt.date(2022, 8, 2), "tags": ["a", "b"], "count": 3}
    assert rest == "Body"
    fields, rest = parse_front_matter("---\ntitle: Rail: line reopens\n---\nBody")
    assert fields == {"title": "Rail: line reopens"} and rest == "Body"
