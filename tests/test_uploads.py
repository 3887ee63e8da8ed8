"""Uploaded files, checked the same way for the chat UI and rag serve: kept or refused with a reason."""

from __future__ import annotations

from pathlib import Path

from rag.ingest import MAX_FILES_PER_UPLOAD, keep_uploads


def temp_file(folder: Path, name: str, content: bytes) -> tuple[str, Path]:
    path = folder / f"tmp-{len(list(folder.iterdir()))}"
    path.write_bytes(content)
    return name, path


def test_good_files_are_kept_under_safe_names_and_bad_ones_refused_with_reasons(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    files = [
        temp_file(incoming, "../../etc/notes.md", b"# Notes\n\nPlain notes."),
        temp_file(incoming, "photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        temp_file(incoming, "big.txt", b"x" * 2000),
        temp_file(incoming, "run.exe", b"MZ"),
    ]
    kept, refused = keep_uploads(files, tmp_path / "uploads", max_bytes=1000)
    assert kept == [tmp_path / "uploads" / "notes.md"]
    assert kept[0].read_bytes().startswith(b"# Notes")
    reasons = dict(refused)
    assert "PNG" in reasons["photo.txt"] and "upload limit" in reasons["big.txt"]
    assert "not supported" in reasons["run.exe"]
    assert not list((tmp_path / "uploads").glob(".*partial"))


def test_more_files_than_one_upload_may_hold_are_refused(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    files = [temp_file(incoming, f"n{i}.txt", b"text") for i in range(MAX_FILES_PER_UPLOAD + 2)]
    kept, refused = keep_uploads(files, tmp_path / "uploads", max_bytes=1000)
    assert len(kept) == MAX_FILES_PER_UPLOAD and len(refused) == 2
    assert all("more than" in reason for _, reason in refused)


def test_long_names_in_any_script_are_shortened_to_fit_the_disk(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    names = ["é" * 140 + ".txt", "😀" * 100 + ".txt", "中" * 149 + ".md", "a" * 300 + ".txt"]
    files = [temp_file(incoming, name, f"note {number}".encode()) for number, name in enumerate(names)]
    files.append(temp_file(incoming, "é" * 140 + ".txt", b"another file of the same name"))
    kept, refused = keep_uploads(files, tmp_path / "uploads", max_bytes=1000)
    assert refused == [] and len(kept) == 5
    assert all(len(path.name.encode()) <= 255 for path in kept)
    assert kept[0].name.startswith("é") and kept[-1].name.endswith(" (2).txt")


def test_bidirectional_controls_are_removed_from_kept_names(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    files = [
        temp_file(incoming, "evil\u202etxt.md", b"x"),
        temp_file(incoming, "a\u2067b\u2069\u200f.md", b"y"),
    ]
    kept, _ = keep_uploads(files, tmp_path / "uploads", max_bytes=1000)
    assert [path.name for path in kept] == ["eviltxt.md", "ab.md"]
