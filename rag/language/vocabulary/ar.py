"""Arabic."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="ar",
    name="Arabic",
    has_capitals=False,
    asks_commenter=(r"من (?:علق|كتب التعليق|نشر التعليق|صاحب التعليق)", r"صاحب التعليق"),
    asks_author=(
        r"من كتب",
        r"من (?:هو|هي) (?:كاتب|كاتبة|مؤلف)",
        r"(?:كاتب|كاتبة|مؤلف) (?:المقال|المقالة|التقرير|الخبر)",
    ),
    asks_comment_date=(r"متى .{0,30}التعليق",),
    asks_published=(r"متى (?:نشر|نُشر|نشرت|نُشرت|صدر|صدرت)", r"تاريخ (?:نشر|النشر|صدور)"),
    asks_publication=(r"(?:أي|أية|ما) (?:صحيفة|جريدة|موقع|مجلة|وكالة)",),
    asks_title=(r"عنوان (?:المقال|المقالة|التقرير|الخبر)",),
    phrase_role_words=tuple(
        """من كتب كاتب كاتبة مؤلف المقال المقالة التقرير الخبر التعليق علق صاحب متى نشر نُشر نشرت نُشرت صدر
        صدرت تاريخ النشر أي أية ما صحيفة جريدة موقع مجلة عنوان هو هي عن""".split()
    ),
    asks_count=(r"(?<!\w)كم(?!\w)",),
    asks_year=("متى", r"(?<!\w)أي (عام|سنة)"),
    # Egyptian and Levantine names: "9 نوفمبر 2018", "9 تشرين الثاني 2018".
    months=(
        *"يناير فبراير مارس أبريل إبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر".split(),
        *"كانون الثاني|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين الأول|تشرين الثاني|كانون الأول".split(
            "|"
        ),
    ),
    labelled_bylines=(r"(?:بقلم|كتب|الكاتب|الكاتبة|المؤلف)\s*:?\s+",),
    name_joiners=frozenset({"al", "bin"}),  # in names written in Latin letters: "Mohammed bin Salman"
    phrase_name_joiners=("و",),
)
