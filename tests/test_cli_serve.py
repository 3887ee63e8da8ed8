"""`rag serve` flags: bad ones print one `error:` line and exit 2 before anything is served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_collections

import rag
from eval.ports import free_port, listen_port
from rag.cli.main import build_parser, main
from rag.cli.serve import collection_folders, config_from, process_count


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_refuses_a_public_address_without_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folders = build_collections(tmp_path, rag.HashingEmbedder(256))
    code, err = run(
        capsys,
        "serve",
        "--model",
        "hashing-256",
        "--collection",
        f"a={folders['alpha']}",
        "--host",
        "0.0.0.0",
    )
    assert code == 2 and err.startswith("error: refusing to serve on 0.0.0.0 without --keys")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--collection", "no-equals-sign"], "write it as NAME=DIR"),
        (["--collection", "a,b=x"], "collection name 'a,b'"),
        (["--collection", "a=/nonexistent/folder"], "is not a folder"),
        (["--workers", "0"], "--workers must be 1-64"),
        (["--processes", "0"], "--processes must be 1-64"),
        (["--processes", "2", "--ui"], "--ui serves from one process"),
        (["--keys", "/nonexistent/keys.json"], "cannot read the keys file"),
    ],
)
def test_bad_flags_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    (tmp_path / "index").mkdir()
    index = str(tmp_path / "index")
    # A free port: were 8000 (the default) taken, the port's error could come first.
    code, err = run(
        capsys, "serve", "--model", "hashing-256", "--index", index, "--port", str(free_port()), *flags
    )
    assert code == 2 and message in err and "Traceback" not in err


def test_default_collection_is_the_index_named_by_its_folder(tmp_path: Path) -> None:
    assert collection_folders([], tmp_path / "handbook") == {"handbook": tmp_path / "handbook"}
    named = collection_folders(["notes=/data/notes"], None)
    assert named == {"notes": Path("/data/notes")}


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "index").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", listen_port()))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, err = run(
            capsys, "serve", "--model", "hashing-256", "--index", str(tmp_path / "index"), "--port", port
        )
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1


def test_other_commands_do_not_load_the_server_libraries() -> None:
    code = "import sys, rag.cli.main; print(sorted({'fastapi', 'uvicorn', 'mcp'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_started_with_an_llm_the_answers_default_to_the_llm_mode(tmp_path: Path) -> None:
    parser = build_parser()
    with_llm = parser.parse_args(
        ["serve", "--index", str(tmp_path), "--llm-base-url", "http://127.0.0.1:9/v1"]
    )
    settings = config_from(with_llm).settings
    assert settings is not None and settings.answer_mode == "llm"
    chosen = parser.parse_args(
        ["serve", "--index", str(tmp_path), "--llm-local", "m.gguf", "--answer-mode", "extractive"]
    )
    chosen_settings = config_from(chosen).settings
    assert chosen_settings is not None and chosen_settings.answer_mode == "extractive"


def test_sync_flag_asks_the_server_to_keep_its_collections_in_step(tmp_path: Path) -> None:
    # What --sync then does, a real `rag serve --sync` shows in tests/test_serve_syncing.py.
    parser = build_parser()
    assert config_from(parser.parse_args(["serve", "--index", str(tmp_path), "--sync"])).sync
    assert not config_from(parser.parse_args(["serve", "--index", str(tmp_path)])).sync


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--oidc-issuer", "http://127.0.0.1:1"], "give --oidc-issuer URL and --oidc-audience AUD together"),
        (["--oidc-issuer", "http://127.0.0.1:1", "--oidc-audience", "verbatim"], "needs --access FILE"),
        (["--access", "/nonexistent/access.toml"], "cannot read the access file"),
    ],
)
def test_bad_identity_flags_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    (tmp_path / "index").mkdir()
    index = str(tmp_path / "index")
    code, err = run(
        capsys, "serve", "--model", "hashing-256", "--index", index, "--port", str(free_port()), *flags
    )
    assert code == 2 and message in err and "Traceback" not in err


def test_processes_default_to_the_cores_within_memory_and_to_one_with_the_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = build_parser()
    monkeypatch.setattr("rag.cli.serve._available_mb", lambda: 1_000_000)
    assert process_count(parser.parse_args(["serve", "--index", str(tmp_path)])) == (os.cpu_count() or 1)
    monkeypatch.setattr("rag.cli.serve._available_mb", lambda: 600)  # room for one model's process
    assert process_count(parser.parse_args(["serve", "--index", str(tmp_path)])) == 1
    assert process_count(parser.parse_args(["serve", "--index", str(tmp_path), "--ui"])) == 1
    assert process_count(parser.parse_args(["serve", "--index", str(tmp_path), "--processes", "3"])) == 3


def test_the_banner_comes_once_the_port_takes_connections(tmp_path: Path) -> None:
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("a.md", "The lantern is kept in the north tower.")])
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "rag",
        "serve",
        "--index",
        str(tmp_path / "index"),
        "--model",
        "hashing-256",
    ]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--processes", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "Verbatim API at" in line:
                break
        else:
            pytest.fail("rag serve ended without its banner")
        with socket.create_connection(("127.0.0.1", port), timeout=5):  # refused if it came early
            pass
    finally:
        server.terminate()
        server.wait(timeout=30)
