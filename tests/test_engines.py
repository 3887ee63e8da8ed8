"""The core behaviour of an index, run on both storage engines: a folder (SQLite + FAISS) and PostgreSQL.

Each test takes `index_location`, once a folder and once a fresh PostgreSQL schema (marked postgres,
so `make test` runs it against the server the suite starts). `rag copy` round trips go folder ->
database -> folder and database -> folder -> database with the real model on the seed corpus.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import SEEDS

import rag
from rag.cli.main import main

# postgres-faiss: the same database searched by each reader's own FAISS index following the
# database's change journal (RAG_POSTGRES_VECTORS=faiss, rag/storage/database/follower.py).
ENGINES = [
    "folder",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres-faiss", marks=pytest.mark.postgres),
]
SEED_QUESTIONS = [
    json.loads(line)["question"]
    for line in (Path(__file__).resolve().parents[1] / "eval" / "questions" / "seeds.jsonl")
    .read_text()
    .splitlines()
    if line.strip()
]
NOTES = {
    "tea.txt": "Green tea is made from unoxidised leaves of Camellia sinensis grown in Asia.",
    "coffee.md": "# Coffee\n\nCoffee beans are the roasted seeds of the Coffea plant in Ethiopia.",
    "rhine.txt": "Die Hochwasser des Rheins überschwemmen jedes Frühjahr die Täler am Ufer.",
}


@pytest.fixture(params=ENGINES)
def index_location(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path | str:
    """An index folder, or a PostgreSQL URL of an empty schema."""
    if request.param == "folder":
        return tmp_path / "index"
    monkeypatch.setenv("RAG_POSTGRES_VECTORS", "faiss" if request.param == "postgres-faiss" else "hnsw")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def notes_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_ingest_skips_unchanged_files_and_replaces_changed_ones(
    index_location: Path | str, notes_folder: Path
) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        assert base.ingest([notes_folder]).count("added") == 3
        assert base.ingest([notes_folder]).count("unchanged") == 3
        (notes_folder / "tea.txt").write_text(
            "Black tea is oxidised fully before it is dried.", encoding="utf-8"
        )
        report = base.ingest([notes_folder])
        assert report.count("updated") == 1 and report.count("unchanged") == 2
        assert base.search("oxidised", mode="lexical")[0].text.startswith("Black tea")
        assert base.search("Camellia", mode="lexical") == []


def test_answers_quote_the_text_the_engine_stores(index_location: Path | str, notes_folder: Path) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([notes_folder])
        answer = base.ask("What are coffee beans?")
        assert answer.answered and "Coffea" in answer.citations[0].quote.text
        for citation in answer.citations:
            stored = base.document(citation.quote.document_id)
            assert stored.text[citation.quote.start : citation.quote.end] == citation.quote.text


def test_search_finds_by_words_and_by_meaning(index_location: Path | str, notes_folder: Path) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([notes_folder])
        assert base.search("Camellia sinensis", mode="lexical")[0].source.endswith("tea.txt")
        assert base.search("roasted seeds of the Coffea plant", mode="dense")[0].source.endswith("coffee.md")
        assert base.search("Hochwasser", k=1)[0].source.endswith("rhine.txt")  # stems: Hochwasser


def test_a_removed_document_is_never_found_or_quoted(index_location: Path | str, notes_folder: Path) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([notes_folder])
        assert base.remove("coffee.md") == 1
        assert all(not passage.source.endswith("coffee.md") for passage in base.search("coffee beans", k=5))
        answer = base.ask("What are coffee beans?")
        assert all("Coffea" not in citation.quote.text for citation in answer.citations)
        with pytest.raises(rag.NotFoundError):
            base.remove("coffee.md")


def test_stats_count_documents_chunks_and_languages(index_location: Path | str, notes_folder: Path) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([notes_folder])
        stats = base.stats()
        assert (stats["documents"], stats["chunks"]) == (3, 3)
        assert stats["languages"] == {"en": 2, "de": 1}
        assert stats["dimension"] == 256 and stats["embedding_model"] == "hashing-256"
        assert sorted(info.source.rsplit("/", 1)[-1] for info in base.documents()) == sorted(NOTES)


def damage_a_chunk(location: Path | str) -> None:
    """Change the text of the first chunk behind the engine's back."""
    statement = "UPDATE chunks SET text = 'tampered' WHERE id = (SELECT min(id) FROM chunks)"
    if isinstance(location, Path):
        with sqlite3.connect(location / "rag.sqlite") as connection:
            connection.execute(statement)
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as connection:
        connection.execute(statement)


def test_check_is_clean_finds_a_damaged_chunk_and_repairs_it(
    index_location: Path | str, notes_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([notes_folder])
    fake = ["--index", str(index_location), "--model", "hashing-256"]
    assert main(["check", *fake]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")
    damage_a_chunk(index_location)
    assert main(["check", *fake]) == 1
    assert "its text is not the document's text at its offsets" in capsys.readouterr().out
    assert main(["check", "--repair", *fake]) == 0
    assert "repaired:" in capsys.readouterr().out
    assert main(["check", *fake]) == 0
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        assert base.search("Camellia sinensis", mode="lexical")[0].source.endswith("tea.txt")


def answers_of(location: Path | str, embedder: rag.Embedder) -> list[tuple[object, ...]]:
    """Each seed question's citations, top passages and their fused scores, as plain values."""
    found: list[tuple[object, ...]] = []
    with rag.open(location, embedder=embedder) as base:
        for question in SEED_QUESTIONS:
            answer = base.ask(question)
            passages = base.search(question, k=5)
            found.append(
                (
                    answer.answered,
                    [
                        (c.quote.document_id, c.quote.start, c.quote.end, c.quote.text)
                        for c in answer.citations
                    ],
                    [(p.source, p.start) for p in passages],
                    [p.fused_score for p in passages],
                )
            )
    return found


@pytest.mark.model
@pytest.mark.postgres
@pytest.mark.parametrize("first", ["folder", "postgres"])
def test_copy_round_trip_keeps_every_answer(
    first: str, tmp_path: Path, postgres_url: str, real_embedder: rag.Embedder, shared_dir: Path
) -> None:
    folder, copied_folder = tmp_path / "index", tmp_path / "copied"
    database, other_database = postgres_url, postgres_url.replace("search_path%3D", "search_path%3Dcopy_")
    import psycopg

    schema = postgres_url.split("search_path%3D", 1)[1].split(",", 1)[0]
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "copy_{schema}"')
    origin, middle, back = (
        (folder, database, copied_folder) if first == "folder" else (database, folder, other_database)
    )
    with rag.open(origin, embedder=real_embedder) as base:
        assert base.ingest([SEEDS]).count("failed") == 0
    assert rag.copy_index(origin, middle).documents == 2
    assert rag.copy_index(middle, back).documents == 2
    for location in (middle, back):
        with rag.open(location, embedder=real_embedder) as base:
            assert base.check().is_healthy, base.check().problems
    expected = answers_of(origin, real_embedder)
    assert any(answered for answered, *_ in expected)
    assert answers_of(back, real_embedder) == expected
    # Across engines the same passages in the same order; scores equal to float32 precision
    # (pgvector and FAISS sum the products in different orders): 1e-6 apart on these questions.
    across = answers_of(middle, real_embedder)
    assert [found[:3] for found in across] == [found[:3] for found in expected]
    for (*_, scores), (*_, scores_expected) in zip(across, expected, strict=True):
        assert scores == pytest.approx(scores_expected, abs=1e-5)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "copy_{schema}" CASCADE')


def test_copy_between_folders_keeps_everything_and_refuses_a_full_destination(
    river_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = tmp_path / "copy"
    assert main(["copy", str(river_index), str(destination)]) == 0
    out = capsys.readouterr()
    assert "copied 6 documents" in out.out and "rag check --index" in out.out
    assert "documents" in out.err  # the progress bar
    assert main(["check", "--index", str(destination)]) == 0
    capsys.readouterr()
    with (
        rag.open(river_index, embedder=rag.HashingEmbedder(256)) as original,
        rag.open(destination, embedder=rag.HashingEmbedder(256)) as copied,
    ):
        assert copied.documents() == original.documents()
        for name in ("amber", "fjord"):
            assert copied.document(f"notes/{name}.txt") == original.document(f"notes/{name}.txt")
        assert [p.chunk_id for p in copied.search("cedar valley", k=6)] == [
            p.chunk_id for p in original.search("cedar valley", k=6)
        ]
    assert main(["copy", str(river_index), str(destination)]) == 2
    assert "already holds 6 documents" in capsys.readouterr().err
    assert main(["copy", str(river_index), str(destination), "--resume", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == 6
    assert main(["copy", str(river_index), str(river_index)]) == 2
    assert "both the source and the destination" in capsys.readouterr().err
    assert main(["copy", str(tmp_path / "nothing"), str(tmp_path / "other")]) == 2
    assert "no index at" in capsys.readouterr().err


def test_eval_runs_on_the_index_as_it_is(
    index_location: Path | str, shared_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([SEEDS])
    questions = Path(__file__).resolve().parents[1] / "eval" / "questions" / "seeds.jsonl"
    fake = ["--index", str(index_location), "--model", "hashing-256"]
    assert main(["eval", str(questions), *fake, "--json", "--out", str(tmp_path / "run")]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["index_stats"]["documents"] == 2
    assert results["aggregates"]["hit@5"] > 0.5
    assert results["index"] == (
        str(index_location) if isinstance(index_location, Path) else rag_location(index_location)
    )


def rag_location(url: str) -> str:
    """The URL as Verbatim shows it: without the password."""
    from rag.storage.engine import public_location

    return public_location(url)


HANDBOOK = {
    "handbook/holidays.txt": "Staff holidays are booked in the holiday planner before March. " * 12,
    "handbook/payroll-2026.txt": "Payroll: salaries are paid on the 25th; the holiday bonus is paid in June. "
    * 12,
    "handbook/travel.txt": "Travel costs are refunded within a month when receipts are attached. " * 12,
    "handbook/security.txt": "Badges must be worn at all times; lost badges are reported at once. " * 12,
}


@pytest.mark.parametrize("hnsw", [False, True], ids=["narrow-scope-exact", "wide-scope-hnsw"])
def test_a_reader_never_finds_a_document_the_rules_keep_from_them(
    index_location: Path | str, hnsw: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.access import Actor, CollectionRule, DocumentRule

    if hnsw:  # PostgreSQL searches a scope this small exactly; make it take HNSW's filtered path
        if isinstance(index_location, Path):
            pytest.skip("the folder's FAISS search has one path")
        from rag.storage.database import searching

        monkeypatch.setattr(searching, "EXACT_SCOPE_CHUNKS", 0)
    rule = CollectionRule(
        read=frozenset({"staff"}), documents=(DocumentRule("*payroll*", frozenset({"hr"})),)
    )
    staff, hr = (
        Actor("sam", frozenset({"staff"}), "person"),
        Actor("hana", frozenset({"staff", "hr"}), "person"),
    )
    with rag.open(index_location, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem(source, text) for source, text in HANDBOOK.items()])
        view = base.for_reader(staff, rule)
        for mode in ("hybrid", "dense", "lexical"):
            for question in ("When is the holiday bonus paid?", "salaries", "holiday planner"):
                found = view.search(question, k=5, mode=mode)
                assert all("payroll" not in passage.source for passage in found), (mode, question)
                assert found or (mode, question) == ("lexical", "salaries")  # only payroll says it
        assert "payroll" not in " ".join(c.quote.text for c in view.ask("When are salaries paid?").citations)
        assert view.stats()["documents"] == 3 and len(view.documents()) == 3
        with pytest.raises(rag.NotFoundError):
            view.document("handbook/payroll-2026.txt")
        allowed = base.for_reader(hr, rule)
        assert allowed.search("salaries", k=1, mode="lexical")[0].source.endswith("payroll-2026.txt")
        assert allowed.stats()["documents"] == 4


ACCESS = """
[collections.handbook]
read = ["staff"]
write = ["editors"]
"""
GROUPED_KEYS = {
    "editor-key-00000000001": {"read": [], "groups": ["staff", "editors"], "name": "eve"},
    "staff-key-000000000001": {"read": [], "groups": ["staff"], "name": "sam"},
    "finance-key-0000000001": {"read": [], "groups": ["staff", "finance"], "name": "fin"},
}
# Words only the travel document holds (never in a question): a response holding one leaked it.
TRAVEL_MARKERS = ("travel", "receipts", "refunded")
# Questions only the travel document answers, in other words than its own markers.
TRAVEL_QUESTIONS = ("Which costs are settled within a month?", "costs attached month")


def test_served_a_grant_keeps_a_document_from_everyone_outside_its_groups(
    index_location: Path | str, tmp_path: Path
) -> None:
    """`rag serve --access` over either engine: a writer narrows a document through the API, and a
    person without the group never sees it in search, answers, quotes or the documents list; the
    audit trail names who narrowed it and who asked; the page viewer highlights a PDF's quote."""
    import httpx
    from sample_files import positioned_pdf

    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig

    embedder = rag.HashingEmbedder(256)
    pdf = tmp_path / "ferry.pdf"
    pdf.write_bytes(positioned_pdf([[(72, 700, "F1", "The ferry leaves at noon daily.")]]))
    with rag.open(index_location, embedder=embedder) as base:
        base.add_texts([rag.TextItem(source, text) for source, text in HANDBOOK.items()])
        base.ingest([pdf])
        ferry = base.document(str(pdf)).id
    (tmp_path / "access.toml").write_text(ACCESS)
    (tmp_path / "keys.json").write_text(json.dumps(GROUPED_KEYS))
    config = ServeConfig(
        {"handbook": index_location},
        keys_file=tmp_path / "keys.json",
        port=listen_port(),
        access_file=tmp_path / "access.toml",
    )
    server = RunningServer(config, embedder=embedder)

    def seen_by(key: str) -> str:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as http:
            bodies = [http.get("/v1/documents").text, http.get("/v1/stats").text]
            for question in TRAVEL_QUESTIONS:
                bodies.append(http.post("/v1/search", json={"query": question, "k": 10}).text)
                bodies.append(http.post("/v1/ask", json={"question": question}).text)
        return "\n".join(bodies).lower()

    try:
        assert "receipts" in seen_by("staff-key-000000000001")  # before the grant, staff read it
        with httpx.Client(
            base_url=server.url, headers={"Authorization": "Bearer staff-key-000000000001"}, timeout=60
        ) as http:
            plain = http.get(f"/v1/documents/{ferry}/pages/1.png")
            marked = http.get(f"/v1/documents/{ferry}/pages/1.png", params={"highlight": "0:9"})
        assert plain.status_code == marked.status_code == 200, marked.text
        assert marked.content.startswith(b"\x89PNG") and marked.content != plain.content
        with httpx.Client(base_url=server.url, timeout=60) as http:
            narrowed = http.put(
                "/v1/documents/travel.txt/readers",
                json={"read": ["finance"]},
                headers={"Authorization": "Bearer editor-key-00000000001"},
            )
        assert narrowed.status_code == 200, narrowed.text
        staff = seen_by("staff-key-000000000001")
        assert [marker for marker in TRAVEL_MARKERS if marker in staff] == []
        assert "handbook/security.txt" in staff  # what staff may read, they still see
        finance = seen_by("finance-key-0000000001")
        assert "receipts" in finance and "handbook/travel.txt" in finance
        base = server.service.collections.base("handbook")
        assert base.readers_of("handbook/travel.txt") == frozenset({"finance"})
        events = base.engine_store().audit_events()
        assert ("eve", "narrowed") in [(event.actor, event.action) for event in events]
        asked = [event for event in events if event.action == "asked" and event.actor == "sam"]
        assert asked and all("travel" not in json.dumps(event.detail["quoted"]) for event in asked[-2:])
    finally:
        server.stop()
