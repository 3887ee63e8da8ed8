"""The audit trail: appended in its own table, never changed, read back by `rag audit`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import RIVER_TEXTS

import rag
from rag.cli.main import main
from rag.storage.engine import is_database_url
from rag.storage.store import DATABASE_NAME

ENGINES = ["folder", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def rivers(request: pytest.FixtureRequest, river_index: Path) -> str:
    """The river notes in an index folder, or in a PostgreSQL schema: `--index` of either."""
    if request.param == "folder":
        return str(river_index)
    url = str(request.getfixturevalue("postgres_url"))
    with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
    return url


def refused_by_the_trail(location: str, statement: str) -> None:
    """The statement, run on the index's own database, is refused as append-only."""
    if not is_database_url(location):
        with (
            sqlite3.connect(Path(location) / DATABASE_NAME) as connection,
            pytest.raises(sqlite3.IntegrityError, match="append-only"),
        ):
            connection.execute(statement)
        return
    import psycopg

    with (
        psycopg.connect(location, autocommit=True) as connection,
        pytest.raises(psycopg.errors.RaiseException, match="append-only"),
    ):
        connection.execute(statement)


def made_old(location: str, actor: str) -> None:
    """An actor's events as if written in 2000 (a test only: the trail itself refuses it)."""
    old = "UPDATE audit_events SET at = '2000-01-01T00:00:00.000Z' WHERE actor = %s"
    if not is_database_url(location):
        with sqlite3.connect(Path(location) / DATABASE_NAME) as connection:
            connection.execute("DROP TRIGGER audit_events_no_update")
            connection.execute(old.replace("%s", "?"), (actor,))
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as connection, connection.transaction():
        connection.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        connection.execute(old, (actor,))
        connection.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def test_events_are_appended_read_back_by_user_and_time_and_never_changed(
    rivers: str, fake_embedder: rag.HashingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(rivers, embedder=fake_embedder) as base:
        trail = base.engine_store()
        trail.record("alice", "asked", {"question": "floods?", "quoted": []})
        trail.record("key #1", "removed", {"source": "notes/amber.txt"})
        assert [event.action for event in trail.audit_events()] == ["asked", "removed"]
        assert [event.actor for event in trail.audit_events(actor="alice")] == ["alice"]
        assert trail.audit_events(since="2999-01-01") == []
        assert len(trail.audit_events(since=trail.audit_events()[0].at)) == 2
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        refused_by_the_trail(rivers, statement)
    assert main(["audit", "--index", rivers, "--model", "hashing-256", "--user", "alice", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(event["actor"], event["detail"]["question"]) for event in shown] == [("alice", "floods?")]


def test_a_flood_of_refusals_is_written_at_a_bounded_rate(
    rivers: str, fake_embedder: rag.HashingEmbedder
) -> None:
    from rag.serve.audit import REFUSALS_PER_MINUTE, AuditTrail

    with rag.open(rivers, embedder=fake_embedder) as base:
        trail = AuditTrail({"rivers": base})
        for _ in range(REFUSALS_PER_MINUTE + 5):
            trail.refused("anonymous", "401 invalid_api_key", "/v1/models")
        events = base.engine_store().audit_events
        assert len(events()) == REFUSALS_PER_MINUTE
        trail._refusal_times.clear()  # a minute later
        trail.refused("alice", "403 read_only", "/v1/documents")  # another caller's count is its own
        trail.refused("anonymous", "401 invalid_api_key", "/v1/models")
        assert events()[-1].detail["refusals_left_out_before"] == 5
        assert "refusals_left_out_before" not in events()[-2].detail


def test_a_retention_pass_removes_only_old_events_and_leaves_a_note(
    rivers: str, fake_embedder: rag.HashingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(rivers, embedder=fake_embedder) as base:
        base.engine_store().record("alice", "asked", {"question": "floods?", "quoted": []})
        base.engine_store().record("bob", "asked", {"question": "tides?", "quoted": []})
    made_old(rivers, "alice")
    pruning = ["audit", "--index", rivers, "--model", "hashing-256", "--prune-older-than", "30", "--json"]
    assert main(pruning) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(event["actor"], event["action"]) for event in shown] == [("bob", "asked"), ("local", "pruned")]
    assert shown[-1]["detail"]["events"] == 1
    # Outside a retention pass nothing may be deleted, old or new.
    refused_by_the_trail(rivers, "DELETE FROM audit_events")
    refused_by_the_trail(rivers, "DELETE FROM audit_events WHERE at < '2999-01-01'")


def test_a_refused_mcp_call_is_in_the_audit_trail(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    import httpx
    from conftest import build_collections

    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig

    folders = build_collections(tmp_path, fake_embedder)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"alpha-reader-key-0001": ["alpha"]}))
    server = RunningServer(ServeConfig(folders, keys_file=keys, port=listen_port()), embedder=fake_embedder)
    try:
        refused = httpx.post(
            server.url + "/mcp",
            headers={"Authorization": "Bearer a-guessed-key-000000", "Accept": "application/json"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert refused.status_code == 401
        events = server.service.collections.base("alpha").sqlite_store().audit_events()
    finally:
        server.stop()
    assert [(event.actor, event.detail["path"]) for event in events if event.action == "refused"] == [
        ("anonymous", "/mcp")
    ]
