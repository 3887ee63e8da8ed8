"""Italian."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="it",
    name="Italian",
    who=("chi",),
    when=("quando",),
    which=("quale",),
    how=("come",),
    wrote=("scritto",),
    author_nouns=("autore", "autori"),
    author_of=("di",),
    copulas=("[èe]",),
    articles=("il", "la"),
    appeared=("pubblicat[oa]",),
    publishers=("giornale", "rivista"),
    title_words=("titolo",),
    heading_words=("sottotitoli",),
    document_words=("articolo", "testo"),
    comment_words=("commento", "commenti", "commentato"),
    role_words=frozenset(
        "chi quando scritto autore articolo commento pubblicato pubblicata titolo giornale rivista".split()
    ),
    asks_count=(r"\bquant[oa]s?\b",),
    months=(
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    byline_starts=("Di",),
    author_labels=("Autore", "Autori"),
    name_joiners=frozenset({"di", "da", "del", "la", "e", "i"}),
)
