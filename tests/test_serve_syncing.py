"""`rag serve --sync`: a running server follows a folder edited by hand and a bucket changed
through the S3 API, with no `rag ingest`; an upload during a pass waits for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import rag
from eval.ports import free_port, listen_port
from rag.serve import RunningServer, ServeConfig
from rag.serve.syncing import CollectionIndex

REPO = Path(__file__).resolve().parents[1]
START_SECONDS = 120
FOLLOW_SECONDS = 30.0


def settled(path: Path, text: str) -> Path:
    """Write text with a modification time a minute back (not a partial write)."""
    path.write_text(text)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def start_serve(
    index: Path, port: int, workdir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`rag serve --index index --sync` on 127.0.0.1:port, answering once its first pass is done."""
    log = (workdir / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--index", str(index), "--port", str(port), "--sync"],
        cwd=REPO,
        env=os.environ | {"HF_HUB_OFFLINE": "1"} | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"rag serve exited with {process.returncode}: {(workdir / f'serve-{port}.log').read_text()}"
            )
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return process
        except (OSError, urllib.error.URLError):
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"rag serve did not answer within {START_SECONDS} s")


def ask(port: int, question: str) -> list[str]:
    """The sources an answer of the running server cites (none when it is refused)."""
    response = httpx.post(f"http://127.0.0.1:{port}/v1/ask", json={"question": question}, timeout=60)
    response.raise_for_status()
    return [citation["source"] for citation in response.json().get("citations", [])]


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait up to FOLLOW_SECONDS for check() to hold."""
    deadline = time.monotonic() + FOLLOW_SECONDS
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {FOLLOW_SECONDS:.0f} s: {what}")
        time.sleep(0.3)


def sources_status(port: int) -> list[dict[str, object]]:
    """GET /v1/sources of the running server."""
    return list(httpx.get(f"http://127.0.0.1:{port}/v1/sources", timeout=10).json()["data"])


@pytest.fixture
def served_folder(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    """A folder synced once into an index (hashing embedder), then served with --sync."""
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    settled(docs / "harbour.txt", "The harbour master rings the copper bell at dawn.\n")
    settled(docs / "orchard.txt", "The orchard keeper grows quince trees beside the granite wall.\n")
    done = subprocess.run(
        [sys.executable, "-m", "rag", "sync", str(docs), "--index", str(index), "--model", "hashing-256"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    port = free_port()
    process = start_serve(index, port, tmp_path)
    yield docs, index, port
    process.terminate()
    process.wait(timeout=20)


def test_a_served_folder_follows_hand_edits_without_ingest(served_folder: tuple[Path, Path, int]) -> None:
    docs, _, port = served_folder
    assert ask(port, "Who rings the copper bell?") == [f"{docs.name}/harbour.txt"]

    (docs / "ferry.txt").write_text("The ferry to the island leaves from pier seven every hour.\n")
    eventually(lambda: f"{docs.name}/ferry.txt" in ask(port, "Where does the ferry leave from?"), "added")

    (docs / "orchard.txt").write_text("The orchard keeper grows saffron crocus beside the granite wall.\n")
    eventually(
        lambda: (
            f"{docs.name}/orchard.txt" in ask(port, "What does the orchard keeper grow?")
            and "saffron"
            in httpx.post(
                f"http://127.0.0.1:{port}/v1/ask",
                json={"question": "What does the orchard keeper grow?"},
                timeout=60,
            ).text
        ),
        "changed",
    )

    (docs / "harbour.txt").rename(docs / "port.txt")
    eventually(lambda: ask(port, "Who rings the copper bell?") == [f"{docs.name}/port.txt"], "renamed")

    (docs / "ferry.txt").unlink()
    eventually(
        lambda: f"{docs.name}/ferry.txt" not in ask(port, "Where does the ferry leave from?"), "deleted"
    )

    # The pass removes the document, then records itself: its report may come a moment later.
    eventually(lambda: sources_status(port)[0]["last_change"].get("removed") == 1, "reported")  # type: ignore[union-attr]
    (status,) = sources_status(port)
    # Named as the documents are, from the folder's own name: the server's disk is not the caller's.
    assert status["location"] == docs.name and status["documents"] == 2
    assert status["last_change"]["removed"] == 1  # type: ignore[index]


def test_the_sync_thread_shares_the_served_model_and_an_upload_waits_for_a_pass(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("seed.txt", "A seed document about lighthouses.")])
    server = RunningServer(ServeConfig({"default": index}, port=listen_port()))
    try:
        collection = server.service.collections.get("default")
        syncing = CollectionIndex(collection)
        assert syncing.base.embedder is collection.base.embedder
        outcome: dict[str, object] = {}

        def upload() -> None:
            files = {"file": ("tides.txt", b"Spring tides follow the full moon.", "text/plain")}
            outcome["response"] = httpx.post(f"{server.url}/v1/documents", files=files, timeout=60)

        with syncing.writing():  # a sync pass in progress
            uploading = threading.Thread(target=upload)
            uploading.start()
            uploading.join(1.5)
            assert uploading.is_alive(), f"the upload did not wait for the pass: {outcome}"
        uploading.join(30)
        response = outcome["response"]
        assert isinstance(response, httpx.Response) and response.status_code == 200, response
        assert response.json()["summary"]["added"] == 1
    finally:
        server.stop()


@pytest.mark.s3
def test_a_served_bucket_follows_changes_made_through_the_s3_api(tmp_path: Path) -> None:
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    moto = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=listen_port(), verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    process = None
    try:
        client.create_bucket(Bucket="handbook")
        client.put_object(
            Bucket="handbook", Key="docs/bell.txt", Body=b"The harbour master rings the copper bell at dawn."
        )
        index = tmp_path / "index"
        with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
            base.create()
        (index / "sources.toml").write_text(
            f'[[source]]\nlocation = "s3://handbook/docs/"\nendpoint = "{endpoint}"\nevery = "1s"\n'
        )
        port = free_port()
        process = start_serve(index, port, tmp_path, aws)
        eventually(
            lambda: ask(port, "Who rings the copper bell?") == ["s3://handbook/docs/bell.txt"], "first pass"
        )

        client.put_object(
            Bucket="handbook", Key="docs/ferry.txt", Body=b"The ferry to the island leaves from pier seven."
        )
        eventually(
            lambda: "s3://handbook/docs/ferry.txt" in ask(port, "Where does the ferry leave from?"), "put"
        )

        client.put_object(
            Bucket="handbook", Key="docs/bell.txt", Body=b"The harbour master rings the silver gong at dusk."
        )
        eventually(
            lambda: (
                "silver gong"
                in json.dumps(
                    httpx.post(
                        f"http://127.0.0.1:{port}/v1/ask",
                        json={"question": "What does the harbour master ring?"},
                        timeout=60,
                    ).json()
                )
            ),
            "changed",
        )

        client.copy_object(
            Bucket="handbook", Key="docs/gong.txt", CopySource={"Bucket": "handbook", "Key": "docs/bell.txt"}
        )
        client.delete_object(Bucket="handbook", Key="docs/bell.txt")
        eventually(
            lambda: ask(port, "What does the harbour master ring?") == ["s3://handbook/docs/gong.txt"],
            "renamed",
        )

        client.delete_object(Bucket="handbook", Key="docs/ferry.txt")
        eventually(
            lambda: "s3://handbook/docs/ferry.txt" not in ask(port, "Where does the ferry leave from?"),
            "deleted",
        )
        (status,) = sources_status(port)
        assert status["kind"] == "s3" and status["documents"] == 1
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        moto.stop()


@pytest.mark.postgres
def test_serve_sync_syncs_folder_collections_and_says_a_postgresql_one_is_not_synced(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.serve.syncing import start_syncing

    embedder = rag.HashingEmbedder(256)
    notes = tmp_path / "notes"
    notes.mkdir()
    settled(notes / "tides.txt", "Spring tides follow the full moon.")
    folder = tmp_path / "index"
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("seed.txt", "A seed document about lighthouses.")])
    (folder / "sources.toml").write_text(f'[[source]]\nlocation = "{notes}"\n')
    with rag.open(postgres_url, embedder=embedder) as base:
        base.add_texts([rag.TextItem("seed.txt", "A seed document about harbours.")])
    collections = rag.open_collections({"folder": folder, "database": postgres_url}, embedder=embedder)
    stop = threading.Event()
    try:
        start_syncing(collections, stop)
        deadline = time.monotonic() + FOLLOW_SECONDS
        while time.monotonic() < deadline and len(collections.base("folder").documents()) < 2:
            time.sleep(0.2)
        assert {info.source for info in collections.base("folder").documents()} >= {str(notes / "tides.txt")}
        notes_printed = capsys.readouterr().err
        (line,) = [line for line in notes_printed.splitlines() if "database" in line]
        assert "collection database is not synced: --sync keeps folder collections in step" in line
        assert "is a PostgreSQL index" in line and "collection folder" not in notes_printed
    finally:
        stop.set()
        collections.close()
