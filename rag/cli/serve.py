"""`rag serve`: collections over HTTP (OpenAI-compatible chat, search, documents) and MCP."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.cli.options import add_llm_arguments, embedding_settings, index_location, llm_settings
from rag.errors import SettingsError
from rag.serve.defaults import DEFAULT_HUNG_SECONDS, MAX_QUEUE, MIN_HUNG_SECONDS
from rag.settings import Settings, default_index_dir

if TYPE_CHECKING:
    from rag.serve.service import OidcConfig, ServeConfig

MAX_PROCESSES = 64
# Each serving process loads its own model: 206-213 MB resident measured with the default one
# (docs/performance.md). The default count keeps them all within half the memory available.
MEMORY_PER_PROCESS_MB = 250


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add serve to the `rag` parser."""
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve collections over HTTP (OpenAI-compatible) and MCP"
    )
    add_serve_arguments(parser)
    parser.set_defaults(run=run_serve)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `rag serve` (besides --index and --model)."""
    parser.add_argument(
        "--collection",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="serve the index folder DIR as collection NAME (repeatable; default: --index as its folder name)",
    )
    parser.add_argument("--keys", type=Path, default=None, help='JSON {"KEY": ["collection", ...]}')
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (other than loopback needs --keys)"
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests addressed to this host name (repeatable; e.g. a reverse proxy's name)",
    )
    parser.add_argument(
        "--access",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML: which groups may read and write each collection, narrowed per document by source globs",
    )
    parser.add_argument(
        "--oidc-issuer",
        default=None,
        metavar="URL",
        help="accept this OpenID Connect provider's bearer tokens",
    )
    parser.add_argument("--oidc-audience", default=None, metavar="AUD", help="the audience tokens must name")
    parser.add_argument(
        "--oidc-groups-claim",
        default="groups",
        metavar="CLAIM",
        help="the token claim holding the person's groups (dots for nested claims, e.g. realm_access.roles)",
    )
    parser.add_argument(
        "--oidc-client-id",
        default=None,
        metavar="ID",
        help="with --ui: people log in to the chat UI through the provider as this client (PKCE)",
    )
    parser.add_argument(
        "--oidc-client-secret",
        default=None,
        metavar="SECRET",
        help="the client's secret (default: $RAG_OIDC_CLIENT_SECRET, which keeps it out of the process list)",
    )
    parser.add_argument(
        "--ui-admin-group",
        action="append",
        default=[],
        metavar="GROUP",
        help="people in this group see the audit trail in the chat UI (repeatable; with --oidc-client-id)",
    )
    parser.add_argument(
        "--audit-no-questions",
        action="store_true",
        help="keep the text of questions out of the audit trail (it still records who asked and what was quoted)",
    )
    parser.add_argument(
        "--audit-keep-days",
        type=float,
        default=None,
        metavar="DAYS",
        help="remove audit events older than DAYS days (checked at most hourly as events are written)",
    )
    parser.add_argument("--ui", action="store_true", help="also serve the chat UI at /ui")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="serving processes sharing the port and the index (default: one per core, within memory; 1 with --ui)",
    )
    parser.add_argument(
        "--hung-seconds",
        type=float,
        default=None,
        metavar="S",
        help="with several processes: one whose server gives no sign of life for S seconds (a blocked"
        f" event loop, a stopped process) is killed and replaced (default {DEFAULT_HUNG_SECONDS:g})",
    )
    parser.add_argument(
        "--workers", type=int, default=max(1, os.cpu_count() or 1), help="answers run at once, per process"
    )
    parser.add_argument(
        "--queue",
        type=int,
        default=MAX_QUEUE,
        help="a safety cap on waiting requests; each is admitted while its predicted wait fits 30 s",
    )
    # None: the uploads' default, looked up when serving (the parser of every command loads no ingest code).
    parser.add_argument("--max-upload-mb", type=int, default=None)
    parser.add_argument(
        "--sync",
        action="store_true",
        help="keep each collection in step with its sources (its sources.toml and earlier `rag sync`s)",
    )
    add_llm_arguments(parser)


def collection_folders(specs: Sequence[str], index: Path | str | None) -> dict[str, Path | str]:
    """NAME -> folder (or postgresql:// URL) from --collection NAME=DIR flags; without any, --index
    under its folder name (a database's under its name)."""
    folders: dict[str, Path | str] = {}
    for spec in specs:
        name, separator, place = spec.partition("=")
        if not separator or not name.strip() or not place.strip():
            raise SettingsError(f"--collection {spec!r}: write it as NAME=DIR")
        if name.strip() in folders:
            raise SettingsError(f"--collection {name.strip()} is given twice")
        folders[name.strip()] = index_location(place.strip())
    if index is not None or not folders:
        folder = index or index_location(os.environ.get("RAG_INDEX") or str(default_index_dir()))
        if isinstance(folder, str):
            folders.setdefault(folder.rsplit("/", 1)[-1].split("?")[0] or "index", folder)
        else:
            folders.setdefault(folder.resolve().name or "index", folder)
    return folders


def config_from(args: argparse.Namespace) -> ServeConfig:
    """The ServeConfig the flags describe."""
    from rag.ingest.uploads import DEFAULT_MAX_UPLOAD_MB
    from rag.serve.limits import Limits
    from rag.serve.service import ServeConfig

    max_upload_mb = DEFAULT_MAX_UPLOAD_MB if args.max_upload_mb is None else args.max_upload_mb
    if not 1 <= args.workers <= 64 or not 0 <= args.queue <= MAX_QUEUE:
        raise SettingsError(f"--workers must be 1-64 and --queue 0-{MAX_QUEUE}")
    if max_upload_mb < 1:
        raise SettingsError("--max-upload-mb must be at least 1")
    if args.audit_keep_days is not None and not 0 < args.audit_keep_days <= 100_000:
        raise SettingsError("--audit-keep-days must be a number of days above 0")
    settings = Settings.from_env(
        **embedding_settings(args), answer_mode=args.answer_mode, **llm_settings(args)
    )
    if args.answer_mode is None and (settings.llm_base_url or settings.llm_local_path):
        settings = settings.replace(answer_mode="llm")  # started with an LLM: answer with it
    limits = Limits(workers=args.workers, queue=args.queue, max_upload_bytes=max_upload_mb * 1024 * 1024)
    folders = collection_folders(args.collection, args.index)
    return ServeConfig(
        folders,
        args.keys,
        args.host,
        args.port,
        limits,
        settings,
        tuple(args.allowed_host),
        args.access,
        oidc_config(args),
        not args.audit_no_questions,
        sync=args.sync,
        audit_keep_days=args.audit_keep_days,
    )


def oidc_config(args: argparse.Namespace) -> OidcConfig | None:
    """The provider of --oidc-issuer and --oidc-audience (both or neither)."""
    from rag.serve.service import OidcConfig

    if args.oidc_issuer is None and args.oidc_audience is None:
        if args.oidc_client_id:
            raise SettingsError("--oidc-client-id needs --oidc-issuer URL and --oidc-audience AUD")
        return None
    if not args.oidc_issuer or not args.oidc_audience:
        raise SettingsError("give --oidc-issuer URL and --oidc-audience AUD together")
    client_id = args.oidc_client_id or ""
    secret = args.oidc_client_secret or os.environ.get("RAG_OIDC_CLIENT_SECRET", "")
    if client_id and not secret:
        raise SettingsError("--oidc-client-id needs --oidc-client-secret (or $RAG_OIDC_CLIENT_SECRET)")
    return OidcConfig(
        args.oidc_issuer,
        args.oidc_audience,
        args.oidc_groups_claim,
        client_id=client_id,
        client_secret=secret,
        admin_groups=tuple(args.ui_admin_group),
    )


def process_count(args: argparse.Namespace) -> int:
    """How many serving processes: --processes, else one per core while half the available memory
    holds them (one with --ui, whose page keeps each browser's state in the process that served it)."""
    if args.processes is None:
        return (
            1 if args.ui else max(1, min(os.cpu_count() or 1, _available_mb() // 2 // MEMORY_PER_PROCESS_MB))
        )
    if not 1 <= args.processes <= MAX_PROCESSES:
        raise SettingsError(f"--processes must be 1-{MAX_PROCESSES}")
    if args.ui and args.processes > 1:
        raise SettingsError(
            "--ui serves from one process (the chat page keeps each browser's session, queue and login "
            "in the process that served it): leave out --processes, or run the UI in a server of its own"
        )
    return int(args.processes)


def hung_seconds(args: argparse.Namespace) -> float:
    """--hung-seconds, checked: long enough for a busy process's once-a-second sign of life."""
    if args.hung_seconds is None:
        return DEFAULT_HUNG_SECONDS
    if not args.hung_seconds >= MIN_HUNG_SECONDS:
        raise SettingsError(f"--hung-seconds must be at least {MIN_HUNG_SECONDS:g}")
    return float(args.hung_seconds)


def run_serve(args: argparse.Namespace) -> int:
    """rag serve: with --ui, the chat UI adds itself through its registered hook (rag never imports it)."""
    config = config_from(args)  # bad flags fail here, before anything loads
    processes = process_count(args)
    hung = hung_seconds(args)
    try:
        # Imported here, so the other commands work where the serve extra is not installed.
        from rag.serve.hooks import serve_hook
        from rag.serve.processes import Supervisor, WorkerPlan
        from rag.serve.server import serve
    except ImportError as error:
        raise SettingsError(
            f"rag serve needs {error.name or 'its libraries'}: pip install 'verbatim-rag[serve]'"
        ) from error
    if processes == 1:
        serve(config, serve_hook("ui") if args.ui else None)
    else:
        plan = WorkerPlan(config, "ui" if args.ui else None, hung_seconds=hung)
        Supervisor(plan, processes).run()
    return 0


def _available_mb() -> int:
    """Memory available to new processes, in MB (the physical memory free when the system does not say)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (ValueError, OSError):
        return MEMORY_PER_PROCESS_MB * 2  # unknown: one process
