"""Embedders: the Embedder protocol, the ONNX Runtime and torch backends, and a hashing fake for tests.

Modules: `base` (the protocol, where models live), `factory` (make_embedder: which backend),
`onnx` (ONNX Runtime sessions), `export` (the one-time int8 export and its cache), `layout`
(what a model folder holds), `sentence_transformer` (the torch backend), `languages` (which
languages a model's card names), `reuse` (vectors computed once), `hashing` (the test fake).
"""

from rag.embedding.base import Embedder, bundled_model_path
from rag.embedding.factory import make_embedder
from rag.embedding.hashing import HashingEmbedder
from rag.embedding.languages import ALL_LANGUAGES, card_languages, covers_language
from rag.embedding.sentence_transformer import SentenceTransformerEmbedder

__all__ = [
    "ALL_LANGUAGES",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "card_languages",
    "covers_language",
    "make_embedder",
]
