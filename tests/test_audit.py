"""The audit trail: appended in its own table, never changed, read back by `rag audit`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import rag
from rag.cli.main import main


def test_events_are_appended_read_back_by_user_and_time_and_never_changed(
    river_index: Path, fake_embedder: rag.HashingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(river_index, embedder=fake_embedder) as base:
        base.store.record("alice", "asked", {"question": "floods?", "quoted": []})
        base.store.record("key #1", "removed", {"source": "notes/amber.txt"})
        assert [event.action for event in base.store.audit_events()] == ["asked", "removed"]
        assert [event.actor for event in base.store.audit_events(actor="alice")] == ["alice"]
        assert base.store.audit_events(since="2999-01-01") == []
        connection = base.store._connect()
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    assert (
        main(["audit", "--index", str(river_index), "--model", "hashing-256", "--user", "alice", "--json"])
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert [(event["actor"], event["detail"]["question"]) for event in shown] == [("alice", "floods?")]


def test_a_flood_of_refusals_is_written_at_a_bounded_rate(
    river_index: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    from rag.serve.audit import REFUSALS_PER_MINUTE, AuditTrail

    with rag.open(river_index, embedder=fake_embedder) as base:
        trail = AuditTrail({"rivers": base})
        for _ in range(REFUSALS_PER_MINUTE + 5):
            trail.refused("anonymous", "401 invalid_api_key", "/v1/models")
        assert len(base.store.audit_events()) == REFUSALS_PER_MINUTE
        trail._refusal_times.clear()  # a minute later
        trail.refused("alice", "403 read_only", "/v1/documents")  # another caller's count is its own
        trail.refused("anonymous", "401 invalid_api_key", "/v1/models")
        assert base.store.audit_events()[-1].detail["refusals_left_out_before"] == 5
        assert "refusals_left_out_before" not in base.store.audit_events()[-2].detail


def test_a_retention_pass_removes_only_old_events_and_leaves_a_note(
    river_index: Path, fake_embedder: rag.HashingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(river_index, embedder=fake_embedder) as base:
        base.store.record("alice", "asked", {"question": "floods?", "quoted": []})
        base.store.record("bob", "asked", {"question": "tides?", "quoted": []})
        connection = base.store._connect()
        # Made old by hand (a test only: the triggers would refuse it), as if written 40 days ago.
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET at = '2000-01-01T00:00:00.000Z' WHERE actor = 'alice'")
        connection.commit()
    assert (
        main(
            [
                "audit",
                "--index",
                str(river_index),
                "--model",
                "hashing-256",
                "--prune-older-than",
                "30",
                "--json",
            ]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert [(event["actor"], event["action"]) for event in shown] == [("bob", "asked"), ("local", "pruned")]
    assert shown[-1]["detail"]["events"] == 1
    with rag.open(river_index, embedder=fake_embedder) as base:
        connection = base.store._connect()
        # Outside a retention pass nothing may be deleted, old or new.
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM audit_events")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM audit_events WHERE at < '2999-01-01'")


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
