"""The httpx transport of public-only fetching: every connection to public addresses only.

:class:`PublicOnlyTransport` is httpx's own transport with one change: the TCP connections of
its pool are opened by :class:`_CheckedBackend`, which resolves the host itself, refuses the
connection (:class:`~assistant.ingest.addresses.NotPublicError`) when any of the host's
addresses is not allowed by the :class:`~assistant.ingest.addresses.AddressPolicy`, and then
connects to exactly the addresses it checked. So the address checked is the address connected
to: a DNS answer that changes after an earlier check (DNS rebinding) is caught here too.
Used only by :mod:`assistant.ingest.fetch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from assistant.errors import ConfigError
from assistant.ingest.addresses import AddressPolicy, UnresolvableHostError


class _CheckedBackend(httpcore.SyncBackend):
    """Opens TCP connections only to addresses the policy allows, and to exactly those."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.check(host, port)
        except UnresolvableHostError as exc:  # like any failed connection (retried)
            raise httpcore.ConnectError(str(exc)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # check() returns at least one address
        raise failure


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's own transport (HTTP/1.1, TLS verified against the host name, keep-alive) whose
    connections go through :class:`_CheckedBackend`. A client given this transport uses no
    proxy from the environment: through a proxy the address finally reached cannot be seen."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        # httpx takes no network backend, so its pool is built again with one. Should a later
        # httpx keep its pool elsewhere, refuse to run unchecked rather than fetch unchecked.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            msg = "this httpx version cannot check the addresses it connects to"
            raise ConfigError(msg)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),  # as httpx's: certifi, or SSL_CERT_FILE
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(policy),
        )
