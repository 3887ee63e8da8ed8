"""Web pages served by a real http.server on 127.0.0.1: ETag/304, robots.txt, off-site links, timeouts."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import rag
from eval.ports import listen_port
from rag.sources.config import spec_from_location
from rag.sources.runner import SyncOptions, sync_once
from rag.sources.sync import PassReport
from rag.sources.web import WebSource


class Site:
    """The pages a test site serves, and what it was asked."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {
            "/a.html": "<html><head><title>Alpha</title></head><body><p>The alpha page tells of copper kettles.</p></body></html>",
            "/b.html": "<html><head><title>Beta</title></head><body><p>The beta page tells of brass lanterns.</p></body></html>",
            "/private/secret.html": "<html><body><p>A secret page robots.txt forbids.</p></body></html>",
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
        }
        self.slow: set[str] = set()
        self.requests: list[tuple[str, int]] = []  # (path, status)

    def sitemap(self, port: int) -> str:
        locs = [
            f"http://127.0.0.1:{port}{path}"
            for path in ("/a.html", "/b.html", "/private/secret.html", "/slow.html")
        ]
        locs.append("http://elsewhere.example/offsite.html")
        return "<urlset>" + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>"


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            port = self.server.server_address[1]
            if self.path in site.slow:
                time.sleep(2)
            if self.path == "/index-sitemap.xml.gz":  # an index of one gzipped sitemap
                index = f"<sitemapindex><sitemap><loc>http://127.0.0.1:{port}/sitemap.xml.gz</loc></sitemap></sitemapindex>"
                return self._send(200, gzip.compress(index.encode()), "application/gzip")
            if self.path == "/sitemap.xml.gz":
                return self._send(200, gzip.compress(site.sitemap(port).encode()), "application/gzip")
            if self.path == "/broken-sitemap.xml.gz":
                return self._send(200, b"\x1f\x8b not gzip at all", "application/gzip")
            body = site.sitemap(port) if self.path == "/sitemap.xml" else site.pages.get(self.path)
            if body is None:
                return self._send(404, b"", "text/plain")
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", "", etag)
            kind = (
                "text/plain"
                if self.path.endswith(".txt")
                else "application/xml"
                if self.path.endswith(".xml")
                else "text/html"
            )
            return self._send(200, body.encode(), kind, etag)

        def _send(self, code: int, body: bytes, kind: str, etag: str = "") -> None:
            site.requests.append((self.path, code))
            self.send_response(code)
            if kind:
                self.send_header("Content-Type", kind)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[tuple[Site, str, ThreadingHTTPServer]]:
    content = Site()
    server = ThreadingHTTPServer(("127.0.0.1", listen_port()), handler_for(content))
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield content, f"http://127.0.0.1:{port}", server
    server.shutdown()
    server.server_close()


def sync(base: rag.KnowledgeBase, location: str) -> PassReport:
    spec = spec_from_location(location, requests_per_second=0)
    return sync_once(base, [spec], SyncOptions())[0]


def test_sitemap_pages_are_ingested_robots_and_offsite_left_out(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    content, root, _ = site
    report = sync(fake_base, f"{root}/sitemap.xml")
    assert report.added == 2
    assert sorted(fake_base.store.sources()) == [f"{root}/a.html", f"{root}/b.html"]
    asked = [path for path, _ in content.requests]
    assert "/private/secret.html" not in asked and "/robots.txt" in asked
    assert fake_base.search("copper kettles", k=1)[0].source == f"{root}/a.html"


def test_unchanged_pages_cost_one_conditional_request_answered_304(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    content, root, _ = site
    sync(fake_base, f"{root}/sitemap.xml")
    content.requests.clear()
    report = sync(fake_base, f"{root}/sitemap.xml")
    assert (report.unchanged, report.added, report.updated) == (2, 0, 0)
    assert ("/a.html", 304) in content.requests and ("/b.html", 304) in content.requests


def test_changed_page_is_updated_and_deleted_page_removed(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    content, root, _ = site
    sync(fake_base, f"{root}/sitemap.xml")
    content.pages["/a.html"] = "<html><body><p>The alpha page now tells of silver spoons.</p></body></html>"
    del content.pages["/b.html"]
    report = sync(fake_base, f"{root}/sitemap.xml")
    assert (report.updated, report.removed) == (1, 1)
    assert "silver spoons" in fake_base.document(f"{root}/a.html").text


def test_page_that_times_out_is_kept_and_reported(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    content, root, _ = site
    content.pages["/slow.html"] = "<html><body><p>A slow page.</p></body></html>"
    source = WebSource(sitemap=f"{root}/sitemap.xml", requests_per_second=0, timeout=0.5)
    content.slow.add("/slow.html")
    entries = {entry.key: entry for entry in source.entries({})}
    assert entries[f"{root}/slow.html"].failure and not entries[f"{root}/a.html"].failure


def test_unreachable_site_keeps_its_documents(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    _, root, server = site
    sync(fake_base, f"{root}/sitemap.xml")
    server.shutdown()
    server.server_close()
    report = sync(fake_base, f"{root}/sitemap.xml")
    assert report.removed == 0 and "kept" in report.error
    assert len(fake_base.store.sources()) == 2


def test_a_list_of_pages_is_a_source(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    _, root, _ = site
    spec = spec_from_location(f"{root}/a.html", urls=[f"{root}/b.html"], requests_per_second=0)
    assert sync_once(fake_base, [spec], SyncOptions())[0].added == 2


def test_gzipped_sitemaps_and_indexes_are_read_and_a_damaged_one_keeps_the_documents(
    fake_base: rag.KnowledgeBase, site: tuple[Site, str, ThreadingHTTPServer]
) -> None:
    _, root, _ = site
    report = sync(fake_base, f"{root}/index-sitemap.xml.gz")
    assert report.added == 2 and not report.error
    assert sorted(fake_base.store.sources()) == [f"{root}/a.html", f"{root}/b.html"]
    damaged = sync(fake_base, f"{root}/broken-sitemap.xml.gz")
    assert "damaged gzipped sitemap" in damaged.error and damaged.removed == 0
