"""`rag sync`: keep an index in step with folders, S3-compatible buckets and web pages."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from rag.cli.options import open_from, print_json
from rag.display import printable

if TYPE_CHECKING:
    from rag.sources.config import SourceSpec
    from rag.sources.sync import PassReport


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add sync to the `rag` parser."""
    sync = subparsers.add_parser(
        "sync",
        parents=[common],
        help="keep the index in step with folders, s3:// buckets and web pages",
        description="Ingest what is new or changed, rename what moved, remove what is gone. Without "
        "SOURCE, syncs the index's sources.toml and every source synced before (docs/sync.md).",
    )
    sync.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="folder, s3://bucket/prefix or http(s):// page or sitemap",
    )
    sync.add_argument(
        "--watch", action="store_true", help="keep running: folder events, remote sources on a schedule"
    )
    sync.add_argument(
        "--every", default=None, metavar="DURATION", help="full pass interval under --watch (default 10m)"
    )
    sync.add_argument("--status", action="store_true", help="show each source's last pass and do nothing")
    sync.add_argument("--json", action="store_true")
    sync.add_argument(
        "--include", action="append", default=None, metavar="GLOB", help="only these files (repeatable)"
    )
    sync.add_argument(
        "--exclude", action="append", default=None, metavar="GLOB", help="never these files (repeatable)"
    )
    sync.add_argument(
        "--endpoint", default=None, help="S3 endpoint URL (default: AWS_ENDPOINT_URL or the profile's)"
    )
    sync.add_argument("--all-sites", action="store_true", help="follow a sitemap's pages on other sites too")
    sync.add_argument(
        "--rate", type=float, default=None, metavar="N", help="web requests per second (default 1)"
    )
    sync.add_argument(
        "--max-delete-share",
        type=float,
        default=None,
        metavar="F",
        help="a pass removes at most this share of a source's documents (default 0.5)",
    )
    sync.add_argument("--allow-mass-delete", action="store_true", help="remove even more than that")
    sync.set_defaults(run=run_sync)


def _given_specs(args: argparse.Namespace) -> list[SourceSpec]:
    from rag.sources.config import spec_from_location

    options = {
        "include": args.include,
        "exclude": args.exclude,
        "endpoint": args.endpoint,
        "same_site": False if args.all_sites else None,
        "requests_per_second": args.rate,
        "max_delete_share": args.max_delete_share,
    }
    return [spec_from_location(location, **options) for location in args.sources]


def run_sync(args: argparse.Namespace) -> int:
    """rag sync [SOURCE...] [--watch] [--status]"""
    from rag.sources.config import parse_duration
    from rag.sources.runner import (
        DEFAULT_EVERY_SECONDS,
        SyncOptions,
        check_syncable,
        declared_specs,
        sync_once,
        watch,
    )
    from rag.sources.status import status

    with open_from(args) as base:
        check_syncable(base)
        if args.status:
            return _print_status(status(base.folder), args.json)
        every = parse_duration(args.every) if args.every else DEFAULT_EVERY_SECONDS
        options = SyncOptions(args.allow_mass_delete, every)
        specs = declared_specs(base.folder, _given_specs(args))
        if args.watch:
            print(f"watching {len(specs)} source(s); Ctrl-C stops", file=sys.stderr)
            watch(base, specs, options, lambda reports: _print_reports(reports, args.json))
            return 0
        reports = sync_once(base, specs, options)
    _print_reports(reports, args.json)
    return 1 if any(report.error or report.failed for report in reports) else 0


def _print_reports(reports: list[PassReport], as_json: bool) -> None:
    if as_json:
        print_json([report.to_dict() for report in reports])
        return
    for report in reports:
        counts = (
            f"{report.added} added, {report.updated} updated, {report.renamed} renamed, {report.removed} removed,"
            f" {report.unchanged} unchanged, {report.pending} still being written, {len(report.failed)} failed"
        )
        print(f"{printable(report.location)}: {counts} ({report.seconds:.2f}s)")
        for key, reason in report.failed[:20]:
            print(f"  failed: {printable(key)}: {printable(reason)}")
        if report.error:
            print(f"  warning: {printable(report.error)}", file=sys.stderr)
    sys.stdout.flush()


def _print_status(sources: list[dict[str, Any]], as_json: bool) -> int:
    if as_json:
        print_json(sources)
        return 0
    if not sources:
        print("no source has been synced into this index yet")
    for source in sources:
        last = source["last"]
        upcoming = source["next_run"]
        due = f", next in {max(0, upcoming - time.time()):.0f}s" if upcoming else ""
        print(f"{printable(source['location'])} ({source['kind']}, {source['documents']} documents{due})")
        if last:
            print(
                f"  last pass {last['started_at']} ({last['seconds']}s): {last['added']} added,"
                f" {last['updated']} updated, {last['renamed']} renamed, {last['removed']} removed,"
                f" {last['unchanged']} unchanged, {last['pending']} pending, {last['failed']} failed"
            )
            for key, reason in last["failures"][:10]:
                print(f"  failed: {printable(key)}: {printable(reason)}")
            if last["error"]:
                print(f"  error: {printable(last['error'])}")
    return 0
