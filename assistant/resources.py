"""Files shipped beside the code: the prompt files and the Streamlit app.

The repository keeps them in the top-level ``prompts/`` and ``ui/`` folders. The wheel installs
them inside the package as ``assistant/prompt_files/`` and ``assistant/ui/`` (setuptools
``package-dir`` mapping in pyproject.toml), found with :mod:`importlib.resources`, so an installed
``assistant`` works from any directory. A source checkout (the folder above the package holds
pyproject.toml, as with ``PYTHONPATH=.`` or an editable install) uses its own folders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _shipped(checkout_name: str, package_name: str) -> Path:
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / checkout_name).is_dir():
        return _CHECKOUT / checkout_name
    return Path(str(resources.files("assistant") / package_name))


def prompts_dir() -> Path:
    """The folder of prompt files."""
    return _shipped("prompts", "prompt_files")


def ui_app() -> Path:
    """The Streamlit script of the chat (``streamlit run`` takes a file path)."""
    return _shipped("ui", "ui") / "app.py"
