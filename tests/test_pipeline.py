"""Finding files to ingest: links, unreadable folders, and what each file is stored as."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.ingest import pipeline
from rag.ingest.pipeline import discover


def test_dangling_symlink_is_reported_not_skipped_silently(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    files, rejected = discover([tmp_path])
    assert files == []
    assert [result.status for result in rejected] == ["failed"]
    assert "broken symbolic link" in rejected[0].reason and rejected[0].source.endswith("gone.txt")


def test_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: object) -> None:
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)  # type: ignore[attr-defined]
    _, rejected = discover([tmp_path])
    assert [(Path(r.source).name, r.status) for r in rejected] == [("locked", "failed")]
    assert "Permission denied" in rejected[0].reason


def test_symlinked_file_is_stored_under_the_link_and_pruned_when_the_link_goes(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "real.txt"
    target.parent.mkdir()
    target.write_text("The quarry workers cut granite blocks for the harbour wall.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "link.txt").symlink_to(target)
    fake_base.settings = fake_base.settings.replace(follow_links=True)  # the target is outside docs/
    fake_base.ingest([docs])
    assert fake_base.store.sources() == [str(docs / "link.txt")]
    (docs / "link.txt").unlink()
    report = fake_base.ingest([docs], prune=True)
    assert report.count("removed") == 1 and fake_base.store.sources() == []


def test_file_over_the_chunk_limit_fails_alone_with_the_limit_named(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "one-line.txt").write_text("word " * 60_000)  # one 300 KB line
    (docs / "small.txt").write_text("A small note about the harbour.")
    settings = rag.Settings(max_chunks_per_file=100)
    with rag.open(tmp_path / "index", settings, embedder=fake_embedder) as base:
        report = base.ingest([docs])
    failed = {Path(result.source).name: result.reason for result in report.failed}
    assert list(failed) == ["one-line.txt"] and report.count("added") == 1
    assert "over the limit of 100 per file" in failed["one-line.txt"]
    assert "RAG_MAX_CHUNKS_PER_FILE" in failed["one-line.txt"]


def test_progress_moves_while_one_long_file_is_embedded(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    # Numbered: identical chunks would be embedded once, and leave little to show progress on.
    (tmp_path / "long.txt").write_text(
        " ".join(f"The harbour ships {n} cloves every spring." for n in range(20_000))
    )
    updates: list[rag.IngestProgress] = []
    fake_base.ingest([tmp_path / "long.txt"], progress=updates.append)
    while_embedding = [update.chunks for update in updates if update.done == 0]
    assert len(while_embedding) >= 3 and while_embedding == sorted(while_embedding)
    assert updates[-1].done == 1


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MAX_CHUNKS_PER_FILE", "7")
    monkeypatch.setenv("RAG_PARSE_SECONDS", "2.5")
    settings = rag.Settings.from_env()
    assert settings.max_chunks_per_file == 7 and settings.parse_seconds == 2.5
    monkeypatch.setenv("RAG_PARSE_MEMORY_MB", "lots")
    with pytest.raises(rag.SettingsError, match="RAG_PARSE_MEMORY_MB must be a number"):
        rag.Settings.from_env()


def test_links_leading_out_of_the_folder_are_skipped_and_reported(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    secret = tmp_path / "server" / "keys.json"
    secret.parent.mkdir()
    secret.write_text('{"readerA-0123456789abcdef": ["A"]}')
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "alpha.txt").write_text("Alpha notes about apples.")
    (docs / "keys.txt").symlink_to(secret)  # absolute target
    (docs / "sub" / "up.md").symlink_to(Path("..") / ".." / "server" / "keys.json")  # relative, via ..
    (docs / "sub" / "loop.txt").symlink_to(docs / "sub" / "loop.txt")
    (docs / "inside.txt").symlink_to(docs / "alpha.txt")  # stays inside: kept
    report = fake_base.ingest([docs])
    assert sorted(Path(source).name for source in fake_base.store.sources()) == ["alpha.txt", "inside.txt"]
    skipped = {Path(result.source).name: result for result in report.files if result.status == "skipped"}
    assert set(skipped) == {"keys.txt", "up.md", "loop.txt"}
    assert all("--follow-links" in result.reason for result in skipped.values())
    assert all("readerA" not in passage.text for passage in fake_base.search("readerA", 3))


def test_a_name_that_is_not_utf8_is_reported_and_the_rest_is_ingested(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.txt").write_text("Alpha notes about apples.")
    bad = os.path.join(os.fsencode(docs), b"kite\xff\xfe.txt")
    with open(bad, "wb") as file:
        file.write(b"kites\n")
    report = fake_base.ingest([docs])
    assert [Path(source).name for source in fake_base.store.sources()] == ["alpha.txt"]
    failed = [result for result in report.files if result.status == "failed"]
    assert len(failed) == 1 and failed[0].source.endswith("kite\\xff\\xfe.txt")
    assert "not valid UTF-8" in failed[0].reason
    failed[0].source.encode("utf-8")  # printable and storable


def test_a_folders_ragignore_keeps_the_files_it_names_out_of_an_ingest(tmp_path: Path) -> None:
    for name in ("guide.md", "screenshots/chat.png", "drafts/plan.md", "drafts/keep/final.md", "sub/a.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".ragignore").write_text("# pictures of the UI, not documents\nscreenshots/\ndrafts/*.md\n")
    (tmp_path / "sub" / ".ragignore").write_text("*.png\n")
    files, rejected = discover([tmp_path])
    found = sorted(path.relative_to(tmp_path).as_posix() for path in files)
    assert found == ["drafts/keep/final.md", "guide.md"] and rejected == []
    assert discover([tmp_path / "screenshots" / "chat.png"])[0] != []  # a file named outright is ingested


def test_make_runs_sample_corpus_leaves_out_the_screenshots() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    assert any((docs / "screenshots").glob("*.png"))
    files, _ = discover([docs])
    assert files and not [path for path in files if "screenshots" in path.parts]


class _SlowModel:
    """The hashing model, saying (as a slow model such as e5 does) that it embeds 16 chunks at a time."""

    def __init__(self) -> None:
        self.model = rag.HashingEmbedder(256)
        self.name, self.dimension = self.model.name, self.model.dimension
        self.ingest_batch = 16
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self.model.embed(texts)


def test_a_slow_model_commits_small_batches_so_progress_keeps_moving(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(64):
        (docs / f"note{n:02}.txt").write_text(f"Note {n}: the harbour ships {n} crates of cloves.\n")
    embedder = _SlowModel()
    updates: list[rag.IngestProgress] = []
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.ingest([docs], progress=updates.append)
    # Batches of the 16 one-chunk files the model asks for, each committed before the next is
    # embedded: not one batch of all 64.
    assert max(embedder.calls) <= 16 and sum(embedder.calls) >= 64
    first_commit = next(index for index, update in enumerate(updates) if update.done)
    assert updates[first_commit].done <= 16 and updates[-1].done == 64


def test_other_models_embed_full_batches(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(300):
        (docs / f"note{n:03}.txt").write_text(f"Note {n}: the harbour ships {n} crates of cloves.\n")
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        sizes: list[int] = []
        real = pipeline.Batch.flush

        def flush(batch: pipeline.Batch) -> None:
            sizes.append(sum(len(item.document.spans) for item in batch.pending))
            real(batch)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pipeline.Batch, "flush", flush)
            base.ingest([docs])
    assert sizes == [pipeline.EMBED_BATCH_CHUNKS, 300 - pipeline.EMBED_BATCH_CHUNKS]
