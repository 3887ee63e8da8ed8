"""Tests for rag.serve.hooks: outer packages join `rag serve` through entry points."""

from __future__ import annotations

import tomllib
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path
from typing import Any

import pytest

from rag.errors import SettingsError
from rag.serve import hooks

ROOT = Path(__file__).resolve().parents[1]


def add_nothing(app: Any, service: Any) -> None:
    """A hook for the tests: adds nothing."""


def registered(*points: EntryPoint) -> Any:
    return lambda group: EntryPoints(point for point in points if point.group == group)


def test_a_registered_hook_is_loaded_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("ui", f"{__name__}:add_nothing", hooks.HOOK_GROUP)
    monkeypatch.setattr(hooks, "entry_points", registered(point))
    assert hooks.serve_hook("ui") is add_nothing


def test_an_unregistered_hook_is_a_settings_error_that_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hooks, "entry_points", registered())
    with pytest.raises(SettingsError, match=r"pip install -e '\.\[ui\]'"):
        hooks.serve_hook("ui")


def test_a_hook_whose_libraries_are_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("ui", "a_package_that_is_not_installed:hook", hooks.HOOK_GROUP)
    monkeypatch.setattr(hooks, "entry_points", registered(point))
    with pytest.raises(SettingsError, match=r"verbatim-rag\[ui\]"):
        hooks.serve_hook("ui")


def test_the_chat_ui_registers_its_mount_in_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    point = EntryPoint("ui", declared[hooks.HOOK_GROUP]["ui"], hooks.HOOK_GROUP)
    assert callable(point.load())
