from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import RecordingEmbedder

import rag
from rag.storage.vectors.saved import VECTORS_NAME

RIVERS = (
    "The Danube flows through ten countries before it reaches the Black Sea. "
    "It is the second longest river in Europe.\n\n"
    "Vienna, Budapest and Belgrade are capital cities on the Danube."
)
VOLCANOES = (
    "Mount Etna is an active volcano on the east coast of Sicily. "
    "Its eruptions have been recorded for thousands of years."
)


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rivers.txt").write_text(RIVERS)
    (folder / "volcanoes.md").write_text("# Volcanoes\n\n" + VOLCANOES)
    return folder


def assert_quotes_are_verbatim(base: rag.KnowledgeBase, answer: rag.Answer) -> None:
    for citation in answer.citations:
        document = base.document(citation.quote.document_id)
        assert document.text[citation.start : citation.end] == citation.quote.text


def test_ingest_then_ask_quotes_the_right_sentence(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    report = fake_base.ingest([write_corpus(tmp_path / "docs")])
    assert report.count("added") == 2
    answer = fake_base.ask("Which sea does the Danube reach?")
    assert answer.answered
    assert "Black Sea" in answer.citations[0].quote.text
    assert answer.text.startswith("“") and "[1]" in answer.text
    assert_quotes_are_verbatim(fake_base, answer)


def test_reingesting_an_unchanged_folder_embeds_nothing(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    fake_base.ingest([docs])
    again = fake_base.ingest([docs])
    assert again.chunks_embedded == 0
    assert again.count("unchanged") == 2


def test_changed_file_replaces_old_chunks(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    fake_base.ingest([docs])
    (docs / "rivers.txt").write_text("The Rhine flows into the North Sea near Rotterdam harbour.")
    report = fake_base.ingest([docs])
    assert report.count("updated") == 1
    passages = fake_base.search("Danube Black Sea", k=10)
    assert all("Danube" not in passage.text for passage in passages)
    assert fake_base.stats()["documents"] == 2


def test_prune_removes_documents_whose_files_are_gone(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    fake_base.ingest([docs])
    (docs / "volcanoes.md").unlink()
    report = fake_base.ingest([docs], prune=True)
    assert report.count("removed") == 1
    assert [Path(info.source).name for info in fake_base.documents()] == ["rivers.txt"]


def test_bad_files_fail_alone_and_the_rest_is_ingested(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "data.xyz").write_text("unknown type")
    report = fake_base.ingest([docs, tmp_path / "missing-folder"])
    assert report.count("added") == 2
    failed = {Path(result.source).name: result.reason for result in report.failed}
    assert set(failed) == {"empty.txt", "image.txt", "broken.pdf", "missing-folder"}
    assert all(reason for reason in failed.values())
    assert report.count("skipped") == 1


def test_remove_by_file_name(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    fake_base.ingest([write_corpus(tmp_path / "docs")])
    assert fake_base.remove("volcanoes.md") > 0
    assert fake_base.stats()["documents"] == 1
    with pytest.raises(rag.NotFoundError):
        fake_base.remove("volcanoes.md")


def test_question_the_documents_cannot_answer_is_refused(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    fake_base.ingest([write_corpus(tmp_path / "docs")])
    answer = fake_base.ask("Who composed the opera Tosca in 1900?")
    assert not answer.answered
    assert answer.text == rag.NOT_FOUND
    assert answer.citations == ()
    assert answer.passages, "a refusal still shows the closest passages"


def test_empty_index_refuses_with_a_notice(fake_base: rag.KnowledgeBase) -> None:
    fake_base.ingest([])
    answer = fake_base.ask("Anything at all?")
    assert not answer.answered and answer.notice


def test_reading_a_missing_index_is_a_one_line_error_and_writes_nothing(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    folder = tmp_path / "typo" / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        for read in (lambda: base.ask("tea?"), base.stats, base.documents, lambda: base.search("tea")):
            with pytest.raises(rag.NotFoundError, match=r"no index at .*rag ingest"):
                read()
    assert not (tmp_path / "typo").exists()


def test_empty_question_is_a_clear_error(fake_base: rag.KnowledgeBase) -> None:
    with pytest.raises(rag.RagError, match="empty"):
        fake_base.ask("   ")


def test_lexical_search_survives_punctuation(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    fake_base.ingest([write_corpus(tmp_path / "docs")])
    for query in ['"Etna" AND (NEAR*', "what's -Etna: OR ^?", "*", '""']:
        fake_base.search(query, mode="lexical")
    assert fake_base.search("Etna's eruptions?", mode="lexical")[0].source.endswith("volcanoes.md")


def test_passages_carry_scores_and_exact_text(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    fake_base.ingest([write_corpus(tmp_path / "docs")])
    passages = fake_base.search("Danube capital cities", k=3)
    assert [passage.rank for passage in passages] == list(range(1, len(passages) + 1))
    top = passages[0]
    assert top.dense_score is not None and top.lexical_score is not None
    assert fake_base.document(top.document_id).text[top.start : top.end] == top.text


def test_missing_or_corrupt_faiss_file_is_rebuilt(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
        expected = [p.chunk_id for p in base.search("Etna volcano", mode="dense")]
    (folder / VECTORS_NAME).write_bytes(b"not a faiss index")
    with rag.open(folder, embedder=fake_embedder) as base:
        assert [p.chunk_id for p in base.search("Etna volcano", mode="dense")] == expected
    (folder / VECTORS_NAME).unlink()
    with rag.open(folder, embedder=fake_embedder) as base:
        assert [p.chunk_id for p in base.search("Etna volcano", mode="dense")] == expected


def test_opening_with_another_model_is_a_clear_error(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
    with pytest.raises(rag.IndexMismatchError, match="hashing-256"):
        rag.open(folder, embedder=rag.HashingEmbedder(128))


def test_reopening_adopts_the_recorded_chunk_settings(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    folder = tmp_path / "index"
    settings = rag.Settings(chunk_size=300, chunk_overlap=30)
    with rag.open(folder, settings, embedder=fake_embedder) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.settings.chunk_size == 300
    with pytest.raises(rag.IndexMismatchError, match="chunk_size"):
        rag.open(folder, rag.Settings(chunk_size=500), embedder=fake_embedder)


def _hold_write_lock(
    folder: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:
    base = rag.open(folder, embedder=rag.HashingEmbedder(256))
    with base._writing():
        ready.set()
        release.wait(30)


def test_second_writer_fails_fast(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    folder = tmp_path / "index"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_write_lock, args=(str(folder), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with rag.open(folder, embedder=fake_embedder) as base, pytest.raises(rag.IndexLockedError):
            base.ingest([write_corpus(tmp_path / "docs")])
    finally:
        release.set()
        holder.join(30)


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        rag.Settings(chunk_size=100, chunk_overlap=100)
    with pytest.raises(ValueError):
        rag.Settings(retrieval_mode="magic")


def test_large_index_switches_to_approximate_search(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    settings = rag.Settings(approximate_above=1)
    with rag.open(tmp_path / "index", settings, embedder=fake_embedder) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
        stats = base.stats()
        assert stats["vector_index"] == "ivf-sq8"
        assert 0.0 <= stats["vector_recall@10"] <= 1.0 and stats["vector_recall_queries"] > 0
        assert base.search("Etna volcano Sicily", mode="dense")[0].source.endswith("volcanoes.md")
        # IVF scores its candidates on 8-bit codes, lexical-only candidates get stored-vector
        # cosines: the learned ranker compares like with like, every dense score exact.
        query = fake_embedder.embed(["Etna volcano Sicily"])[0]
        passages = [
            found for found in base.search("Etna volcano Sicily", k=10) if found.dense_score is not None
        ]
        stored = base.store.chunk_vectors([found.chunk_id for found in passages], len(query))
        assert passages
        for found in passages:
            assert found.dense_score == pytest.approx(float(stored[found.chunk_id] @ query), abs=1e-6)


def test_pdf_citations_name_their_page(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    from sample_files import make_pdf

    pdf = tmp_path / "atlas.pdf"
    pdf.write_bytes(make_pdf("Deserts cover a fifth of the land surface of Earth.", VOLCANOES))
    fake_base.ingest([pdf])
    answer = fake_base.ask("Where is the active volcano Mount Etna?")
    assert answer.answered
    citation = answer.citations[0]
    assert citation.page == 2 and "Etna" in citation.quote.text
    assert_quotes_are_verbatim(fake_base, answer)


class SurrogateRejectingEmbedder(rag.HashingEmbedder):
    """Like the real model's tokenizer, which raises TypeError on a lone surrogate."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(any("\ud800" <= c <= "\udfff" for c in text) for text in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return super().embed(texts)


def test_lone_surrogate_in_a_question_is_answered_not_a_type_error(tmp_path: Path) -> None:
    with rag.open(tmp_path / "index", embedder=SurrogateRejectingEmbedder(256)) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
        answer = base.ask("Where is Mount Etna \udcff?")
        assert answer.answered and "Sicily" in answer.text
        assert base.search("Etna \udcff", k=1)[0].source.endswith("volcanoes.md")


def test_ask_embeds_only_the_question_and_only_once(tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.ingest([write_corpus(tmp_path / "docs")])
        embedder.calls.clear()
        answer = base.ask("Which sea does the Danube reach?")
    assert answer.answered
    assert embedder.calls == [["Which sea does the Danube reach?"]]
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.search("Which sea does the Danube reach?")  # a new call embeds anew: nothing is kept
    assert len(embedder.calls) == 2


CITIES = ("北京", "上海", "广州", "深圳", "成都", "武汉", "西安", "南京", "杭州", "重庆")
GOODS = ("大米", "钢材", "棉花", "茶叶", "木材", "煤炭", "玉米", "铜矿", "羊毛", "瓷器")
ARABIC_CITIES = ("القاهرة", "دمشق", "بغداد", "الرياض", "تونس", "عمان", "بيروت", "الرباط", "مسقط", "الدوحة")
ARABIC_GOODS = ("القمح", "القطن", "الحديد", "التمر", "الزيت", "الصوف", "النحاس", "الأرز", "السكر", "الملح")


def _chinese_warehouses() -> str:
    lines = []
    for number in range(60):
        city, goods = CITIES[number % 10], GOODS[number * 7 % 10]
        lines.append(
            f"第{number}号仓库位于{city}，存放着{number * 13 + 7}吨{goods}，由{number % 4 + 2}名工人看管。"
        )
        if number % 9 == 4:  # an unbroken run far longer than the reach of a passage's window
            lines.append(
                "这一年的报告还记录了" + "、".join(f"{c}的{g}" for c in CITIES for g in GOODS) + "的价格。"
            )
    return "".join(lines)


def _arabic_warehouses() -> str:
    sentences = [
        f"يقع المستودع رقم {number} في {ARABIC_CITIES[number % 10]} ويحتوي على"
        f" {number * 13 + 7} طنا من {ARABIC_GOODS[number * 7 % 10]}."
        + (" هل كان ذلك كافيا؟" if number % 5 == 0 else "")
        for number in range(60)
    ]
    return " ".join(sentences)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (_chinese_warehouses(), "第37号仓库存放着多少吨货物？"),
        (_arabic_warehouses(), "كم طنا يحتوي المستودع رقم 37؟"),
    ],
    ids=["chinese", "arabic"],
)
def test_asking_about_a_chinese_or_arabic_document_embeds_only_the_question(
    tmp_path: Path, text: str, question: str
) -> None:
    """The sentences the answer step scores are those stored with vectors at ingest."""
    embedder = RecordingEmbedder()
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.add_texts([rag.TextItem("warehouses", text)])
        assert base.stats()["chunks"] > 3  # passages start inside the text, not at its beginning
        embedder.calls.clear()
        answer = base.ask(question)
    assert answer.passages and (answer.citations or not answer.answered)
    assert embedder.calls == [[question]]


def test_asking_about_a_table_embeds_only_the_question(tmp_path: Path) -> None:
    """A table's rows are scored with their column headers; those are what ingest embeds for them."""
    rows = "\n".join(f"Dept {number},{2020 + number % 6},{number * 1000 + 500}" for number in range(300))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "budget.csv").write_text("department,year,budget_eur\n" + rows + "\n")
    embedder = RecordingEmbedder()
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.ingest([tmp_path / "docs"])
        embedder.calls.clear()
        answer = base.ask("What is the budget_eur of Dept 137?")
    assert answer.citations and answer.citations[0].quote.text.startswith("Dept 137,")
    assert embedder.calls == [["What is the budget_eur of Dept 137?"]]
