"""Ingest on Ray: reading, converting, chunking and embedding as a Ray Data pipeline.

The pipeline runs on a Ray cluster (`ray start --head`, then --ray-address or RAY_ADDRESS) or,
without an address, on a Ray runtime started here on 127.0.0.1 with this machine's CPUs. Workers
read the files by path, so on a cluster every node must see them at the same path. Only this
process writes: it holds the index's write lock and commits each embedded document in its own
transaction, in the order the files were found, as the local path does; content hashes, prune
and the per-file results are the local path's own code (FilePreparer, Batch, Ingestor.finish).

Workers embed each document's chunks and its sentences with the index's model and backend
(ONNX by default), so the index holds what the local path stores. One difference in work, not
in result: the local path takes the vectors of sentences the index already holds (an edited
file) from SQLite, while workers, which cannot see the index, embed every sentence again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from rag.embedding import Embedder, make_embedder
from rag.errors import RagError
from rag.ingest.pipeline import Batch, Ingestor, discover
from rag.ingest.preparing import FilePreparer, Prepared, outcome_from_json, outcome_to_json
from rag.types import FileResult, IngestReport, ProgressCallback

DOCUMENTS_PER_BATCH = 16
REACH_SECONDS = 5.0
_QUIET = {"log_to_driver": False, "logging_level": logging.ERROR}


@dataclass(frozen=True)
class WorkerModel:
    """The embedding model and backend a worker loads: the index's own, on one thread."""

    name: str
    backend: str | None = None  # None: ONNX where the model exports, else torch
    batch_size: int = 64

    def load(self) -> Embedder:
        """The embedder (Ray gives each embedding worker one CPU, so it runs one thread)."""
        return make_embedder(self.name, self.batch_size, self.backend, threads=1)


def _ray() -> ModuleType:
    """Ray, imported on first use: it is an optional dependency and slow to import."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise RagError(
            "--engine ray needs Ray Data: pip install 'verbatim-rag[scale]' (make install does)"
        ) from error
    return ray


# Named for other platforms; on Linux "0" is what keeps Ray's node address at 127.0.0.1.
_RAY_CLUSTERS_VARIABLE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def ray_runtime(address: str | None = None, cpus: int | None = None) -> Iterator[int]:
    """Connect to the Ray cluster at address (or $RAY_ADDRESS), else start one here; yield its CPUs.

    A runtime this function starts is shut down when it ends; an existing connection is kept.
    """
    # Ray's C++ core logs notices to the terminal, over the progress bar; its failures reach us as
    # exceptions. RAY_BACKEND_LOG_LEVEL=info shows them again.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    address = address or os.environ.get("RAY_ADDRESS") or None
    _keep_loopback(address)
    ray = _ray()
    started_here = not ray.is_initialized()
    with ExitStack() as loopback:
        if started_here and not address:
            loopback.enter_context(_loopback_only(ray))
        yield from _running(ray, address, cpus, started_here)


def _running(ray: ModuleType, address: str | None, cpus: int | None, started_here: bool) -> Iterator[int]:
    """ray_runtime's body: start or connect, yield the CPUs, shut down what was started."""
    if started_here:
        check_ray(address)
        try:
            if address:
                ray.init(address=address, **_QUIET)
            else:
                cpus = cpus or os.cpu_count() or 1
                ray.init(num_cpus=cpus, _node_ip_address="127.0.0.1", include_dashboard=False, **_QUIET)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
            where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RagError(
                f"cannot reach {where} ({reason}); {_token_hint() if address else ''}start one with"
                " `ray start --head`, or leave out --ray-address to run Ray on this machine"
            ) from error
    # Ray Data logs each execution, and warns that its own progress bars are off (ours are on).
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        yield int(ray.cluster_resources().get("CPU", 1))
    finally:
        if started_here:
            ray.shutdown()


def _token_hint() -> str:
    """Why a cluster may have refused this driver: `ray start` asks for a token whenever one is
    saved on its machine (any earlier ray.init saves ~/.ray/auth_token), a driver sends its token
    only when RAY_AUTH_MODE=token."""
    saved = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    if os.environ.get("RAY_AUTH_MODE") or not (saved or (Path.home() / ".ray" / "auth_token").exists()):
        return ""
    return "if the cluster asks for a token (`ray start` does when ~/.ray/auth_token exists), set RAY_AUTH_MODE=token; else "


def _keep_loopback(address: str | None) -> None:
    """Have Ray reach a cluster at a loopback address on that address.

    Ray swaps 127.0.0.1 for this machine's network address, where a cluster started on
    127.0.0.1 does not listen (on a machine with a network interface, the connection fails).
    The variable that stops it, named for other platforms, is read when Ray is imported.
    """
    host = (address or "").rpartition(":")[0]
    if host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        os.environ.setdefault(_RAY_CLUSTERS_VARIABLE, "0")


@contextmanager
def _loopback_only(ray: ModuleType) -> Iterator[None]:
    """While a runtime started here runs, have every one of its processes listen on 127.0.0.1 alone.

    Each Ray process (GCS, raylet, runtime-env agent, every worker and this driver) listens on
    every interface unless its node address is 127.0.0.1 exactly; on Linux Ray swaps 127.0.0.1 for
    the machine's network address unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, which Ray reads
    once, on import: the variable is set for the processes Ray starts, and the flag it sets is
    turned off here too in case Ray was imported earlier. Both are put back afterwards, so a later
    connection to a cluster elsewhere is not given a loopback address.
    """
    constants: Any = getattr(getattr(ray, "_private", None), "ray_constants", None)
    was_enabled = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    was_set = os.environ.get(_RAY_CLUSTERS_VARIABLE)
    os.environ[_RAY_CLUSTERS_VARIABLE] = "0"
    if was_enabled is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if was_set is None:
            os.environ.pop(_RAY_CLUSTERS_VARIABLE, None)
        else:
            os.environ[_RAY_CLUSTERS_VARIABLE] = was_set
        if was_enabled is not None:
            constants.ENABLE_RAY_CLUSTER = was_enabled


def check_ray(address: str | None) -> None:
    """Fail in seconds, not minutes, when Ray is missing or nothing listens at a host:port address
    (Ray itself retries for minutes)."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    _keep_loopback(address)
    _ray()
    host, _, port = (address or "").rpartition(":")
    if address is None or "://" in address or not port.isdigit():
        return  # ray://, auto, or a name Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=REACH_SECONDS).close()
    except OSError as error:
        raise RagError(
            f"no Ray cluster answers at {address} ({error.strerror or error}); start one there with"
            " `ray start --head`, or leave out --ray-address to run Ray on this machine"
        ) from error


def ingest_on_ray(
    ingestor: Ingestor,
    paths: Sequence[Path],
    model: WorkerModel,
    prune: bool = False,
    progress: ProgressCallback | None = None,
    address: str | None = None,
) -> IngestReport:
    """Ingest files and folders through a Ray Data pipeline; the same report as the local path."""
    ray = _ray()
    started = time.perf_counter()
    files, results = discover(paths, ingestor.follow_links)
    known = ingestor.store.content_hashes([str(path) for path in files])
    batch = Batch(ingestor, results, progress, started, len(files))
    if files:
        batch.report(0, "starting Ray")
        with ray_runtime(address) as cpus:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True  # commit in the order files were found
            context.enable_progress_bars = False  # our own bar counts files and chunks
            rows = [{"path": str(path), "known": known.get(str(path), "")} for path in files]
            blocks = max(1, min(len(rows), 4 * cpus))
            dataset = ray.data.from_items(rows, override_num_blocks=blocks)
            # Preparing (reading, converting, chunking) asks for no CPU of its own: every CPU holds
            # an embedding model, the bulk of the work, and a reservation would stall the pipeline.
            dataset = dataset.map(_prepare, fn_kwargs={"preparer": ingestor.preparer}, num_cpus=0)
            dataset = dataset.map_batches(
                _embedder_actor(model),
                batch_size=DOCUMENTS_PER_BATCH,
                batch_format="numpy",
                # No more models than blocks of files: a few files would leave models idle (and Ray
                # warns of it on the terminal).
                compute=ray.data.ActorPoolStrategy(size=max(1, min(cpus, blocks))),
                num_cpus=1,
            )
            try:
                for row in dataset.iter_rows():
                    _commit(batch, outcome_from_json(row["payload"]), row["vectors"], row["sentence_vectors"])
            except ray.exceptions.RayError as error:
                raise RagError(f"the Ray pipeline failed: {_cause(error)}") from error
    return ingestor.finish(batch, paths if prune else (), files)


def _commit(batch: Batch, outcome: Prepared | FileResult, vectors: bytes, sentence_vectors: bytes) -> None:
    if isinstance(outcome, Prepared):
        sentence_rows = _rows(sentence_vectors, len(outcome.sentences))
        batch.commit(
            outcome,
            _rows(vectors, len(outcome.document.spans)),
            dict(zip(outcome.sentences, sentence_rows, strict=True)),
        )
    else:
        batch.add(outcome)  # unchanged or failed


def _rows(data: bytes, count: int) -> np.ndarray:
    """count float32 vectors sent as bytes, back as a (count, dimension) array."""
    if count == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return np.frombuffer(data, dtype=np.float32).reshape(count, -1)


def _prepare(row: dict[str, Any], preparer: FilePreparer) -> dict[str, Any]:
    """On a worker: one file read, checked against its known hash, converted and chunked."""
    outcome = preparer.prepare_file(Path(row["path"]), row["known"] or None)
    return {"payload": outcome_to_json(outcome), "vectors": b""}


def _embedder_actor(model: WorkerModel) -> type[_Embed]:
    """_Embed for this model: a class of its own, so Ray passes the actors no constructor arguments."""
    return type("EmbedChunks", (_Embed,), {"model": model})


class _Embed:
    """A Ray actor holding the index's embedding model: embeds the chunks and sentences of documents."""

    model = WorkerModel("")

    def __init__(self) -> None:
        self.embedder = self.model.load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = [outcome_from_json(payload) for payload in batch["payload"]]
        prepared = [item for item in outcomes if isinstance(item, Prepared)]
        chunk_vectors = self._embed([text for item in prepared for text in item.search_texts()])
        sentences = sorted({text for item in prepared for text in item.sentences})
        by_sentence = dict(zip(sentences, self._embed(sentences), strict=True))
        offset, chunks, sentence_bytes = 0, [], []
        for item in outcomes:
            if isinstance(item, Prepared):
                count = len(item.document.spans)
                chunks.append(chunk_vectors[offset : offset + count].tobytes())
                sentence_bytes.append(b"".join(by_sentence[text].tobytes() for text in item.sentences))
                offset += count
            else:
                chunks.append(b"")
                sentence_bytes.append(b"")
        return {
            "payload": batch["payload"],
            "vectors": np.array(chunks, dtype=object),
            "sentence_vectors": np.array(sentence_bytes, dtype=object),
        }

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.ascontiguousarray(self.embedder.embed(texts), dtype=np.float32)


def _cause(error: BaseException) -> str:
    """The first line of what went wrong inside Ray, without its traceback."""
    cause = getattr(error, "cause", None) or error
    text = str(cause).strip()
    return text.splitlines()[-1] if text else type(cause).__name__
