"""Where log records go when the ``assistant`` command runs.

Normal runs print no library log lines or warnings: the root logger gets a handler that drops
records (so a library calling ``logging.warning(...)`` cannot install a console handler of its
own, which would then show every library's DEBUG lines) and Python warnings are routed to it.
The assistant's own progress lines — INFO records of ``assistant.*`` loggers, such as the
one-time preparation of the embedding model — are printed on stderr as plain sentences.
With ``--debug`` every record from INFO up (DEBUG for the assistant's, and a library's DEBUG
records where it asks for them) goes to stderr with its level and logger name.
"""

from __future__ import annotations

import logging

from rich.markup import escape

from assistant.cli.output import err

_OURS = "_assistant_cli"  # marks the handlers added here, so a second call replaces them


class _ProgressLines(logging.Handler):
    """An ``assistant.*`` record as one plain line on stderr (above a progress bar, if any)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            err.print(escape(record.getMessage()))
        except Exception:  # pragma: no cover - a broken stderr must not stop the command
            self.handleError(record)


def _replace_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    for old in [h for h in logger.handlers if getattr(h, _OURS, False)]:
        logger.removeHandler(old)
    setattr(handler, _OURS, True)
    logger.addHandler(handler)


def configure_logging(debug: bool) -> None:
    """Set up logging for one run of the command (see the module docstring)."""
    root = logging.getLogger()
    if debug:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
        _replace_handler(root, console)
        root.setLevel(logging.INFO)
    else:
        _replace_handler(root, logging.NullHandler())
    logging.captureWarnings(True)
    ours = logging.getLogger("assistant")
    for old in [h for h in ours.handlers if getattr(h, _OURS, False)]:
        ours.removeHandler(old)
    if debug:  # the root's console shows them, with level and logger name
        ours.setLevel(logging.DEBUG)
        ours.propagate = True
    else:
        _replace_handler(ours, _ProgressLines())
        ours.setLevel(logging.INFO)
        ours.propagate = False
