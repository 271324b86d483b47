"""``--code DIR``: run a benchmark against the ``assistant`` package of another tree.

A "before" figure comes from an older commit: export it (``git archive <commit> assistant
prompts ui pyproject.toml | tar -x -C DIR``, or a git worktree) and pass ``--code DIR``; the
benchmark puts DIR first on ``sys.path`` before anything imports ``assistant`` (``python -m``
puts the current folder first, so ``PYTHONPATH`` alone loses to a run from the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path


def use_code(code: Path | None) -> None:
    """Import ``assistant`` from ``code`` (must run before the first ``import assistant``)."""
    if code is None:
        return
    if "assistant" in sys.modules:
        msg = "use_code() must run before assistant is imported"
        raise RuntimeError(msg)
    sys.path.insert(0, str(code.resolve()))


def code_label() -> dict[str, str]:
    """Where ``assistant`` was imported from, and the commit of that tree when it is known."""
    import subprocess

    import assistant

    root = Path(assistant.__file__).resolve().parent.parent
    commit = ""
    stamp = root / "COMMIT"  # written beside an exported tree
    if stamp.is_file():
        commit = stamp.read_text(encoding="utf-8").strip()[:12]
    else:
        proc = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = proc.stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "assistant"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if commit and dirty:
            commit += "+dirty"
    return {"assistant_from": str(root), "assistant_commit": commit}
