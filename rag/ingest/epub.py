"""Text of an EPUB: the visible text of each chapter in spine order; a chapter is a location."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import PurePath
from urllib.parse import unquote
from xml.etree import ElementTree

from rag.errors import DocumentError
from rag.ingest.archive import open_container, read_member
from rag.ingest.blocks import TextBuilder, short_label
from rag.ingest.html import extract_html_text
from rag.types import LoadedFile

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})


def load_epub(name: str, data: bytes) -> LoadedFile:
    """The visible text of an EPUB's chapters in spine order; DRM-protected books are refused."""
    with open_container(name, data, "epub") as archive:
        return _read_book(name, archive)


def _read_book(name: str, archive: zipfile.ZipFile) -> LoadedFile:
    if "META-INF/encryption.xml" in archive.namelist() and _encrypts_content(name, archive):
        raise DocumentError(f"{name} is DRM-protected; only DRM-free EPUBs can be indexed")
    container = _parse(name, archive, "META-INF/container.xml")
    rootfile = container.find(f".//{_CONTAINER}rootfile")
    package_path = rootfile.get("full-path", "") if rootfile is not None else ""
    if not package_path:
        raise DocumentError(f"{name} names no package document in META-INF/container.xml; re-save it")
    package = _parse(name, archive, package_path)
    base = posixpath.dirname(package_path)
    manifest = {
        item.get("id", ""): (item.get("href", ""), item.get("media-type", ""))
        for item in package.iter(f"{_OPF}item")
    }
    builder = TextBuilder()
    warnings: list[str] = []
    for number, itemref in enumerate(package.iter(f"{_OPF}itemref"), 1):
        href, media_type = manifest.get(itemref.get("idref", ""), ("", ""))
        if media_type not in _HTML_TYPES:
            continue
        member = posixpath.normpath(posixpath.join(base, unquote(href)))
        raw = read_member(name, archive, member)
        html = raw.decode("utf-8", errors="replace")
        if "\ufffd" in html:
            warnings.append(f"{member}: not valid UTF-8; unreadable bytes replaced")
        page = extract_html_text(html)
        heading = page.title or page.text.strip().partition("\n")[0]
        builder.add(page.text, label=f"chapter {number}: {short_label(heading)}")
    if not builder.text.strip():
        raise DocumentError(f"{name} has no chapter text in its spine; there is nothing to index")
    title_element = package.find(f".//{_DC}title")
    title = (title_element.text or "").strip() if title_element is not None else ""
    title = title or PurePath(name).stem
    return LoadedFile(name, title, builder.text, (), "epub", tuple(warnings), tuple(builder.locations))


def _parse(name: str, archive: zipfile.ZipFile, member: str) -> ElementTree.Element:
    # Python's expat (2.4+) caps entity expansion, so a billion-laughs part fails here instead of blowing up.
    try:
        return ElementTree.fromstring(read_member(name, archive, member))
    except ElementTree.ParseError as error:
        raise DocumentError(f"{name} has a malformed {member} ({error}); re-save it") from error


def _encrypts_content(name: str, archive: zipfile.ZipFile) -> bool:
    """Fonts may be obfuscated legitimately; any other encrypted resource means DRM."""
    encryption = _parse(name, archive, "META-INF/encryption.xml")
    targets = [
        reference.get("URI", "")
        for reference in encryption.iter()
        if reference.tag.endswith("CipherReference")
    ]
    return any(not target.lower().endswith((".ttf", ".otf", ".woff", ".woff2")) for target in targets)
