"""News QA assistant: cited, verified answers from a collection of news articles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Assistant", "Settings", "__version__"]

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.service import Assistant


def __getattr__(name: str) -> Any:
    # Lazy, so `assistant --help` does not import chromadb or torch.
    if name == "Assistant":
        from assistant.service import Assistant

        return Assistant
    if name == "__version__":  # kept in config (the ground floor), which imports no stage
        from assistant.config import __version__

        return __version__
    if name == "Settings":
        from assistant.config import Settings

        return Settings
    raise AttributeError(name)
