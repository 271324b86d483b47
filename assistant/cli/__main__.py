"""``python -m assistant.cli``: the same as the ``assistant`` command."""

from assistant.cli import app

if __name__ == "__main__":  # pragma: no cover
    app()
