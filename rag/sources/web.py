"""Web pages, from a list of URLs or a sitemap: conditional requests, robots.txt, a polite rate.

Listing a page is its conditional GET (If-None-Match / If-Modified-Since): an unchanged page
costs one request answered 304, and its body is kept for fetch when it did change.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from rag.ingest.loaders import is_supported
from rag.sources.base import Entry, SourceUnavailable

USER_AGENT = "Verbatim-sync/1.0 (+https://github.com/verbatim)"
_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)
_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
_MAX_SITEMAPS = 50
_MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's limit, uncompressed


def site_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class WebSource:
    """Pages named by URL, or listed by a sitemap (same site only unless told otherwise)."""

    def __init__(
        self,
        urls: Sequence[str] = (),
        sitemap: str | None = None,
        same_site: bool = True,
        requests_per_second: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        if not urls and not sitemap:
            raise SourceUnavailable("a web source needs URLs or a sitemap")
        self.urls = tuple(urls)
        self.sitemap = sitemap
        self.same_site = same_site
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.timeout = timeout
        self._last_request = 0.0
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._bodies: dict[str, bytes] = {}
        self.skipped: list[tuple[str, str]] = []  # (url, why) of pages not listed this pass

    @property
    def location(self) -> str:
        """The sitemap's URL, or the first page's."""
        return self.sitemap or self.urls[0]

    def entries(self, known: Mapping[str, str]) -> Sequence[Entry]:
        """Every allowed page, checked with a conditional request."""
        self._bodies.clear()
        self.skipped = []
        pages = self._pages()
        found = [self._check(url, known.get(url)) for url in pages if self._allowed(url)]
        if found and all(entry.failure for entry in found):
            raise SourceUnavailable(f"no page of {self.location} could be read ({found[0].failure}); kept")
        return found

    def _pages(self) -> list[str]:
        if not self.sitemap:
            return list(dict.fromkeys(self.urls))
        home = site_of(self.sitemap)
        pages: list[str] = []
        queue, seen = [self.sitemap], set[str]()
        while queue and len(seen) < _MAX_SITEMAPS:
            sitemap = queue.pop(0)
            seen.add(sitemap)
            try:
                text = _sitemap_text(self._get(sitemap, {})[0])
            except (OSError, ValueError) as error:
                raise SourceUnavailable(f"cannot read the sitemap {sitemap}: {error}; kept") from error
            for url in _LOC.findall(text):
                url = urljoin(sitemap, url.replace("&amp;", "&"))
                if self.same_site and site_of(url) != home:
                    self.skipped.append((url, "off-site"))
                elif url.endswith((".xml", ".xml.gz")) and "sitemap" in url.lower():
                    if url not in seen:
                        queue.append(url)
                else:
                    pages.append(url)
        return list(dict.fromkeys(pages))

    def _allowed(self, url: str) -> bool:
        site = site_of(url)
        if site not in self._robots:
            parser = urllib.robotparser.RobotFileParser(f"{site}/robots.txt")
            try:
                body = self._get(f"{site}/robots.txt", {})[0]
                parser.parse(body.decode("utf-8", "replace").splitlines())
            except urllib.error.HTTPError as error:
                # As robotparser does: forbidden robots.txt forbids everything, a missing one nothing.
                parser.parse(["User-agent: *", "Disallow: /"] if error.code in (401, 403) else [])
            except (OSError, ValueError):
                parser.parse([])
            self._robots[site] = parser
        allowed = self._robots[site].can_fetch(USER_AGENT, url)
        if not allowed:
            self.skipped.append((url, "disallowed by robots.txt"))
        return allowed

    def _check(self, url: str, known_token: str | None) -> Entry:
        etag, modified = _validators(known_token)
        headers = {"If-None-Match": etag, "If-Modified-Since": modified}
        try:
            body, response_headers, final = self._get(url, {k: v for k, v in headers.items() if v})
        except urllib.error.HTTPError as error:
            if error.code == 304 and known_token:
                return Entry(url, known_token, url, _name(url, ""))
            if error.code in (404, 410):
                return Entry(url, "", url, _name(url, ""), failure="gone")
            return Entry(url, known_token or "", url, _name(url, ""), failure=f"HTTP {error.code}")
        except (OSError, ValueError) as error:
            return Entry(url, known_token or "", url, _name(url, ""), failure=str(error))
        if self.same_site and site_of(final) != site_of(url):
            return Entry(
                url, known_token or "", url, _name(url, ""), failure=f"redirected off-site to {final}"
            )
        # The body's hash in the token: a server that ignores validators costs a download, not an ingest.
        digest = hashlib.sha256(body).hexdigest()
        token = "|".join((response_headers["etag"], response_headers["last-modified"], digest))
        self._bodies[url] = body
        return Entry(url, token, url, _name(url, response_headers["content-type"]))

    def _get(self, url: str, headers: Mapping[str, str]) -> tuple[bytes, dict[str, str], str]:
        wait = self._last_request + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            wanted = ("etag", "last-modified", "content-type")
            found = {name: response.headers.get(name, "") for name in wanted}
            return response.read(), found, response.geturl()

    def fetch(self, entry: Entry) -> bytes:
        """The page's body, as the conditional request that found it changed received it."""
        if entry.key in self._bodies:
            return self._bodies.pop(entry.key)
        return self._get(entry.key, {})[0]


def _sitemap_text(body: bytes) -> str:
    """A sitemap's text; a gzipped one (sitemap.xml.gz) is unpacked, up to the protocol's 50 MB."""
    if body[:2] == b"\x1f\x8b":
        unpacker = zlib.decompressobj(wbits=31)
        try:
            body = unpacker.decompress(body, _MAX_SITEMAP_BYTES)
        except zlib.error as error:
            raise ValueError(f"a damaged gzipped sitemap ({error})") from None
        if unpacker.unconsumed_tail:
            raise ValueError("a gzipped sitemap larger than 50 MB unpacked")
    return body.decode("utf-8", "replace")


def _validators(token: str | None) -> tuple[str, str]:
    """The ETag and Last-Modified a page's token recorded."""
    etag, modified, *_ = [*(token or "").split("|"), "", ""]
    return etag, modified


def _name(url: str, content_type: str) -> str:
    """A file name whose extension says how to read the page."""
    path_name = PurePosixPath(urlsplit(url).path).name or "index"
    kind = content_type.split(";")[0].strip().lower()
    if kind in _TYPES:
        return f"{PurePosixPath(path_name).stem or 'index'}{_TYPES[kind]}"
    if is_supported(Path(path_name)):
        return path_name
    return f"{path_name}.html"
