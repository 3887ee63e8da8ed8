"""Which sources a collection declares: a `sources.toml` file and the command line's locations."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from rag.errors import SettingsError
from rag.sources.base import Source

SourceKind = Literal["folder", "s3", "web", "sitemap"]
SOURCES_FILE = "sources.toml"
DEFAULT_MAX_DELETE_SHARE = 0.5


@dataclass(frozen=True)
class SourceSpec:
    """One declared source: where it is and how to read it."""

    location: str
    kind: SourceKind = "folder"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    endpoint: str | None = None  # S3: else AWS_ENDPOINT_URL or the profile's
    urls: tuple[str, ...] = ()  # web: more pages besides location
    same_site: bool = True
    requests_per_second: float = 1.0
    every_seconds: float | None = None  # how often a remote source is checked under --watch
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    settle_seconds: float = 1.0  # folder: a file younger than this is still being written
    # The groups that may read its documents (a grant on each, as PUT .../readers sets one);
    # None leaves the documents' grants as they are.
    read: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }


def kind_of(location: str) -> SourceKind:
    """The kind a location names: s3://, a sitemap URL, a page URL, else a folder."""
    if location.startswith("s3://"):
        return "s3"
    if location.startswith(("http://", "https://")):
        return "sitemap" if location.split("?")[0].endswith((".xml", ".xml.gz")) else "web"
    return "folder"


def spec_from_location(location: str, **options: Any) -> SourceSpec:
    """The spec of a location given on the command line (options: include, exclude, ...)."""
    kind = kind_of(location)
    if kind == "folder":
        location = str(Path(location).expanduser().absolute())
    given = {key: value for key, value in options.items() if value is not None}
    return _spec({"location": location, "kind": kind, **given})


def spec_from_dict(values: dict[str, Any]) -> SourceSpec:
    """A spec from its to_dict() form (as the sync state remembers it)."""
    return _spec(dict(values))


def load_specs(path: Path) -> list[SourceSpec]:
    """The sources a `sources.toml` declares ([[source]] tables, [defaults] for all of them)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read {path}: {error}") from error
    defaults = data.get("defaults", {})
    specs = []
    for table in data.get("source", []):
        if "location" not in table:
            raise SettingsError(f"{path}: every [[source]] needs a location")
        location = str(table["location"])
        if kind_of(location) == "folder" and not Path(location).expanduser().is_absolute():
            location = str((path.parent / Path(location).expanduser()).absolute())
        specs.append(_spec({"kind": kind_of(location), **defaults, **table, "location": location}))
    return specs


def _spec(values: dict[str, Any]) -> SourceSpec:
    known = set(SourceSpec.__dataclass_fields__)
    unknown = sorted(set(values) - known - {"every"})
    if unknown:
        raise SettingsError(f"unknown source setting {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if values.get("kind") not in get_args(SourceKind):
        raise SettingsError(
            f"unknown source kind {values.get('kind')!r}: use one of {', '.join(get_args(SourceKind))}"
        )
    if "every" in values:
        values["every_seconds"] = parse_duration(str(values.pop("every")))
    share = float(values.get("max_delete_share", DEFAULT_MAX_DELETE_SHARE))
    if not 0 <= share <= 1:
        raise SettingsError(f"max_delete_share must be between 0 and 1, not {share}")
    if values.get("read") is not None:
        values["read"] = _groups(values["read"])
    for key in ("include", "exclude", "urls"):
        if isinstance(values.get(key), str):
            values[key] = (values[key],)
        values[key] = tuple(values.get(key, ()))
    return SourceSpec(**{key: value for key, value in values.items() if key in known})


def _groups(value: Any) -> tuple[str, ...]:
    """`read`'s groups: a non-empty list of non-empty names (or one name)."""
    groups = (value,) if isinstance(value, str) else value
    if (
        not isinstance(groups, list | tuple)
        or not groups
        or not all(isinstance(g, str) and g for g in groups)
    ):
        raise SettingsError(f"read must be a non-empty list of group names, not {value!r}")
    return tuple(sorted(set(groups)))


def parse_duration(text: str) -> float:
    """Seconds of "90", "90s", "10m", "2h" or "1d"."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError as error:
        raise SettingsError(f"{text!r} is not a duration; write e.g. 90s, 10m, 2h") from error
    if seconds <= 0:
        raise SettingsError(f"a duration must be positive, not {text!r}")
    return seconds


def make_source(spec: SourceSpec) -> Source:
    """The Source a spec describes; each kind's module (and its library) loads only when used."""
    if spec.kind == "folder":
        from rag.sources.folder import FolderSource

        return FolderSource(spec.location, spec.include, spec.exclude, spec.settle_seconds)
    if spec.kind == "s3":
        from rag.sources.s3 import S3Source

        return S3Source(spec.location, spec.endpoint, spec.include, spec.exclude)
    from rag.sources.web import WebSource

    sitemap = spec.location if spec.kind == "sitemap" else None
    urls = spec.urls if spec.kind == "sitemap" else (spec.location, *spec.urls)
    return cast(Source, WebSource(urls, sitemap, spec.same_site, spec.requests_per_second))
