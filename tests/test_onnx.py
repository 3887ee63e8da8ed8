"""The ONNX Runtime backend against the torch backend, on the real bundled model (marked `model`).

The fixed text set is what Verbatim embeds: questions, sentences and chunks of English (the
model's language, short to over-long), plus sentences in eight other languages and scripts
and a few odd inputs (one word, emoji, code). Only whitespace-only text is left out: it is
never embedded (questions must have words, chunks and sentences are trimmed), and int8 gives
its vector, [CLS] and [SEP] alone, the lowest cosine (0.972), with nothing to mean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.embedding.onnx import length_batches
from rag.ingest.chunking import split_text

pytestmark = pytest.mark.model

ABSTRACT = (
    "Alterations of the architecture of cerebral white matter in the developing human brain can affect "
    "cortical development and result in functional disabilities. A line scan diffusion-weighted magnetic "
    "resonance imaging sequence with diffusion tensor analysis was applied to measure the apparent "
    "diffusion coefficient, to calculate relative anisotropy, and to delineate three-dimensional fiber "
    "architecture in cerebral white matter in preterm and full-term infants. "
)
TEXTS = [
    "hello",
    "a",
    "What is the role of p53 in apoptosis?",
    "How many touchdowns did the Broncos score in Super Bowl 50?",
    "BRCA1 mutations increase breast cancer risk.",
    "The 2019 revenue was $4.2 billion, up 12% year over year.",
    "Vitamin D supplementation does not reduce fracture risk in older adults.",
    "Mitochondria are the powerhouse of the cell, producing ATP through oxidative phosphorylation.",
    "The committee postponed its decision until the next quarterly meeting.",
    "Smoking is associated with an increased risk of lung cancer and cardiovascular disease.",
    "UPPER CASE TITLE ABOUT GENE EXPRESSION",
    "Q: Where is the Eiffel Tower? A: Paris, France.",
    "def add(a, b):\n    return a + b",
    "I love this! 😀🎉",
    "Die Katze sitzt auf der Matte und schläft den ganzen Nachmittag.",
    "Le gouvernement a annoncé de nouvelles mesures pour lutter contre l'inflation.",
    "El equipo ganó el campeonato después de una temporada difícil.",
    "Защита Пэнтерс уступила всего 308 очков, заняв шестое место в лиге.",
    "超级碗第50届比赛在加利福尼亚州圣克拉拉举行。",
    "تقع مدينة القاهرة على ضفاف نهر النيل.",
    "भारत एक विशाल और विविधतापूर्ण देश है।",
    "東京は日本の首都です。",
    ABSTRACT,
    ABSTRACT * 2,
    ABSTRACT * 4,  # over 256 word pieces: both backends cut it at the same place
    "word " * 400,
]
SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scifact-train" / "corpus.jsonl"


@pytest.fixture(scope="session")
def onnx_embedder() -> rag.Embedder:
    return rag.make_embedder(rag.DEFAULT_MODEL, backend="onnx")


@pytest.fixture(scope="session")
def torch_embedder() -> rag.Embedder:
    return rag.make_embedder(rag.DEFAULT_MODEL, backend="torch")


def test_onnx_vectors_match_torch_vectors_on_the_fixed_set(
    onnx_embedder: rag.Embedder, torch_embedder: rag.Embedder
) -> None:
    vectors = onnx_embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * torch_embedder.embed(TEXTS)).sum(axis=1)
    assert cosines.min() >= 0.97, dict(zip(TEXTS, cosines.round(4), strict=True))


def test_onnx_vectors_match_torch_vectors_on_real_chunks(
    onnx_embedder: rag.Embedder, torch_embedder: rag.Embedder, shared_dir: Path
) -> None:
    chunks = []
    with SCIFACT.open(encoding="utf-8") as lines:
        for line, _ in zip(lines, range(100), strict=False):
            record = json.loads(line)
            text = f"{record['title']}\n\n{record['text']}"
            chunks += [span.text for span in split_text(text, 1000, 150)]
    cosines = (onnx_embedder.embed(chunks) * torch_embedder.embed(chunks)).sum(axis=1)
    assert cosines.min() >= 0.97 and cosines.mean() >= 0.99, (cosines.min(), cosines.mean())


def test_texts_embedded_alone_match_torch_too(
    onnx_embedder: rag.Embedder, torch_embedder: rag.Embedder
) -> None:
    """A question runs alone on the one-thread session; int8 activations are scaled per batch."""
    alone = np.vstack([onnx_embedder.embed([text]) for text in TEXTS])
    cosines = (alone * torch_embedder.embed(TEXTS)).sum(axis=1)
    assert cosines.min() >= 0.97, dict(zip(TEXTS, cosines.round(4), strict=True))


def test_span_vectors_come_from_the_same_pass_as_the_text_vectors(onnx_embedder: rag.Embedder) -> None:
    ferry = "Harbour\nThe ferry leaves at seven. Gulls nest on the old pier."
    texts = [ferry, ABSTRACT * 4, "hello"]
    first, second = (8, 34), (35, len(ferry))
    spans = [[first, second, (0, 0)], [(0, 80), (len(ABSTRACT * 4) - 60, len(ABSTRACT * 4))], []]
    vectors, pooled = onnx_embedder.embed_with_spans(texts, spans)  # type: ignore[attr-defined]
    # The texts' vectors are the ones embed gives: the spans cost no second pass and change nothing.
    np.testing.assert_array_equal(vectors, onnx_embedder.embed(texts))
    alone = onnx_embedder.embed([ferry[slice(*first)], ferry[slice(*second)]])
    ferry_pooled = np.vstack(pooled[0][:2])
    np.testing.assert_allclose(np.linalg.norm(ferry_pooled, axis=1), 1.0, atol=1e-5)
    # Each sentence's pooled vector is nearer its own sentence embedded alone than the other one.
    similarities = ferry_pooled @ alone.T
    assert similarities[0, 0] > similarities[0, 1] and similarities[1, 1] > similarities[1, 0]
    # No token in an empty span; the end of a text over 256 word pieces was cut off before the model.
    assert pooled[0][2] is None and pooled[1][0] is not None and pooled[1][1] is None
    assert pooled[2] == []


def test_length_batches_cover_every_row_once_within_the_budget() -> None:
    lengths = [5, 256, 30, 256, 12, 100, 7]
    batches = list(length_batches(lengths, 300))
    assert sorted(int(row) for batch in batches for row in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) * max(lengths[row] for row in batch) <= 300 or len(batch) == 1


def test_empty_input_gives_an_empty_array(onnx_embedder: rag.Embedder) -> None:
    assert onnx_embedder.embed([]).shape == (0, 384)


def test_asking_with_onnx_never_imports_torch(tmp_path: Path, onnx_embedder: rag.Embedder) -> None:
    with rag.open(tmp_path / "index", embedder=onnx_embedder) as base:
        base.add_texts([rag.TextItem("notes", "The Danube reaches the Black Sea near Sulina.")])
    script = textwrap.dedent(
        f"""
        import sys
        from rag.cli.main import main
        assert main(["ask", "Where does the Danube reach the sea?", "--index", {str(tmp_path / "index")!r}]) == 0
        heavy = sorted(name for name in sys.modules
                       if name.split(".")[0] in ("torch", "transformers", "sentence_transformers"))
        print("HEAVY", heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "Black Sea" in result.stdout
    assert "HEAVY []" in result.stdout, result.stdout


def test_index_built_with_torch_is_searched_with_onnx(tmp_path: Path, torch_embedder: rag.Embedder) -> None:
    """Same model, same dimension: the backends mix (docs/performance.md measures the nDCG)."""
    texts = {
        "rivers": "The Danube flows through ten countries before it reaches the Black Sea.",
        "volcanoes": "Mount Etna is an active volcano on the east coast of Sicily.",
        "bread": "Sourdough bread rises with wild yeast and lactic acid bacteria.",
    }
    with rag.open(tmp_path / "index", embedder=torch_embedder) as base:
        base.add_texts([rag.TextItem(name, text) for name, text in texts.items()])
    with rag.open(tmp_path / "index", rag.Settings(embedding_backend="onnx")) as base:
        assert base.embedder.backend == "onnx"
        passages = base.search("Which volcano erupts in Sicily?", mode="dense")
        answer = base.ask("Which sea does the Danube reach?")
    assert passages[0].source == "volcanoes"
    assert answer.answered and "Black Sea" in answer.citations[0].quote.text
