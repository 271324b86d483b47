"""Entry point of the chat: ``assistant ui`` or ``streamlit run ui/app.py``.

Opens on the embedded defaults (``ASSISTANT_*`` settings, store in ``.assistant``). The page
itself lives in :mod:`ui.page` (``assistant.ui.page`` when installed from the wheel); code that
wants another Assistant (tests, embedding the chat in another app) calls ``page.main(factory)``
from its own script instead of this file.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# Streamlit runs this file as a script, not as part of a package. In a source checkout the ui
# package sits beside assistant/ (put the checkout on sys.path); installed from the wheel it is
# assistant.ui.
_ROOT = Path(__file__).resolve().parent.parent
_CHECKOUT = (_ROOT / "pyproject.toml").is_file() and (_ROOT / "assistant").is_dir()
if _CHECKOUT and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

importlib.import_module("ui.page" if _CHECKOUT else "assistant.ui.page").main()
