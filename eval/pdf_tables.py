"""python -m eval.pdf_tables FILE.pdf ...: the tables found on each PDF's pages, cell by cell.

What docs/evaluation.md's table of PDF tables was read with: for each file, the pages read, the
tables kept at ingest (document metadata "tables") and each table's header and rows as their
cells read in the stored text, so a wrong or missing cell is seen at a glance.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.ingest import load_bytes


def describe(path: Path, rows_shown: int) -> list[str]:
    """Lines describing the tables found in one PDF."""
    loaded = load_bytes(path.name, path.read_bytes())
    tables = loaded.metadata.get("tables", [])
    text = loaded.text
    lines = [f"== {path}: {len(loaded.page_starts) or 1} pages, {len(tables)} tables"]
    for table in tables:
        lines.append("  header: " + " | ".join(text[start:end] for start, end in table["header"]))
        for row in table["rows"][:rows_shown]:
            lines.append("    " + " | ".join(f"{column}={text[start:end]}" for column, start, end in row))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables of each file."""
    parser = argparse.ArgumentParser(prog="python -m eval.pdf_tables", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--rows", type=int, default=40, help="rows shown per table")
    args = parser.parse_args(argv)
    for path in args.files:
        print("\n".join(describe(path, args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
