"""API keys and where a server may listen.

Keys come from ``settings.api_keys`` (``ASSISTANT_API_KEYS``: ``rw:KEY,ro:KEY``, a bare key is
read-write) and ``settings.api_keys_file`` (one SHA-256 hex digest a line, ``rw:``/``ro:`` in
front, ``#`` comments). Every key is kept as its digest only, and a presented key is hashed and
compared with every digest by :func:`hmac.compare_digest`, so neither the comparison nor the loop
ends early on a near miss. With no key configured every request is allowed, and
:func:`check_bind` lets the server listen on loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from assistant.config import Settings
from assistant.errors import ConfigError


class Role(StrEnum):
    """What a key may do: ``read`` (ask, search, timeline, stats, articles) or also ``write``
    (ingest and delete articles)."""

    READ = "read"
    WRITE = "write"


_PREFIXES = {"ro": Role.READ, "rw": Role.WRITE}


def digest(key: str) -> str:
    """The SHA-256 hex digest of a key, as ``api_keys_file`` lists keys."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split_role(entry: str) -> tuple[Role, str]:
    prefix, sep, rest = entry.partition(":")
    if sep and prefix.strip().lower() in _PREFIXES:
        return _PREFIXES[prefix.strip().lower()], rest.strip()
    return Role.WRITE, entry.strip()


@dataclass(frozen=True)
class Keys:
    """The configured keys, as (digest, role) pairs."""

    entries: tuple[tuple[bytes, Role], ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.entries)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        entries: list[tuple[bytes, Role]] = []
        if settings.api_keys is not None:
            for raw in settings.api_keys.get_secret_value().split(","):
                if not raw.strip():
                    continue
                role, key = _split_role(raw)
                if not key:
                    msg = "ASSISTANT_API_KEYS has an entry with a role and no key (write rw:KEY)"
                    raise ConfigError(msg)
                entries.append((bytes.fromhex(digest(key)), role))
        if settings.api_keys_file is not None:
            entries += _read_keys_file(settings.api_keys_file)
        return cls(tuple(entries))

    def role_of(self, key: str | None) -> Role | None:
        """The role of a presented key, or None when it matches no configured key."""
        if not key:
            return None
        presented = bytes.fromhex(digest(key))
        found: Role | None = None
        for stored, role in self.entries:  # no early exit: every digest is compared
            if hmac.compare_digest(presented, stored) and found is None:
                found = role
        return found


def _read_keys_file(path: Path) -> list[tuple[bytes, Role]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        msg = f"cannot read ASSISTANT_API_KEYS_FILE {path}: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    entries: list[tuple[bytes, Role]] = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        role, hexdigest = _split_role(text)
        try:
            value = bytes.fromhex(hexdigest)
        except ValueError:
            value = b""
        if len(value) != 32:
            msg = (
                f"{path}:{number} is not a SHA-256 hex digest (64 hex digits, e.g. from "
                "`printf %s KEY | sha256sum`)"
            )
            raise ConfigError(msg)
        entries.append((value, role))
    return entries


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) means this machine only."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def check_bind(host: str, keys: Keys) -> None:
    """Refuse to listen beyond this machine without an API key (a ConfigError, exit code 2)."""
    if keys.required or is_loopback(host):
        return
    msg = (
        f"refusing to listen on {host} without an API key: set ASSISTANT_API_KEYS "
        "(or ASSISTANT_API_KEYS_FILE), or listen on 127.0.0.1"
    )
    raise ConfigError(msg)
