"""A local folder: entries are its supported files, their token the size and modification time."""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rag.ingest.ignore import IgnoreRules
from rag.ingest.loaders import SUPPORTED_SUFFIXES
from rag.sources.base import Entry, SourceUnavailable

# Names editors and downloads write before renaming into place: never documents.
TEMPORARY_PATTERNS = ("*.part", "*.partial", "*.tmp", "*.crdownload", "~$*", "*~", "*.swp")
DEFAULT_SETTLE_SECONDS = 1.0


class FolderSource:
    """Files under a folder, filtered by include/exclude globs relative to it and its .ragignore files."""

    def __init__(
        self,
        root: str | Path,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.include = tuple(include)
        self.exclude = tuple(exclude) + TEMPORARY_PATTERNS
        self.settle_seconds = settle_seconds
        # One compiled expression per list: fnmatch pattern by pattern is most of a 10,000-file pass.
        self._excluded = _matcher(self.exclude)
        self._included = _matcher(self.include)

    @property
    def location(self) -> str:
        """The folder's absolute path."""
        return str(self.root)

    @property
    def document_prefix(self) -> str:
        """Every file's stored name starts with the folder's path and a slash."""
        return str(self.root).rstrip("/") + "/"

    def entries(self, known: Mapping[str, str]) -> Sequence[Entry]:
        """Every wanted file, by path relative to the folder; one stat each, nothing read."""
        if not self.root.is_dir():
            raise SourceUnavailable(
                f"{self.root} is not a folder (unmounted or removed?); its documents are kept"
            )
        now = time.time()
        found = []
        prefix = len(str(self.root)) + 1
        ignore = IgnoreRules()
        for folder, subfolders, names in os.walk(self.root):
            ignore.enter(folder)
            subfolders[:] = sorted(
                name
                for name in subfolders
                if not name.startswith(".") and not ignore.ignores(os.path.join(folder, name), is_folder=True)
            )
            for name in sorted(names):
                path = os.path.join(folder, name)
                key = path[prefix:].replace(os.sep, "/")
                if name.startswith(".") or not self.wanted(key) or ignore.ignores(path):
                    continue
                try:
                    status = os.stat(path)
                except OSError:
                    continue  # gone between the listing and the stat: the next pass sees it
                token = f"{status.st_mtime_ns}:{status.st_size}"
                settled = now - status.st_mtime >= self.settle_seconds
                found.append(Entry(key, token, path, name, settled))
        return found

    def wanted(self, key: str) -> bool:
        """Whether a relative path passes the globs and is of a type the index reads."""
        name = key.rsplit("/", 1)[-1]
        if self._excluded(key) or self._excluded(name):
            return False
        if self.include and not (self._included(key) or self._included(name)):
            return False
        return os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES

    def fetch(self, entry: Entry) -> bytes:
        """The file's bytes."""
        return Path(entry.document).read_bytes()


def _matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a name matches any of the shell-style patterns (as fnmatch.fnmatchcase would)."""
    if not patterns:
        return lambda name: False
    expression = re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns))
    return lambda name: expression.match(name) is not None
