"""Verbatim: question answering over your own documents, with verbatim, verified quotes."""

from rag.answering import NOT_FOUND
from rag.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder
from rag.errors import (
    DocumentError,
    IndexLockedError,
    IndexMismatchError,
    ModelLoadError,
    NotFoundError,
    RagError,
    SettingsError,
)
from rag.eval_report import compare_eval_results, format_eval_summary, write_eval_results
from rag.eval_runner import evaluate
from rag.ingest import IngestProgress, TextItem
from rag.knowledge_base import KnowledgeBase, open_index
from rag.llm_answering import chat_model_for
from rag.llm_client import ChatModel, LLMError, LLMResponseError, LLMUnavailableError, OpenAIChatClient
from rag.loaders import SUPPORTED_SUFFIXES, check_content_matches_type
from rag.local_llm import LocalChatModel, find_bundled_llm, load_local_model
from rag.models import (
    Answer,
    Chunk,
    Citation,
    Document,
    FileResult,
    IngestReport,
    Passage,
    Quote,
    SentenceSupport,
)
from rag.rewrite import rewrite_follow_up
from rag.settings import DEFAULT_MODEL, Settings, default_index_dir
from rag.store import DocumentInfo
from rag.vectors import build_index as build_vector_index

open = open_index  # noqa: A001 - `rag.open(path)` is the documented entry point

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "NOT_FOUND",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "ChatModel",
    "Chunk",
    "Citation",
    "Document",
    "DocumentError",
    "DocumentInfo",
    "Embedder",
    "FileResult",
    "HashingEmbedder",
    "IndexLockedError",
    "IndexMismatchError",
    "IngestProgress",
    "IngestReport",
    "KnowledgeBase",
    "LLMError",
    "LLMResponseError",
    "LLMUnavailableError",
    "LocalChatModel",
    "ModelLoadError",
    "NotFoundError",
    "OpenAIChatClient",
    "Passage",
    "Quote",
    "RagError",
    "SentenceSupport",
    "SentenceTransformerEmbedder",
    "Settings",
    "SettingsError",
    "TextItem",
    "build_vector_index",
    "chat_model_for",
    "check_content_matches_type",
    "compare_eval_results",
    "default_index_dir",
    "evaluate",
    "find_bundled_llm",
    "format_eval_summary",
    "load_local_model",
    "make_embedder",
    "open",
    "open_index",
    "rewrite_follow_up",
    "write_eval_results",
]
