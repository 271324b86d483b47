"""Uploaded article files -> a temporary folder -> ``Assistant.ingest`` with progress.

Kept free of Streamlit so it can be tested directly: :func:`ingest_uploads` takes
``(name, bytes)`` pairs and a progress callback ``(fraction, text)``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.models import Failure, IngestReport

if TYPE_CHECKING:
    from assistant.service import Assistant

UPLOAD_TYPES = [
    *("txt", "text", "md", "markdown", "html", "htm", "xhtml"),
    *("jsonl", "ndjson", "json", "csv", "rss", "atom", "xml"),
]
"""Extensions offered by the file picker: those the loaders read (a test keeps them in step)."""

ProgressCallback = Callable[[float, str], object]

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_name(name: str, taken: set[str]) -> str:
    """The file's own name (no folders, no odd characters), made unique within the upload."""
    base = Path(name.replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(" .") or "upload.txt"
    stem, suffix = Path(base).stem or "upload", Path(base).suffix
    candidate, i = base, 1
    while candidate.lower() in taken:
        i += 1
        candidate = f"{stem}-{i}{suffix}"
    taken.add(candidate.lower())
    return candidate


def estimate_articles(name: str, data: bytes) -> int:
    """Rough number of articles in a file, only to move the progress bar."""
    suffix = Path(name).suffix.lower()
    if suffix in {".jsonl", ".csv"}:
        return max(1, data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - (suffix == ".csv"))
    if suffix in {".rss", ".atom", ".xml"}:
        return max(1, data.count(b"<item") + data.count(b"<entry"))
    if suffix == ".json":
        return max(1, data.count(b'"text"'))
    return 1


def summary_line(report: IngestReport) -> str:
    """'2 new, 0 updated, 1 unchanged, 0 skipped, 1 failed' for the page."""
    return (
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped, {len(report.failed)} failed"
    )


def ingest_uploads(
    assistant: Assistant,
    files: Sequence[tuple[str, bytes]],
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Write the files under their own names to a temporary folder and ingest them.

    Empty files are reported as failures without reaching the loaders. Errors raised by the
    ingest itself (store locked, wrong embedding model, ...) propagate as ``AssistantError``.
    """
    report = IngestReport()
    if not files:
        return report
    expected = sum(estimate_articles(name, data) for name, data in files)
    with tempfile.TemporaryDirectory(prefix="assistant-upload-") as tmp:
        folder = Path(tmp)
        paths: list[str] = []
        empty: list[Failure] = []
        taken: set[str] = set()
        for name, data in files:
            target = folder / safe_name(name, taken)
            if not data.strip():
                empty.append(Failure(path=target.name, reason="the file is empty"))
                continue
            target.write_bytes(data)
            paths.append(str(target))

        def step(running: IngestReport, seen: int) -> None:
            if progress is None:
                return
            done = min(0.99, seen / max(expected, seen, 1))
            progress(done, f"{seen} article(s) read, {running.chunks_embedded} passages embedded")

        if progress:
            progress(0.0, f"reading {len(paths)} file(s)…")
        if paths:
            report = assistant.ingest(paths, progress=step, content_ids=True)
        for failure in report.failed:  # the temporary folder means nothing to the reader
            failure.path = _relative(failure.path, folder)
        report.failed = empty + report.failed
    if progress:
        progress(1.0, summary_line(report))
    return report


def _relative(path: str, folder: Path) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return Path(path).name if path.startswith(str(folder)) else path


def ingest_url(
    assistant: Assistant, url: str, progress: ProgressCallback | None = None
) -> IngestReport:
    """An article page or an RSS/Atom feed URL, fetched and ingested by ``Assistant.ingest``
    (the page never fetches anything itself); a text that is not an http(s) URL is one failure."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return IngestReport(failed=[Failure(path=url[:200], reason="not an http(s) URL")])

    def step(running: IngestReport, seen: int) -> None:
        if progress is not None:
            progress(0.5, f"{seen} article(s) read, {running.chunks_embedded} passages embedded")

    if progress:
        progress(0.0, "fetching…")
    report = assistant.ingest([url], progress=step)
    if progress:
        progress(1.0, summary_line(report))
    return report
