"""Russian."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="ru",
    name="Russian",
    who=("кто",),
    when=("когда",),
    which=("какая", "какое", "какой", r"в\s+какой"),
    how=("как",),
    wrote=(r"написал\w*", r"автор\w*"),
    appeared=(r"опубликован\w*", "вышл[аи]", "вышел"),
    publishers=(r"газет\w*", r"издани\w*", r"журнал\w*"),
    headline_words=(r"заголов\w*",),
    heading_words=(r"подзаголов\w*",),
    document_words=(r"стать\w*", r"текст\w*", r"документ\w*", r"материал\w*"),
    comment_words=(r"комментари\w*", r"прокомментировал\w*"),
    role_words=frozenset(
        """кто когда написал написала автор статья статью статьи комментарий опубликована опубликован
        заголовок название газета""".split()
    ),
    asks_count=(r"\bсколько\b",),
    asks_year=(r"\bкогда\b", r"\b(в )?как(ом|ой) год"),
    asks_person=(r"\bкто\b", r"\bкого\b", r"\bкому\b"),
    # In the genitive, as a date writes them: "9 ноября 2018".
    months=(
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    author_labels=("Автор(?:ы)?",),
    name_joiners=frozenset({"и"}),
)
