"""`rag ingest`, `rag remove`, `rag stats` and `rag optimize`: what is in an index."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.cli.options import open_from, print_json
from rag.display import BuildProgressBar, IngestProgressBar, format_bytes, printable
from rag.errors import RagError
from rag.settings import ENGINES
from rag.types import IngestReport


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ingest, remove and stats to the `rag` parser."""
    ingest = subparsers.add_parser("ingest", parents=[common], help="add or update documents")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders (recursive)")
    ingest.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    ingest.add_argument(
        "--follow-links",
        action="store_true",
        help="also ingest files that symbolic links in the folders point to outside them",
    )
    ingest.add_argument("--chunk-size", type=int, default=None)
    ingest.add_argument("--chunk-overlap", type=int, default=None)
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="ray: read, chunk and embed as a Ray Data pipeline (docs/scale.md)",
    )
    ingest.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to run on (default $RAY_ADDRESS, else a Ray runtime on this machine)",
    )
    ingest.set_defaults(run=run_ingest)

    remove = subparsers.add_parser("remove", parents=[common], help="remove a document")
    remove.add_argument("source", help="source path, file name or unique path suffix")
    remove.set_defaults(run=run_remove)

    stats = subparsers.add_parser("stats", parents=[common], help="index statistics")
    stats.add_argument("--documents", action="store_true", help="also list the documents")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(run=run_stats)

    optimize = subparsers.add_parser(
        "optimize",
        parents=[common],
        help="rebuild the vector index, compact the full-text index, fill in missing sentence vectors",
        description="Embed the sentences of documents an older version ingested without sentence "
        "vectors; rebuild the vector index from the stored vectors: choose its kind by size, train "
        "an approximate one afresh and measure its recall; then merge the full-text index. On "
        "PostgreSQL: prune the change journal readers follow to its last week (docs/scale.md).",
    )
    optimize.add_argument(
        "--postgres-vectors",
        choices=("faiss", "hnsw"),
        help="PostgreSQL index: faiss drops the database's HNSW index (readers search their own FAISS"
        " index, following its change journal: faster writes), hnsw builds it (for readers that search"
        " through pgvector: RAG_POSTGRES_VECTORS=hnsw, or roles that may not read the journal)",
    )
    optimize.add_argument("--json", action="store_true")
    optimize.set_defaults(run=run_optimize)

    show = subparsers.add_parser(
        "show",
        parents=[common],
        help="draw a page of a PDF or picture as PNG, a quote highlighted",
        description="Draw one page of a stored PDF or picture from its original file, with the"
        " characters START:END of the document text (a citation's start and end) highlighted.",
    )
    show.add_argument("source", help="source path, file name, unique path suffix or document id")
    show.add_argument("--page", type=int, default=1, help="1-based page number (default 1)")
    show.add_argument("--highlight", default=None, metavar="START:END", help="character offsets to highlight")
    show.add_argument("--width", type=int, default=None, metavar="PX", help="image width (default 1000)")
    show.add_argument("--out", type=Path, required=True, metavar="FILE.png", help="where to write the PNG")
    show.set_defaults(run=run_show)


def run_ingest(args: argparse.Namespace) -> int:
    """rag ingest PATH..."""
    links = {"follow_links": True} if args.follow_links else {}
    with open_from(args, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap, **links) as base:
        progress = None if args.json else IngestProgressBar()
        building = None if args.json else BuildProgressBar()
        try:
            if args.ray_address and args.engine != "ray":
                raise RagError("--ray-address needs --engine ray")
            report = base.ingest(
                args.paths,
                prune=args.prune,
                progress=progress,
                index_progress=building,
                engine=args.engine,
                ray_address=args.ray_address,
            )
        finally:
            for bar in (progress, building):
                if bar is not None:
                    bar.close()
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_report(report))
    return 1 if report.files and report.count("failed") == len(report.files) else 0


def format_report(report: IngestReport) -> str:
    """Summary line plus one line per failed or skipped file."""
    summary = report.to_dict()["summary"]
    lines = [
        ", ".join(f"{count} {status}" for status, count in summary.items())
        + f" — {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s{_rate(report)}"
    ]
    for result in report.files:
        if result.status in ("failed", "skipped"):
            lines.append(f"  {result.status}: {printable(result.source)}: {printable(result.reason)}")
        for warning in result.warnings:
            lines.append(f"  warning: {printable(result.source)}: {printable(warning)}")
    return "\n".join(lines)


def run_remove(args: argparse.Namespace) -> int:
    """rag remove SOURCE"""
    with open_from(args) as base:
        source = base.resolve_source(args.source)
        chunks = base.remove(source)
    print(f"removed {printable(source)} ({chunks} chunks)")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """rag stats"""
    from rag.sources.status import status as sync_status

    with open_from(args) as base:
        stats = base.stats()
        documents = base.documents() if args.documents else []
        synced = sync_status(base.folder) if base.url is None else []  # sync keeps folders only
    if args.json:
        listed = [info.to_dict() for info in documents]
        synced_json = {"sources": synced} if synced else {}
        print_json(stats | synced_json | ({"documents_list": listed} if args.documents else {}))
        return 0
    width = max(len(key) for key in stats)
    for key, value in stats.items():
        print(f"{key:>{width}}: {printable(str(value))}")
    _print_sources(synced)
    if stats.get("documents_without_sentence_vectors"):
        print(
            "an older version ingested some documents without sentence vectors: `rag optimize`"
            " embeds them once, and answers stop embedding them at question time"
        )
    if stats.get("vector_index_pending"):
        print(
            "a load left the HNSW index for its end and is running or did not finish: searches read every"
            " vector until `rag copy --resume`, the next ingest or `rag check --repair` builds it"
        )
    for info in documents:
        print(
            f"  {printable(info.source)}  ({info.language_label}, {info.chunks} chunks,"
            f" {format_bytes(info.size_bytes)})"
        )
    return 0


def _print_sources(synced: list[dict[str, Any]]) -> None:
    """What `rag sync --status` shows, a line per synced source and its last failures."""
    from rag.sources.status import summary as sync_summary

    if synced:
        print("sources (rag sync --status for more):")
    for source in synced:
        print(f"  {printable(source['location'])} ({source['kind']}): {printable(sync_summary(source))}")
        for key, reason in source["failing"][:5]:
            print(f"    failing: {printable(key)}: {printable(reason)}")


def run_optimize(args: argparse.Namespace) -> int:
    """rag optimize"""
    with open_from(args) as base:
        building = None if args.json else BuildProgressBar()
        filling = None if args.json else BuildProgressBar(unit="documents")
        try:
            described = base.optimize(building, filling, args.postgres_vectors)
        finally:
            for bar in (filling, building):
                if bar is not None:
                    bar.close()
    if args.json:
        print_json(described)
        return 0
    if described.get("documents_given_sentence_vectors"):
        print(
            f"embedded {described['sentences_embedded']:,} sentences of"
            f" {described['documents_given_sentence_vectors']:,} documents ingested before sentence"
            " vectors were stored (answers no longer embed them at question time)"
        )
    if described.get("documents_given_page_positions"):
        print(
            f"read page positions for {described['documents_given_page_positions']:,} PDFs and pictures"
            " ingested before they were stored: their quotes can now be highlighted on the page"
        )
    if described.get("documents_without_page_positions"):
        print(
            f"{described['documents_without_page_positions']:,} PDFs and pictures still have no page"
            " positions (their original files moved, changed or read differently): ingest them again"
        )
    if described.get("journal_rows_pruned"):
        print(
            f"pruned {described['journal_rows_pruned']:,} rows of the change journal, up to number"
            f" {described['journal_pruned_upto']:,} (readers behind it build their vector index afresh)"
        )
    print(format_vector_index(described))
    if described.get("follower"):
        followed = format_vector_index(described["follower"]).removeprefix("vector index: ")
        print(f"this machine's FAISS index following the database: {followed}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """rag show SOURCE --page N [--highlight START:END] [--width PX] --out FILE.png"""
    highlight = None
    if args.highlight is not None:
        start, _, end = args.highlight.partition(":")
        if not (start.isdigit() and end.isdigit() and int(start) < int(end)):
            raise RagError(f"--highlight {args.highlight!r} must be START:END character offsets, START < END")
        highlight = (int(start), int(end))
    with open_from(args) as base:
        stored = args.source if _is_document_id(args.source) else base.resolve_source(args.source)
        image = base.page_image(stored, args.page, highlight, args.width)
    try:
        args.out.write_bytes(image)
    except OSError as error:
        raise RagError(f"cannot write {args.out} ({error.strerror})") from error
    print(
        f"wrote page {args.page} of {printable(stored)} to {printable(str(args.out))} ({format_bytes(len(image))})"
    )
    return 0


def _is_document_id(value: str) -> bool:
    return len(value) == 64 and all(character in "0123456789abcdef" for character in value)


def format_vector_index(described: dict[str, Any]) -> str:
    """One line: the kind of vector index, its size, and its measured recall when approximate."""
    kind = described["kind"]
    if kind == "faiss":  # a PostgreSQL index kept without HNSW: each reader searches its own FAISS
        kind = "none in the database (readers search their own FAISS index)"
    line = f"vector index: {kind}, {described.get('vectors', 0):,} vectors"
    if described.get("kind") == "hnsw" and described.get("recall@10") is not None:
        line += f", recall@10 {described['recall@10']} against exact search on {described['recall_queries']} query-like probes"
    if described.get("lists"):
        line += f", {described['probes']} of {described['lists']:,} lists probed, recall@10 {described['recall@10']}"
        if described.get("recall_queries"):
            line += f" on {described['recall_queries']} query-like probes"
    return line


def _rate(report: IngestReport) -> str:
    """The summary's rate, such as ' (12 chunks/s)'; a decimal below 10 so a slow run never
    reads '0 chunks/s'; empty when nothing was embedded."""
    if not report.chunks_embedded or not report.seconds:
        return ""
    rate = report.chunks_embedded / report.seconds
    return f" ({rate:.1f} chunks/s)" if rate < 10 else f" ({rate:.0f} chunks/s)"
