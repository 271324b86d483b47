"""Ingest: files and folders -> Articles (``iter_articles``) -> Chunks (``chunk_article``)."""

from __future__ import annotations

from assistant.ingest.chunking import chunk_article, count_tokens, split_sentences
from assistant.ingest.loaders import SUPPORTED_EXTENSIONS, iter_articles, load_file

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "chunk_article",
    "count_tokens",
    "iter_articles",
    "load_file",
    "split_sentences",
]
