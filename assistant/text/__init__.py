"""The one text core (the ground floor): tokens, names, sentences and citation markers, shared by every stage.

- *Tokens*: :func:`content_tokens` gives stemmed content words (PyStemmer's English Snowball
  stemmer after a table of irregular past forms, number words as digits) and normalised numbers,
  without :data:`STOPWORDS`; :func:`numbers` and :func:`names` pick the numbers and capitalised
  words of a text. BM25 keeps its own tokeniser (bm25s) until it is switched with a measurement.
- *Sentences*: :func:`split_sentences` is a regex splitter that knows abbreviations, initials,
  decimals and list items; its spans index the text exactly (chunking relies on that).
- *Citation markers*: :data:`MARKER_RE` and :func:`parse_markers` read ``[1]``, ``[1, 2]``,
  ``[1-3]`` and ``[Source 2]``; :func:`clean_markers` drops numbers that name no passage and
  :func:`strip_markers` removes all markers.
"""

from __future__ import annotations

from assistant.text.markers import (
    CANONICAL_MARKER_RE,
    MARKER_RE,
    Marker,
    clean_markers,
    parse_markers,
    strip_markers,
)
from assistant.text.naming import ROLE_TITLES, name_phrases, names, proper_nouns
from assistant.text.sentences import Span, split_sentences
from assistant.text.tokens import (
    MAX_QUESTION_CHARS,
    NUMBER_WORDS,
    STOPWORDS,
    clean_question,
    content_tokens,
    date_words,
    idf_weights,
    normalise_number,
    number_list,
    numbers,
    stem,
)

__all__ = [
    "CANONICAL_MARKER_RE",
    "MARKER_RE",
    "MAX_QUESTION_CHARS",
    "NUMBER_WORDS",
    "ROLE_TITLES",
    "STOPWORDS",
    "Marker",
    "Span",
    "clean_markers",
    "clean_question",
    "content_tokens",
    "date_words",
    "idf_weights",
    "name_phrases",
    "names",
    "normalise_number",
    "number_list",
    "numbers",
    "parse_markers",
    "proper_nouns",
    "split_sentences",
    "stem",
    "strip_markers",
]
