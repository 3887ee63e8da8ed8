"""--engine ray builds what the local path builds: documents, chunks, offsets, vectors, top results."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest
from sample_files import docx_bytes

import rag
from eval.ray_cluster import local_cluster
from rag.cli.main import main
from rag.ingest.ray_engine import ray_runtime
from rag.storage.store import DATABASE_NAME

pytestmark = pytest.mark.ray
QUERIES = ("Who keeps the lighthouse?", "budget for research in 2025", "harbour lanterns in winter")


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "lighthouse.txt").write_text("The lighthouse keeper is Mara Lind. She keeps it lit. " * 40)
    (folder / "harbour.md").write_text("# Harbour\n\nThe harbour lanterns stay lit all winter.\n\n" * 30)
    (folder / "page.html").write_text(
        "<html><body><h1>Tides</h1><p>Spring tides rise high.</p></body></html>"
    )
    (folder / "budget.csv").write_text(
        "department,year,budget_eur\nResearch,2025,1250000\nSales,2025,900000\n"
    )
    (folder / "minutes.docx").write_bytes(docx_bytes())
    (folder / "notes.bin").write_bytes(b"\x00\x01 not a document")
    return folder


def stored(folder: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything an ingest decides: documents, chunks with offsets and vectors, locations, chunk order."""
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        return {
            "documents": connection.execute(
                "SELECT id, source, title, text, metadata, page_starts, content_hash, size_bytes"
                " FROM documents ORDER BY source"
            ).fetchall(),
            "chunks": connection.execute(
                "SELECT d.source, c.start, c.end, c.text, c.vector, c.search_text"
                " FROM chunks c JOIN documents d ON d.key = c.document_key ORDER BY c.id"
            ).fetchall(),
            "locations": connection.execute(
                "SELECT d.source, l.start, l.label FROM locations l JOIN documents d ON d.key = l.document_key"
                " ORDER BY 1, 2"
            ).fetchall(),
        }


def sentence_vectors(folder: Path) -> dict[tuple[str, int], np.ndarray]:
    """Every stored sentence vector, by (document source, sentence hash)."""
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        rows = connection.execute(
            "SELECT d.source, s.text_hash, s.vector FROM sentence_vectors s"
            " JOIN documents d ON d.key = s.document_key"
        ).fetchall()
    return {
        (source, hashed): np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        for source, hashed, blob in rows
    }


def assert_same_sentence_vectors(local: Path, on_ray: Path, tolerance: float) -> None:
    """The same sentences stored for the same documents, with vectors at most `tolerance` apart."""
    expected, found = sentence_vectors(local), sentence_vectors(on_ray)
    assert len(expected) > 10
    assert found.keys() == expected.keys()
    worst = max(float(np.abs(found[key] - vector).max()) for key, vector in expected.items())
    assert worst <= tolerance


def top_results(base: rag.KnowledgeBase) -> list[list[tuple[str, int, int]]]:
    return [[(p.source, p.start, p.end) for p in base.search(query, k=5)] for query in QUERIES]


def statuses(report: rag.IngestReport) -> list[tuple[str, str, int]]:
    return sorted((result.source, result.status, result.chunks) for result in report.files)


def test_ray_ingest_builds_what_the_local_path_builds_and_follows_the_same_incremental_rules(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    local = rag.open(tmp_path / "local", embedder=fake_embedder)
    on_ray = rag.open(tmp_path / "ray", embedder=fake_embedder)
    with ray_runtime(cpus=2):  # one runtime (on 127.0.0.1) for both ingests
        first = (local.ingest([corpus]), on_ray.ingest([corpus], engine="ray"))
        assert statuses(first[0]) == statuses(first[1])
        assert stored(local.folder) == stored(on_ray.folder)
        # float16 storage: a sentence the local path finds already stored is rounded twice.
        assert_same_sentence_vectors(local.folder, on_ray.folder, 1e-3)
        assert top_results(local) == top_results(on_ray)
        # Content hashes and prune: one file changed, one gone, one new, the rest unchanged.
        (corpus / "harbour.md").write_text("# Harbour\n\nThe harbour froze over in January.\n")
        (corpus / "page.html").unlink()
        (corpus / "new.txt").write_text("A new note about the lighthouse lamp.")
        second = (local.ingest([corpus], prune=True), on_ray.ingest([corpus], prune=True, engine="ray"))
    assert statuses(second[0]) == statuses(second[1])
    assert {status for _, status, _ in statuses(second[1])} == {
        "unchanged",
        "updated",
        "added",
        "removed",
        "skipped",
    }
    assert stored(local.folder) == stored(on_ray.folder)
    assert_same_sentence_vectors(local.folder, on_ray.folder, 1e-3)
    assert top_results(local) == top_results(on_ray)


def chunk_vectors(folder: Path) -> np.ndarray:
    return np.stack([np.frombuffer(row[4], dtype=np.float32) for row in stored(folder)["chunks"]])


def without_vectors(folder: Path) -> dict[str, list[tuple[object, ...]]]:
    found = stored(folder)
    return found | {"chunks": [row[:4] + row[5:] for row in found["chunks"]]}


@pytest.mark.model
def test_ray_workers_embed_with_the_configured_backend_what_the_local_path_stores(tmp_path: Path) -> None:
    """The real model on both backends: ONNX and torch vectors differ (cosine about 0.99), so a
    worker on the other backend than the index's would be caught."""
    corpus = write_corpus(tmp_path / "corpus")
    with ray_runtime(cpus=2):
        for backend in ("onnx", "torch"):
            settings = rag.Settings(embedding_backend=backend)
            local = rag.open(tmp_path / f"local-{backend}", settings)
            on_ray = rag.open(tmp_path / f"ray-{backend}", settings)
            assert statuses(local.ingest([corpus])) == statuses(on_ray.ingest([corpus], engine="ray"))
            assert local.stats()["embedding_backend"] == backend
            assert without_vectors(local.folder) == without_vectors(on_ray.folder)
            cosines = (chunk_vectors(local.folder) * chunk_vectors(on_ray.folder)).sum(axis=1)
            assert cosines.min() > 0.999
            assert_same_sentence_vectors(local.folder, on_ray.folder, 1e-3)
            assert top_results(local) == top_results(on_ray)


def test_rag_ingest_runs_on_a_ray_cluster_at_an_address(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    fake = ["--model", "hashing-256", "--json"]
    command = [sys.executable, "-m", "rag", "ingest", str(corpus), *fake]
    subprocess.run([*command, "--index", str(tmp_path / "local")], check=True, capture_output=True)
    with local_cluster(cpus=2) as address:
        ran = subprocess.run(
            [*command, "--index", str(tmp_path / "ray"), "--engine", "ray", "--ray-address", address],
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["summary"]["added"] == 5
    assert stored(tmp_path / "local") == stored(tmp_path / "ray")
    assert_same_sentence_vectors(tmp_path / "local", tmp_path / "ray", 1e-3)


def test_an_address_where_no_cluster_answers_is_a_one_line_error_and_creates_nothing(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: bound a moment ago, then freed
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    command = [sys.executable, "-m", "rag", "ingest", str(tmp_path), "--index", str(tmp_path / "index")]
    ran = subprocess.run(
        [*command, "--model", "hashing-256", "--engine", "ray", "--ray-address", address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2
    assert (
        ran.stderr.startswith(f"error: no Ray cluster answers at {address}") and ran.stderr.count("\n") == 1
    )
    assert not (tmp_path / "index").exists()


def listening(process: psutil.Process) -> set[tuple[int, str, int]]:
    """(pid, address, port) of every TCP socket the process and its descendants listen on."""
    found = set()
    for each in [process, *process.children(recursive=True)]:
        try:
            found |= {
                (each.pid, connection.laddr.ip, connection.laddr.port)
                for connection in each.net_connections(kind="inet")
                if connection.status == psutil.CONN_LISTEN
            }
        except psutil.Error:  # a worker that ended meanwhile
            continue
    return found


def test_a_ray_runtime_started_here_listens_on_loopback_only() -> None:
    import ray

    this = psutil.Process()
    before = listening(this)
    with ray_runtime(cpus=1):
        assert ray.get(ray.remote(lambda: "worked").remote()) == "worked"  # a worker listens too
        opened = listening(this) - before
        node = ray.util.get_node_ip_address()
    assert len({pid for pid, _, _ in opened}) >= 4  # the driver, the GCS, the raylet, a worker
    assert {address for _, address, _ in opened} <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, opened
    assert node == "127.0.0.1"


@pytest.mark.postgres
def test_ray_ingest_into_postgresql_stores_what_the_local_path_stores(
    tmp_path: Path, postgres_url: str, fake_embedder: rag.HashingEmbedder
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    local = rag.open(tmp_path / "local", embedder=fake_embedder)
    database = rag.open(postgres_url, embedder=fake_embedder)
    with ray_runtime(cpus=2):
        first = (local.ingest([corpus]), database.ingest([corpus], engine="ray"))
        assert statuses(first[0]) == statuses(first[1])
        (corpus / "harbour.md").write_text("# Harbour\n\nThe harbour froze over in January.\n")
        second = (local.ingest([corpus]), database.ingest([corpus], engine="ray"))
    assert statuses(second[0]) == statuses(second[1])
    assert ("harbour.md", "updated") in {
        (Path(source).name, status) for source, status, _ in statuses(second[1])
    }
    for key in ("documents", "chunks", "languages"):
        assert database.stats()[key] == local.stats()[key]
    expected = {Path(info.source).name: (info.id, info.chunks) for info in local.documents()}
    assert {Path(info.source).name: (info.id, info.chunks) for info in database.documents()} == expected
    assert top_results(local) == top_results(database)
    assert main(["check", "--index", postgres_url, "--model", "hashing-256"]) == 0


def test_two_test_clusters_started_at_once_listen_only_on_ports_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from eval import ray_cluster

    given: list[ray_cluster.ClusterPorts] = []
    pick = ray_cluster.cluster_ports

    def recorded(cpus: int) -> ray_cluster.ClusterPorts:
        given.append(pick(cpus))
        return given[-1]

    monkeypatch.setattr(ray_cluster, "cluster_ports", recorded)
    both_up, addresses, failures = threading.Barrier(3), [], []

    def run() -> None:
        try:
            with local_cluster(cpus=1) as address:
                addresses.append(address)
                both_up.wait(timeout=300)  # the test looks at both clusters running at once
                both_up.wait(timeout=300)
        except RuntimeError as error:  # a cluster that failed to start: the test says why
            failures.append(error)
            both_up.abort()

    before = listening(psutil.Process())
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        both_up.wait(timeout=300)
        ports = [port for _, _, port in listening(psutil.Process()) - before]
        assert len(set(addresses)) == 2
        assert set(ports) <= given[0].all() | given[1].all()
        assert not given[0].all() & given[1].all()
        assert {address.rsplit(":", 1)[1] for address in addresses} <= {str(port) for port in ports}
        both_up.wait(timeout=300)
    finally:
        for thread in threads:
            thread.join(timeout=180)
    assert not failures, failures


def test_a_cluster_asking_for_a_token_is_named_as_the_likely_reason_and_the_token_then_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine where an earlier ray.init saved a token: `ray start` then asks for it.
    (tmp_path / "home" / ".ray").mkdir(parents=True)
    (tmp_path / "home" / ".ray" / "auth_token").write_text("0123456789abcdef" * 4)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")  # the cluster's, as `ray start` turns it on
    corpus = write_corpus(tmp_path / "corpus")
    command = [sys.executable, "-m", "rag", "ingest", str(corpus), "--model", "hashing-256", "--json"]
    driver = {name: value for name, value in os.environ.items() if name != "RAY_AUTH_MODE"}
    with local_cluster(cpus=1) as address:
        at = ["--engine", "ray", "--ray-address", address]
        refused = subprocess.run(
            [*command, "--index", str(tmp_path / "a"), *at],
            capture_output=True,
            text=True,
            timeout=300,
            env=driver,
        )
        ran = subprocess.run(
            [*command, "--index", str(tmp_path / "b"), *at],
            capture_output=True,
            text=True,
            timeout=600,
            env=driver | {"RAY_AUTH_MODE": "token"},
        )
    last = refused.stderr.strip().splitlines()[-1]
    assert refused.returncode == 2 and last.startswith(f"error: cannot reach the Ray cluster at {address}")
    assert "set RAY_AUTH_MODE=token" in last
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["summary"]["added"] == 5
