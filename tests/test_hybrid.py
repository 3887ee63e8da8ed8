"""Hybrid retrieval: lexical search in any language, sentence evidence, learned or rank fusion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rag

GERMAN = {
    "panthers": "Die Verteidigung der Panthers ließ in der Saison nur 308 Punkte zu.",
    "warschau": "Warschau ist die Hauptstadt Polens und liegt an der Weichsel.",
    "tesla": "Nikola Tesla arbeitete einige Jahre für Thomas Edison in New York.",
}
CHINESE = {
    "panthers": "黑豹队的防守只丢了308分，在联赛中排名第六。",
    "warsaw": "华沙是波兰的首都，位于维斯瓦河畔。",
    "tesla": "尼古拉·特斯拉曾在纽约为爱迪生工作。",
}
ARABIC = {
    "panthers": "لم يتخل دفاع البانثرز إلا عن 308 نقاط في الموسم.",
    "warsaw": "وارسو هي عاصمة بولندا وتقع على نهر فيستولا.",
    "tesla": "عمل نيكولا تسلا لدى توماس إديسون في نيويورك.",
}


def _ingest(base: rag.KnowledgeBase, documents: dict[str, str]) -> None:
    base.add_texts([rag.TextItem(source, text) for source, text in documents.items()])


def _top_lexical(base: rag.KnowledgeBase, question: str) -> str:
    passages = base.search(question, k=3, mode="lexical")
    assert passages, question
    return passages[0].source


def test_german_question_finds_inflected_german_text(fake_base: rag.KnowledgeBase) -> None:
    _ingest(fake_base, GERMAN)
    # "Verteidigungen" and "Punkten" appear in the text only as "Verteidigung" and "Punkte".
    assert _top_lexical(fake_base, "Wie viele Punkten ließen die Verteidigungen zu?") == "panthers"
    assert _top_lexical(fake_base, "Hauptstädte an der Weichsel?") == "warschau"


def test_chinese_question_finds_chinese_text_without_spaces(fake_base: rag.KnowledgeBase) -> None:
    _ingest(fake_base, CHINESE)
    assert _top_lexical(fake_base, "黑豹队的防守丢了多少分？") == "panthers"
    assert _top_lexical(fake_base, "波兰的首都是哪里？") == "warsaw"


def test_arabic_question_finds_arabic_text_with_other_affixes(fake_base: rag.KnowledgeBase) -> None:
    _ingest(fake_base, ARABIC)
    assert _top_lexical(fake_base, "كم نقطة تخلى عنها دفاع البانثرز؟") == "panthers"
    assert _top_lexical(fake_base, "ما هي عاصمة بولندا؟") == "warsaw"


def test_mixed_language_corpus_answers_each_language_from_its_documents(tmp_path: Path) -> None:
    # Like the bundled model, this embedder knows English only: other languages are scored lexically.
    fake_base = rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256, frozenset({"en"})))
    _ingest(fake_base, {f"de-{name}": text for name, text in GERMAN.items()})
    _ingest(fake_base, {f"zh-{name}": text for name, text in CHINESE.items()})
    _ingest(fake_base, {"en-tesla": "Nikola Tesla worked for Thomas Edison in New York for a few years."})
    assert fake_base.store.language_counts() == {"de": 3, "zh": 3, "en": 1}
    assert _top_lexical(fake_base, "Wo arbeitete Tesla für Edison?") == "de-tesla"
    assert _top_lexical(fake_base, "特斯拉在纽约为谁工作？") == "zh-tesla"
    assert _top_lexical(fake_base, "Who did Tesla work for in New York?") == "en-tesla"
    answer = fake_base.ask("黑豹队的防守丢了多少分？")
    assert answer.answered and answer.citations[0].source == "zh-panthers"
    assert "308" in answer.citations[0].quote.text
    assert not fake_base.ask("特斯拉在哪一年去世？").answered


FILLER = " ".join(
    f"Paragraph {n} is about weather, harvests, markets and roads of the old town." for n in range(12)
)
DOCUMENTS = [
    rag.TextItem("hidden.txt", f"{FILLER}\n\nThe lighthouse keeper painted the lamp room green.\n\n{FILLER}"),
    rag.TextItem("spread.txt", "A keeper of bees sold green paint near the harbour lamp. " * 3),
    rag.TextItem("other.txt", "Trains leave the station every hour for the coast. " * 3),
]


@pytest.fixture
def base(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> Iterator[rag.KnowledgeBase]:
    with rag.open(
        tmp_path / "index", embedder=fake_embedder, settings=rag.Settings(chunk_size=2000)
    ) as opened:
        opened.add_texts(DOCUMENTS)
        yield opened


def test_every_hybrid_passage_carries_its_cosine_even_when_only_bm25_found_it(
    base: rag.KnowledgeBase,
) -> None:
    passages = base.search("lighthouse keeper painted the lamp room green", k=10)
    assert passages and all(passage.dense_score is not None for passage in passages)
    assert [passage.rank for passage in passages] == list(range(1, len(passages) + 1))
    scores = [passage.fused_score for passage in passages]
    assert scores == sorted(scores, reverse=True)


def test_sentence_that_states_the_query_lifts_its_long_chunk_first(base: rag.KnowledgeBase) -> None:
    passages = base.search("The lighthouse keeper painted the lamp room green.", k=3)
    assert passages[0].source == "hidden.txt"
    assert passages[0].sentence_score == pytest.approx(1.0, abs=1e-3)
    assert passages[0].sentence_score > (passages[0].dense_score or 0.0)


def test_rank_fusion_setting_ignores_sentence_evidence(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    with rag.open(tmp_path / "rrf", embedder=fake_embedder, settings=rag.Settings(fusion="rrf")) as base:
        base.add_texts(DOCUMENTS)
        passages = base.search("lighthouse keeper green lamp", k=3)
    assert passages and all(passage.sentence_score is None for passage in passages)
    assert passages[0].fused_score <= 2 / 61


def test_dense_and_lexical_modes_stay_single_retrievers(base: rag.KnowledgeBase) -> None:
    lexical = base.search("lighthouse", k=5, mode="lexical")
    assert [passage.source for passage in lexical] == ["hidden.txt"]
    assert lexical[0].dense_score is None
    dense = base.search("lighthouse", k=5, mode="dense")
    assert all(passage.lexical_score is None for passage in dense)


def test_unknown_fusion_is_a_settings_error_naming_the_choices() -> None:
    with pytest.raises(rag.SettingsError, match="learned, rrf"):
        rag.Settings(fusion="average")
