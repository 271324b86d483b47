"""A separate process that ingests or queries through ASSISTANT_CHROMA_URL (fake embedder).

Usage: python -m tests.integration.worker ingest FILE... | query N QUESTION
"""

from __future__ import annotations

import sys

from assistant.config import Settings
from assistant.service import Assistant
from tests.fakes import HashEmbedder


def main(argv: list[str]) -> int:
    assistant = Assistant(Settings(), embedder=HashEmbedder(), chat_model=None)
    if argv[0] == "ingest":
        report = assistant.ingest(argv[1:])
        print(f"new={report.new} updated={report.updated} unchanged={report.unchanged}")
        return 1 if report.failed else 0
    count, question = int(argv[1]), argv[2]
    ok = 0
    for _ in range(count):
        if assistant.store.count() == 0:
            continue
        assistant.search(question, k=5)
        ok += 1
    print(f"queries={ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
