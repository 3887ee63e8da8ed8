"""Verbatim: question answering over your own documents, with verbatim, verified quotes.

The public API is `__all__`. Names load on first use (PEP 562), so `import rag` stays light:
it imports none of torch, faiss, transformers or the document parsers until they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answer.extractive import NOT_FOUND
    from rag.display import IngestProgressBar, format_bytes
    from rag.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder
    from rag.errors import (
        DocumentError,
        IndexDamagedError,
        IndexLockedError,
        IndexMismatchError,
        IndexNotFoundError,
        ModelLoadError,
        NotFoundError,
        RagError,
        SettingsError,
        StorageError,
    )
    from rag.evaluation.datasets import beir_items as read_beir_corpus
    from rag.evaluation.datasets import load_beir_queries as read_beir_queries
    from rag.evaluation.datasets import open_corpus_index
    from rag.evaluation.metrics import answer_contains, refusal_scores
    from rag.evaluation.report import compare_eval_results, format_eval_summary, write_eval_results
    from rag.evaluation.runner import EvalConfig, EvalResult, evaluate
    from rag.evaluation.scoring import CitationResult, QuestionResult, retrieval_metrics
    from rag.ingest.loaders import SUPPORTED_SUFFIXES, check_content_matches_type, load_bytes
    from rag.ingest.sandbox import ParseLimits
    from rag.ingest.uploads import (
        DEFAULT_MAX_UPLOAD_MB,
        MAX_FILES_PER_UPLOAD,
        UPLOADS_FOLDER,
        check_upload,
        keep_uploads,
        safe_file_name,
        store_upload,
    )
    from rag.knowledge_base import KnowledgeBase, open_index
    from rag.knowledge_base import open_index as open  # noqa: A004
    from rag.llm.base import ChatModel, LLMError, LLMResponseError, LLMUnavailableError
    from rag.llm.client import OpenAIChatClient
    from rag.llm.factory import chat_model_for
    from rag.llm.local import LocalChatModel, find_bundled_llm, load_local_model
    from rag.search.fusion import FEATURE_NAMES as FUSION_FEATURES
    from rag.search.fusion import fusion_features, learned_scores
    from rag.search.rewrite import rewrite_follow_up
    from rag.serve.collections import Collections, open_collections
    from rag.serve.limits import Limits as ServeLimits
    from rag.serve.server import RunningServer
    from rag.serve.service import ServeConfig
    from rag.settings import DEFAULT_MODEL, Settings, default_index_dir
    from rag.storage.integrity import IndexCheck, check_index
    from rag.storage.store import DocumentInfo
    from rag.storage.vectors.build import BuildInfo as VectorIndexInfo
    from rag.storage.vectors.build import BuiltIndex as BuiltVectorIndex
    from rag.storage.vectors.build import build_vector_index
    from rag.types import (
        Answer,
        Chunk,
        Citation,
        Document,
        FileResult,
        IngestProgress,
        IngestReport,
        Location,
        Passage,
        Quote,
        SentenceSupport,
        TextItem,
    )

__version__ = "0.1.0"

# name -> (module, attribute): where each public name lives.
_EXPORTS: dict[str, tuple[str, str]] = {
    "DEFAULT_MODEL": ("rag.settings", "DEFAULT_MODEL"),
    "NOT_FOUND": ("rag.answer.extractive", "NOT_FOUND"),
    "SUPPORTED_SUFFIXES": ("rag.ingest.loaders", "SUPPORTED_SUFFIXES"),
    "Answer": ("rag.types", "Answer"),
    "ChatModel": ("rag.llm.base", "ChatModel"),
    "Chunk": ("rag.types", "Chunk"),
    "Citation": ("rag.types", "Citation"),
    "Document": ("rag.types", "Document"),
    "DocumentError": ("rag.errors", "DocumentError"),
    "DocumentInfo": ("rag.storage.store", "DocumentInfo"),
    "Embedder": ("rag.embedding", "Embedder"),
    "EvalConfig": ("rag.evaluation.runner", "EvalConfig"),
    "answer_contains": ("rag.evaluation.metrics", "answer_contains"),
    "refusal_scores": ("rag.evaluation.metrics", "refusal_scores"),
    "CitationResult": ("rag.evaluation.scoring", "CitationResult"),
    "QuestionResult": ("rag.evaluation.scoring", "QuestionResult"),
    "EvalResult": ("rag.evaluation.runner", "EvalResult"),
    "FileResult": ("rag.types", "FileResult"),
    "HashingEmbedder": ("rag.embedding", "HashingEmbedder"),
    "IndexDamagedError": ("rag.errors", "IndexDamagedError"),
    "IndexLockedError": ("rag.errors", "IndexLockedError"),
    "IndexNotFoundError": ("rag.errors", "IndexNotFoundError"),
    "IndexMismatchError": ("rag.errors", "IndexMismatchError"),
    "IndexCheck": ("rag.storage.integrity", "IndexCheck"),
    "IngestProgress": ("rag.types", "IngestProgress"),
    "IngestProgressBar": ("rag.display", "IngestProgressBar"),
    "IngestReport": ("rag.types", "IngestReport"),
    "KnowledgeBase": ("rag.knowledge_base", "KnowledgeBase"),
    "LLMError": ("rag.llm.base", "LLMError"),
    "LLMResponseError": ("rag.llm.base", "LLMResponseError"),
    "LLMUnavailableError": ("rag.llm.base", "LLMUnavailableError"),
    "LocalChatModel": ("rag.llm.local", "LocalChatModel"),
    "Location": ("rag.types", "Location"),
    "ModelLoadError": ("rag.errors", "ModelLoadError"),
    "NotFoundError": ("rag.errors", "NotFoundError"),
    "OpenAIChatClient": ("rag.llm.client", "OpenAIChatClient"),
    "ParseLimits": ("rag.ingest.sandbox", "ParseLimits"),
    "Passage": ("rag.types", "Passage"),
    "Quote": ("rag.types", "Quote"),
    "RagError": ("rag.errors", "RagError"),
    "SentenceSupport": ("rag.types", "SentenceSupport"),
    "SentenceTransformerEmbedder": ("rag.embedding", "SentenceTransformerEmbedder"),
    "Settings": ("rag.settings", "Settings"),
    "SettingsError": ("rag.errors", "SettingsError"),
    "StorageError": ("rag.errors", "StorageError"),
    "TextItem": ("rag.types", "TextItem"),
    "build_vector_index": ("rag.storage.vectors.build", "build_vector_index"),
    "BuiltVectorIndex": ("rag.storage.vectors.build", "BuiltIndex"),
    "VectorIndexInfo": ("rag.storage.vectors.build", "BuildInfo"),
    "chat_model_for": ("rag.llm.factory", "chat_model_for"),
    "check_index": ("rag.storage.integrity", "check_index"),
    "check_content_matches_type": ("rag.ingest.loaders", "check_content_matches_type"),
    "compare_eval_results": ("rag.evaluation.report", "compare_eval_results"),
    "default_index_dir": ("rag.settings", "default_index_dir"),
    "evaluate": ("rag.evaluation.runner", "evaluate"),
    "find_bundled_llm": ("rag.llm.local", "find_bundled_llm"),
    "format_bytes": ("rag.display", "format_bytes"),
    "format_eval_summary": ("rag.evaluation.report", "format_eval_summary"),
    "load_bytes": ("rag.ingest.loaders", "load_bytes"),
    "load_local_model": ("rag.llm.local", "load_local_model"),
    "make_embedder": ("rag.embedding", "make_embedder"),
    "open": ("rag.knowledge_base", "open_index"),
    "open_index": ("rag.knowledge_base", "open_index"),
    "read_beir_corpus": ("rag.evaluation.datasets", "beir_items"),
    "rewrite_follow_up": ("rag.search.rewrite", "rewrite_follow_up"),
    "write_eval_results": ("rag.evaluation.report", "write_eval_results"),
    "DEFAULT_MAX_UPLOAD_MB": ("rag.ingest.uploads", "DEFAULT_MAX_UPLOAD_MB"),
    "MAX_FILES_PER_UPLOAD": ("rag.ingest.uploads", "MAX_FILES_PER_UPLOAD"),
    "UPLOADS_FOLDER": ("rag.ingest.uploads", "UPLOADS_FOLDER"),
    "check_upload": ("rag.ingest.uploads", "check_upload"),
    "keep_uploads": ("rag.ingest.uploads", "keep_uploads"),
    "safe_file_name": ("rag.ingest.uploads", "safe_file_name"),
    "store_upload": ("rag.ingest.uploads", "store_upload"),
    "Collections": ("rag.serve.collections", "Collections"),
    "open_collections": ("rag.serve.collections", "open_collections"),
    "ServeConfig": ("rag.serve.service", "ServeConfig"),
    "ServeLimits": ("rag.serve.limits", "Limits"),
    "RunningServer": ("rag.serve.server", "RunningServer"),
    "read_beir_queries": ("rag.evaluation.datasets", "load_beir_queries"),
    "open_corpus_index": ("rag.evaluation.datasets", "open_corpus_index"),
    "retrieval_metrics": ("rag.evaluation.scoring", "retrieval_metrics"),
    "FUSION_FEATURES": ("rag.search.fusion", "FEATURE_NAMES"),
    "fusion_features": ("rag.search.fusion", "fusion_features"),
    "learned_scores": ("rag.search.fusion", "learned_scores"),
}

__all__ = [
    "DEFAULT_MAX_UPLOAD_MB",
    "DEFAULT_MODEL",
    "FUSION_FEATURES",
    "MAX_FILES_PER_UPLOAD",
    "NOT_FOUND",
    "SUPPORTED_SUFFIXES",
    "UPLOADS_FOLDER",
    "Answer",
    "BuiltVectorIndex",
    "ChatModel",
    "Chunk",
    "Citation",
    "CitationResult",
    "Collections",
    "Document",
    "DocumentError",
    "DocumentInfo",
    "Embedder",
    "EvalConfig",
    "EvalResult",
    "FileResult",
    "HashingEmbedder",
    "IndexCheck",
    "IndexDamagedError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IngestProgress",
    "IngestProgressBar",
    "IngestReport",
    "KnowledgeBase",
    "LLMError",
    "LLMResponseError",
    "LLMUnavailableError",
    "LocalChatModel",
    "Location",
    "ModelLoadError",
    "NotFoundError",
    "OpenAIChatClient",
    "ParseLimits",
    "Passage",
    "QuestionResult",
    "Quote",
    "RagError",
    "RunningServer",
    "SentenceSupport",
    "SentenceTransformerEmbedder",
    "ServeConfig",
    "ServeLimits",
    "Settings",
    "SettingsError",
    "StorageError",
    "TextItem",
    "VectorIndexInfo",
    "answer_contains",
    "build_vector_index",
    "chat_model_for",
    "check_content_matches_type",
    "check_index",
    "check_upload",
    "compare_eval_results",
    "default_index_dir",
    "evaluate",
    "find_bundled_llm",
    "format_bytes",
    "format_eval_summary",
    "fusion_features",
    "keep_uploads",
    "learned_scores",
    "load_bytes",
    "load_local_model",
    "make_embedder",
    "open",
    "open_collections",
    "open_corpus_index",
    "open_index",
    "read_beir_corpus",
    "read_beir_queries",
    "refusal_scores",
    "retrieval_metrics",
    "rewrite_follow_up",
    "safe_file_name",
    "store_upload",
    "write_eval_results",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines a public name the first time it is asked for."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'rag' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
