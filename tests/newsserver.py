"""A real HTTP server on 127.0.0.1 serving news pages and feeds, good and bad, for fetch tests.

``NewsServer(host)`` listens on another loopback address (127.0.0.2, say) for tests that need
two hosts, e.g. one a public-only fetcher is told to trust and one it must not reach.

``NewsServer`` runs ``http.server`` in a thread; routes are plain data (status, headers, body,
delay) that a test may change between polls; every request is logged (path, headers).
Run as ``python -m tests.newsserver PORT_FILE`` it serves the default site until killed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import html
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: str | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int


def page(title: str, paragraphs: list[str], site: str = "", date: str = "") -> bytes:
    """An article page trafilatura reads: og metadata, an <article> with paragraphs."""
    meta = f'<meta property="og:title" content="{html.escape(title)}">'
    if site:
        meta += f'<meta property="og:site_name" content="{html.escape(site)}">'
    if date:
        meta += f'<meta property="article:published_time" content="{date}">'
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"{meta}</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>{body}</article>"
        "<footer>Copyright the outlet</footer></body></html>"
    ).encode()


def rss(title: str, items: list[tuple[str, str, str]], base: str) -> bytes:
    """RSS 2.0 with (title, path, YYYY-MM-DD) items linking to ``base + path``."""
    parts = [f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>{title}"]
    parts.append(f"</title><link>{base}/</link><description>test feed</description>")
    for item_title, path, day in items:
        when = email.utils.format_datetime(
            dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.UTC)
        )
        parts.append(
            f"<item><title>{html.escape(item_title)}</title><link>{base}{path}</link>"
            f"<guid>{base}{path}</guid><pubDate>{when}</pubDate>"
            f"<description>Summary of {html.escape(item_title)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def story(topic: str, n: int = 5) -> list[str]:
    return [
        f"Paragraph {i} about {topic}: officials said on Tuesday that the {topic} work would "
        f"continue through the summer, and residents were told to expect more news soon ({i})."
        for i in range(1, n + 1)
    ]


class NewsServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                route = server.routes.get(self.path.split("?")[0])
                status = route.status if route else 404
                if route and route.etag and self.headers.get("If-None-Match") == route.etag:
                    status = 304
                with server._lock:
                    server.hits.append(Hit(self.path, dict(self.headers), status))
                if route and route.delay:
                    time.sleep(route.delay)
                body = b"not found" if route is None else route.body
                if status == 304:
                    body = b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", route.content_type if route else "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    if route and route.etag:
                        self.send_header("ETag", route.etag)
                    for key, value in (route.headers if route else {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> NewsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.hits if h.path.split("?")[0] == path)

    def bytes_sent(self, path: str) -> int:
        route = self.routes.get(path)
        return len(route.body) if route else 0


@contextlib.contextmanager
def news_server(host: str = "127.0.0.1") -> Iterator[NewsServer]:
    server = NewsServer(host).start()
    try:
        yield server
    finally:
        server.stop()


def slow_site(server: NewsServer, items: int, delay: float) -> None:
    """A feed of ``items`` pages, each answering after ``delay`` seconds (for the watch test)."""
    base = server.base
    entries = [(f"Slow story {i}", f"/slow/{i}.html", f"2022-07-{1 + i:02d}") for i in range(items)]
    server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    server.routes["/slow.xml"] = Route(
        body=rss("Slow Wire", entries, base), content_type="application/rss+xml"
    )
    for title, path, _ in entries:
        server.routes[path] = Route(body=page(title, story(title)), delay=delay)


if __name__ == "__main__":  # pragma: no cover - used by the watch subprocess test
    srv = NewsServer()
    slow_site(srv, int(sys.argv[2]), float(sys.argv[3]))
    Path(sys.argv[1]).write_text(srv.base)
    srv.httpd.serve_forever()
