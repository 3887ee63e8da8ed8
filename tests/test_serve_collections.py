"""Collections: names, rank fusion across indexes, answers whose citations name their collection."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RecordingEmbedder, build_collections
from sample_files import positioned_pdf

import rag
from rag.serve.collections import check_name, fuse_collections
from rag.storage.store import Store


def passage(rank: int, dense: float | None, source: str) -> rag.Passage:
    return rag.Passage(rank, rank, source, source, source, None, 0, 4, "text", dense, None, 0.0)


def test_fusion_keeps_each_collections_best_high_and_sinks_unrelated_ones() -> None:
    ranked = {
        "close": [passage(1, 0.80, "c1"), passage(2, 0.70, "c2"), passage(3, 0.65, "c3")],
        "far": [passage(1, 0.10, "f1"), passage(2, 0.05, "f2"), passage(3, 0.01, "f3")],
    }
    fused = fuse_collections(ranked, k=5, rrf_k=60)
    assert [p.source for p in fused] == ["c1", "c2", "f1", "c3", "f2"]
    assert [p.rank for p in fused] == [1, 2, 3, 4, 5]
    assert [p.collection for p in fused] == ["close", "close", "far", "close", "far"]


def test_fusion_across_embedding_models_ignores_their_incomparable_cosines() -> None:
    ranked = {"a": [passage(1, 0.9, "a1"), passage(2, 0.8, "a2")], "b": [passage(1, 0.1, "b1")]}
    fused = fuse_collections(ranked, k=3, rrf_k=60, same_model=False)
    assert [p.source for p in fused][2] == "a2"


def test_fusion_without_dense_scores_interleaves_by_rank() -> None:
    ranked = {"a": [passage(1, None, "a1"), passage(2, None, "a2")], "b": [passage(1, None, "b1")]}
    assert [p.source for p in fuse_collections(ranked, k=3, rrf_k=60)][:2] in (["a1", "b1"], ["b1", "a1"])


@pytest.mark.parametrize("name", ["", "a,b", "../x", "with space", "x" * 65])
def test_collection_names_must_be_url_and_model_safe(name: str) -> None:
    with pytest.raises(rag.SettingsError):
        check_name(name)


def test_a_missing_collection_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(rag.NotFoundError, match="rag ingest"):
        rag.open_collections({"gone": tmp_path / "gone"})


def test_a_folder_of_documents_is_refused_not_turned_into_an_index(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("notes")
    with pytest.raises(rag.NotFoundError, match="holds files but no index"):
        rag.open_collections({"x": plain}, embedder=rag.HashingEmbedder(64))
    assert [path.name for path in plain.iterdir()] == ["notes.txt"]  # nothing written


def test_a_folder_another_process_is_making_an_index_in_is_not_called_taken(tmp_path: Path) -> None:
    # Several `rag serve` processes start on one empty folder: what the first writes while it makes
    # the database (its temporary copy, with the log files) must not make the others refuse it.
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in (".rag.sqlite.4242.1.new", ".rag.sqlite.4242.1.new-wal", ".rag.sqlite.4242.1.new-shm"):
        (empty / name).write_bytes(b"")
    collections = rag.open_collections({"x": empty}, embedder=rag.HashingEmbedder(64))
    assert collections.names == ["x"] and (empty / "rag.sqlite").stat().st_size > 0


def test_an_index_another_process_finished_after_the_first_look_is_not_files_but_an_index(
    tmp_path: Path,
) -> None:
    # The race that remained: a process looks (no database yet), another puts its database in
    # place and writes beside it, then the first lists the folder. What it lists is an index.
    folder = tmp_path / "index"
    folder.mkdir()
    assert not Store.holds_other_files(folder)
    Store.create(folder).close()
    (folder / "rag.sqlite-wal").write_bytes(b"")
    assert not Store.holds_other_files(folder)
    (folder / "notes.txt").write_text("notes")
    assert not Store.holds_other_files(folder)  # an index that holds other files is still an index
    (folder / "rag.sqlite").unlink()
    assert Store.holds_other_files(folder)


def test_answer_over_two_collections_cites_the_right_one_with_verbatim_quotes(tmp_path: Path) -> None:
    embedder = rag.HashingEmbedder(256)
    collections = rag.open_collections(build_collections(tmp_path, embedder), embedder=embedder)
    assert collections.base("alpha").embedder is collections.base("beta").embedder
    answer = collections.select(["alpha", "beta"]).ask("How long does a beta boat take to build?")
    assert answer.answered and answer.citations[0].collection == "beta"
    for citation in answer.citations:
        document = collections.select(["alpha", "beta"]).document(citation.quote.document_id)
        assert document.text[citation.start : citation.end] == citation.quote.text
    assert {p.collection for p in answer.passages} == {"alpha", "beta"}
    assert answer.to_dict()["citations"][0]["collection"] == "beta"


def test_empty_collections_explain_the_refusal(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    collections = rag.open_collections({"empty": tmp_path / "empty"}, embedder=rag.HashingEmbedder(64))
    answer = collections.select(["empty"]).ask("Anything?")
    assert not answer.answered and "ingest some documents" in answer.notice


def test_answer_over_collections_embeds_the_question_not_the_sentences(tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    collections = rag.open_collections(build_collections(tmp_path, embedder), embedder=embedder)
    embedder.calls.clear()
    question = "How long does a beta boat take to build?"
    answer = collections.select(["alpha", "beta"]).ask(question)
    assert answer.answered
    assert set(embedder.texts) == {question}  # the sentences' vectors come from the indexes


ARABIC_WAREHOUSES = [
    rag.TextItem(
        f"warehouse-{number}",
        f"يقع المستودع رقم {number} في المدينة ويحتوي على {number * 13 + 100} طنا من"
        + (" الشعير." if number == 3 else " القمح.")
        + " يعمل في المستودع عمال كثيرون كل يوم. والمستودع كبير جدا وقديم.",
    )
    for number in range(12)
]


def test_one_collection_answers_a_language_the_model_lacks_as_its_index_does(tmp_path: Path) -> None:
    """Lexical evidence weighs the question's terms by how rare they are in the served indexes."""
    embedder = rag.HashingEmbedder(256, languages=frozenset({"en"}))
    with rag.open(tmp_path / "arabic", embedder=embedder) as base:
        base.add_texts(ARABIC_WAREHOUSES)
        question = "كم طنا من الشعير في المستودع رقم 7؟"  # barley is in warehouse 3 only
        direct = base.ask(question)
    collections = rag.open_collections({"arabic": tmp_path / "arabic"}, embedder=embedder)
    served = collections.select(["arabic"]).ask(question)
    assert [(c.source, c.score) for c in served.citations] == [(c.source, c.score) for c in direct.citations]
    assert {"warehouse-3", "warehouse-7"} <= {c.source for c in direct.citations}


def test_a_served_page_is_drawn_from_the_file_its_shown_source_names(tmp_path: Path) -> None:
    text = "The north bridge was repainted in October with a zinc-rich primer."
    folder, index = tmp_path / "docs", tmp_path / "index"
    for name, x in (("left.pdf", 72), ("right.pdf", 300)):  # the same text (one id), drawn elsewhere
        (folder / name[:-4]).mkdir(parents=True)
        (folder / name[:-4] / name).write_bytes(positioned_pdf([[(x, 700, "F1", text)]], size=(900, 792)))
    embedder = rag.HashingEmbedder(64)
    with rag.KnowledgeBase(index, embedder=embedder) as base:
        base.ingest([folder])
    collections = rag.open_collections({"docs": index}, embedder=embedder)
    selection = collections.select(["docs"])
    base = collections.base("docs")
    span = (0, len(text))
    for name in ("left", "right"):
        stored = str(folder / name / f"{name}.pdf")
        shown = selection.document(stored).source
        assert shown != stored and selection.document(shown).source == shown
        assert selection.page_image(shown, 1, span) == base.page_image(stored, 1, span)
        assert selection.highlight_boxes(shown, 1, span) == base.highlight_boxes(stored, 1, span)
        assert selection.quote_thumbnail(shown, span) == base.quote_thumbnail(stored, span)
    assert base.page_image(str(folder / "left/left.pdf"), 1) != base.page_image(
        str(folder / "right/right.pdf"), 1
    )


def test_a_citation_opens_the_document_of_its_own_collection_when_both_show_the_same_name(
    tmp_path: Path,
) -> None:
    from ui import responses

    embedder = rag.HashingEmbedder(256)
    texts = {
        "alpha": "The Orchard of Pellham grows nine kinds of apple on the eastern slope.",
        "beta": "The boatyard of Pellham launches a fishing boat every spring from the eastern slip.",
    }
    folders = {name: tmp_path / name for name in texts}
    for name, text in texts.items():
        with rag.open(folders[name], embedder=embedder) as base:
            base.add_texts([rag.TextItem("notes.md", text)])  # one shown name in both collections
    selection = rag.open_collections(folders, embedder=embedder).select(["alpha", "beta"])
    assert selection.document("notes.md").text == texts["alpha"]  # by name alone: the first holding it
    turns = list(
        responses.stream_turns(
            selection, "When does the boatyard launch a fishing boat?", [], rag.AskOptions()
        )
    )[-1]
    citation = turns[-1].answer.citations[0]  # type: ignore[union-attr]
    assert citation.collection == "beta" and citation.source == "notes.md"
    assert selection.narrowed_to("beta").document("notes.md").text == texts["beta"]
    assert selection.narrowed_to("nowhere") is selection
    viewer = responses.open_citation(selection, turns, "cite-0-1")
    assert "boatyard of Pellham" in viewer and "Orchard" not in viewer


@pytest.mark.postgres
def test_an_error_names_a_database_collection_by_its_name_not_its_server(
    postgres_url: str, tmp_path: Path
) -> None:
    from rag.serve.collections import open_collections

    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("notes.md", "Otters sleep holding hands.")])
        location = base.location
    collections = open_collections({"team": postgres_url}, embedder=rag.HashingEmbedder(256))
    try:
        for shown in (location, location.partition("?")[0]):
            message = collections.without_folders(
                f"PostgreSQL at {shown}: permission denied for table chunks"
            )
            assert message == "PostgreSQL at collection team: permission denied for table chunks"
    finally:
        collections.close()
