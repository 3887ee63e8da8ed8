"""Named evaluation runs over the project's question sets and ../shared/datasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions"
SHARED = ROOT.parent / "shared"
DATASETS = SHARED / "datasets"
# xquad-dev articles 00-11: the honest refusal split indexes these and asks about all 24.
FIRST_HALF = ("0?_*", "1[01]_*")


@dataclass(frozen=True)
class Preset:
    """The arguments of rag.evaluate for one named run."""

    dataset: Path
    corpus: Path
    about: str
    split: str = "test"
    corpus_include: tuple[str, ...] = ()
    missing_sources_unanswerable: bool = False
    extra: dict[str, object] = field(default_factory=dict)


PRESETS = {
    "seeds": Preset(
        QUESTIONS / "seeds.jsonl", SHARED / "corpus" / "seeds", "own questions on the seed articles"
    ),
    "docs": Preset(QUESTIONS / "docs.jsonl", ROOT / "docs", "own questions on the user guide (docs/)"),
    "xquad": Preset(
        DATASETS / "xquad-dev" / "questions.jsonl",
        DATASETS / "xquad-dev" / "corpus.jsonl",
        "xquad-dev, all 120 paragraphs indexed",
    ),
    "xquad-honest": Preset(
        DATASETS / "xquad-dev" / "questions.jsonl",
        DATASETS / "xquad-dev" / "corpus.jsonl",
        "xquad-dev, articles 00-11 indexed; questions on 12-23 must be refused",
        corpus_include=FIRST_HALF,
        missing_sources_unanswerable=True,
    ),
    "tables": Preset(
        DATASETS / "tables-dev" / "questions.jsonl",
        DATASETS / "tables-dev" / "docs",
        "tables-dev: lookups and numbers computed from CSV and XLSX rows",
    ),
    "tables-own": Preset(
        QUESTIONS / "tables-own.jsonl",
        QUESTIONS / "tables-own",
        "own questions on own tables: ratios, percent changes and refusals (CSV, HTML)",
    ),
    "compound": Preset(
        DATASETS / "compound-dev" / "questions.jsonl",
        DATASETS / "compound-dev" / "corpus.jsonl",
        "compound-dev: two xquad-dev questions joined by ', and' (same passage / two passages)",
    ),
    "scifact": Preset(
        DATASETS / "scifact-train",
        DATASETS / "scifact-train" / "corpus.jsonl",
        "BEIR SciFact train split, document-level retrieval",
        split="train",
    ),
}
# The same articles translated: `python -m eval xquad-de --limit 200 --seed 0` and so on
# (python -m eval.multilingual runs all of them and prints the table of docs/evaluation.md).
MULTILINGUAL = DATASETS / "xquad-multilingual-dev"
for _language in ("de", "es", "ru", "zh", "ar", "hi"):
    PRESETS[f"xquad-{_language}"] = Preset(
        MULTILINGUAL / _language / "questions.jsonl",
        MULTILINGUAL / _language / "corpus.jsonl",
        f"xquad-multilingual-dev ({_language}), all 120 paragraphs indexed",
    )
    PRESETS[f"xquad-{_language}-honest"] = Preset(
        MULTILINGUAL / _language / "questions.jsonl",
        MULTILINGUAL / _language / "corpus.jsonl",
        f"xquad-multilingual-dev ({_language}), articles 00-11 indexed; questions on 12-23 must be refused",
        corpus_include=FIRST_HALF,
        missing_sources_unanswerable=True,
    )
SMOKE = ("seeds", "docs")
