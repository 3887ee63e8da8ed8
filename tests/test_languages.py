"""Which languages an embedding model covers, read from its model card, whichever backend serves it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rag
from rag.embedding import ALL_LANGUAGES, SentenceTransformerEmbedder, card_languages, covers_language
from rag.embedding.factory import make_embedder
from rag.embedding.reuse import ReusingEmbedder


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


def test_the_bundled_model_covers_english_only_on_either_backend(tmp_path: Path) -> None:
    for backend in ("torch", "onnx", None):
        embedder = make_embedder(rag.DEFAULT_MODEL, backend=backend, cache_dir=tmp_path)
        assert covers_language(embedder, "en") and not covers_language(embedder, "de"), backend


def test_a_model_neither_bundled_nor_cached_is_taken_for_english_only() -> None:
    embedder = SentenceTransformerEmbedder("no-such-owner/no-such-model")
    assert covers_language(embedder, "en") and not covers_language(embedder, "ar")


def test_the_embedder_of_one_question_covers_what_its_model_covers() -> None:
    def nothing_stored(texts: object, dimension: int) -> dict[str, np.ndarray]:
        return {}

    english_only = ReusingEmbedder(rag.HashingEmbedder(64, languages=frozenset({"en"})), nothing_stored)
    assert covers_language(english_only, "en") and not covers_language(english_only, "zh")
    assert covers_language(ReusingEmbedder(rag.HashingEmbedder(64), nothing_stored), "zh")


def test_an_embedder_without_languages_is_taken_for_english_only() -> None:
    class Plain:
        name = "plain"

    assert covers_language(Plain(), "en") and not covers_language(Plain(), "ar")
    assert covers_language(rag.HashingEmbedder(64), "ar")
