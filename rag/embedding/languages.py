"""Which languages an embedding model was trained on, as its model card says."""

from __future__ import annotations

from functools import lru_cache

from rag.embedding.base import model_folder

ALL_LANGUAGES = frozenset({"*"})
# A model whose card names no language is taken to know English only, as most do.
ASSUMED_LANGUAGES = frozenset({"en"})


@lru_cache(maxsize=16)
def model_languages(name: str) -> frozenset[str]:
    """The languages the card of a model lists (ALL_LANGUAGES for 'multilingual'); English when unknown."""
    folder = model_folder(name)
    if folder is None:
        return ASSUMED_LANGUAGES
    try:
        card = (folder / "README.md").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ASSUMED_LANGUAGES
    return card_languages(card)


def card_languages(card: str) -> frozenset[str]:
    """The 'language:' entry of a model card's front matter (one code, a list, or 'multilingual')."""
    front = card.split("---", 2)[1] if card.startswith("---") and card.count("---") >= 2 else ""
    codes: list[str] = []
    reading = False
    for line in front.splitlines():
        key, _, value = line.partition(":")
        if reading and line.lstrip().startswith("- "):
            codes.append(line.lstrip()[2:].strip())
            continue
        reading = key.strip() == "language" and not line.startswith((" ", "-"))
        if reading and value.strip():
            codes.extend(code.strip(" '\"") for code in value.strip(" []").split(","))
    codes = [code.lower() for code in codes if code]
    if "multilingual" in codes:
        return ALL_LANGUAGES
    return frozenset(codes) or ASSUMED_LANGUAGES


def covers_language(embedder: object, language: str) -> bool:
    """Whether the embedder's model was trained on the language (an embedder says so via .languages)."""
    languages = getattr(embedder, "languages", None) or ASSUMED_LANGUAGES
    return "*" in languages or language in languages
