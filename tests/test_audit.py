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
