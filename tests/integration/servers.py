"""Start real local servers for integration tests (each on a free loopback port)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def in_ci() -> bool:
    """CI=true (as .ci/run is started): a required suite that cannot run is a failure."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip a suite that cannot run here, except under CI, where it must run: fail instead."""
    if in_ci():
        pytest.fail(f"required suite cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def exit_description(returncode: int) -> str:
    """'exited with status 1' or 'killed by signal SIGSEGV (11)'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {name} ({-returncode})"
    return f"exited with status {returncode}"


def log_tail(log: Path | None, chars: int = 2000) -> str:
    if log is None:
        return ""
    try:
        text = log.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return text[-chars:]


def death_report(name: str, proc: subprocess.Popen[bytes], log: Path | None) -> str | None:
    """How a server process died, with the tail of its log; None while it runs."""
    code = proc.poll()
    if code is None:
        return None
    tail = log_tail(log)
    where = f"; last lines of {log}:\n{tail}" if log is not None else ""
    return f"{name} (pid {proc.pid}) {exit_description(code)}{where}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(
    url: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    name: str = "server",
) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and (died := death_report(name, proc, log)):
            msg = f"{died}\n(before answering {url})"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.3)
    tail = f"; last lines of {log}:\n{log_tail(log)}" if log is not None else ""
    msg = f"{url} did not answer within {timeout}s ({last}){tail}"
    raise TimeoutError(msg)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate a server and wait for it; kill it if it does not stop in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def chroma_binary() -> str:
    exe = Path(sys.executable).with_name("chroma")
    found = str(exe) if exe.exists() else shutil.which("chroma")
    if not found:
        msg = "the `chroma` command (from the chromadb package) is not installed"
        raise RuntimeError(msg)
    return found


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run --path PATH --port FREE`; yields its URL and stops it afterwards."""
    port = free_port()
    log_path = path.parent / "chroma-server.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [chroma_binary(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v2/heartbeat", 60, proc, log_path, "chroma run")
        yield url
        if died := death_report("chroma run", proc, log_path):
            pytest.fail(died, pytrace=False)
    finally:
        stop(proc, timeout=10)
        log.close()
