"""Shared fixtures: a fast fake embedder, the real model loaded once, the shared data sets."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sample_files

import rag
from eval.ports import listen_port
from rag.serve import RunningServer, ServeConfig

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
DATASETS = SHARED / "datasets"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it fail loudly when it is missing."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: clone the project beside the shared folder")
    return SHARED


@pytest.fixture
def fake_embedder() -> rag.HashingEmbedder:
    """Deterministic hashed bag-of-words vectors: fast and model-free."""
    return rag.HashingEmbedder(256)


@pytest.fixture
def fake_base(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> Iterator[rag.KnowledgeBase]:
    """An empty knowledge base in a temp folder using the fake embedder."""
    with rag.open(tmp_path / "index", embedder=fake_embedder) as base:
        yield base


RIVER_TEXTS = [
    rag.TextItem(f"notes/{name}.txt", f"The {name} river floods the {name} valley every spring. " * 40)
    for name in ("amber", "birch", "cedar", "delta", "ember", "fjord")
]


@pytest.fixture
def river_index(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> Path:
    """An index folder (fake embedder) holding six small documents, RIVER_TEXTS."""
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(RIVER_TEXTS)
    return folder


@pytest.fixture(scope="session")
def real_embedder() -> rag.Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    embedder = rag.make_embedder(rag.DEFAULT_MODEL)
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture(scope="session")
def seeds_base(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: rag.Embedder, shared_dir: Path
) -> rag.KnowledgeBase:
    """A real-model index of ../shared/corpus/seeds, built once per session."""
    folder = tmp_path_factory.mktemp("seeds-index")
    base = rag.open(folder, embedder=real_embedder)
    report = base.ingest([SEEDS])
    assert report.count("failed") == 0
    return base


Reply = str | Sequence[str] | Callable[[Sequence[dict[str, str]]], str]


class RecordingEmbedder(rag.HashingEmbedder):
    """The hashing embedder, recording every batch of texts it is asked to embed."""

    def __init__(self, dimension: int = 256) -> None:
        super().__init__(dimension)
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed(texts)

    @property
    def texts(self) -> list[str]:
        """Every text embedded so far, in order."""
        return [text for call in self.calls for text in call]


class ScriptedChatModel:
    """The fake language model every test shares: a fixed reply, pieces, or reply(messages).

    A string (or a function's result) streams six characters at a time; a list of pieces streams
    piece by piece, at most max_tokens of them. Every call's messages are recorded.
    """

    name = "scripted"

    def __init__(self, reply: Reply = ("Hello", ", ", "world", ".")) -> None:
        self.reply = reply
        self.calls: list[Sequence[dict[str, str]]] = []

    def stream(self, messages: Sequence[dict[str, str]], max_tokens: int) -> Iterator[str]:
        self.calls.append(messages)
        if callable(self.reply):
            text = self.reply(messages)
        elif isinstance(self.reply, str):
            text = self.reply
        else:
            yield from list(self.reply)[:max_tokens]
            return
        for start in range(0, len(text), 6):
            yield text[start : start + 6]

    def complete(self, messages: Sequence[dict[str, str]], max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens))


@pytest.fixture(scope="session")
def docx_file() -> bytes:
    """The sample Word file of sample_files, built once."""
    return sample_files.docx_bytes()


@pytest.fixture(scope="session")
def pptx_file() -> bytes:
    """The sample PowerPoint file of sample_files, built once."""
    return sample_files.pptx_bytes()


@pytest.fixture(scope="session")
def xlsx_file() -> bytes:
    """The sample workbook of sample_files, built once."""
    return sample_files.xlsx_bytes()


ALPHA_TEXT = (
    "The alpha orchard grows apples in Norway. The harvest of the alpha orchard starts in September. "
    "Alpha apples are stored in a cold cellar until spring."
)
BETA_TEXT = (
    "The beta shipyard builds wooden boats in Bergen. Each beta boat takes nine months to build. "
    "The shipyard launches its boats from a ramp at high tide."
)
# key -> grant, as a keys file holds them.
SERVE_KEYS: dict[str, object] = {
    "alpha-reader-key-0001": ["alpha"],
    "beta-reader-key-000001": ["beta"],
    "alpha-writer-key-0001": {"read": ["alpha"], "write": ["alpha"]},
    "admin-key-for-everything": {"write": ["*"]},
}


class Served:
    """A real `rag serve` server on 127.0.0.1 over two collections, alpha and beta, with keys."""

    def __init__(self, server: RunningServer, folders: dict[str, Path]) -> None:
        self.server = server
        self.url = server.url
        self.folders = folders

    def base(self, name: str) -> rag.KnowledgeBase:
        """The served knowledge base of a collection (to check quotes against stored text)."""
        return self.server.service.collections.base(name)


def build_collections(root: Path, embedder: rag.Embedder) -> dict[str, Path]:
    """Two small indexes, alpha (apples) and beta (boats), built with the given embedder."""
    folders = {"alpha": root / "alpha", "beta": root / "beta"}
    for name, text in (("alpha", ALPHA_TEXT), ("beta", BETA_TEXT)):
        with rag.open(folders[name], embedder=embedder) as base:
            base.add_texts([rag.TextItem(f"{name}.md", text, title=f"The {name} notes")])
    return folders


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server per test module: the fake embedder, a keys file, a free port on loopback."""
    root = tmp_path_factory.mktemp("served")
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(root, embedder)
    keys = root / "keys.json"
    keys.write_text(json.dumps(SERVE_KEYS))
    config = ServeConfig(folders, keys_file=keys, port=listen_port())
    server = RunningServer(config, embedder=embedder)
    yield Served(server, folders)
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per test module (tests/browser.py; browser tests only)."""
    from browser import chromium  # playwright loads only for the tests that drive a browser

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL with pgvector started for this session on 127.0.0.1 (marked postgres)."""
    import psycopg

    from eval.bundled_postgres import running_postgres

    with running_postgres() as url:
        with psycopg.connect(url, autocommit=True) as connection:
            # In public, which every test's schema path holds: dropping a schema never drops it.
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        yield url


@contextmanager
def fresh_schema(postgres_server: str) -> Iterator[str]:
    """The URL of a new schema of the session's PostgreSQL (first on its search_path), dropped after."""
    import uuid

    import psycopg
    from psycopg import sql

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield f"{postgres_server}?options=-csearch_path%3D{schema},public"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema of the session's PostgreSQL for one test, dropped after it."""
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture
def other_postgres_url(postgres_server: str) -> Iterator[str]:
    """A second fresh schema, for a test that needs two database indexes."""
    with fresh_schema(postgres_server) as url:
        yield url


def schema_of(url: str) -> str:
    """The first schema of a test database URL's search_path (what postgres_url made)."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["options"][0].split("=", 1)[1].split(",")[0]


@contextmanager
def reading_role(url: str) -> Iterator[str]:
    """The URL of a new role that may only read the schema (docs/storage.md's grants), dropped after."""
    import uuid
    from urllib.parse import urlsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.split("?")[0], autocommit=True) as connection:
        for statement in (
            "CREATE ROLE {role} LOGIN PASSWORD 'read-only-secret'",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        ):
            connection.execute(
                sql.SQL(statement).format(role=sql.Identifier(role), schema=sql.Identifier(schema_of(url)))
            )
    try:
        yield f"postgresql://{role}:read-only-secret@{parts.hostname}:{parts.port}{parts.path}?{parts.query}"
    finally:
        with psycopg.connect(url.split("?")[0], autocommit=True) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
