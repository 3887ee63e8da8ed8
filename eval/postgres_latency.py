"""PostgreSQL store rate behind a network delay: documents written through `import_document` (what
`rag copy` and, after embedding, ingest do) into the bundled server, directly or through a local
TCP proxy that holds every packet DELAY ms each way (a round trip of twice that), so the cost of
each wait for the server shows as it would to a database on another machine.

    python -m eval.postgres_latency --delay-ms 10 --documents 20 --rounds 4
    git show REV:rag/storage/postgres.py > /tmp/old_postgres.py
    python -m eval.postgres_latency --delay-ms 0.5 --baseline /tmp/old_postgres.py

--without-hnsw drops pgvector's index before writing, to see what the rest costs.
--baseline: another version of rag/storage/postgres.py, measured alternately with this one (one
fresh schema per round). Only that file is swapped: since the write path moved to
rag/storage/database/writing.py, a baseline of that layout writes through this tree's writing.py
(compare two such versions with eval.bulk_load_rates --old-code, a whole tree). Documents of ten
chunks of made-up words, 384-dimensional unit vectors.
Prints JSON: chunks/s per round for each version, their medians and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from eval.engines import database
from eval.engines_scale import DOCUMENT_CHUNKS, documents
from eval.ports import POSTGRES_PORTS, listen_port
from rag.storage import PGVECTOR_HNSW_INDEX

THIS = Path(__file__).resolve().parents[1] / "rag" / "storage" / "postgres.py"

DIMENSION = 384


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each piece written `delay` seconds after it arrived, in order."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    while data := await reader.read(1 << 16):
        queue.put_nowait((time.monotonic() + delay, data))
    queue.put_nowait((0.0, b""))
    await sender


@contextmanager
def delayed(url: str, delay_ms: float) -> Iterator[str]:
    """The URL through a proxy on 127.0.0.1 adding delay_ms each way (the URL itself for 0)."""
    if not delay_ms:
        yield url
        return
    found = re.search(r"@127\.0\.0\.1:(\d+)/", url)
    assert found, url
    target, loop = int(found.group(1)), asyncio.new_event_loop()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(
            _forward(reader, server_writer, delay_ms / 1000),
            _forward(server_reader, writer, delay_ms / 1000),
            return_exceptions=True,
        )

    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", listen_port(POSTGRES_PORTS)))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield url.replace(f":{target}/", f":{port}/")
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def store_class(path: Path) -> Any:
    """PostgresStore of a version of rag/storage/postgres.py (both versions are loaded alike)."""
    spec = importlib.util.spec_from_file_location(f"postgres_{path.stem}_{abs(hash(path))}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PostgresStore


def main(argv: list[str] | None = None) -> None:
    """Measure and print the store rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added each way (default 0: direct)")
    parser.add_argument("--documents", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--baseline", type=Path, default=None, help="another postgres.py, alternated")
    parser.add_argument(
        "--without-hnsw", action="store_true", help="drop the HNSW index first: what the rest costs"
    )
    parser.add_argument("--postgres", default=None, help="an empty database (default: start the bundled one)")
    args = parser.parse_args(argv)
    versions: dict[str, Any] = {"this": store_class(THIS)}
    if args.baseline:
        versions["baseline"] = store_class(args.baseline)
    vectors = np.random.default_rng(0).standard_normal((args.documents * DOCUMENT_CHUNKS, DIMENSION))
    made = documents((vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32))
    chunks = sum(len(document.chunks) for document in made)
    rates: dict[str, list[float]] = {name: [] for name in versions}
    with database(args.postgres) as url, delayed(url, args.delay_ms) as reached:
        for number in range(args.rounds):
            order = list(versions) if number % 2 == 0 else list(reversed(versions))
            for name in order:
                schema = f"latency_{name}_{number}"
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"CREATE SCHEMA {schema}")  # a fixed, made-up name
                store = versions[name].create(f"{reached}?options=-csearch_path%3D{schema},public", DIMENSION)
                with psycopg.connect(url, autocommit=True) as connection:  # either version's default
                    if args.without_hnsw:
                        connection.execute(f"DROP INDEX IF EXISTS {schema}.chunks_vector")
                    else:
                        connection.execute(f"SET search_path = {schema}, public")
                        connection.execute(PGVECTOR_HNSW_INDEX)
                started = time.perf_counter()
                for document in made:
                    store.import_document(document)
                rates[name].append(round(chunks / (time.perf_counter() - started), 1))
                store.close()
    print(
        json.dumps(
            {
                "delay_ms_each_way": args.delay_ms,
                "hnsw_index": not args.without_hnsw,
                "chunks_per_round": chunks,
                "chunks_per_second": rates,
                "median": {name: statistics.median(values) for name, values in rates.items()},
                "load_average": [round(value, 2) for value in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
