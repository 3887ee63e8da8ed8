"""German."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="de",
    name="German",
    who=("wer",),
    when=("wann", r"an\s+welchem\s+tag"),
    which=("welche[rsnm]?",),
    how=("wie",),
    wrote=("geschrieben", "verfasst", "schrieb"),
    author_nouns=("autor(?:in|en|a|es)?", "verfasser(?:in)?"),
    author_of=("des", "der"),
    copulas=("ist", "war"),
    articles=("der", "die"),
    appeared=("ver[öo]ffentlicht", "erschienen"),
    publishers=("zeitung", "zeitschrift", "webseite"),
    title_words=("titel",),
    headline_words=("[üu]berschrift",),
    heading_words=("[üu]berschriften", "zwischen[üu]berschriften"),
    document_words=("artikel", "beitrag", "bericht", "dokument"),
    comment_words=("kommentar(?:e|s)?", "kommentiert", "gepostet", "beitrag"),
    attribution=(r"wer\s+(sagte|sagt|schrieb|meinte|behauptete)\s*,?\s+(dass|[\"„“'‚:])",),
    role_words=frozenset(
        """wer wann geschrieben verfasst schrieb autor autorin verfasser artikel bericht beitrag kommentar
        kommentare kommentiert gepostet veröffentlicht erschienen titel überschrift überschriften zeitung
        zeitschrift webseite welche welcher welches""".split()
    ),
    asks_count=(r"\bwie (viele|viel|hoch|lange|alt|groß|gross|weit|oft)\b",),
    asks_year=(r"\bwann\b", r"\b(in )?welche[mns]? jahr"),
    # April, August, September and November are written as in English.
    months=("Januar", "Jänner", "Februar", "März", "Mai", "Juni", "Juli", "Oktober", "Dezember"),
    byline_starts=("Von", "VON"),
    author_labels=("Autor(?:in|en|a|es)?", "Verfasser(?:in)?"),
    name_joiners=frozenset({"von", "der", "den", "und"}),
)
