"""A reader's view of an index: forbidden documents are absent from search, answers and counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.access import Actor, CollectionRule, DocumentRule
from rag.errors import NotFoundError

TOPICS = {
    "handbook/holidays.txt": "Staff holidays are booked in the holiday planner before March. " * 12,
    "handbook/payroll-2026.txt": "Payroll: salaries are paid on the 25th; the holiday bonus is paid in June. "
    * 12,
    "handbook/travel.txt": "Travel costs are refunded within a month when receipts are attached. " * 12,
    "handbook/security.txt": "Badges must be worn at all times; lost badges are reported at once. " * 12,
}
HR_RULE = CollectionRule(
    read=frozenset({"staff"}),
    write=frozenset({"editors"}),
    documents=(DocumentRule("*payroll*", frozenset({"hr"})),),
)
STAFF = Actor("sam", frozenset({"staff"}), "person")
HR = Actor("hana", frozenset({"staff", "hr"}), "person")
QUESTIONS = ("When is the holiday bonus paid?", "holiday planner", "salaries", "lost badges")


ENGINES = ["folder", pytest.param("postgres", marks=pytest.mark.postgres)]


def build(location: Path | str, embedder: rag.Embedder, sources: list[str]) -> rag.KnowledgeBase:
    base = rag.open(location, embedder=embedder)
    base.add_texts([rag.TextItem(source, TOPICS[source]) for source in sources])
    return base


@pytest.fixture(params=ENGINES)
def bases(
    request: pytest.FixtureRequest, tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> Iterator[tuple[rag.KnowledgeBase, rag.KnowledgeBase]]:
    """The whole handbook, and the same handbook built without the payroll document: two index
    folders, or two PostgreSQL schemas."""
    if request.param == "folder":
        locations: tuple[Path | str, Path | str] = (tmp_path / "all", tmp_path / "without")
    else:
        locations = (request.getfixturevalue("postgres_url"), request.getfixturevalue("other_postgres_url"))
    everything = build(locations[0], fake_embedder, list(TOPICS))
    without = build(locations[1], fake_embedder, [s for s in TOPICS if "payroll" not in s])
    yield everything, without
    everything.close()
    without.close()


def ranking(passages: list[rag.Passage]) -> list[tuple[str, int, int]]:
    return [(passage.source, passage.start, passage.end) for passage in passages]


def test_a_reader_outside_the_group_finds_what_an_index_without_the_document_finds(
    bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase],
) -> None:
    everything, without = bases
    view = everything.for_reader(STAFF, HR_RULE)
    for mode in ("hybrid", "dense", "lexical"):
        for question in QUESTIONS:
            found = view.search(question, k=5, mode=mode)
            assert ranking(found) == ranking(without.search(question, k=5, mode=mode)), (mode, question)
            assert all("payroll" not in passage.source for passage in found)


def test_a_reader_in_the_group_finds_the_narrowed_document(
    bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase],
) -> None:
    everything, _ = bases
    found = everything.for_reader(HR, HR_RULE).search("salaries", k=3)
    assert found[0].source == "handbook/payroll-2026.txt"


def test_answers_and_refusals_behave_as_if_the_document_did_not_exist(
    bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase],
) -> None:
    everything, without = bases
    view = everything.for_reader(STAFF, HR_RULE)
    for question in QUESTIONS:
        seen, expected = view.ask(question), without.ask(question)
        assert seen.answered == expected.answered, question
        assert seen.text == expected.text, question
        assert ranking(seen.passages) == ranking(expected.passages)
        assert all("payroll" not in citation.source for citation in seen.citations)


def test_a_forbidden_document_is_not_found_by_id_or_source_and_not_listed_or_counted(
    bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase],
) -> None:
    everything, without = bases
    view = everything.for_reader(STAFF, HR_RULE)
    payroll = everything.document("handbook/payroll-2026.txt")
    for name in (payroll.id, payroll.source):
        with pytest.raises(NotFoundError) as refused:
            view.document(name)
        assert "no document" in str(refused.value)
    with pytest.raises(NotFoundError):
        view.remove("payroll-2026.txt")
    assert [info.source for info in view.documents()] == [info.source for info in without.documents()]
    assert view.stats()["documents"] == 3
    assert view.stats()["chunks"] == without.stats()["chunks"]
    assert view.term_statistics().chunks == without.term_statistics().chunks
    assert view.term_statistics().weights(["salari", "holidai"]) == without.term_statistics().weights(
        ["salari", "holidai"]
    )


def test_a_writer_narrows_one_document_through_its_grant(
    bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase],
) -> None:
    everything, _ = bases
    editor = Actor("eve", frozenset({"editors", "staff"}), "person")
    everything.for_reader(editor, HR_RULE).set_readers("travel.txt", frozenset({"finance"}), editor)
    assert everything.readers_of("handbook/travel.txt") == frozenset({"finance"})
    view = everything.for_reader(STAFF, HR_RULE)
    assert all(passage.source != "handbook/travel.txt" for passage in view.search("receipts refunded", k=5))
    everything.set_readers("handbook/travel.txt", None, editor)
    assert view.search("receipts refunded", k=1)[0].source == "handbook/travel.txt"


def test_the_local_owner_sees_everything(bases: tuple[rag.KnowledgeBase, rag.KnowledgeBase]) -> None:
    everything, _ = bases
    owner = everything.for_reader(Actor("local"), HR_RULE)
    assert owner.search("salaries", k=1)[0].source == "handbook/payroll-2026.txt"


def test_an_approximate_index_finds_the_few_allowed_chunks(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    settings = rag.Settings.from_env(approximate_above=200)
    base = rag.open(tmp_path / "big", settings, fake_embedder)
    items = [
        rag.TextItem(f"public/{n}.txt", f"Public note {n} about topic {n % 17} and river {n}.")
        for n in range(400)
    ]
    items.append(rag.TextItem("secret/plan.txt", "The secret launch plan names the harbour gate."))
    base.add_texts(items)
    assert base.vectors.kind == "ivf-sq8"
    rule = CollectionRule(
        read=frozenset({"all"}), documents=(DocumentRule("public/*", frozenset({"public"})),)
    )
    spy = Actor("spy", frozenset({"all"}), "person")
    found = base.for_reader(spy, rule).search("launch plan harbour gate", k=3, mode="dense")
    assert [passage.source for passage in found] == ["secret/plan.txt"]
