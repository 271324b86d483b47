"""Bytes -> text: UTF-8 (BOM or not), UTF-16/32 with BOM, else charset-normalizer; binary refused.

Text that is not UTF-8 is handed to charset-normalizer. When it finds another script (Cyrillic
cp1251, Japanese Shift-JIS, ...), that encoding is used; when it finds a Latin-script code page,
cp1252 (else Latin-1) is used as before: on a short news text no detector can tell cp1252 from
cp1250 or cp775, and Western European text is by far the most common case.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

EMPTY = "empty file"
BINARY = "binary file"
UNKNOWN_ENCODING = "not valid UTF-8 and not a known encoding"

_SAMPLE = 65536
_NON_SPACE_BYTES = re.compile(rb"[^\s\x00]")
_NON_SPACE = re.compile(r"\S")
# Bytes that plain text contains: \t \n \f \r, ESC, printable ASCII and everything >= 0x80.
_TEXT_BYTES = bytes([9, 10, 12, 13, 27, *range(32, 127), *range(128, 256)])
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _control_share(sample: bytes) -> float:
    """Share of control bytes (not tab/newline/CR/FF) in ``sample``."""
    if not sample:
        return 0.0
    return len(sample.translate(None, _TEXT_BYTES)) / len(sample)


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NULs sit on every other byte, as in ASCII-range UTF-16."""
    half = max(len(sample) // 2, 1)
    odd_nuls, even_nuls = sample[1::2].count(0), sample[0::2].count(0)
    if odd_nuls > 0.6 * half and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > 0.6 * half and odd_nuls == 0:
        return "utf-16-be"
    return None


def _looks_like_text(text: str) -> bool:
    """False when a single-byte decoding produced mostly symbols and C1 controls."""
    sample = text[:_SAMPLE]
    if not sample:
        return True
    odd = sum(1 for ch in sample if ch >= "\x80" and not (ch.isalpha() or ch.isspace()))
    return odd / len(sample) < 0.3


def decode_bytes(data: bytes) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, reason)``; the reason is EMPTY, BINARY or UNKNOWN_ENCODING."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None, UNKNOWN_ENCODING
            return (text, None) if _NON_SPACE.search(text) else (None, EMPTY)
    if not _NON_SPACE_BYTES.search(data):
        return None, EMPTY if b"\x00" not in data[:_SAMPLE] else BINARY
    sample = data[:_SAMPLE]
    if b"\x00" in data:
        encoding_16 = _utf16_without_bom(sample)
        if encoding_16 is None:
            return None, BINARY
        try:
            return data.decode(encoding_16), None
        except UnicodeDecodeError:
            return None, BINARY
    if _control_share(sample) > 0.1:
        return None, BINARY
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    other = _detected_non_latin(sample)
    if other is not None:
        try:
            return data.decode(other), None
        except (UnicodeDecodeError, LookupError):
            return None, UNKNOWN_ENCODING
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # the 5 bytes cp1252 leaves undefined: plain Latin-1
        text = data.decode("latin-1")
    if not _looks_like_text(text):
        return None, UNKNOWN_ENCODING
    return text, None


def _detected_non_latin(sample: bytes) -> str | None:
    """The encoding charset-normalizer finds for ``sample`` if its letters are not Latin."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    letters = [ch for ch in str(best) if ch.isalpha() and not ch.isascii()]
    latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    return best.encoding if letters and latin < len(letters) / 2 else None


def decode_line(line: bytes) -> str:
    """One line of a line-based file: UTF-8, else cp1252, else Latin-1 (never fails)."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def looks_binary(head: bytes) -> bool:
    """True for the first bytes of a file that is not text in any encoding we read."""
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in head:
        return _utf16_without_bom(head) is None
    return _control_share(head) > 0.1


def sniff_encoding(head: bytes) -> str:
    """Encoding for streaming a text file, judged from its first bytes."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        return _utf16_without_bom(head) or "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"
