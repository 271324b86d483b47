"""Follow feeds: poll the URLs of a feeds file every N minutes and ingest only what is new.

The state lives in the store folder (``settings.feeds_dir``): the feeds' HTTP validators
(``assistant.ingest.fetch``) and, in ``watch.json``, when each feed was last polled to the end.
Items already stored are never fetched again, so a restart resumes where the last run stopped:
an interrupted poll is simply done again, without duplicates. Ctrl-C (SIGINT) or SIGTERM stops
between two items — the item being read is finished, what was read is stored — and a second
Ctrl-C stops at once. A dead or malformed feed is one failure line; the other feeds go on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Settings
from assistant.errors import AssistantError, UsageError
from assistant.models import IngestReport


class Ingests(Protocol):
    """What the watch loop needs of its caller (``assistant.service.Assistant`` is one)."""

    settings: Settings

    def ingest(
        self, paths: list[str], progress: Any = None, stop: threading.Event | None = None
    ) -> IngestReport: ...


Printer = Callable[[str], Any]
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 60.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_every(text: str) -> float:
    """'15m' -> 900.0 seconds ('30s', '2h', '1d'; a bare number is minutes)."""
    m = _EVERY.match(text)
    if not m or float(m[1]) <= 0:
        msg = f"--every must be a duration like 30s, 15m or 2h, not {text!r}"
        raise UsageError(msg)
    return float(m[1]) * _UNITS[m[2].lower()]


def read_feeds(path: Path) -> tuple[list[str], list[str]]:
    """(feed URLs, problems) from a file with one URL per line; '#' starts a comment line."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        msg = f"cannot read the feeds file {path} ({exc.strerror or exc})"
        raise UsageError(msg) from None
    urls: list[str] = []
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if not line.lower().startswith(("http://", "https://")):
            problems.append(f"{path}:{number}: not an http(s) URL: {line[:100]}")
        elif line not in urls:
            urls.append(line)
    return urls, problems


class WatchState:
    """When each feed was last polled to the end (seconds since the epoch), in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last: dict[str, float] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.last = {str(k): float(v) for k, v in data.get("last_poll", {}).items()}
        except (OSError, ValueError, AttributeError):
            self.last = {}

    def due(self, urls: list[str], every: float, now: float) -> list[str]:
        return [u for u in urls if self.last.get(u, 0.0) + every <= now]

    def next_due(self, urls: list[str], every: float) -> float:
        return min((self.last.get(u, 0.0) + every for u in urls), default=time.time() + every)

    def mark(self, urls: list[str], when: float) -> None:
        self.last.update(dict.fromkeys(urls, when))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".watch-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"last_poll": self.last}, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


def run_watch(
    assistant: Ingests,
    feeds_file: Path,
    every: float,
    max_polls: int | None = None,
    out: Printer = print,
    err: Printer = print,
    stop: threading.Event | None = None,
) -> int:
    """Poll until stopped (Ctrl-C, SIGTERM, ``stop``) or ``max_polls`` polls; returns 0."""
    stop = stop or threading.Event()
    state = WatchState(assistant.settings.feeds_dir / "watch.json")
    restore = _install_handlers(stop, err)
    polls = 0
    try:
        read_feeds(feeds_file)  # a missing feeds file is a usage error at once
        while not stop.is_set():
            urls, problems = read_feeds(feeds_file)  # read each time: it may be edited
            for problem in problems:
                err(f"skipped: {problem}")
            now = time.time()
            due = state.due(urls, every, now)
            if due:
                polls += 1
                report = _poll(assistant, due, stop, err)
                if report is not None and not stop.is_set():
                    state.mark(due, now)  # an interrupted poll is done again next time
                if report is not None:
                    out(_summary(polls, report, stop.is_set()))
                if max_polls and polls >= max_polls:
                    break
            if not stop.is_set():
                stop.wait(max(0.2, state.next_due(urls, every) - time.time()))
    finally:
        restore()
    return 0


def _poll(
    assistant: Ingests, urls: list[str], stop: threading.Event, err: Printer
) -> IngestReport | None:
    try:
        report = assistant.ingest(urls, stop=stop)
    except AssistantError as exc:  # e.g. the store is locked by a long ingest: try next time
        err(f"error: {exc}")
        return None
    for failure in report.failed:
        err(f"failed: {failure}")
    return report


def _summary(number: int, report: IngestReport, stopped: bool) -> str:
    when = dt.datetime.now().strftime("%H:%M:%S")
    tail = " (stopped)" if stopped else ""
    return (
        f"{when} poll {number}: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed, "
        f"{len(report.not_modified)} feed(s) not modified{tail}"
    )


def _install_handlers(stop: threading.Event, err: Printer) -> Callable[[], None]:
    """First SIGINT/SIGTERM: stop between items; second: stop now. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err("stopping after the current item (Ctrl-C again to stop now)")

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
