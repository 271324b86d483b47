"""The ``assistant`` command: a thin typer app over ``assistant.service``.

Errors are one line on stderr (no traceback unless ``--debug``); exit codes: 0 all good, 1 some
inputs failed or a gate failed, 2 usage or configuration error.

The commands are in :mod:`assistant.cli.commands` (``app``, and ``_assistant``, the one place
they build the Assistant), what they print in :mod:`assistant.cli.output`.
"""

from __future__ import annotations

from assistant.cli.commands import app

__all__ = ["app"]
