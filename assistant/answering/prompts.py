"""Prompt files under ``prompts/``, loaded by name, and the safe rendering of untrusted sources.

A prompt *name* maps to files in the prompts folder:

- ``<name>_system.md`` + ``<name>_user.md`` -> a system and a human message;
- ``<name>.md`` -> a single human message;
- ``<name>.txt`` -> plain text (e.g. ``refusal``), read with :func:`load_text`.

Templates use ``{variable}`` placeholders (f-string syntax). Values are substituted once, so braces
inside article text are never interpreted. Article text is untrusted: :func:`format_sources` wraps
each passage in ``<source n=...>`` delimiters and :func:`neutralise` defuses anything inside it that
could close the delimiter, pose as a citation marker or pose as a role/instruction line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from assistant.errors import ConfigError
from assistant.models import Passage
from assistant.resources import prompts_dir

PROMPTS_DIR: Path = prompts_dir()

# Anything that looks like an opening or closing tag of our delimiters (or of a chat role).
_TAG = re.compile(
    r"<\s*(/?)\s*(source|sources|system|user|assistant|instructions?|human|developer)\b",
    re.IGNORECASE,
)
# Citation-looking markers: [7], [1, 2], [1-3], [Source 3], [n=2].
_MARKER = re.compile(
    r"\[\s*(?:(?:source|passage|doc|ref|n)\s*[=#:]?\s*)?(\d+(?:\s*[-–,;]\s*\d+)*)\s*\]",
    re.IGNORECASE,
)
# A line that poses as a chat role or instruction header: "SYSTEM: ...", "### Instruction:".
_ROLE_LINE = re.compile(
    r"^([ \t>#*-]*)(system|assistant|user|developer|human|instructions?)(\s*[:：])",
    re.IGNORECASE | re.MULTILINE,
)


def _path(name: str, suffix: str) -> Path:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        msg = f"invalid prompt name {name!r} (use lowercase letters, digits and _)"
        raise ConfigError(msg)
    return PROMPTS_DIR / f"{name}{suffix}"


@lru_cache(maxsize=64)
def load_text(name: str) -> str:
    """The text of ``prompts/<name>.txt`` (or ``.md``), stripped."""
    for suffix in (".txt", ".md"):
        path = _path(name, suffix)
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    msg = f"prompt file prompts/{name}.txt is missing (looked in {PROMPTS_DIR})"
    raise ConfigError(msg)


@lru_cache(maxsize=64)
def load_prompt(name: str) -> ChatPromptTemplate:
    """The chat prompt called ``name`` (see the module docstring for the file layout)."""
    system, user, single = _path(name, "_system.md"), _path(name, "_user.md"), _path(name, ".md")
    if user.is_file():
        messages: list[tuple[str, str]] = []
        if system.is_file():
            messages.append(("system", system.read_text(encoding="utf-8").strip()))
        messages.append(("human", user.read_text(encoding="utf-8").strip()))
        return ChatPromptTemplate.from_messages(messages)
    if single.is_file():
        return ChatPromptTemplate.from_messages([("human", single.read_text(encoding="utf-8"))])
    msg = f"prompt {name!r} not found: expected prompts/{name}.md or prompts/{name}_user.md"
    raise ConfigError(msg)


def prompt_names() -> list[str]:
    """Names of all chat prompts in the prompts folder."""
    names: set[str] = set()
    for path in PROMPTS_DIR.glob("*.md"):
        stem = path.stem
        for suffix in ("_system", "_user"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
        names.add(stem)
    return sorted(names)


def refusal_sentence() -> str:
    """The exact sentence the answer prompt asks for when the sources lack the answer."""
    return load_text("refusal")


def neutralise(text: str) -> str:
    """Defuse delimiter tags, fake citation markers and role lines inside untrusted text.

    The text stays readable: ``</source>`` becomes ``‹/source>``, ``[7]`` becomes ``(7)`` and a
    line ``SYSTEM: do X`` becomes ``(quoted) SYSTEM: do X``.
    """
    text = _TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)
    text = _MARKER.sub(lambda m: f"({m.group(0)[1:-1].strip()})", text)
    return _ROLE_LINE.sub(lambda m: f"{m.group(1)}(quoted) {m.group(2)}{m.group(3)}", text)


def _attr(value: str) -> str:
    """An attribute value that cannot break out of its quotes or the tag."""
    value = neutralise(" ".join(value.split()))
    return value.replace('"', "'").replace("<", "‹").replace(">", "›")


def format_source(passage: Passage, *, n: int | None = None) -> str:
    """One passage as ``<source n=".." title=".." outlet=".." date="..">text</source>``."""
    number = passage.n if n is None else n
    date = passage.published.isoformat() if passage.published else "unknown"
    head = (
        f'<source n="{number}" title="{_attr(passage.title or "untitled")}" '
        f'outlet="{_attr(passage.source or "unknown")}" date="{date}">'
    )
    return f"{head}\n{neutralise(passage.text.strip())}\n</source>"


def format_sources(passages: Sequence[Passage]) -> str:
    return "\n\n".join(format_source(p) for p in passages)
