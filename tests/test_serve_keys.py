"""Keys files: grants, read-only keys, '*', and one-line errors that never show a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.serve.auth import bearer_key, caller_access
from rag.serve.errors import APIError
from rag.serve.keys import Access, KeyRing, load_keys

SERVED = ["alpha", "beta"]


def keys_file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_list_grants_reading_and_write_implies_read(tmp_path: Path) -> None:
    ring = load_keys(
        keys_file(
            tmp_path,
            {"reader-key-0123456789": ["alpha"], "writer-key-0123456789": {"write": ["beta"]}},
        ),
        SERVED,
    )
    assert ring.access_for("reader-key-0123456789") == Access(frozenset({"alpha"}))
    assert ring.access_for("writer-key-0123456789") == Access(frozenset({"beta"}), frozenset({"beta"}))
    assert ring.access_for("reader-key-012345678") is None
    assert ring.access_for("") is None


def test_star_means_every_served_collection(tmp_path: Path) -> None:
    ring = load_keys(keys_file(tmp_path, {"admin-key-0123456789": {"read": ["*"]}}), SERVED)
    access = ring.access_for("admin-key-0123456789")
    assert access is not None and access.readable == frozenset(SERVED) and not access.writable


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ({"short-key": ["alpha"]}, "at least 16 characters"),
        ({"long-enough-key-0123": ["gamma"]}, "gamma, which is not served"),
        ({"long-enough-key-0123": "alpha"}, "give a list of collections"),
        ({"long-enough-key-0123": {"read": ["alpha"], "admin": True}}, "give a list of collections"),
    ],
)
def test_bad_keys_files_say_what_is_wrong_without_showing_the_key(
    tmp_path: Path, content: object, message: str
) -> None:
    with pytest.raises(rag.SettingsError, match=message) as raised:
        load_keys(keys_file(tmp_path, content), SERVED)
    assert "long-enough-key-0123" not in str(raised.value) and "short-key" not in str(raised.value)


def test_missing_keys_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(rag.SettingsError, match="cannot read the keys file"):
        load_keys(tmp_path / "absent.json", SERVED)


def test_bearer_header_parsing_and_401s() -> None:
    assert bearer_key("Bearer  abc ") == "abc" and bearer_key("bearer abc") == "abc"
    assert bearer_key("Basic abc") == "" and bearer_key(None) == ""
    assert caller_access(None, None, SERVED) == Access.everything(SERVED)
    ring = KeyRing({"valid-key-0123456789": Access(frozenset({"alpha"}))})
    for header in (None, "Bearer wrong-key-0123456789", "Token valid-key-0123456789"):
        with pytest.raises(APIError) as raised:
            caller_access(ring, header, SERVED)
        assert raised.value.status == 401 and raised.value.headers["WWW-Authenticate"].startswith("Bearer")
    assert caller_access(ring, "Bearer valid-key-0123456789", SERVED).readable == {"alpha"}


def test_a_key_is_a_service_identity_with_groups_and_a_name(tmp_path: Path) -> None:
    ring = load_keys(
        keys_file(
            tmp_path,
            {
                "bot-key-0123456789ab": {"read": ["alpha"], "groups": ["staff"], "name": "intranet-bot"},
                "old-key-0123456789ab": ["beta"],
            },
        ),
        SERVED,
    )
    bot = ring.access_for("bot-key-0123456789ab")
    old = ring.access_for("old-key-0123456789ab")
    assert bot is not None and old is not None
    assert (bot.actor.name, bot.actor.groups, bot.actor.kind) == ("intranet-bot", frozenset({"staff"}), "key")
    assert (old.actor.name, old.actor.groups, old.actor.kind) == ("key #2", frozenset(), "key")


def test_an_access_file_grants_collections_to_a_keys_groups(tmp_path: Path) -> None:
    from rag.access import load_policy

    access = tmp_path / "access.toml"
    access.write_text('[collections.beta]\nread = ["staff"]\n[collections.alpha]\nwrite = ["admins"]\n')
    ring = load_keys(keys_file(tmp_path, {"bot-key-0123456789ab": {"read": [], "groups": ["staff"]}}), SERVED)
    granted = caller_access(ring, "Bearer bot-key-0123456789ab", SERVED, policy=load_policy(access, SERVED))
    assert (granted.readable, granted.writable) == (frozenset({"beta"}), frozenset())


def test_bad_groups_in_a_keys_file_are_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(rag.SettingsError, match="groups must be a list"):
        load_keys(keys_file(tmp_path, {"bot-key-0123456789ab": {"read": [], "groups": "staff"}}), SERVED)
