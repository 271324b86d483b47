"""URLs the API may be asked to fetch: public http(s) addresses only.

A server that fetches what a client names must not become a way into the network it stands
in (cloud metadata at 169.254.169.254, an admin page on 127.0.0.1, the office's 10.x hosts).
Two guards, one check (``assistant.ingest.addresses``, through ``assistant.service``):

* here, each URL a client gives is resolved and every address it resolves to must be public
  (or in ``settings.fetch_trusted_networks``); otherwise the request is refused with a 400
  before anything is fetched;
* the ingest then fetches with ``public_only=True`` (:func:`public_only`): every connection it
  makes — each redirect hop, each item link of a feed — is checked again as it is made, and a
  refused one is a line of the report's ``failed`` while the rest of the batch lands.

``settings.api_allow_private_urls`` lifts both on a trusted network.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from assistant.api.problems import ApiError
from assistant.config import Settings
from assistant.service import AddressPolicy, NotPublicError, UnresolvableHostError


def public_only(settings: Settings) -> bool | None:
    """What the API's ingest passes as ``public_only``: True, unless private URLs are allowed
    (then None: the server's own ``fetch_public_only`` setting decides)."""
    return None if settings.api_allow_private_urls else True


def check_public_url(url: str, settings: Settings | None = None) -> None:
    """Raise a 400 ``ApiError`` unless ``url`` is http(s) and its host resolves to public
    addresses only (or to ``settings.fetch_trusted_networks``)."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a port that is not a number from 0 to 65535
        port, valid = None, False
    if not valid or not parts.hostname:
        msg = f"{url[:200]} is not an http(s) URL."
        raise ApiError(400, msg)
    policy = AddressPolicy.from_settings(settings) if settings else AddressPolicy()
    try:
        policy.check(parts.hostname, port)
    except UnresolvableHostError:
        msg = f"The host of {url[:200]} cannot be resolved."
        raise ApiError(400, msg) from None
    except NotPublicError as exc:
        msg = (
            f"{url[:200]} resolves to {exc.address}, {exc.kind}: the API fetches public "
            "addresses only (ASSISTANT_API_ALLOW_PRIVATE_URLS=true allows others on a trusted "
            "network)."
        )
        raise ApiError(400, msg) from None
