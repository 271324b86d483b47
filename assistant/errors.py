"""Errors whose messages say how to fix the problem; the CLI and UI show them as one line."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(AssistantError):
    """A setting is wrong or missing (exit code 2)."""

    exit_code = 2


class UsageError(AssistantError):
    """The command was called wrongly, e.g. an unparseable date (exit code 2)."""

    exit_code = 2


class EmbeddingMismatchError(ConfigError):
    """The collection was built with another embedding model."""


class StoreError(AssistantError):
    """The vector store cannot be reached or written."""


class StoreLockedError(StoreError):
    """Another process is writing to the embedded store."""


class LoaderError(AssistantError):
    """A file could not be read as an article; the batch goes on without it."""


class LLMError(AssistantError):
    """The LLM server failed: down, wrong key, timeout."""


class EmptyStoreError(AssistantError):
    """No articles are indexed yet."""
