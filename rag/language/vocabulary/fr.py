"""French."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="fr",
    name="French",
    who=("qui",),
    when=("quand",),
    which=("quel(?:le)?s?",),
    how=("comment",),
    wrote=("[ée]crit", "r[ée]dig[ée]"),
    author_nouns=("auteurs?",),
    author_of=("de", "du"),
    copulas=("est",),
    articles=("la", "l['’]"),
    appeared=("publi[ée]e?", "paru", "parue"),
    publishers=("journal",),
    title_words=("titre",),
    heading_words=("intertitres",),
    document_words=("texte",),
    comment_words=("commentaire(?:s)?", "comment[ée]", "post[ée]"),
    attribution=(r"qui\s+a\s+(dit|[ée]crit|affirm[ée])\s+(que|qu['’]|[\"“«'‘:])",),
    role_words=frozenset(
        """qui quand écrit rédigé auteur auteurs commentaire commentaires commenté posté publié publiée
        paru parue titre quel quelle""".split()
    ),
    asks_count=(r"\bcombien\b",),
    asks_year=(r"\bquand\b",),
    asks_person=(r"\bqui\b",),
    months=(
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    byline_starts=("Par", "PAR"),
    author_labels=("Auteurs?",),
    name_joiners=frozenset({"de", "du", "la", "le", "et"}),
    company_abbreviations=frozenset({"s.a"}),
)
