"""The HTTP adapter: the only code that fetches URLs (httpx), politely and within bounds.

Every request names the tool (``settings.user_agent``), honours robots.txt (RFC 9309: a missing
robots.txt allows everything, an unreachable one forbids everything), has a connect/read timeout,
reads at most ``settings.fetch_max_bytes``, follows at most ``settings.fetch_max_redirects``
redirects (robots.txt is checked again at every hop), retries 429/5xx answers and failed
connections with exponential backoff (tenacity) and honours ``Retry-After``. Conditional GET:
the ETag / Last-Modified of each URL are kept in ``settings.feeds_dir`` so asking again for an
unchanged feed costs one 304 answer. Validators are staged and written only by ``commit()`` —
the caller commits once what was fetched is safely stored.

Public addresses only (``public_only``, default ``settings.fetch_public_only``; the API's
ingest turns it on): every hop's host is resolved and checked before its request, and every
connection is checked again as it is made (:class:`PublicOnlyTransport`: the host is resolved
there, every address checked with :mod:`assistant.ingest.addresses`, and exactly the checked
addresses connected to), so neither a redirect nor a feed's item link nor a DNS answer that
changes in between (DNS rebinding) reaches a private address. A refused URL is a
:class:`RefusedError` with a one-line reason.

Problems raise :class:`FetchError` with a one-line reason; nothing here knows about articles.
"""

from __future__ import annotations

import email.utils
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib import robotparser
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from assistant.config import Settings
from assistant.errors import LoaderError
from assistant.ingest.addresses import AddressPolicy, NotPublicError, UnresolvableHostError
from assistant.ingest.transport import PublicOnlyTransport

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml"}
    | {"text/xml"}
)
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TOKEN = "news-assistant"  # the product token robots.txt groups are matched against


class FetchError(LoaderError):
    """A URL could not be fetched; the message is the one-line reason."""


class RefusedError(FetchError):
    """Not fetched: public-only fetching, and the URL (or a hop) points to a private address."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    content_type: str = ""
    body: bytes = b""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None

    @property
    def kind(self) -> str:
        """'page', 'feed' or '' (another content type)."""
        if self.content_type in PAGE_TYPES:
            return "page"
        if self.content_type in FEED_TYPES or self.content_type.endswith(("+xml", "/xml")):
            return "feed"
        return ""


class Validators:
    """ETag / Last-Modified per URL in a JSON file; changes are staged until ``commit()``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._saved: dict[str, dict[str, Any]] | None = None
        self._staged: dict[str, dict[str, Any] | None] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._saved is None:
            self._saved = {}
            if self.path is not None and self.path.exists():
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    self._saved = data if isinstance(data, dict) else {}
                except (OSError, ValueError):  # a damaged cache only costs full downloads
                    self._saved = {}
        return self._saved

    def get(self, url: str) -> dict[str, Any] | None:
        if url in self._staged:
            return self._staged[url]
        return self._load().get(url)

    def stage(self, url: str, entry: dict[str, Any] | None) -> None:
        self._staged[url] = entry

    def commit(self) -> None:
        if not self._staged or self.path is None:
            self._staged.clear()
            return
        data = dict(self._load())
        for url, entry in self._staged.items():
            if entry is None:
                data.pop(url, None)
            else:
                data[url] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".validators-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)
        self._saved = data
        self._staged.clear()


class Fetcher:
    """GET with robots.txt, timeouts, size cap, redirect limit, retries and conditional GET;
    with ``public_only``, from public addresses only (an injected ``client`` keeps its own
    transport: then only the check before each hop applies)."""

    def __init__(
        self,
        settings: Settings,
        client: httpx.Client | None = None,
        public_only: bool | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        public = settings.fetch_public_only if public_only is None else public_only
        self.policy = AddressPolicy.from_settings(settings) if public else None
        self._robots: dict[str, robotparser.RobotFileParser | str] = {}
        self.validators = Validators(settings.feeds_dir / "validators.json")
        self.bytes_read = 0
        self.requests = 0

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            t = self.settings.fetch_timeout
            self._client = httpx.Client(
                timeout=httpx.Timeout(t, connect=t, pool=t),
                follow_redirects=False,  # followed here, so robots.txt is checked at every hop
                headers={"User-Agent": self.settings.user_agent},
                transport=PublicOnlyTransport(self.policy) if self.policy else None,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def commit(self) -> None:
        self.validators.commit()

    # --- the one public request ---------------------------------------------------------------

    def get(self, url: str, conditional: bool = False) -> Fetched:
        """GET ``url`` (following redirects); ``conditional`` sends the stored validators."""
        headers: dict[str, str] = {}
        known = self.validators.get(url) if conditional else None
        if known:
            if known.get("etag"):
                headers["If-None-Match"] = str(known["etag"])
            if known.get("last_modified"):
                headers["If-Modified-Since"] = str(known["last_modified"])
        current = url
        for hop in range(self.settings.fetch_max_redirects + 1):
            self._check_address(current, redirected=hop > 0)
            self._check_robots(current)
            response = self._with_retries(current, headers)
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    msg = f"HTTP {response.status_code} redirect without a Location"
                    raise FetchError(msg)
                current = urljoin(current, location)
                if urlsplit(current).scheme not in ("http", "https"):
                    msg = f"redirect to a non-http(s) URL ({current[:100]})"
                    raise FetchError(msg)
                continue
            return self._result(url, current, response)
        msg = f"more than {self.settings.fetch_max_redirects} redirects (redirect loop?)"
        raise FetchError(msg)

    def _result(self, url: str, final: str, response: _Response) -> Fetched:
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        fetched = Fetched(
            url=url,
            final_url=final,
            status=response.status_code,
            content_type=ctype,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )
        if response.status_code == 304:
            fetched.not_modified = True
            return fetched
        if response.status_code >= 400:
            msg = f"HTTP {response.status_code} {response.reason}".strip()
            raise FetchError(msg)
        if response.status_code != 200:
            msg = f"unexpected HTTP {response.status_code}"
            raise FetchError(msg)
        if not fetched.kind:
            msg = (
                f"unsupported content type {ctype or '(none)'} (expected an HTML page or RSS/Atom)"
            )
            raise FetchError(msg)
        fetched.body = response.body
        return fetched

    def remember(self, fetched: Fetched, kind: str) -> None:
        """Stage the answer's validators (written by ``commit()``)."""
        if fetched.etag or fetched.last_modified:
            entry = {"etag": fetched.etag, "last_modified": fetched.last_modified, "kind": kind}
            self.validators.stage(fetched.url, entry)

    def forget(self, url: str) -> None:
        if self.validators.get(url) is not None:
            self.validators.stage(url, None)

    # --- one request, retried ---------------------------------------------------------------

    def _with_retries(self, url: str, headers: dict[str, str]) -> _Response:
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.fetch_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(url, headers)
        except _Retryable as exc:
            tries = self.settings.fetch_retries + 1
            msg = f"{exc.reason} (after {tries} tr{'y' if tries == 1 else 'ies'})"
            raise FetchError(msg) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return float(after)
        return self.settings.fetch_backoff * 2 ** (state.attempt_number - 1)

    def _once(self, url: str, headers: dict[str, str], limit: int | None = None) -> _Response:
        limit = limit or self.settings.fetch_max_bytes
        self.requests += 1
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    after = _retry_after(response.headers.get("retry-after"))
                    reason = f"HTTP {status} {response.reason_phrase}".strip()
                    if after is not None and after > self.settings.fetch_max_wait:
                        msg = f"{reason}, Retry-After {after:.0f}s is longer than we wait"
                        raise FetchError(msg)
                    raise _Retryable(reason, after)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    msg = f"too large ({int(declared):,} bytes, the limit is {limit:,})"
                    raise FetchError(msg)
                body = bytearray()
                deadline = time.monotonic() + 4 * self.settings.fetch_timeout
                if status == 200:
                    for part in response.iter_bytes():
                        body += part
                        if len(body) > limit:
                            msg = f"too large (over {limit:,} bytes)"
                            raise FetchError(msg)
                        if time.monotonic() > deadline:  # a server dripping bytes forever
                            msg = f"too slow (not complete after {4 * self.settings.fetch_timeout:g}s)"
                            raise FetchError(msg)
                self.bytes_read += len(body)
                return _Response(status, response.reason_phrase, response.headers, bytes(body))
        except NotPublicError as exc:  # the connection itself was refused
            raise RefusedError(f"not fetched: {exc}") from None
        except httpx.TimeoutException:
            msg = f"timed out (no answer within {self.settings.fetch_timeout:g}s)"
            raise FetchError(msg) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
            raise _Retryable(f"connection failed ({_short(exc)})") from None
        except httpx.HTTPError as exc:
            msg = f"request failed ({type(exc).__name__}: {_short(exc)})"
            raise FetchError(msg) from None

    # --- public addresses only ----------------------------------------------------------------

    def _check_address(self, url: str, redirected: bool) -> None:
        """With public-only fetching, refuse ``url`` when its host is or resolves to an address
        that is not public (a host that does not resolve fails when it is requested)."""
        if self.policy is None:
            return
        parts = urlsplit(url)
        if not parts.hostname:
            return  # not an http(s) URL: _check_robots says so
        try:
            port = parts.port
        except ValueError:
            port = None
        try:
            self.policy.check(parts.hostname, port)
        except UnresolvableHostError:
            return
        except NotPublicError as exc:
            where = f"it redirects to {url[:100]}, which points" if redirected else "it points"
            raise RefusedError(f"not fetched: {where} to {exc.why}") from None

    # --- robots.txt ---------------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = "not an http(s) URL"
            raise FetchError(msg)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        rules = self._robots[origin]
        if isinstance(rules, str):
            raise FetchError(rules)
        if not rules.can_fetch(ROBOTS_TOKEN, url):
            msg = "disallowed by robots.txt"
            raise FetchError(msg)

    def _load_robots(self, origin: str) -> robotparser.RobotFileParser | str:
        """The rules, or why nothing may be fetched (RFC 9309: unreachable = all disallowed)."""
        rules = robotparser.RobotFileParser()
        try:
            response = self._once(f"{origin}/robots.txt", {}, ROBOTS_MAX_BYTES)
        except _Retryable as exc:
            if exc.reason.startswith("connection failed"):
                return exc.reason
            return f"robots.txt answered {exc.reason}: nothing fetched from {origin}"
        except RefusedError as exc:
            return str(exc)
        except FetchError as exc:
            return f"robots.txt could not be read ({exc}): nothing fetched from {origin}"
        if response.status_code == 200:
            rules.parse(response.body.decode("utf-8", errors="replace").splitlines())
        else:  # 3xx/4xx: no usable robots.txt, everything allowed
            rules.parse([])
        return rules


@dataclass
class _Response:
    status_code: int
    reason: str
    headers: httpx.Headers
    body: bytes


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _short(error: object) -> str:
    return (" ".join(str(error).split()) or type(error).__name__)[:160]
