"""Start real local servers for integration tests (each on a free loopback port)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            msg = f"server exited with {proc.returncode} before answering {url}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.3)
    msg = f"{url} did not answer within {timeout}s ({last})"
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
    log = open(path.parent / "chroma-server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [chroma_binary(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v2/heartbeat", 60, proc)
        yield url
    finally:
        stop(proc, timeout=10)
        log.close()
