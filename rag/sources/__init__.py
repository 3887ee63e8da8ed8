"""Where documents live (folders, S3-compatible buckets, web pages) and keeping an index in step."""

from rag.sources.base import Entry, Source, SourceUnavailable
from rag.sources.config import SourceSpec, load_specs, make_source, spec_from_location

__all__ = [
    "Entry",
    "Source",
    "SourceSpec",
    "SourceUnavailable",
    "load_specs",
    "make_source",
    "spec_from_location",
]
