"""Settings: one small frozen dataclass; None in a method call means "use these"."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar, get_args

from rag.errors import SettingsError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 150
RetrievalMode = Literal["hybrid", "dense", "lexical"]
# How ingest runs: in this process, or as a Ray Data pipeline (rag/ingest/ray_engine.py).
Engine = Literal["local", "ray"]
AnswerMode = Literal["extractive", "llm"]
Fusion = Literal["learned", "rrf"]  # how hybrid retrieval fuses its dense and lexical lists
# What searches a PostgreSQL index's vectors: pgvector's HNSW in the database, or FAISS in the
# reader following the database's change journal (rag/storage/database/follower.py; format 3).
PostgresVectorSearch = Literal["hnsw", "faiss"]
RETRIEVAL_MODES: tuple[RetrievalMode, ...] = get_args(RetrievalMode)
ENGINES: tuple[Engine, ...] = get_args(Engine)
ANSWER_MODES: tuple[AnswerMode, ...] = get_args(AnswerMode)
FUSIONS: tuple[Fusion, ...] = get_args(Fusion)
POSTGRES_VECTOR_SEARCHES: tuple[PostgresVectorSearch, ...] = get_args(PostgresVectorSearch)
DEFAULT_OCR_LANGUAGES = "eng"
_OCR_LANGUAGES = re.compile(r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")
# None (the default) is ONNX Runtime where the model exports, else torch with a notice.
EMBEDDING_BACKENDS = ("onnx", "torch")


_Choice = TypeVar("_Choice", bound=str)


def choice(value: object, choices: tuple[_Choice, ...], name: str) -> _Choice:
    """The value as one of a closed set of choices; a SettingsError naming them otherwise."""
    for allowed in choices:
        if value == allowed:
            return allowed
    raise SettingsError(f"unknown {name} {value!r}: use one of {', '.join(choices)}")


def default_index_dir() -> Path:
    """The index folder from RAG_INDEX, else ./index."""
    return Path(os.environ.get("RAG_INDEX") or "index")


def default_cache_dir() -> Path:
    """Where Verbatim keeps derived model files: RAG_CACHE_DIR, else the user's cache folder."""
    if os.environ.get("RAG_CACHE_DIR"):
        return Path(os.environ["RAG_CACHE_DIR"])
    user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(user_cache) / "verbatim"


_NUMERIC_ENV: dict[str, tuple[str, type]] = {
    "RAG_PARSE_SECONDS": ("parse_seconds", float),
    "RAG_PARSE_MEMORY_MB": ("parse_memory_mb", int),
    "RAG_MAX_CHUNKS_PER_FILE": ("max_chunks_per_file", int),
    "RAG_THREADS": ("threads", int),
    "RAG_APPROXIMATE_ABOVE": ("approximate_above", int),
    "RAG_FEEDBACK_DAYS": ("feedback_days", int),
    "RAG_QUESTION_LOG_DAYS": ("question_log_days", int),
    "RAG_JOURNAL_DAYS": ("journal_days", float),
    "RAG_VECTOR_CACHE_DAYS": ("vector_cache_days", float),
    "RAG_VECTOR_CACHE_GB": ("vector_cache_gb", float),
    "RAG_REFUSAL_THRESHOLD": ("refusal_threshold", float),
    "RAG_REFUSAL_MIN_COVERAGE": ("refusal_min_coverage", float),
    "RAG_REFUSAL_SURE_SCORE": ("refusal_sure_score", float),
}
_OFF_WORDS = frozenset({"0", "false", "no", "off"})
_ON_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class OcrSettings:
    """How OCR runs: tesseract languages ("eng+deu"), the time allowed per page, the warning threshold."""

    languages: str = DEFAULT_OCR_LANGUAGES
    page_timeout_seconds: float = 60.0
    # Measured on degraded renders of a dense page: mean word confidence 81+ had 96%+ of the
    # words right, 65 had 88%, 60 had 60%; under 70 misreads stop being rare slips.
    min_confidence: float = 70.0

    def __post_init__(self) -> None:
        if not _OCR_LANGUAGES.match(self.languages):
            raise SettingsError(
                f"OCR languages {self.languages!r} are not like 'eng' or 'eng+deu'; fix RAG_OCR_LANGS"
            )


@dataclass(frozen=True)
class Settings:
    """Configuration of one knowledge base; the chunker and model are recorded in the index."""

    # None: the value recorded in an existing index, else the default below.
    embedding_model: str | None = None
    embedding_backend: str | None = None  # one of EMBEDDING_BACKENDS; None: onnx, else torch
    # Threads for embedding a batch (ingest); None: every core. A single query always uses one.
    threads: int | None = None
    chunk_size: int | None = None
    chunk_overlap: int | None = None
    top_k: int = 5
    candidates: int = 50
    retrieval_mode: RetrievalMode = "hybrid"
    rrf_k: int = 60
    # How hybrid retrieval fuses its two lists: "learned" (rag/search/fusion.py) or "rrf" (ranks only).
    fusion: Fusion = "learned"
    max_quotes: int = 3
    quote_margin: float = 0.12  # runner-up quotes score at most this much below the best one
    # When to refuse (rag/answer/refusal.py): below refusal_threshold; below refusal_sure_score,
    # also when the answer's passage holds less than refusal_min_coverage of the question's term
    # weight ("how many soldiers died" answered with a sentence about the invasion). None: the
    # values calibrated for the embedding model and the document's language by
    # `python -m eval.calibrate` (rag/answer/calibration.py, docs/evaluation.md).
    refusal_threshold: float | None = None
    refusal_min_coverage: float | None = None
    refusal_sure_score: float | None = None
    batch_size: int = 64
    max_file_bytes: int = 50 * 1024 * 1024
    # Per-file limits on turning a file into text and chunks (docs/reliability.md): a file over
    # them fails alone, with a message naming the limit, instead of stalling the whole ingest.
    parse_seconds: float = 300.0  # OCR of a long scan needs minutes; a hung parser is stopped
    parse_memory_mb: int = 2048
    max_chunks_per_file: int = 10_000
    # Exact search up to 50,000 chunks (one thread: 3.3 ms p50 at 50k, 13-30 ms at 100k on two
    # busy cores); above, IVF lists of 8-bit codes tuned to recall@10 >= 0.95 (docs/scale.md).
    approximate_above: int = 50_000
    # A PostgreSQL index's vector search (RAG_POSTGRES_VECTORS): "faiss" follows the database in
    # this process (an index of format 3 whose journal the role may read; else pgvector's HNSW):
    # at 100k chunks recall@10 0.969 at 0.31-0.36 ms where HNSW gave 0.92-0.96 at 3.3-3.4 ms (docs/scale.md).
    postgres_vectors: PostgresVectorSearch = "faiss"
    # A PostgreSQL index's change journal keeps journal_days of changes when `rag optimize` prunes
    # it: a follower further behind builds afresh. A machine's saved copies of followers go after
    # vector_cache_days unused, and the least recently used while all hold more than
    # vector_cache_gb. None: 7 days, 30 days, 8 GB (storage/database/journal.py, vector_cache.py).
    journal_days: float | None = None
    vector_cache_days: float | None = None
    vector_cache_gb: float | None = None
    answer_mode: AnswerMode = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_local_path: str = ""  # a GGUF file or model folder run in-process when no base URL is set
    llm_timeout: float = 60.0
    llm_max_tokens: int = 256
    support_threshold: float | None = None  # None: rag.verification.SUPPORT_THRESHOLD
    drop_unsupported: bool = False
    ocr_languages: str = DEFAULT_OCR_LANGUAGES  # tesseract language packs, "eng+deu"
    # A sentence-transformers CrossEncoder (name or folder) that reorders the best rerank_depth
    # fused passages before the answer step; "" (the default): none, since none ships offline.
    reranker: str = ""
    rerank_depth: int = 20
    # How long feedback on answers is kept: None for ever, 0 not at all (feedback is turned off).
    feedback_days: int | None = None
    # The question log (one row per question asked through the UI, API, MCP or CLI: the quality
    # dashboard's data): off with False (RAG_LOG_QUESTIONS=0); kept question_log_days days, or for ever.
    log_questions: bool = True
    question_log_days: int | None = None
    follow_links: bool = False  # ingest files that links in a folder point to outside it

    @property
    def ocr(self) -> OcrSettings:
        """How scanned pages and images are read."""
        return OcrSettings(self.ocr_languages)

    def __post_init__(self) -> None:
        if self.chunk_size is not None and self.chunk_size < 50:
            raise SettingsError("chunk_size must be at least 50 characters")
        size = self.chunk_size or DEFAULT_CHUNK_SIZE
        if self.chunk_overlap is not None and not 0 <= self.chunk_overlap < size:
            raise SettingsError("chunk_overlap must be >= 0 and smaller than chunk_size")
        if self.top_k < 1:
            raise SettingsError("top_k must be at least 1")
        if self.rerank_depth < 1:
            raise SettingsError("rerank_depth must be at least 1")
        if self.approximate_above < 0:
            raise SettingsError("approximate_above (RAG_APPROXIMATE_ABOVE) must be 0 or more chunks")
        choice(self.retrieval_mode, RETRIEVAL_MODES, "retrieval_mode")
        if self.parse_seconds <= 0 or self.parse_memory_mb < 64 or self.max_chunks_per_file < 1:
            raise SettingsError(
                "parse_seconds must be > 0, parse_memory_mb at least 64 and max_chunks_per_file at least 1"
            )
        choice(self.fusion, FUSIONS, "fusion (RAG_FUSION)")
        choice(self.postgres_vectors, POSTGRES_VECTOR_SEARCHES, "postgres_vectors (RAG_POSTGRES_VECTORS)")
        choice(self.answer_mode, ANSWER_MODES, "answer_mode")
        self.ocr  # noqa: B018 - validates ocr_languages now, not at the first scanned page
        if self.embedding_backend is not None and self.embedding_backend not in EMBEDDING_BACKENDS:
            raise SettingsError(f"embedding_backend must be one of {', '.join(EMBEDDING_BACKENDS)}")
        if self.feedback_days is not None and self.feedback_days < 0:
            raise SettingsError("feedback_days (RAG_FEEDBACK_DAYS) must be 0 (no feedback) or more days")
        if self.question_log_days is not None and self.question_log_days < 1:
            raise SettingsError(
                "question_log_days (RAG_QUESTION_LOG_DAYS) must be 1 or more days;"
                " turn the log off with RAG_LOG_QUESTIONS=0"
            )
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise SettingsError("threads (RAG_THREADS) must be a whole number of at least 1")
        self._check_refusal()
        for name in ("journal_days", "vector_cache_days", "vector_cache_gb"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise SettingsError(f"{name} (RAG_{name.upper()}) must be a number above 0, not {value}")

    def _check_refusal(self) -> None:
        for name in ("refusal_threshold", "refusal_sure_score"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise SettingsError(f"{name} (RAG_{name.upper()}) must be a score of 0 or more, not {value}")
        coverage = self.refusal_min_coverage
        if coverage is not None and not 0 <= coverage <= 1:
            raise SettingsError(
                f"refusal_min_coverage (RAG_REFUSAL_MIN_COVERAGE) must be a share from 0 to 1, not {coverage}"
            )

    def replace(self, **changes: object) -> Settings:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings with RAG_* environment variables applied, then the given overrides."""
        values: dict[str, object] = {}
        env_names = {
            "RAG_EMBEDDING_MODEL": "embedding_model",
            "RAG_EMBEDDING_BACKEND": "embedding_backend",
            "RAG_LLM_BASE_URL": "llm_base_url",
            "RAG_LLM_MODEL": "llm_model",
            "RAG_LLM_API_KEY": "llm_api_key",
            "RAG_LLM_LOCAL": "llm_local_path",
            "RAG_ANSWER_MODE": "answer_mode",
            "RAG_FUSION": "fusion",
            "RAG_POSTGRES_VECTORS": "postgres_vectors",
            "RAG_OCR_LANGS": "ocr_languages",
            "RAG_RERANKER": "reranker",
        }
        for env_name, field_name in env_names.items():
            if os.environ.get(env_name):
                values[field_name] = os.environ[env_name]
        for env_name, (field_name, kind) in _NUMERIC_ENV.items():
            if os.environ.get(env_name):
                try:
                    values[field_name] = kind(os.environ[env_name])
                except ValueError:
                    raise SettingsError(
                        f"{env_name} must be a number, not {os.environ[env_name]!r}"
                    ) from None
        logging = os.environ.get("RAG_LOG_QUESTIONS", "").strip().lower()
        if logging:
            if logging not in _OFF_WORDS | _ON_WORDS:
                raise SettingsError(f"RAG_LOG_QUESTIONS must be 1 or 0, not {logging!r}")
            values["log_questions"] = logging in _ON_WORDS
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
