"""Dutch."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="nl",
    name="Dutch",
    byline_starts=("Door",),
    name_joiners=frozenset({"van", "de", "der", "den", "en"}),
    company_abbreviations=frozenset({"n.v"}),
)
