"""``assistant watch`` in a separate process with the fake embedder (for the SIGINT test).

Usage: python -m tests.integration.watch_worker FEEDS_FILE EVERY [MAX_POLLS]; the store is
ASSISTANT_STORE_DIR. It runs the same loop as the CLI command (``assistant.ingest.watch.run_watch``).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from assistant.config import Settings
from assistant.ingest.watch import parse_every, run_watch
from assistant.service import Assistant
from tests.fakes import HashEmbedder


def main(argv: list[str]) -> int:
    assistant = Assistant(Settings(), embedder=HashEmbedder(), chat_model=None)
    say = functools.partial(print, flush=True)
    max_polls = int(argv[2]) if len(argv) > 2 else None
    return run_watch(assistant, Path(argv[0]), parse_every(argv[1]), max_polls, out=say, err=say)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
