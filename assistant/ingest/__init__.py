"""Ingest: files, folders, URLs and feeds -> Articles -> Chunks with character offsets.

The first stage. ``loaders`` (with ``records``, ``web``, ``decoding`` and ``metadata``) read
every input format into :class:`~assistant.models.Article` objects, one clear failure per bad
file or line; ``fetch`` and ``remote`` fetch pages and feeds politely (``addresses`` and
``transport``: from public addresses only, when asked); ``chunking`` cuts an
article into overlapping chunks of whole sentences whose offsets map back to the text;
``pipeline`` writes a stream of articles in batches (stable ids, conflicts between inputs,
migration of old ids, each distinct text embedded once) through the store it is handed, under
the write lock; ``watch`` polls feeds and hands new items to an ingest function.

Imports only from the ground floor (``text``, ``dates``, ``models``, ``config``, ``errors``,
``resources``); the stages above call it.
"""

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
