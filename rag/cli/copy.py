"""`rag copy SOURCE DESTINATION`: an index into another engine (a folder <-> PostgreSQL), as stored."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rag.cli.options import index_location, print_json
from rag.display import BuildProgressBar, printable

if TYPE_CHECKING:
    from rag.storage.copying import CopyReport


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add copy to the `rag` parser."""
    copy = subparsers.add_parser(
        "copy",
        help="copy an index between a folder and a PostgreSQL database, either way",
        description="Copy every document of SOURCE into DESTINATION as stored: texts, chunks, their "
        "vectors and analysed terms, sentence vectors, locations and structure (nothing is embedded "
        "again). Each is an index folder or a postgresql:// URL. DESTINATION is created when missing and "
        "must hold no document unless --resume. Check the copy with `rag check --index DESTINATION`.",
    )
    copy.add_argument("source", type=index_location, help="index folder or postgresql:// URL to copy")
    copy.add_argument(
        "destination", type=index_location, help="index folder or postgresql:// URL to copy into"
    )
    copy.add_argument(
        "--resume",
        action="store_true",
        help="copy into an index that already holds documents: those stored with the same content are"
        " skipped (finishes an interrupted copy); the others are written over",
    )
    copy.add_argument("--json", action="store_true", help="print the report as JSON")
    copy.set_defaults(run=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    """rag copy SOURCE DESTINATION [--resume]"""
    from rag.storage.copying import copy_index

    bar = None if args.json else BuildProgressBar(unit="documents")
    index_bar = None if args.json else BuildProgressBar(unit="vectors")
    try:
        report = copy_index(args.source, args.destination, args.resume, bar, index_bar)
    finally:
        for shown in (bar, index_bar):
            if shown is not None:
                shown.close()
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_copy(report))
    return 0


def format_copy(report: CopyReport) -> str:
    """What was copied where, and what the destination could not keep."""
    lines = [
        f"copied {report.documents:,} documents ({report.chunks:,} chunks) from {printable(report.source)}"
        f" to {printable(report.destination)}"
    ]
    if report.skipped:
        lines.append(f"skipped {report.skipped:,} documents already there with the same content")
    if report.left_behind:
        kept = ", ".join(f"{count:,} {name}" for name, count in report.left_behind.items())
        lines.append(f"not copied (a copy carries neither feedback nor the audit trail): {kept}")
    lines.append(f"check it with: rag check --index {printable(report.destination)}")
    return "\n".join(lines)
