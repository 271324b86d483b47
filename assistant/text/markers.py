"""Citation markers: ``[1]``, ``[1, 2]``, ``[1-3]``, ``[Source 2]`` read, cleaned and removed."""

from __future__ import annotations

import re
from dataclasses import dataclass

# [1]  [1, 2]  [1-3]  [Source 2]  (consecutive markers [1][2] are separate matches)
MARKER_RE = re.compile(
    r"\[\s*(?:(?:source|passage|doc|ref)s?\s*[#:]?\s*)?(\d{1,3}(?:\s*(?:[-–,;]|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
CANONICAL_MARKER_RE = re.compile(r"\[\d+(?:, \d+)*\]")


# --- citation markers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A citation marker in a text: its span and the passage numbers it names."""

    start: int
    end: int
    numbers: tuple[int, ...]


def parse_markers(text: str) -> list[Marker]:
    """All citation markers in ``text``; ranges ``[1-3]`` expand to (1, 2, 3)."""
    out = []
    for m in MARKER_RE.finditer(text):
        nums: list[int] = []
        for part in re.split(r"\s*(?:[,;]|and)\s*", m.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2 and bounds[0] and bounds[1]:
                lo, hi = int(bounds[0]), int(bounds[1])
                nums.extend(range(lo, hi + 1) if 0 <= hi - lo <= 10 else [lo, hi])
            elif part.strip():
                nums.append(int(bounds[0]))
        out.append(Marker(m.start(), m.end(), tuple(dict.fromkeys(nums))))
    return out


def strip_markers(text: str) -> str:
    """The text without markers (and without the space before them)."""
    return re.sub(r"\s*" + MARKER_RE.pattern, "", text, flags=re.IGNORECASE).strip()


def clean_markers(text: str, valid: set[int]) -> tuple[str, int]:
    """Remove numbers that name no shown passage; return the new text and how many were removed."""
    invalid = 0
    pieces: list[str] = []
    pos = 0
    for marker in parse_markers(text):
        good = [n for n in marker.numbers if n in valid]
        invalid += len(marker.numbers) - len(good)
        original = text[marker.start : marker.end]
        if good and len(good) == len(marker.numbers) and CANONICAL_MARKER_RE.fullmatch(original):
            continue
        before = text[pos : marker.start]
        if good:
            pieces.append(before + "[" + ", ".join(map(str, good)) + "]")
        else:
            pieces.append(before.rstrip(" \t") if before.strip() else before)
        pos = marker.end
    pieces.append(text[pos:])
    return "".join(pieces), invalid
