"""Search: the Retriever protocol, hybrid dense + lexical retrieval, follow-up rewriting.

`__all__` is its public face, which ui/ and eval/ may import: the learned fusion's features and
scores, which eval/fit_fusion.py fits.
"""

from rag.exports import lazy_exports as _lazy_exports

_EXPORTS = {
    "FUSION_FEATURES": "rag.search.fusion:FEATURE_NAMES",
    "fusion_features": "rag.search.fusion",
    "learned_scores": "rag.search.fusion",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
