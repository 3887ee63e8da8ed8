"""English."""

from rag.language.vocabulary import Vocabulary
from rag.terms import STOPWORDS

VOCABULARY = Vocabulary(
    code="en",
    name="English",
    who=("who",),
    when=(r"when", r"what\s+(?:(?:is|was)\s+the\s+)?(?:date|day|time)", r"which\s+(?:date|day)"),
    which=("which", "what"),
    wrote=("wrote", "write", "writes", "written", "authored", "penned", "reported", "byline"),
    author_nouns=("authors?", "writers?", "reporters?"),
    author_of=("of", "for", "behind"),
    copulas=("is", "are", "was", "were"),
    articles=("the",),
    appeared=(
        "published",
        "written",
        "wrote",
        "dated",
        "released",
        "appeared",
        "issued",
        "updated",
        "printed",
    ),
    publishes=("published", "publishes", "printed", "prints", "ran", "runs", "carried", "carries"),
    publishers=(
        "newspaper",
        "publication",
        "outlet",
        "magazine",
        "journal",
        "site",
        "website",
        "publisher",
        r"news\s+(?:site|outlet|agency)",
    ),
    title_words=("title",),
    headline_words=("headline",),
    document_words=tuple(
        """article story piece post page document report essay blog chapter column paper text notes?
        memo analysis commentary editorial op-ed brief briefing study book letter newsletter guide
        manual review release e-?mail thread file""".split()
    ),
    comment_words=(
        "comment(?:s|ed|er)?",
        "post(?:s|ed|er)?",
        "repl(?:y|ied|ies)",
        "respon(?:se|ded)",
        "forum",
    ),
    attribution=(
        r"who\s+(said|says|wrote|writes|argued|argues|claimed|claims|stated|states|suggested|suggests"
        r"|noted|notes|commented|insisted|insists|warned|warns|believes|thinks|thought)\s+(that\b|[\"“'‘:])",
    ),
    role_words=frozenset(
        """who whom whose when date day time wrote write writes written author authors authored writer
        writers penned reported reporter reporters byline article articles story piece report post posts
        posted poster comment comments commented commenter reply replied response published dated
        released appeared issued updated printed title headline document page blog forum what which
        newspaper paper publication outlet magazine journal site website news run ran carried publisher
        publishes prints runs carries organization organisation company agency heading headings section
        sections subheadings list name names person persons people user users someone individual identity
        left leave leaves made make makes appear appears analysis commentary editorial study book""".split()
    ),
    short_months=(
        "Jan(?:uary)?",
        "Feb(?:ruary)?",
        "Mar(?:ch)?",
        "Apr(?:il)?",
        "May",
        "June?",
        "July?",
        "Aug(?:ust)?",
        "Sep(?:t(?:ember)?)?",
        "Oct(?:ober)?",
        "Nov(?:ember)?",
        "Dec(?:ember)?",
    ),
    weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    byline_starts=(r"(?:Written|Posted|Reported)\s+by", "By", "BY"),
    author_labels=("Authors?", "Written by", "Posted by", "Reporter", "Byline"),
    byline_roles=("Staff", "Correspondent", "Reporter", "Editor"),
    name_joiners=frozenset({"and", "&"}),
    company_abbreviations=frozenset({"llc", "inc", "ltd", "co", "corp", "plc", "l.l.c"}),
    abbreviations=frozenset(
        """mr mrs ms dr prof sr jr st vs etc e.g i.e no fig jan feb mar apr jun jul aug sep sept oct
        nov dec gen col lt sgt rep sen gov inc ltd co corp approx dept est al u.s u.k""".split()
    ),
    # The short list English search and scoring were calibrated with, not stopwords-iso's.
    stop_words=STOPWORDS,
)
