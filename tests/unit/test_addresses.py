"""Which addresses a public-only fetch may reach (assistant/ingest/addresses.py): the one check
the fetcher applies to every hop and connection, and the API to the URLs it is given."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.ingest.addresses import (
    AddressPolicy,
    NotPublicError,
    UnresolvableHostError,
    not_public,
    parse_networks,
    resolve,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("224.0.0.1", "a multicast address"),  # is_global on Python 3.11
        ("239.255.255.250", "a multicast address"),
        ("240.0.0.1", "a private address"),  # reserved, listed as private too
        ("255.255.255.255", "a private address"),
        ("100.64.0.1", "not a public address"),  # shared (carrier-grade NAT)
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("ff02::1", "a multicast address"),
        ("fec0::1", "a site-local address"),
        ("::7f00:1", "a reserved address"),  # IPv4-compatible (deprecated)
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a link-local address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 around 127.0.0.1: is_global on 3.11
        ("2002:a00:1::1", "a private address"),  # 6to4 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 around 169.254.169.254
    ],
)
def test_addresses_that_are_not_public_say_why(address: str, kind: str) -> None:
    assert not_public(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address: str) -> None:
    assert not_public(ipaddress.ip_address(address)) is None


def test_trusted_networks_are_allowed_and_nothing_else() -> None:
    policy = AddressPolicy(parse_networks(["127.0.0.2", "10.0.5.0/24"]))
    for allowed in ("127.0.0.2", "::ffff:127.0.0.2", "10.0.5.77", "93.184.215.14"):
        assert policy.refusal(ipaddress.ip_address(allowed)) is None, allowed
    for refused in ("127.0.0.1", "10.0.6.1", "::1"):
        assert policy.refusal(ipaddress.ip_address(refused)) is not None, refused
    with pytest.raises(ConfigError, match=r"'10\.0\.0\.0/33' is not an IP address or network"):
        parse_networks(["10.0.0.0/33"])


def test_a_host_is_checked_by_every_address_it_resolves_to() -> None:
    with pytest.raises(NotPublicError) as caught:
        AddressPolicy().check("localhost", 80)  # /etc/hosts: 127.0.0.1 (and ::1)
    refused = caught.value
    assert refused.kind == "a loopback address" and refused.address.is_loopback
    assert str(refused) == f"localhost points to {refused.why}"
    assert refused.why == f"a private network address ({refused.address} is a loopback address)"
    assert AddressPolicy(parse_networks(["127.0.0.0/8", "::1"])).check("localhost")
    assert resolve("[::1]") == [ipaddress.ip_address("::1")]  # a literal needs no DNS
    assert AddressPolicy().check("93.184.215.14") == [ipaddress.ip_address("93.184.215.14")]
    with pytest.raises(UnresolvableHostError, match=r"no-such-host\.invalid cannot be resolved"):
        AddressPolicy().check("no-such-host.invalid")


def test_settings_take_trusted_networks_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_FETCH_TRUSTED_NETWORKS", "10.0.5.0/24, 192.168.1.7,")
    monkeypatch.setenv("ASSISTANT_FETCH_PUBLIC_ONLY", "true")
    settings = Settings(_env_file=None)
    assert settings.fetch_trusted_networks == ["10.0.5.0/24", "192.168.1.7"]
    assert settings.fetch_public_only
    policy = AddressPolicy.from_settings(settings)
    assert policy.refusal(ipaddress.ip_address("192.168.1.7")) is None
    monkeypatch.setenv("ASSISTANT_FETCH_TRUSTED_NETWORKS", "intranet")
    with pytest.raises(ValidationError, match="'intranet' is neither"):
        Settings(_env_file=None)
