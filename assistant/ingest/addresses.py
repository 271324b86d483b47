"""Which network addresses a fetch may reach: public internet addresses only, when asked.

A server that fetches what its clients name (``assistant serve``) must not become a way into the
network it stands in: cloud metadata at 169.254.169.254, an admin page on 127.0.0.1, the office's
10.x hosts. :class:`AddressPolicy` says why an address is not public (unspecified, loopback,
link-local, multicast, private, reserved, or otherwise not globally reachable; an IPv4 address
inside an IPv4-mapped, 6to4 or NAT64 IPv6 address is judged as itself) unless one of the trusted
networks holds it.

The one implementation of the check: the fetcher (:mod:`assistant.ingest.fetch`) applies it
before every hop and to every connection it opens, and the API uses it (through
``assistant.service``) to refuse a private URL with a 400 before anything is fetched.
Standard library only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.config import Settings
from assistant.errors import ConfigError, LoaderError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_KINDS = [  # the most telling name first (0.0.0.0 and 127.0.0.1 are "private" too)
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_site_local", "a site-local address"),
    ("is_reserved", "a reserved address"),
]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the last 32 bits


class NotPublicError(LoaderError):
    """A host is, or resolves to, an address that is not public (and not trusted)."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        super().__init__(f"{host} points to {self.why}")

    @property
    def why(self) -> str:
        """'a private network address (127.0.0.1 is a loopback address)'."""
        return f"a private network address ({self.address} is {self.kind})"


class UnresolvableHostError(LoaderError):
    """A host name has no address (DNS gives none)."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16) or NAT64
    (64:ff9b::/96) IPv6 address reaches, else None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def not_public(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address ('a loopback address'), or None.

    Every special-purpose flag is looked at, not only ``is_global``: on Python 3.11 a multicast
    IPv4 address and a 6to4 address around 127.0.0.1 both count as global."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return not_public(inner)
    for attribute, words in _KINDS:
        if getattr(address, attribute, False):
            return words
    if not address.is_global:
        return "not a public address"  # e.g. the shared range 100.64.0.0/10
    return None


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR networks ('10.0.5.0/24', '192.168.1.7', 'fd00::/8')."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            msg = f"{value!r} is not an IP address or network (such as 10.0.5.0/24)"
            raise ConfigError(msg) from None
    return tuple(networks)


def resolve(host: str, port: int | None = None) -> list[IPAddress]:
    """The addresses ``host`` (a name or an address literal) stands for, in the order the
    resolver prefers, each once."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        msg = f"{host} cannot be resolved ({exc})"
        raise UnresolvableHostError(msg) from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if address not in found:
            found.append(address)
    if not found:
        msg = f"{host} cannot be resolved (no address)"
        raise UnresolvableHostError(msg)
    return found


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, and those in ``trusted`` (an intranet news server, say)."""

    trusted: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        """The policy of ``settings.fetch_trusted_networks``."""
        return cls(parse_networks(settings.fetch_trusted_networks))

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or None when it may."""
        inner = embedded_ipv4(address)
        if any(a in network for a in (address, inner) if a for network in self.trusted):
            return None
        return not_public(address)

    def check(self, host: str, port: int | None = None) -> list[IPAddress]:
        """The addresses of ``host``, every one allowed; otherwise :class:`NotPublicError`
        naming the first refused (or :class:`UnresolvableHostError`)."""
        addresses = resolve(host, port)
        for address in addresses:
            kind = self.refusal(address)
            if kind is not None:
                raise NotPublicError(host, address, kind)
        return addresses
