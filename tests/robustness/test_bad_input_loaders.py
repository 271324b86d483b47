"""Bad input never raises: each bad file or line is exactly one Failure naming it, the rest load."""

from __future__ import annotations

import codecs
import gc
import os
import tracemalloc
from pathlib import Path

import pytest

from assistant.ingest import iter_articles
from assistant.models import Article, Failure

GOOD_TEXT = "Council votes on budget\n\nThe city council approved the budget on Monday.\n"


def load(*paths: Path | str) -> list[Article | Failure]:
    return list(iter_articles(list(paths)))


def one_failure(path: Path, line: int | None = None) -> Failure:
    """Load ``path`` next to a good file; expect exactly one Failure for it and the good article."""
    folder = next(p for p in path.parents if p.exists())
    good = folder / "zz_good_neighbour.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    items = load(path, good)
    failures = [i for i in items if isinstance(i, Failure)]
    assert len(failures) == 1, [str(f) for f in failures]
    assert [i.id for i in items if isinstance(i, Article)] == ["zz_good_neighbour.txt"]
    failure = failures[0]
    assert failure.path == str(path) and failure.line == line
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(failure).startswith(where) and failure.reason
    return failure


def only_article(path: Path) -> Article:
    [item] = load(path)
    assert isinstance(item, Article), str(item)
    return item


# --- text files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  \r\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert one_failure(path).reason == "empty file"


def test_binary_file_renamed_txt(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40)
    assert one_failure(path).reason == "binary file"


def test_control_bytes_without_nul_are_binary(tmp_path: Path) -> None:
    path = tmp_path / "blob.md"
    path.write_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 500)
    assert one_failure(path).reason == "binary file"


def test_invalid_utf8_cp1252_bytes_decode_as_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.txt"
    text = "Caf\u00e9 owners protest\r\n\r\n\u201cWe pay \u20ac500 more\u201d, said Ren\u00e9e."
    path.write_bytes(text.encode("cp1252"))
    article = only_article(path)
    assert article.title == "Caf\u00e9 owners protest"
    assert article.text == "\u201cWe pay \u20ac500 more\u201d, said Ren\u00e9e."


def test_latin1_text(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(
        "S\u00e3o Paulo elege prefeito\n\nA elei\u00e7\u00e3o foi ontem.".encode("latin-1")
    )
    article = only_article(path)
    assert (article.title, article.text) == (
        "S\u00e3o Paulo elege prefeito",
        "A elei\u00e7\u00e3o foi ontem.",
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_bom_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"bom-{encoding}.txt"
    data = "Zürich votes\r\n\r\nVoters in Zürich said yes — 61%.".encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path.write_bytes(data)
    article = only_article(path)
    assert (article.title, article.text) == ("Zürich votes", "Voters in Zürich said yes — 61%.")


def test_50_mb_text_file_loads_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    paragraph = (
        "The committee heard evidence from officials about the budget, the hospitals and the "
        "roads of the región, and said it would report back before the end of the year.\n\n"
    ).encode()
    with path.open("wb") as out:
        out.write(b"A very long report\n\n")
        while out.tell() < 50_000_000:
            out.write(paragraph * 1000)
    size = path.stat().st_size
    assert size >= 50_000_000
    gc.collect()
    tracemalloc.start()
    try:
        [article] = load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(article, Article)
    assert article.title == "A very long report"
    assert article.text.startswith("The committee heard evidence")
    assert len(article.text) > 45_000_000
    assert peak < 4 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_same_article_under_two_file_names(tmp_path: Path) -> None:
    first, second = tmp_path / "story-a.txt", tmp_path / "story-b.txt"
    first.write_text(GOOD_TEXT, "utf-8")
    second.write_text(GOOD_TEXT, "utf-8")
    a, b = load(first, second)
    assert isinstance(a, Article) and isinstance(b, Article)
    assert (a.id, b.id) == ("story-a.txt", "story-b.txt")
    assert a.text == b.text and a.content_hash == b.content_hash


def test_paths_that_do_not_exist(tmp_path: Path) -> None:
    failure = one_failure(tmp_path / "missing" / "nowhere.txt")
    assert failure.reason == "file not found"


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    assert one_failure(path).reason.startswith("unsupported file type .pdf (supported: ")


# --- records ------------------------------------------------------------------------------------


def test_jsonl_with_one_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"id": "1", "title": "One", "text": "First article."}\n'
        "\n"
        '{"id": "2", "title": "Two" "text": "Broken."}\n'
        '{"id": "3", "title": "Three", "text": "Third article."}\n',
        encoding="utf-8",
    )
    items = load(path)
    assert [i.id for i in items if isinstance(i, Article)] == ["1", "3"]
    [failure] = [i for i in items if isinstance(i, Failure)]
    assert (failure.line, failure.reason) == (3, "invalid JSON (Expecting ',' delimiter)")
    assert str(failure) == f"{path}:3: invalid JSON (Expecting ',' delimiter)"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "x", "title": "No text"}', "missing 'text'"),
        ('{"id": "x", "text": "   "}', "empty 'text'"),
        ('{"id": "x", "text": 42}', "'text' is a number, not a string"),
        ('["a", "list"]', "expected a JSON object, got a list"),
        ('"just a string"', "expected a JSON object, got a string"),
    ],
)
def test_jsonl_bad_records(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "Fine."}\n' + line + "\n", encoding="utf-8")
    items = load(path)
    assert isinstance(items[0], Article)
    assert items[1] == Failure(path=str(path), line=2, reason=reason)


def test_jsonl_line_in_cp1252_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "u", "text": "caf\xc3\xa9"}\n'
        + '{"id": "w", "text": "caf\u00e9"}\n'.encode("cp1252")
    )
    assert [a.text for a in load(path) if isinstance(a, Article)] == ["caf\u00e9", "caf\u00e9"]


def test_json_file_that_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": "a", "text": "x",\n "title": }', encoding="utf-8")
    failure = one_failure(path, line=2)
    assert failure.reason.startswith("invalid JSON (")


def test_csv_with_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,age\nAda,36\nAlan,41\n", encoding="utf-8")
    assert one_failure(path).reason == "CSV has no 'text' column (columns: name, age)"


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,title,text\n", encoding="utf-8")
    assert one_failure(path).reason == "no articles in file"


def test_binary_jsonl_and_csv(tmp_path: Path) -> None:
    for name in ("data.jsonl", "data.csv"):
        path = tmp_path / name
        path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00" + bytes(range(256)) * 8)
        assert one_failure(path).reason == "binary file"


# --- web formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Only a head</title></head></html>",
        "<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>",
        "<!DOCTYPE html>",
    ],
)
def test_html_without_body_text(tmp_path: Path, html: str) -> None:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    assert one_failure(path).reason == "no article text found in the HTML"


def test_rss_with_broken_xml_and_no_entries(tmp_path: Path) -> None:
    path = tmp_path / "broken.rss"
    path.write_text('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>T</ti', "utf-8")
    failure = one_failure(path)
    assert failure.reason.startswith("broken feed XML (")
    assert failure.reason.endswith("no entries could be read")


def test_rss_with_broken_xml_keeps_readable_entries(tmp_path: Path) -> None:
    path = tmp_path / "half.rss"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        "<item><title>First</title><link>https://w.example/1</link>"
        "<description>The first story text.</description></item>"
        "<item><title>Second</title><link>https://w.example/2</link><description>Cut &amp",
        encoding="utf-8",
    )
    items = load(path)
    first = items[0]
    assert isinstance(first, Article) and first.text == "The first story text."
    assert first.source == "Wire"


def test_xml_that_is_not_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "config.xml"
    path.write_text('<?xml version="1.0"?><config><value>1</value></config>', "utf-8")
    assert one_failure(path).reason == "not an RSS or Atom feed"


# --- folders ------------------------------------------------------------------------------------


def test_folder_of_10000_files_is_read_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    for i in range(100):
        sub = folder / f"d{i:03d}"
        sub.mkdir(parents=True)
        for j in range(100):
            (sub / f"{j:03d}.txt").write_bytes(
                b"Title %d\n\nBody of article %d.\n" % (j, i * 100 + j)
            )
    reads: list[str] = []
    original = Path.read_bytes

    def counting_read_bytes(self: Path) -> bytes:
        reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting_read_bytes)
    items = iter_articles([folder])
    first = next(items)
    assert isinstance(first, Article) and first.origin == str(folder / "d000" / "000.txt")
    assert len(reads) == 1, "the first article must come before the rest of the folder is read"
    rest = list(items)
    assert len(rest) == 9_999 and all(isinstance(i, Article) for i in rest)
    assert len(reads) == 10_000


def test_folder_symlink_loop_terminates(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "story.txt").write_text(GOOD_TEXT, "utf-8")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    assert [i.id for i in load(tmp_path) if isinstance(i, Article)] == ["a/story.txt"]


def test_one_failure_per_bad_file_in_a_mixed_batch(tmp_path: Path) -> None:
    bad = {
        "empty.txt": b"",
        "binary.txt": b"\x00\x01\x02\x03" * 100,
        "nocol.csv": b"a,b\n1,2\n",
        "nobody.html": b"<html><head></head></html>",
        "broken.atom": b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>x",
        "doc.docx": b"PK\x03\x04",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text(GOOD_TEXT, "utf-8")
    items = load(tmp_path, tmp_path / "ghost.txt")
    failures = [i for i in items if isinstance(i, Failure)]
    assert sorted(Path(f.path).name for f in failures) == sorted([*bad, "ghost.txt"])
    assert [i.id for i in items if isinstance(i, Article)] == ["good.txt"]


def test_utf16_jsonl_cp1252_csv_and_semicolon_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "wide.jsonl"
    jsonl.write_bytes('{"id": "w", "text": "Zürich — wide."}\r\n'.encode("utf-16"))
    cp1252 = tmp_path / "legacy.csv"
    cp1252.write_bytes("id,text\nc,\u201cQuoted\u201d caf\u00e9.\n".encode("cp1252"))
    semicolon = tmp_path / "excel.csv"
    semicolon.write_text("id;title;text\ns;T;Semicolon separated.\n", "utf-8")
    texts = [i.text for i in load(jsonl, cp1252, semicolon) if isinstance(i, Article)]
    assert texts == ["Zürich — wide.", "\u201cQuoted\u201d caf\u00e9.", "Semicolon separated."]


def test_invalid_path_names(tmp_path: Path) -> None:
    items = load(tmp_path / ("x" * 300 + ".txt"), "bad\x00name.txt")
    assert [type(i) for i in items] == [Failure, Failure]
    assert {i.reason for i in items if isinstance(i, Failure)} <= {"invalid path", "file not found"}
