"""Open the ZIP container of an Office, OpenDocument or EPUB file, refusing what is not one and what
would unpack too big."""

from __future__ import annotations

import io
import zipfile

from rag.errors import DocumentError

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 20_000
ZIP_MAGIC = b"PK\x03\x04"
# file type -> (what a person calls it, the member every such file holds)
CONTAINERS: dict[str, tuple[str, str]] = {
    "docx": ("a Word document", "word/document.xml"),
    "pptx": ("a PowerPoint file", "ppt/presentation.xml"),
    "xlsx": ("an Excel workbook", "xl/workbook.xml"),
    "odt": ("an OpenDocument text", "content.xml"),
    "epub": ("an EPUB book", "META-INF/container.xml"),
}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (ZIP_MAGIC, "a ZIP archive (.docx, .xlsx and .epub are ZIPs too)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
    # Word/Excel 97-2003 files and password-protected OOXML files are both OLE containers.
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an encrypted or pre-2007 Office file"),
)


def binary_kind(head: bytes) -> str | None:
    """What binary format the bytes start like ("a PNG image"), or None."""
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def check_zip_signature(name: str, head: bytes, file_type: str) -> None:
    """Raise DocumentError unless the file starts like a ZIP archive, naming what it looks like instead."""
    if head.startswith(ZIP_MAGIC):
        return
    kind = CONTAINERS[file_type][0]
    looks_like = binary_kind(head) or "not a ZIP archive"
    hint = "remove the password or re-save it in the current format" if "Office" in looks_like else "check it"
    raise DocumentError(f"{name} is not {kind} (it is {looks_like}); {hint}")


def open_container(name: str, data: bytes, file_type: str) -> zipfile.ZipFile:
    """Return the file's ZIP archive; raise DocumentError unless it is a sane ZIP of that type."""
    check_zip_signature(name, data, file_type)
    kind, required_member = CONTAINERS[file_type]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise DocumentError(f"{name} is a damaged ZIP archive ({error}); re-save it") from error
    if len(members) > MAX_MEMBERS:
        raise DocumentError(f"{name} holds {len(members)} files, over the {MAX_MEMBERS} limit for {kind}")
    # zipfile never inflates a member past its declared size (it fails the CRC check instead),
    # so the declared sizes bound the memory every library below will use.
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        megabytes = unpacked // (1024 * 1024)
        raise DocumentError(
            f"{name} would unpack to {megabytes} MB, over the {MAX_UNPACKED_BYTES // (1024 * 1024)} MB limit;"
            " it may be a ZIP bomb, or split it"
        )
    if required_member not in {member.filename for member in members}:
        raise DocumentError(f"{name} is a ZIP archive but not {kind} (no {required_member} inside)")
    if any(member.flag_bits & 0x1 for member in members):
        raise DocumentError(f"{name} has password-protected parts; remove the password first")
    return archive


def read_member(name: str, archive: zipfile.ZipFile, member: str) -> bytes:
    """Return one member's bytes; raise DocumentError when it is missing or damaged."""
    try:
        return archive.read(member)
    except KeyError as error:
        raise DocumentError(f"{name} lacks {member}; re-save it") from error
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as error:
        raise DocumentError(f"{name} has a damaged part {member} ({error}); re-save it") from error
