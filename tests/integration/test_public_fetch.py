"""Public-only fetching against real HTTP servers: no redirect, feed item or DNS answer leads a
fetch made for the API to a private address.

Every local server is on loopback, so "public" is made honestly with the real setting
``fetch_trusted_networks``: the news site listens on 127.0.0.2, which the fetcher is told to
trust, and an internal server on 127.0.0.1, which it is not, stands for the network behind a
server (cloud metadata, an admin page). The internal server must never see a request."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.ingest.addresses import AddressPolicy, NotPublicError, parse_networks
from assistant.ingest.fetch import Fetcher, FetchError
from assistant.ingest.transport import PublicOnlyTransport
from tests.newsserver import NewsServer, Route, news_server, page, rss, story

TRUSTED = ["127.0.0.2"]
LOOPBACK = "(127.0.0.1 is a loopback address)"
ROBOTS = Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain")


@pytest.fixture
def internal() -> Iterator[NewsServer]:
    with news_server("127.0.0.1") as server:
        server.routes["/robots.txt"] = ROBOTS
        server.routes["/admin.html"] = Route(body=page("Admin console", story("admin")))
        server.routes["/secret.html"] = Route(body=page("Internal memo", story("memo")))
        yield server


@pytest.fixture
def site(internal: NewsServer) -> Iterator[NewsServer]:
    with news_server("127.0.0.2") as server:
        base, inside = server.base, internal.base
        port = inside.rsplit(":", 1)[1]
        r = server.routes
        r["/robots.txt"] = ROBOTS
        r["/news/harbour.html"] = Route(body=page("Harbour reopens", story("harbour")))
        r["/news/grain.html"] = Route(body=page("Grain ships leave port", story("grain")))
        r["/go-inside"] = Route(status=302, headers={"Location": f"{inside}/admin.html"})
        r["/hop"] = Route(status=301, headers={"Location": "/go-inside"})  # a later hop
        by_name = f"http://localhost:{port}/admin.html"
        r["/go-by-name"] = Route(status=302, headers={"Location": by_name})
        mapped = f"http://[::ffff:127.0.0.1]:{port}/admin.html"
        r["/go-mapped"] = Route(status=307, headers={"Location": mapped})
        items = [
            ("Harbour reopens", "/news/harbour.html", "2022-06-17"),
            ("Admin console", f"{inside}/admin.html", "2022-06-18"),
            ("Grain ships leave port", "/news/grain.html", "2022-06-18"),
            ("Internal memo", f"{inside}/secret.html", "2022-06-19"),
            ("Moved story", "/hop", "2022-06-19"),
        ]
        feed = rss("Harbour Wire", [(t, p, d) for t, p, d in items if p.startswith("/")], base)
        for title, link, _ in items:  # the items that link outside the site, put in as is
            if not link.startswith("/"):
                feed = feed.replace(
                    b"</channel>",
                    f"<item><title>{title}</title><link>{link}</link></item></channel>".encode(),
                )
        r["/wire.rss"] = Route(body=feed, content_type="application/rss+xml")
        yield server


@pytest.fixture
def guarded(make_assistant):  # type: ignore[no-untyped-def]
    """An assistant whose settings fetch public addresses only (127.0.0.2 counts as public)."""
    return make_assistant(
        fetch_public_only=True, fetch_trusted_networks=TRUSTED, fetch_timeout=2.0,
        fetch_retries=0, fetch_backoff=0.01,
    )  # fmt: skip


def _reasons(report: Any) -> dict[str, str]:
    return {f.path: f.reason for f in report.failed}


def test_a_redirect_to_loopback_is_refused_and_the_batch_goes_on(site, internal, guarded):
    base, inside = site.base, internal.base
    urls = [f"{base}/go-inside", f"{base}/hop", f"{base}/news/harbour.html"]
    report = guarded.ingest(urls)
    assert report.new == 1
    reasons = _reasons(report)
    assert set(reasons) == {f"{base}/go-inside", f"{base}/hop"}
    expected = (
        f"not fetched: it redirects to {inside}/admin.html, which points to a private network "
        f"address {LOOPBACK}"
    )
    assert reasons[f"{base}/go-inside"] == expected
    assert reasons[f"{base}/hop"] == expected  # two hops away
    assert internal.hits == []  # not even robots.txt was asked
    assert guarded.stats().articles == 1
    assert guarded.article(f"{inside}/admin.html") is None


def test_a_redirect_to_a_name_or_a_mapped_address_of_loopback_is_refused(site, internal, guarded):
    report = guarded.ingest([f"{site.base}/go-by-name", f"{site.base}/go-mapped"])
    reasons = _reasons(report)
    assert "it redirects to http://localhost:" in reasons[f"{site.base}/go-by-name"]
    assert "is a loopback address)" in reasons[f"{site.base}/go-by-name"]
    assert reasons[f"{site.base}/go-mapped"].endswith(
        "which points to a private network address (::ffff:7f00:1 is a loopback address)"
    )
    assert report.new == 0 and internal.hits == []


def test_feed_items_linking_inside_are_refused_one_by_one(site, internal, guarded):
    base, inside = site.base, internal.base
    report = guarded.ingest([f"{base}/wire.rss"])
    assert report.new == 2  # harbour and grain
    reasons = _reasons(report)
    assert reasons == {
        f"{inside}/admin.html": f"not fetched: it points to a private network address {LOOPBACK}",
        f"{inside}/secret.html": f"not fetched: it points to a private network address {LOOPBACK}",
        f"{base}/hop": (
            f"not fetched: it redirects to {inside}/admin.html, which points to a private "
            f"network address {LOOPBACK}"
        ),
    }
    assert internal.hits == []
    stats = guarded.stats()
    assert stats.articles == 2 and stats.sources == {"Harbour Wire": 2}
    for link in (f"{inside}/admin.html", f"{inside}/secret.html", f"{base}/hop"):
        assert guarded.article(link) is None
    found = guarded.search("officials said the admin memo work would continue", k=10)
    assert found and all(p.article_id.startswith(base) for p in found)
    again = guarded.ingest([f"{base}/wire.rss"])  # the refused items are refused again
    assert (again.new, again.unchanged, len(again.failed)) == (0, 2, 3)
    assert internal.hits == []


def test_without_public_only_the_cli_follows_the_same_links(site, internal, make_assistant):
    """The CLI's default is unchanged: a local feed may point anywhere."""
    assistant = make_assistant(fetch_timeout=2.0, fetch_retries=0)
    report = assistant.ingest([f"{site.base}/wire.rss"])
    assert (report.new, report.failed) == (5, [])
    assert internal.count("/admin.html") == 2  # as an item, and at the end of /hop
    assert internal.count("/secret.html") == 1


def test_public_only_can_be_asked_for_per_call(site, internal, make_assistant):
    assistant = make_assistant(fetch_trusted_networks=TRUSTED, fetch_retries=0)
    refused = assistant.ingest([f"{site.base}/go-inside"], public_only=True)
    assert refused.new == 0 and "private network address" in refused.failed[0].reason
    assert internal.hits == []
    followed = assistant.ingest([f"{site.base}/go-inside"])  # the setting's default: off
    assert (followed.new, followed.failed) == (1, [])


# --- the connection itself is checked ----------------------------------------------------------


def test_the_transport_refuses_a_connection_to_loopback(internal):
    refusing = httpx.Client(transport=PublicOnlyTransport(AddressPolicy()))
    with refusing, pytest.raises(NotPublicError, match=r"127\.0\.0\.1 is a loopback address"):
        refusing.get(f"{internal.base}/admin.html")
    assert internal.hits == []
    trusting = PublicOnlyTransport(AddressPolicy(parse_networks(["127.0.0.1"])))
    with httpx.Client(transport=trusting) as client:
        response = client.get(f"{internal.base}/admin.html")
        assert response.status_code == 200
        assert response.extensions["network_stream"].get_extra_info("server_addr")[0] == (
            "127.0.0.1"
        )


def test_a_dns_answer_that_changes_after_the_check_is_caught_when_connecting(
    internal, make_assistant, monkeypatch
):
    """DNS rebinding: the name resolves to an allowed address when checked, to loopback when
    the connection is made. A fake resolver (the system's, replaced) answers this one name."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.2"])

    def rebinding(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != "news.rebind.test":
            return real(host, port, *args, **kw)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = internal.base.rsplit(":", 1)[1]
    settings = make_assistant(fetch_trusted_networks=TRUSTED, fetch_retries=0).settings
    fetcher = Fetcher(settings, public_only=True)
    try:
        with pytest.raises(FetchError) as caught:
            fetcher.get(f"http://news.rebind.test:{port}/admin.html")
    finally:
        fetcher.close()
    assert str(caught.value) == (
        f"not fetched: news.rebind.test points to a private network address {LOOPBACK}"
    )
    assert internal.hits == []


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway certificate authority and a certificate for the name 'localhost' only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    leaf = (
        x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def test_tls_is_verified_against_the_host_name_not_the_address_connected_to(tmp_path, monkeypatch):
    pytest.importorskip("cryptography")
    ca, cert, key = _tls_files(tmp_path)

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the transport trusts the test CA
    policy = AddressPolicy(parse_networks(["127.0.0.0/8", "::1"]))
    try:
        with httpx.Client(transport=PublicOnlyTransport(policy), timeout=5) as client:
            assert client.get(f"https://localhost:{port}/").text == "hello"
            with pytest.raises(httpx.ConnectError, match="certificate"):
                client.get(f"https://127.0.0.1:{port}/")  # the certificate names localhost
    finally:
        server.shutdown()
        server.server_close()


# --- through the API ---------------------------------------------------------------------------


def test_api_ingest_refuses_what_leads_inside_and_lands_the_rest(site, internal, make_assistant):
    assistant = make_assistant(fetch_trusted_networks=TRUSTED, fetch_timeout=2.0, fetch_retries=0)
    with TestClient(create_app(assistant.settings, assistant)) as client:
        urls = [f"{site.base}/wire.rss", f"{site.base}/go-inside"]
        response = client.post("/v1/articles", json={"urls": urls})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["new"] == 2
        failed = {f["path"]: f["reason"] for f in report["failed"]}
        assert set(failed) == {
            f"{internal.base}/admin.html",
            f"{internal.base}/secret.html",
            f"{site.base}/hop",
            f"{site.base}/go-inside",
        }
        assert all("private network address" in r and "\n" not in r for r in failed.values())
        direct = client.post("/v1/articles", json={"urls": [f"{internal.base}/admin.html"]})
        assert direct.status_code == 400
        assert "a loopback address" in direct.json()["error"]["message"]
        assert client.get("/v1/stats").json()["articles"] == 2
    assert internal.hits == []


def test_api_may_fetch_private_addresses_when_the_server_allows_it(site, internal, make_assistant):
    assistant = make_assistant(api_allow_private_urls=True, fetch_timeout=2.0, fetch_retries=0)
    with TestClient(create_app(assistant.settings, assistant)) as client:
        response = client.post("/v1/articles", json={"urls": [f"{site.base}/go-inside"]})
        assert response.status_code == 200 and response.json()["new"] == 1
    assert internal.count("/admin.html") == 1
