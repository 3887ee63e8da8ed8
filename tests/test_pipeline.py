"""Finding files to ingest: links, unreadable folders, and what each file is stored as."""

from __future__ import annotations

import os
from pathlib import Path

import rag
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
    fake_base.ingest([docs])
    assert fake_base.store.sources() == [str(docs / "link.txt")]
    (docs / "link.txt").unlink()
    report = fake_base.ingest([docs], prune=True)
    assert report.count("removed") == 1 and fake_base.store.sources() == []
