"""Shared fixtures: a temporary embedded store and a deterministic embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_f827c2b710232763.txt"

# Tests never talk to a real OpenAI account or an LLM configured on the developer's machine.
for _var in (
    "OPENAI_API_KEY",
    "ASSISTANT_LLM_API_KEY",
    "ASSISTANT_LLM_BASE_URL",
    "ASSISTANT_CHROMA_URL",
):
    os.environ.pop(_var, None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store_dir=tmp_path / "store", collection="test_news", _env_file=None)


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def make_assistant(settings: Settings, embedder: HashEmbedder):
    """Build an Assistant on the temporary store with the fake embedder (extractive mode)."""
    from assistant.service import Assistant

    def make(chat_model=None, **overrides):
        s = settings.model_copy(update=overrides) if overrides else settings
        return Assistant(s, embedder=embedder, chat_model=chat_model)

    return make
