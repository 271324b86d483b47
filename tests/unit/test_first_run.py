"""The first run looks finished: a fresh clone's `assistant ingest seeds/` and `assistant ask`
print no library log lines or warnings, say what the one-time model preparation is doing, and
list each source once.

Run as real commands in subprocesses with a fresh store and a fresh model cache (a new HOME), so
the embedding model is exported and quantised as on a new machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# A library log line (``WARNING:root:...``, ``DEBUG:bm25s:...``) or a Python warning.
NOISE = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):|Warning: |warnings\.warn", re.M)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_first_ingest_and_ask_are_quiet_and_say_what_they_do(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        HOME=str(home),  # the model cache (~/.cache/news-assistant) starts empty
        ASSISTANT_STORE_DIR=str(tmp_path / "store"),
        PYTHONPATH=str(ROOT),
    )
    ingest = _run(["ingest", str(ROOT / "seeds")], env, tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert (home / ".cache" / "news-assistant").is_dir()  # the model was prepared here
    assert not NOISE.search(ingest.stderr), ingest.stderr
    assert "Preparing the embedding model (one time" in ingest.stderr
    assert ingest.stdout.startswith("1 new, 0 updated")

    ask = _run(["ask", "Who invited whom to visit Iran?"], env, tmp_path)
    assert ask.returncode == 0, ask.stderr
    assert ask.stderr == ""  # the model is ready now: nothing to say on stderr
    out = ask.stdout
    assert "Sources:" not in out and out.count("\nsources\n") == 1
    assert out.count("— Tasnim, undated") == 1

    debug = _run(["--debug", "ask", "Who won the 2022 World Cup?"], env, tmp_path)
    assert debug.returncode == 0, debug.stderr
    assert "outcome refused" in debug.stderr and "below_hedge_at" in debug.stderr
    assert "below_hedge_at" not in debug.stdout  # the numbers stay out of the sentence
