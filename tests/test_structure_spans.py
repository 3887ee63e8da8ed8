"""Structure spans stored at ingest: loaded with their document, gone with it, filled in for old indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import rag
from rag.storage import structure_spans

POST = "Flood Notes\n\nBy Jane Doe – Valley Gazette\n\nThe amber river rose by two metres.\n\nAnn K.\nTue, 03/09/2021 - 10:02am\n\nGreat reporting.\n"


def kinds_and_texts(document: rag.Document) -> list[tuple[str, str]]:
    return [(span.kind, document.text[span.start : span.end]) for span in document.structure]


def test_ingest_stores_the_structure_of_each_document(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("post", POST)])
    document = fake_base.store.document("post")
    assert kinds_and_texts(document) == [
        ("title", "Flood Notes"),
        ("byline", "By Jane Doe – Valley Gazette"),
        ("publication", "Valley Gazette"),
        ("author", "Ann K."),
        ("posted", "Tue, 03/09/2021 - 10:02am"),
    ]


def test_a_replaced_document_has_only_its_new_structure(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("post", POST)])
    fake_base.add_texts(
        [rag.TextItem("post", "Plain prose about the river, with nothing else in it at all.")]
    )
    assert fake_base.store.document("post").structure == ()
    count = sqlite3.connect(fake_base.store.path).execute("SELECT count(*) FROM structure_spans").fetchone()
    assert count == (0,)


def test_removing_a_document_removes_its_structure(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("post", POST)])
    fake_base.remove("post")
    count = sqlite3.connect(fake_base.store.path).execute("SELECT count(*) FROM structure_spans").fetchone()
    assert count == (0,)


def index_of_post_then(folder: Path, embedder: rag.Embedder, *statements: str) -> None:
    """An index holding POST, then changed by the SQL statements (what an older version left)."""
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("post", POST)])
    connection = sqlite3.connect(folder / "rag.sqlite")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def test_an_index_made_before_structure_spans_gets_them_when_opened_for_writing(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = tmp_path / "index"
    index_of_post_then(folder, fake_embedder, "DROP TABLE structure_spans")
    with rag.open(folder, embedder=fake_embedder) as base:
        assert ("byline", "By Jane Doe – Valley Gazette") in kinds_and_texts(base.store.document("post"))


def test_spans_an_older_structure_finder_made_are_found_again_when_opened_for_writing(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = tmp_path / "index"
    # What the finder before headlines and publications left: no such spans, an older version.
    index_of_post_then(
        folder,
        fake_embedder,
        "DELETE FROM structure_spans WHERE kind = 'publication'",
        "UPDATE manifest SET value = '1' WHERE key = 'structure_version'",
    )
    with rag.open(folder, embedder=fake_embedder) as base:
        found = kinds_and_texts(base.store.document("post"))
    assert found.count(("publication", "Valley Gazette")) == 1
    assert found.count(("byline", "By Jane Doe – Valley Gazette")) == 1  # found again, not twice


def test_loading_from_an_index_without_the_table_gives_no_structure() -> None:
    # What a read-only index made before the table sees: it cannot be filled in, only read.
    connection = sqlite3.connect(":memory:")
    assert structure_spans.load(connection, 1) == ()


def test_tables_get_no_structure(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    table.write_text("name,joined\nAnn K.,Tue 03/09/2021\nLee Wong,Wed 03/10/2021\n")
    fake_base.ingest([table])
    (info,) = fake_base.documents()
    assert fake_base.store.document(info.id).structure == ()
