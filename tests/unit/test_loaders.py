"""Loaders: every supported format turns into the right Article fields, offline and fast."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assistant.ingest import iter_articles
from assistant.ingest.metadata import (
    clean_text,
    find_date,
    parse_date,
    parse_dateline,
    parse_front_matter,
    split_authors,
)
from assistant.ingest.records import record_to_article
from assistant.models import Article, Failure

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_f827c2b710232763.txt"
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"


def load(*paths: Path | str) -> list[Article | Failure]:
    return list(iter_articles(list(paths)))


def articles(*paths: Path | str) -> list[Article]:
    items = load(*paths)
    failures = [item for item in items if isinstance(item, Failure)]
    assert not failures, [str(f) for f in failures]
    return [item for item in items if isinstance(item, Article)]


# --- plain text ---------------------------------------------------------------------------------


def test_seed_article_fields() -> None:
    [article] = articles(SEED)
    assert article.id == "000_f827c2b710232763.txt"  # the name: the file was given directly
    assert (article.id_from, article.legacy_id) == ("path", "000_f827c2b710232763")
    assert article.title == "Iran Urges Closer Military Ties with Iraq"
    assert article.source == "Tasnim"
    assert article.place == "TEHRAN"
    assert article.text.startswith("TEHRAN (Tasnim) – Defense Minister of Iran")
    assert article.origin == str(SEED)
    paragraph = (
        "For his part, Al-Shammari praised Iran for supporting Iraq in the fight against terrorist "
        "groups, saying the two neighboring states share a lot of interests and their security and "
        "stability are interrelated."
    )
    assert f"\n\n{paragraph}\n\n" in article.text


def test_seed_body_is_the_file_after_the_headline() -> None:
    [article] = articles(SEED)
    raw = SEED.read_text(encoding="utf-8").replace("\r\n", "\n")
    body = raw.split("\n", 1)[1].strip()
    assert article.text == body


def test_txt_header_lines_and_reuters_dateline(tmp_path: Path) -> None:
    path = tmp_path / "oil.txt"
    path.write_text(
        "Oil prices climb as supply fears grow\r\n"
        "Published: 2022-06-03 14:05 GMT\r\n"
        "By Jane Miller and Omar Said\r\n"
        "\r\n"
        "LONDON, June 3 (Reuters) - Oil prices rose on Friday as investors worried about tight "
        "supplies.   \r\n"
        "\r\n\r\n\r\n\r\n"
        "Brent crude was up 1.2 percent at $118.10 a barrel.\r\n",
        encoding="utf-8",
    )
    [article] = articles(path)
    assert article.title == "Oil prices climb as supply fears grow"
    assert article.published == dt.date(2022, 6, 3)
    assert article.authors == ["Jane Miller", "Omar Said"]
    assert (article.place, article.source) == ("LONDON", "Reuters")
    assert article.text == (
        "LONDON, June 3 (Reuters) - Oil prices rose on Friday as investors worried about tight "
        "supplies.\n\nBrent crude was up 1.2 percent at $118.10 a barrel."
    )


def test_txt_written_out_date_in_header_line(tmp_path: Path) -> None:
    path = tmp_path / "ap.txt"
    path.write_text(
        "Senate passes budget bill\n17 June 2022\n\n"
        "WASHINGTON (AP) — The Senate passed the budget bill late on Thursday night.\n",
        encoding="utf-8",
    )
    [article] = articles(path)
    assert article.published == dt.date(2022, 6, 17)
    assert (article.place, article.source) == ("WASHINGTON", "AP")
    assert article.text.startswith("WASHINGTON (AP) — The Senate")


def test_markdown_front_matter(tmp_path: Path) -> None:
    [article] = articles(FIXTURES / "briefing.md")
    assert article.id == article.url  # front matter url, not the file name
    assert article.title == "Rail line to reopen after landslide"
    assert article.published == dt.date(2022, 8, 2)
    assert article.source == "Valley Courier"
    assert article.url == "https://valleycourier.example/2022/08/02/rail-line"
    assert article.authors == ["Ruth Ellis", "Omar Haddad"]
    assert article.metadata == {"section": "Transport"}
    assert article.text.startswith("The valley rail line will reopen on Monday")
    assert "#" not in article.text and "---" not in article.text


def test_markdown_heading_without_front_matter_and_explicit_id(tmp_path: Path) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("## Floods close the ring road ##\n\nThe ring road was closed.\n", "utf-8")
    with_id = tmp_path / "with_id.md"
    with_id.write_text("---\nid: story-42\n---\nHeadline here\n\nBody text here.\n", "utf-8")
    first, second = articles(plain, with_id)
    assert (first.title, first.text) == ("Floods close the ring road", "The ring road was closed.")
    assert (second.id, second.title, second.text) == (
        "story-42",
        "Headline here",
        "Body text here.",
    )


# --- HTML ---------------------------------------------------------------------------------------


def test_html_news_page_main_text_without_boilerplate() -> None:
    [article] = articles(FIXTURES / "news_page.html")
    assert article.title == "Harbour city braces for second storm in a week"
    assert article.published == dt.date(2022, 6, 17)
    assert article.source == "The Coastal Herald"
    assert article.url == (
        "https://www.coastalherald.example/news/2022/06/17/harbour-city-second-storm"
    )
    assert article.authors == ["Maria Delgado"]
    assert article.place == "PORT AVERY"
    assert article.text.startswith("PORT AVERY (Coastal Herald) – Emergency crews worked")
    for sentence in (
        "About 14,000 households lost power at the peak of the storm",
        '"We expect nearly every customer to be reconnected by Saturday evening," said Tomas Berg',
        "Residents of the old town were advised to move valuables to upper floors.",
        "Mayor Helen Okafor said the city would open two emergency shelters",
    ):
        assert sentence in article.text
    for boilerplate in (
        "cookies",
        "Advertisement",
        "Holiday deals",
        "home insurance",
        "Subscribe today",
        "Politics",
        "Related stories",
        "Sign up",
        "All rights reserved",
        "Privacy policy",
        "gtag",
    ):
        assert boilerplate not in article.text
    assert "\n\n" in article.text  # paragraphs stay paragraphs


# --- feeds --------------------------------------------------------------------------------------


def test_rss_feed_entries() -> None:
    grain, turnout = articles(FIXTURES / "world_news.rss")
    assert grain.id == grain.url == "https://northwind.example/world/2022/06/17/grain-ships"
    assert grain.title == "Grain ships leave port after talks"
    assert grain.published == dt.date(2022, 6, 17)
    assert grain.source == "Northwind Daily – World"
    assert grain.authors == ["Ana Petrova"]
    assert grain.text == (
        "Three cargo ships loaded with grain left the port of Odessa on Friday after weeks of "
        "talks.\n\nOfficials said more departures were planned next week."
    )
    assert turnout.published == dt.date(2022, 6, 16)
    assert "Queues formed outside polling stations" in turnout.text  # content:encoded preferred
    assert "<" not in turnout.text and "trackRead" not in turnout.text


def test_atom_feed_entries() -> None:
    planet, bridge = articles(FIXTURES / "science.atom")
    assert planet.id == "https://lakeside.example/science/2022/07/01/water-vapour"
    assert planet.published == dt.date(2022, 7, 1)
    assert planet.source == "Lakeside Science Desk"
    assert planet.authors == ["Kenji Watanabe"]
    assert "twice the size of Earth" in planet.text and "<p>" not in planet.text
    assert bridge.published == dt.date(2022, 6, 28)  # from <updated>
    assert bridge.text.startswith("A scale model of the planned river bridge")


# --- records ------------------------------------------------------------------------------------


def test_csv_rows_authors_dates_and_bad_row() -> None:
    items = load(FIXTURES / "articles.csv")
    lanes, library, bad = items
    assert isinstance(lanes, Article) and isinstance(library, Article)
    assert lanes.id == "csv-001"
    assert lanes.authors == ["Sam Ortiz", "Lee Chan"]
    assert lanes.published == dt.date(2022, 6, 14)
    assert lanes.text == (
        "The city council approved 12 kilometres of new cycle lanes on Tuesday, after a two-hour "
        "debate.\n\nWork is due to start in September."
    )
    assert lanes.metadata == {"section": "Local"}
    assert library.published is None  # unparseable date keeps the article
    assert library.metadata["published_raw"] == "not a date"
    assert library.origin == f"{FIXTURES / 'articles.csv'}:5"
    assert isinstance(bad, Failure)
    assert (bad.line, bad.reason) == (6, "empty 'text'")


def test_jsonl_extra_keys_and_aliases() -> None:
    first, second, third = articles(FIXTURES / "articles.jsonl")
    assert first.id == "jl-1"
    assert first.authors == ["Priya Nair"]
    assert first.metadata == {
        "section": "Business",
        "word_count": 31,
        "tags": ["ports", "strikes"],
        "paywalled": False,
    }  # the nested "raw" object is dropped
    assert second.id == second.url == "https://harlowgazette.example/2022/06/18/museum"
    assert second.published == dt.date(2022, 6, 18)  # "date" alias, ISO datetime
    assert second.source == "Harlow Gazette"  # "outlet" alias
    assert third.id.startswith("sha1:") and len(third.id) == 45
    assert third.published == dt.date(2022, 6, 18)  # "published_at" alias, written-out date
    assert third.origin == f"{FIXTURES / 'articles.jsonl'}:3"


def test_json_list_single_object_and_wrapped_list(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(
        '[\n  {"id": "a", "title": "A", "text": "Alpha text."},\n\n  {"id": "b", "text": ""},\n'
        '  {"id": "c", "text": "Gamma text."}\n]\n',
        "utf-8",
    )
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"id": "s", "title": "S", "text": "Single text."}), "utf-8")
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"articles": [{"id": "w", "text": "Wrapped."}]}), "utf-8")
    items = load(listed, single, wrapped)
    assert [getattr(i, "id", None) for i in items] == ["a", None, "c", "s", "w"]
    failure = items[1]
    assert isinstance(failure, Failure)
    assert (failure.line, failure.reason) == (4, "empty 'text'")


def test_record_ids_derive_from_url_then_content() -> None:
    with_url = record_to_article({"text": "Body.", "url": "https://x.example/1"}, "o")
    assert isinstance(with_url, Article) and with_url.id == "https://x.example/1"
    first = record_to_article({"title": "T", "text": "Body."}, "o")
    again = record_to_article({"title": "T", "text": "Body.", "extra": 1}, "o")
    other = record_to_article({"title": "T", "text": "Other body."}, "o")
    assert isinstance(first, Article) and isinstance(again, Article) and isinstance(other, Article)
    assert first.id == again.id != other.id
    assert record_to_article({"question": "Who?"}, "o") == "a question, not an article (no 'text')"
    assert record_to_article(["not", "an", "object"], "o") == "expected a JSON object, got a list"


# --- folders ------------------------------------------------------------------------------------


def test_folder_walk_sorted_recursive_hidden_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "inner").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.txt").write_text("A title\n\nA body.", "utf-8")
    (tmp_path / "b" / "c.md").write_text("# C title\n\nC body.", "utf-8")
    (tmp_path / "b" / "inner" / "d.txt").write_text("D title\n\nD body.", "utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden\n\nSkipped.", "utf-8")
    (tmp_path / ".git" / "e.txt").write_text("Git\n\nSkipped.", "utf-8")
    (tmp_path / "z.pdf").write_bytes(b"%PDF-1.4 fake")
    items = load(tmp_path)
    ids = [getattr(i, "id", None) for i in items]  # paths relative to the folder given
    assert ids == ["a.txt", "b/c.md", "b/inner/d.txt", None]
    failure = items[-1]
    assert isinstance(failure, Failure)
    assert failure.reason.startswith("unsupported file type .pdf (supported: .txt")
    assert str(failure).startswith(str(tmp_path / "z.pdf"))


def test_a_single_path_string_is_not_iterated_as_characters() -> None:
    [article] = list(iter_articles(str(SEED)))  # type: ignore[arg-type]
    assert isinstance(article, Article)


# --- metadata helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-17", dt.date(2022, 6, 17)),
        ("2022-06-17T23:59:00-04:00", dt.date(2022, 6, 17)),
        ("June 17, 2022", dt.date(2022, 6, 17)),
        ("Jun. 17 2022", dt.date(2022, 6, 17)),
        ("17 June 2022", dt.date(2022, 6, 17)),
        ("Fri, 17 Jun 2022 10:00:00 GMT", dt.date(2022, 6, 17)),
        ("2022/06/17", dt.date(2022, 6, 17)),
        ("yesterday", None),
        ("2022-13-45", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


def test_find_date_picks_the_first_date_in_a_line() -> None:
    assert find_date("Updated 10:31 AM ET, Fri June 17, 2022; first 2021-01-02") == dt.date(
        2022, 6, 17
    )
    assert find_date("On Jan. 6 the committee met") is None  # no year: not a full date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TEHRAN (Tasnim) – Defense Minister", ("TEHRAN", "Tasnim")),
        ("WASHINGTON (AP) — The Senate", ("WASHINGTON", "AP")),
        ("LONDON, June 3 (Reuters) - Oil", ("LONDON", "Reuters")),
        ("KYIV, Ukraine (AP) — Russian forces", ("KYIV", "AP")),
        ("NEW YORK (CNN Business) — Stocks", ("NEW YORK", "CNN Business")),
        ("(CNN) The popular rideshare company", (None, "CNN")),
        ('(You can get "5 Things" delivered.)', (None, None)),
        ("The Senate (upper house) voted", (None, None)),
    ],
)
def test_parse_dateline(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_dateline(text) == expected


def test_clean_text_normalises_whitespace_and_controls() -> None:
    raw = "  First line.  \r\nSecond\x00 line\x07.\t\r\n\r\n\r\n\r\n\u200bThird.\u2028Fourth\t\n"
    assert clean_text(raw) == "First line.\nSecond line.\n\nThird.\nFourth"


def test_front_matter_lists_and_plain_rules() -> None:
    fields, rest = parse_front_matter("---\ntitle: 'T'\ntags:\n  - a\n  - b\n---\nBody")
    assert fields == {"title": "T", "tags": ["a", "b"]}
    assert rest == "Body"
    assert parse_front_matter("---\n\nJust a rule\n---\nBody") == (
        {},
        "---\n\nJust a rule\n---\nBody",
    )


def test_split_authors() -> None:
    assert split_authors("Sam Ortiz; Lee Chan") == ["Sam Ortiz", "Lee Chan"]
    assert split_authors("By Jane Miller and Omar Said") == ["Jane Miller", "Omar Said"]
    assert split_authors(["A", None, " "]) == ["A"]
    assert split_authors(None) == []


def test_txt_without_a_headline_line_keeps_all_text(tmp_path: Path) -> None:
    path = tmp_path / "no_title.txt"
    paragraph = "The council met on Monday and approved the plan after a long debate. " * 5
    path.write_text(f"{paragraph.strip()}\n\nSecond paragraph.\n", "utf-8")
    [article] = articles(path)
    assert article.title == ""
    assert (
        article.text.startswith("The council met on Monday") and "Second paragraph." in article.text
    )


def test_by_the_numbers_is_not_a_byline(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_text("Jobs report\n\nBy the numbers: 372,000 jobs were added.\n", "utf-8")
    [article] = articles(path)
    assert article.authors == []
    assert article.text == "By the numbers: 372,000 jobs were added."


def test_folder_walk_passes_over_a_question_set(tmp_path) -> None:
    from assistant.ingest import iter_articles

    (tmp_path / "story.txt").write_text("Headline\n\nBody text of the story.\n", encoding="utf-8")
    (tmp_path / "questions.jsonl").write_text(
        '{"id": "q1", "question": "What?"}\n', encoding="utf-8"
    )
    items = list(iter_articles([tmp_path]))
    assert [type(i).__name__ for i in items] == ["Article"]
    # named explicitly, it is still reported as not a corpus
    explicit = list(iter_articles([tmp_path / "questions.jsonl"]))
    assert explicit and all(type(i).__name__ == "Failure" for i in explicit)
