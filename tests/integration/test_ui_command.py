"""`assistant ui` stops with its chat: a SIGTERM (a service manager, a CI script) to the command
leaves no Streamlit server behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.integration.servers import free_port, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sigterm_to_assistant_ui_stops_the_chat(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_STORE_DIR=str(tmp_path / "store"), PYTHONUNBUFFERED="1")
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ui", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 120, proc, log, "assistant ui")
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, f"still running after SIGTERM: {[p.cmdline() for p in alive]}"
    finally:
        if proc.poll() is None:
            stop(proc)
