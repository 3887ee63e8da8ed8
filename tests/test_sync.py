"""Sync passes over a real folder: add, change, rename, delete, partial writes, mass deletion, events."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import rag
import rag.sources
from rag.sources.config import spec_from_location
from rag.sources.runner import SyncOptions, declared_specs, sync_once, watch
from rag.sources.state import SyncState
from rag.sources.status import status
from rag.sources.sync import PassReport

TEXTS = {
    f"note{number}.txt": f"Note {number} says the {word} lighthouse stands on the cliff."
    for number, word in enumerate(("amber", "birch", "cedar", "delta", "ember"))
}


def write(folder: Path, name: str, text: str, age: float = 100.0) -> Path:
    """Write a file whose modification time lies age seconds back (long settled)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    for name, text in TEXTS.items():
        write(folder, name, text)
    return folder


def chunk_ids(base: rag.KnowledgeBase, source: Path) -> list[int]:
    rows = base.store._connect().execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.key = c.document_key WHERE d.source = ? ORDER BY c.id",
        (str(source),),
    )
    return [row[0] for row in rows]


def one_pass(base: rag.KnowledgeBase, folder: Path, **options: object) -> PassReport:
    spec = spec_from_location(str(folder), settle_seconds=options.pop("settle_seconds", 0.5))
    return sync_once(base, [spec], SyncOptions(**options))[0]  # type: ignore[arg-type]


def test_first_pass_adds_every_file_and_a_second_checks_only_tokens(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    first = one_pass(fake_base, docs)
    assert (first.added, first.failed, first.error) == (5, [], "")
    second = one_pass(fake_base, docs)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 5)
    assert fake_base.search("cedar lighthouse", k=1)[0].source == str(docs / "note2.txt")


def test_changed_file_replaces_its_chunks(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    write(docs, "note1.txt", "Note 1 now speaks of the violet harbour instead.", age=50)
    report = one_pass(fake_base, docs)
    assert (report.updated, report.unchanged) == (1, 4)
    assert "violet harbour" in fake_base.document(str(docs / "note1.txt")).text


def test_renamed_file_keeps_its_chunks_and_is_not_embedded_again(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    one_pass(fake_base, docs)
    before = chunk_ids(fake_base, docs / "note3.txt")
    (docs / "sub").mkdir()
    os.rename(docs / "note3.txt", docs / "sub" / "renamed.txt")
    report = one_pass(fake_base, docs)
    assert (report.renamed, report.added, report.removed) == (1, 0, 0)
    assert chunk_ids(fake_base, docs / "sub" / "renamed.txt") == before
    assert str(docs / "note3.txt") not in fake_base.store.sources()


def test_deleted_file_is_removed(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    (docs / "note4.txt").unlink()
    report = one_pass(fake_base, docs)
    assert report.removed == 1 and str(docs / "note4.txt") not in fake_base.store.sources()


def test_file_still_being_written_waits_until_it_settles(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    partial = docs / "growing.txt"
    partial.write_text("The first half of a long rep")  # mtime: now
    report = one_pass(fake_base, docs, settle_seconds=30)
    assert (report.pending, report.added) == (1, 0)
    assert str(partial) not in fake_base.store.sources()
    write(docs, "growing.txt", "The first half of a long report, and now its second half.", age=60)
    assert one_pass(fake_base, docs, settle_seconds=30).added == 1


def test_temporary_and_excluded_files_are_never_ingested(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    write(docs, "download.txt.part", "half a download")
    write(docs, "drafts/plan.txt", "a draft plan")
    spec = spec_from_location(str(docs), exclude=["drafts/*"], settle_seconds=0.5)
    sync_once(fake_base, [spec], SyncOptions())
    assert sorted(Path(source).name for source in fake_base.store.sources()) == sorted(TEXTS)


def test_mass_deletion_is_held_and_says_why(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    for name in ("note0.txt", "note1.txt", "note2.txt"):
        (docs / name).unlink()
    held = one_pass(fake_base, docs)
    assert held.removed == 0 and held.held_removals == 3 and "--allow-mass-delete" in held.error
    assert len(fake_base.store.sources()) == 5
    allowed = one_pass(fake_base, docs, allow_mass_delete=True)
    assert allowed.removed == 3 and len(fake_base.store.sources()) == 2


def test_unreachable_folder_keeps_its_documents(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    docs.rename(docs.with_name("unmounted"))
    report = one_pass(fake_base, docs)
    assert report.removed == 0 and "kept" in report.error
    assert len(fake_base.store.sources()) == 5


def test_emptied_folder_keeps_its_documents(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    for path in docs.iterdir():
        path.unlink()
    assert one_pass(fake_base, docs).held_removals == 5
    assert len(fake_base.store.sources()) == 5


def test_lost_state_resumes_without_duplicates(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    one_pass(fake_base, docs)
    (fake_base.folder / "sync-state.json").unlink()
    report = one_pass(fake_base, docs)
    assert (report.added, report.unchanged) == (0, 5)
    assert fake_base.store.counts()[0] == 5


def test_state_records_the_source_and_status_shows_the_last_pass(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    one_pass(fake_base, docs)
    (shown,) = status(fake_base.folder)
    assert shown["location"] == str(docs) and shown["documents"] == 5 and shown["last"]["added"] == 5
    assert [spec.location for spec in declared_specs(fake_base.folder, [])] == [str(docs)]
    assert SyncState(fake_base.folder).source(str(docs)).entries


def test_sources_file_declares_sources(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    fake_base.create()
    (fake_base.folder / "sources.toml").write_text(
        f'[defaults]\nevery = "5m"\n\n[[source]]\nlocation = "{docs}"\ninclude = ["note1*"]\n'
    )
    (spec,) = declared_specs(fake_base.folder, [])
    assert spec.every_seconds == 300 and spec.include == ("note1*",)
    report = sync_once(fake_base, [spec], SyncOptions())[0]
    assert report.added == 1


def test_watched_folder_change_is_searchable_within_five_seconds(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    spec = spec_from_location(str(docs), settle_seconds=0.3)
    stop = threading.Event()
    passes: list[object] = []
    watcher = threading.Thread(target=watch, args=(fake_base, [spec], SyncOptions(), passes.extend, stop))
    watcher.start()
    try:
        deadline = time.time() + 20
        while not passes and time.time() < deadline:
            time.sleep(0.05)
        written = time.time()
        (docs / "fresh.txt").write_text("A fresh note about the saffron windmill.")
        with rag.open(fake_base.folder, embedder=fake_base.embedder) as reader:
            while time.time() - written < 10:
                if str(docs / "fresh.txt") in reader.store.sources():
                    break
                time.sleep(0.05)
            seconds = time.time() - written
            assert reader.search("saffron windmill", k=1)[0].source == str(docs / "fresh.txt")
    finally:
        stop.set()
        watcher.join(10)
    assert seconds <= 5, seconds


def test_watch_waits_for_another_writer_instead_of_stopping(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    from rag.storage.lock import write_lock

    fake_base.create()
    spec = spec_from_location(str(docs), settle_seconds=0.3)
    stop = threading.Event()
    passes: list[PassReport] = []
    with write_lock(fake_base.folder):
        watcher = threading.Thread(target=watch, args=(fake_base, [spec], SyncOptions(), passes.extend, stop))
        watcher.start()
        deadline = time.time() + 10
        while not passes and time.time() < deadline:
            time.sleep(0.05)
    try:
        assert "retrying" in passes[0].error
        deadline = time.time() + 20
        while len(passes) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert passes[1].added == 5
    finally:
        stop.set()
        watcher.join(10)


def test_first_pass_knows_what_rag_ingest_stored_and_removes_what_is_gone(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    fake_base.ingest([docs])
    (docs / "note0.txt").unlink()
    report = one_pass(fake_base, docs)
    assert (report.added, report.unchanged, report.removed) == (0, 4, 1)
    assert sorted(Path(source).name for source in fake_base.store.sources()) == sorted(TEXTS)[1:]
    assert not [
        key for key in SyncState(fake_base.folder).source(str(docs)).entries if key.startswith("stored:")
    ]


def test_sync_command_reports_and_status_shows_it(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from rag.cli.main import main

    index = str(tmp_path / "index")
    assert main(["sync", str(docs), "--index", index, "--model", "hashing-256"]) == 0
    assert "5 added" in capsys.readouterr().out
    (docs / "note0.txt").unlink()
    assert main(["sync", "--index", index, "--model", "hashing-256", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["removed"] == 1
    assert main(["sync", "--status", "--json", "--index", index, "--model", "hashing-256"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown["documents"] == 4 and shown["last"]["removed"] == 1
    assert main(["sync", "--index", str(tmp_path / "empty"), "--model", "hashing-256"]) == 2
    assert "no sources to sync" in capsys.readouterr().err


def test_status_keeps_the_last_change_and_each_failing_file_until_it_is_fixed(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    write(docs, "broken.pdf", "%PDF-1.4 not really a PDF")
    one_pass(fake_base, docs)
    one_pass(fake_base, docs)  # nothing changed: a quiet pass
    (shown,) = status(fake_base.folder)
    assert shown["last"]["added"] == 0 and shown["last_change"]["added"] == 5
    assert [key for key, _ in shown["failing"]] == ["broken.pdf"] and shown["failing"][0][1]
    line = rag.sources.summary(shown)
    assert "no change" in line and "5 added, 1 failed" in line and "1 failing" in line
    (docs / "broken.pdf").unlink()
    write(docs, "broken.txt", "Now a readable note about the lighthouse keeper.")
    one_pass(fake_base, docs)
    (shown,) = status(fake_base.folder)
    assert shown["failing"] == [] and shown["last_change"]["added"] == 1


def test_stats_shows_each_synced_source_with_its_failures(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli.main import main

    write(docs, "broken.pdf", "%PDF-1.4 not really a PDF")
    index = str(tmp_path / "index")
    assert main(["sync", str(docs), "--index", index, "--model", "hashing-256"]) == 1
    capsys.readouterr()
    assert main(["stats", "--index", index]) == 0
    shown = capsys.readouterr().out
    assert f"{docs} (folder): 5 documents" in shown and "5 added, 1 failed" in shown
    assert "failing: broken.pdf:" in shown


def test_a_source_with_readers_grants_them_on_each_document_it_brings(
    fake_base: rag.KnowledgeBase, docs: Path
) -> None:
    from rag.access.identity import Actor

    fake_base.create()
    (fake_base.folder / "sources.toml").write_text(
        f'[[source]]\nlocation = "{docs}"\nread = ["finance", "audit"]\n'
    )
    (spec,) = declared_specs(fake_base.folder, [])
    assert spec.read == ("audit", "finance")
    sync_once(fake_base, [spec], SyncOptions())
    assert fake_base.readers_of(str(docs / "note0.txt")) == {"audit", "finance"}
    outsider = fake_base.for_reader(Actor("eve", frozenset({"sales"}), "key"))
    member = fake_base.for_reader(Actor("ann", frozenset({"finance"}), "key"))
    assert outsider.documents() == [] and len(member.documents()) == 5
    (docs / "note1.txt").rename(docs / "renamed.txt")
    write(docs, "late.txt", "A late note about the harbour crane.")
    sync_once(fake_base, [spec], SyncOptions())
    assert fake_base.readers_of(str(docs / "renamed.txt")) == {"audit", "finance"}
    assert fake_base.readers_of(str(docs / "late.txt")) == {"audit", "finance"}
    assert outsider.documents() == [] and len(member.documents()) == 6
    with pytest.raises(rag.SettingsError, match="read must be a non-empty list"):
        spec_from_location(str(docs), read=[])


def test_a_folders_ragignore_is_honoured_by_sync(fake_base: rag.KnowledgeBase, docs: Path) -> None:
    write(docs, "screenshots/chat.txt", "words of a picture")
    (docs / ".ragignore").write_text("screenshots/\n")
    one_pass(fake_base, docs)
    assert sorted(Path(source).name for source in fake_base.store.sources()) == sorted(TEXTS)


@pytest.mark.postgres
def test_sync_of_an_index_in_postgresql_is_a_one_line_error_that_writes_nothing(
    tmp_path: Path,
    docs: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rag.cli.main import main
    from ui.__main__ import main as ui_main

    # Before, a pass kept what it remembered of each source in a folder named after the URL,
    # under the working directory (with the URL's password in the path, when it had one).
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("seed.txt", "A seed note about the harbour.")])
    fake = ["--model", "hashing-256"]
    for argv in (["sync", str(docs)], ["sync", "--status"], ["sync", str(docs), "--watch"]):
        assert main([*argv, "--index", postgres_url, *fake]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "sync keeps folder indexes in step" in error, error
        assert "is a PostgreSQL index" in error
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert [info.source for info in base.documents()] == ["seed.txt"]
        with pytest.raises(rag.RagError, match="sync keeps folder indexes"):
            rag.sources.sync_once(base, [spec_from_location(str(docs))], SyncOptions())
    assert main(["stats", "--index", postgres_url, *fake]) == 0
    assert "sources" not in capsys.readouterr().out
    # The chat UI on its own (python -m ui) says so before it serves anything.
    assert ui_main(["--index", postgres_url, "--sync", "--model", "hashing-256", "--port", "1"]) == 2
    assert "error: sync keeps folder indexes in step" in capsys.readouterr().err
    assert set(tmp_path.iterdir()) == before
