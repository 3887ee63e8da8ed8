"""`rag audit`: the index's audit trail (questions, quotes, changes, refusals), oldest first."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rag.cli.options import open_from, print_json
from rag.display import printable
from rag.errors import SettingsError


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add audit to the `rag` parser."""
    parser = subparsers.add_parser(
        "audit",
        parents=[common],
        help="show the audit trail: who asked what, what was quoted, who changed what, who was refused",
    )
    parser.add_argument("--user", default=None, help="only this person's or key's events")
    parser.add_argument("--since", default=None, metavar="TIME", help="from this ISO time or date (UTC)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--prune-older-than",
        type=float,
        default=None,
        metavar="DAYS",
        help="remove the events older than DAYS days (the retention pass is itself recorded), then show the rest",
    )
    parser.set_defaults(run=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    """rag audit [--user NAME] [--since TIME] [--json] [--prune-older-than DAYS]"""
    days = args.prune_older_than
    if days is not None and not 0 <= days <= 100_000:
        raise SettingsError("--prune-older-than must be a number of days, 0 or more")
    with open_from(args) as base:
        if days is not None:
            cutoff, removed = base.engine_store().prune_audit(days, "local")
            print(f"Removed {removed} audit events from before {cutoff}", file=sys.stderr)
        events = base.engine_store().audit_events(args.since, args.user)
    if args.json:
        print_json([event.to_dict() for event in events])
        return 0
    for event in events:
        detail = json.dumps(event.detail, ensure_ascii=False, sort_keys=True)
        print(printable(f"{event.at}  {event.actor}  {event.action}  {detail}"))
    return 0
