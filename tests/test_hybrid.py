"""Lexical search in any language, through a knowledge base with the fake embedder."""

from __future__ import annotations

from pathlib import Path

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
