"""Where documents live (folders, S3-compatible buckets, web pages) and keeping an index in step."""

from rag.sources.base import Entry, Source, SourceUnavailable
from rag.sources.config import SourceSpec, load_specs, make_source, spec_from_location
from rag.sources.runner import SyncOptions, check_syncable, start_watching, sync_once, watch
from rag.sources.status import counts_text, next_text, status, summary
from rag.sources.sync import PassReport

__all__ = [
    "Entry",
    "PassReport",
    "Source",
    "SourceSpec",
    "SourceUnavailable",
    "SyncOptions",
    "check_syncable",
    "counts_text",
    "load_specs",
    "make_source",
    "next_text",
    "spec_from_location",
    "start_watching",
    "status",
    "summary",
    "sync_once",
    "watch",
]
