"""Verbatim: question answering over your own documents, with verbatim, verified quotes.

The public API is `__all__`: what a user of `import rag` needs (open an index, ingest, ask,
search, evaluate, and the types and errors they return). Names load on first use (PEP 562), so
`import rag` imports none of torch, faiss, transformers or the document parsers until needed.
ui/ and eval/ may also use the public faces of a few subpackages (`rag.serve`, `rag.ingest`,
...), each with its own `__all__`; tests/test_architecture.py lists them.
"""

from rag.exports import lazy_exports as _lazy_exports

__version__ = "0.1.0"

# public name -> the module that defines it ("module:attribute" when the public name differs).
_EXPORTS = {
    # Opening an index, and what it is configured with.
    "open": "rag.knowledge_base:open_index",
    "KnowledgeBase": "rag.knowledge_base",
    "Settings": "rag.settings",
    "DEFAULT_MODEL": "rag.settings",
    "RETRIEVAL_MODES": "rag.settings",
    "ANSWER_MODES": "rag.settings",
    "default_index_dir": "rag.settings",
    "SUPPORTED_SUFFIXES": "rag.ingest.formats",
    "check_index": "rag.storage.integrity",
    "IndexCheck": "rag.storage.integrity",
    "copy_index": "rag.storage.copying",
    "CopyReport": "rag.storage.copying",
    # Several indexes served as named collections (rag serve, the chat UI's collection picker).
    "Collections": "rag.serve.collections",
    "open_collections": "rag.serve.collections",
    # What ingest, search and ask take and return.
    "Answer": "rag.types",
    "AnswerPart": "rag.types",
    "Chunk": "rag.types",
    "Citation": "rag.types",
    "Document": "rag.types",
    "DocumentInfo": "rag.storage.records",
    "FileResult": "rag.types",
    "IngestProgress": "rag.types",
    "IngestReport": "rag.types",
    "Location": "rag.types",
    "Passage": "rag.types",
    "Quote": "rag.types",
    "SentenceSupport": "rag.types",
    "TextItem": "rag.types",
    # Asking any corpus (an index, selected collections, a store of your own) a question.
    "NOT_FOUND": "rag.answer.refusal",
    "refusal_rule": "rag.answer.calibration",
    "AskOptions": "rag.answer.question",
    "Corpus": "rag.answer.corpus",
    "QuestionError": "rag.answer.question",
    "answer_stream": "rag.answer.asking",
    "clean_question": "rag.answer.question",
    # Embedding models.
    "Embedder": "rag.embedding",
    "HashingEmbedder": "rag.embedding",
    "SentenceTransformerEmbedder": "rag.embedding",
    "make_embedder": "rag.embedding",
    # The bundled small language model (Settings(llm_local_path=...) takes its path).
    "find_bundled_llm": "rag.llm.local",
    # Feedback on answers (stored in the index; `rag eval --from-feedback` makes question sets of it).
    "Feedback": "rag.feedback",
    "FeedbackError": "rag.feedback",
    "CitedSpan": "rag.feedback",
    "SourcePassage": "rag.feedback",
    "feedback_on": "rag.feedback",
    # Evaluation (`rag eval` from Python).
    "evaluate": "rag.evaluation.runner",
    "EvalConfig": "rag.evaluation.runner",
    "EvalResult": "rag.evaluation.runner",
    "QuestionResult": "rag.evaluation.scoring",
    "format_eval_summary": "rag.evaluation.report",
    "write_eval_results": "rag.evaluation.report",
    "compare_eval_results": "rag.evaluation.report",
    # Errors: each says what to do.
    "RagError": "rag.errors",
    "DocumentError": "rag.errors",
    "IndexDamagedError": "rag.errors",
    "IndexLockedError": "rag.errors",
    "IndexMismatchError": "rag.errors",
    "IndexNotFoundError": "rag.errors",
    "ModelLoadError": "rag.errors",
    "NotFoundError": "rag.errors",
    "SettingsError": "rag.errors",
    "StorageError": "rag.errors",
    "StoragePermissionError": "rag.errors",
    "LLMError": "rag.llm.base",
    "LLMResponseError": "rag.llm.base",
    "LLMUnavailableError": "rag.llm.base",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
