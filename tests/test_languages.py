from __future__ import annotations

from pathlib import Path

import rag
from rag.embedding import ALL_LANGUAGES, SentenceTransformerEmbedder, card_languages, covers_language


def test_model_card_languages_one_a_list_or_multilingual() -> None:
    assert card_languages("---\nlanguage: en\nlicense: apache-2.0\n---\n# Model") == {"en"}
    assert card_languages("---\nlanguage: [en, de]\n---") == {"en", "de"}
    assert (
        card_languages("---\ntags:\n- x\nlanguage:\n- multilingual\n- ar\nlicense: mit\n---") == ALL_LANGUAGES
    )
    assert card_languages("# no front matter") == {"en"}


def test_a_local_model_folder_is_read_for_its_card(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlanguage:\n- de\n- fr\n---\n", encoding="utf-8")
    embedder = SentenceTransformerEmbedder(str(tmp_path))
    assert covers_language(embedder, "de") and not covers_language(embedder, "zh")


def test_the_bundled_model_covers_english_only() -> None:
    embedder = SentenceTransformerEmbedder(rag.DEFAULT_MODEL)
    assert covers_language(embedder, "en") and not covers_language(embedder, "de")


def test_an_embedder_without_languages_is_taken_for_english_only() -> None:
    class Plain:
        name = "plain"

    assert covers_language(Plain(), "en") and not covers_language(Plain(), "ar")
    assert covers_language(rag.HashingEmbedder(64), "ar")
