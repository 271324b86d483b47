"""Entry point of the chat: ``assistant ui`` or ``streamlit run ui/app.py``.

Opens on the embedded defaults (``ASSISTANT_*`` settings, store in ``.assistant``). The page
itself lives in :mod:`ui.page`; code that wants another Assistant (tests, embedding the chat in
another app) calls ``ui.page.main(assistant_factory)`` from its own script instead of this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on sys.path, not the project root that holds the ui package.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ui.page import main  # noqa: E402

main()
