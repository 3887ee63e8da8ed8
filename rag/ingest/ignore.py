""".ragignore: files a folder asks never to be ingested, in .gitignore's pattern syntax.

A `.ragignore` in a folder holds patterns relative to that folder (`screenshots/`, `*.png`,
`drafts/**/*.docx`, `#` comments); it applies to the folder and everything under it, and each
`.ragignore` on the way down adds its own. Both an ingest of the folder and `rag sync` of it honour them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pathspec

IGNORE_FILE = ".ragignore"


@dataclass(frozen=True)
class _Rules:
    folder: str  # absolute, without a trailing separator
    spec: pathspec.PathSpec


class IgnoreRules:
    """The .ragignore rules met while walking down a folder tree (os.walk order, top down)."""

    def __init__(self) -> None:
        self._rules: list[_Rules] = []

    def enter(self, folder: str) -> None:
        """Read the folder's .ragignore, if it has one; call for each folder before its entries."""
        folder = os.path.abspath(folder)
        try:
            with open(os.path.join(folder, IGNORE_FILE), encoding="utf-8", errors="replace") as file:
                lines = file.read().splitlines()
        except OSError:
            return
        self._rules.append(_Rules(folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignores(self, path: str, is_folder: bool = False) -> bool:
        """Whether a .ragignore of a folder above `path` names it (or a folder it is in)."""
        if not self._rules:
            return False
        path = os.path.abspath(path)
        for rules in self._rules:
            if not path.startswith(rules.folder + os.sep):
                continue
            relative = os.path.relpath(path, rules.folder).replace(os.sep, "/")
            if rules.spec.match_file(relative + "/" if is_folder else relative):
                return True
        return False
