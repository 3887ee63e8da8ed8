"""Spanish."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="es",
    name="Spanish",
    who=("qui[eé]n(?:es)?",),
    when=("cu[aá]ndo",),
    which=("qu[eé]", "cu[aá]l(?:es)?"),
    how=("c[oó]mo",),
    wrote=("escribi[oó]", "escrito", "redact[oó]"),
    author_nouns=("autor(?:in|en|a|es)?",),
    author_of=("del", "de"),
    copulas=("es", "fue"),
    articles=("el", "la"),
    appeared=("publicad[oa]", "public[oó]"),
    publishers=("peri[oó]dico", "diario", "revista"),
    title_words=("t[ií]tulo",),
    headline_words=("titular",),
    heading_words=("encabezados",),
    document_words=("art[ií]culo", "nota", "reportaje", "texto", "documento"),
    comment_words=("comentario(?:s)?", "coment[oó]"),
    attribution=(r"¿?\s*qui[eé]n\s+(dijo|escribi[oó]|afirm[oó]|opin[oó])\s+(que\b|[\"“«'‘:])",),
    role_words=frozenset(
        """quién quiénes cuándo escribió escrito redactó autora artículo comentario comentarios comentó
        publicó publicado publicada título titular periódico diario revista encabezados qué""".split()
    ),
    asks_count=(r"\bcu[aá]nt[oa]s?\b",),
    asks_year=(r"\bcu[aá]ndo\b", r"\b(en )?qu[eé] a[nñ]o\b"),
    asks_person=(r"\bqui[eé]n(es)?\b",),
    months=(
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "setiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    byline_starts=("Por", "POR"),
    name_joiners=frozenset({"de", "del", "la", "y"}),
    company_abbreviations=frozenset({"s.a"}),
)
