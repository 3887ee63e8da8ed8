"""The access file: collections' read and write groups, narrowed per document by source globs."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.access import Actor, load_policy

ACCESS = """
[collections.handbook]
read = ["staff"]
write = ["editors"]
[[collections.handbook.documents]]
match = "*payroll*"
read = ["hr"]
[[collections.handbook.documents]]
match = "board/*"
read = ["board", "hr"]
"""


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "access.toml"
    path.write_text(text)
    return path


def person(*groups: str) -> Actor:
    return Actor("someone", frozenset(groups), "person")


def test_writers_may_read_and_readers_may_not_write(tmp_path: Path) -> None:
    policy = load_policy(policy_file(tmp_path, ACCESS), ["handbook", "other"])
    assert policy.readable(person("editors"), ["handbook", "other"]) == {"handbook"}
    assert policy.writable(person("staff"), ["handbook"]) == frozenset()
    assert policy.readable(person("staff"), ["other"]) == frozenset()  # unnamed: no group may read it


def test_every_matching_document_rule_narrows(tmp_path: Path) -> None:
    rule = load_policy(policy_file(tmp_path, ACCESS), ["handbook"]).rule("handbook")
    assert rule.may_read_document(person("staff"), "notes/holidays.md", None)
    assert not rule.may_read_document(person("staff"), "notes/payroll.md", None)
    assert rule.may_read_document(person("staff", "hr"), "board/payroll.md", None)
    assert not rule.may_read_document(person("staff", "board"), "board/payroll.md", None)
    assert not rule.may_read_document(person("staff"), "notes/holidays.md", frozenset({"hr"}))
    assert rule.may_read_document(Actor("local"), "board/payroll.md", frozenset({"hr"}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[collections.missing]\nread = []\n", "not served"),
        ('[collections.handbook]\nread = "staff"\n', "groups must be a list"),
        ('[collections.handbook]\n[[collections.handbook.documents]]\nmatch = "*"\n', "a document rule"),
        ("[other]\n", "must hold"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_access_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(rag.SettingsError, match=message):
        load_policy(policy_file(tmp_path, text), ["handbook"])
