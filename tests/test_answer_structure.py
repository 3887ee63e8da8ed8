"""Structure questions ("who wrote", "when was it posted") answered by quoting bylines and datelines."""

from __future__ import annotations

import pytest

import rag
from rag.answer.structure_questions import asked_structure

ARTICLE = """Rivers Rise Across the Valley

By Jane Doe and Omar Al-Farsi – Valley Gazette
March 3, 2021 | 08:15 GMT

The amber river rose by two metres after 40 days of rain. Farmers moved their herds to the hills.

Ann K.
Tue, 03/09/2021 - 10:02am

Great reporting on the amber river and the farmers.

Lee Wong
Wed, 03/10/2021 - 11:45pm

The cedar bridge closed for 17 days, which nobody here mentioned.
"""
SITE_PAGE = """Bridge Watch Forum

Storms Leave the Cedar Bridge Closed for Weeks. By Mia Chen – Valley Courier

The cedar bridge stayed shut while engineers checked its piers after the storm.
"""
REPORT = """Harbour Report

Why It Matters

The harbour dredging doubled the number of ships that can dock each week.

What Happened

Dredging began in May and ended in September, two months late.

Copyright © 2021 Harbour Analytics, Inc. All rights reserved.
"""
OTHER = "Baking Notes\n\nBy Carla Reyes\n\nSourdough needs a starter, flour, water and salt. It rises overnight.\n"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who wrote the article about the amber river?", "byline"),
        ("Who is the author of the flood report?", "byline"),
        ("Who posted the comment about the cedar bridge?", "author"),
        ("Who commented on the article?", "author"),
        ("When was the comment about the bridge posted?", "posted"),
        ("When was the article published?", "published"),
        ("What is the headline of the article?", "headline"),
        ("What is the title?", "headline"),
        ("What is the title of the report on the flood?", "headline"),
        ("Which newspaper published the flood report?", "publication"),
        ("The article was printed in which paper?", "publication"),
        ("Which organization published the flood report?", "publication"),
        ("What is the name of the website that published it?", "publication"),
        ("What are the section headings of the article?", "heading"),
        ("What are the sections of the harbour report?", "heading"),
        ("What is the name of the person who left the comment?", "author"),
        ("What is the name of the commenter?", "author"),
        ("Which user posted the comment about the bridge?", "author"),
        ("What is the author's name?", "byline"),
        ("What is the name of the author of the flood report?", "byline"),
        ("What is the date of the comment?", "posted"),
        ("What is the publication date of the flood report?", "published"),
    ],
)
def test_structure_questions_are_recognised(question: str, kind: str) -> None:
    asked = asked_structure(question)
    assert asked is not None and asked.kinds[0] == kind


@pytest.mark.parametrize(
    "question",
    [
        "Who wrote the Washington Post article about Kabul?",  # a newspaper, not a post: byline
        "How many days did the bridge close?",
        "Who moved their herds to the hills?",
        "What is the name of the river that rose?",  # a name, but no comment
        "What day did the bridge close?",
    ],
)
def test_other_questions_are_not_comment_questions(question: str) -> None:
    asked = asked_structure(question)
    assert asked is None or asked.kinds[0] != "author"


@pytest.mark.parametrize(
    "question",
    [
        "What company was tasked with restoring the tapes?",  # a company, but nothing published
        "What paper did Hutton publish in 1795?",  # a paper he wrote, not a newspaper
        "Who said that the cedar bridge closed?",  # who said a sentence, not who wrote the page
        "What do sections 3 and 4 of the act require?",  # sections of a text, not its headings
        "Under what title is the hymn known in English?",  # the hymn's name, not a document title
        "Unter welchem Titel ist die Hymne auf Englisch bekannt?",
        "Как называется этот гимн в переводе с английского языка?",
    ],
)
def test_questions_that_are_not_about_publication_or_byline(question: str) -> None:
    assert asked_structure(question) is None


@pytest.fixture
def articles(fake_base: rag.KnowledgeBase) -> rag.KnowledgeBase:
    fake_base.add_texts(
        [
            rag.TextItem("gazette.txt", ARTICLE),
            rag.TextItem("baking.txt", OTHER),
            rag.TextItem("forum.txt", SITE_PAGE),
            rag.TextItem("harbour.txt", REPORT),
        ]
    )
    return fake_base


def first_quote(base: rag.KnowledgeBase, question: str) -> str:
    answer = base.ask(question)
    assert answer.answered, question
    citation = answer.citations[0]
    document = base.document(citation.quote.document_id)
    assert document.text[citation.quote.start : citation.quote.end] == citation.quote.text
    return citation.quote.text


def test_who_wrote_quotes_the_byline_of_the_document_about_the_topic(articles: rag.KnowledgeBase) -> None:
    assert first_quote(articles, "Who wrote the article about the amber river flood?") == (
        "By Jane Doe and Omar Al-Farsi – Valley Gazette"
    )
    assert first_quote(articles, "Who wrote the notes about sourdough starter?") == "By Carla Reyes"


def test_who_posted_picks_the_author_whose_comment_matches(articles: rag.KnowledgeBase) -> None:
    assert first_quote(articles, "Who posted the comment about the cedar bridge closing?") == "Lee Wong"
    assert first_quote(articles, "Who commented on the reporting about the amber river?") == "Ann K."


def test_when_posted_and_when_published_quote_the_right_date(articles: rag.KnowledgeBase) -> None:
    assert (
        first_quote(articles, "When was the comment about the cedar bridge posted?")
        == "Wed, 03/10/2021 - 11:45pm"
    )
    assert (
        first_quote(articles, "When was the amber river flood article published?")
        == "March 3, 2021 | 08:15 GMT"
    )


def test_a_structure_question_about_an_absent_topic_gets_no_byline(articles: rag.KnowledgeBase) -> None:
    answer = articles.ask("Who wrote the article about volcano eruptions in Iceland?")
    assert all(not citation.quote.text.startswith("By ") for citation in answer.citations)


def test_a_title_is_never_quoted_as_an_answer_sentence(articles: rag.KnowledgeBase) -> None:
    answer = articles.ask("Did rivers rise across the valley?")
    assert all(citation.quote.text != "Rivers Rise Across the Valley" for citation in answer.citations)


def test_which_newspaper_quotes_the_publication_the_byline_names(articles: rag.KnowledgeBase) -> None:
    assert first_quote(articles, "Which newspaper published the story about the cedar bridge piers?") == (
        "Valley Courier"
    )
    # A byline that names no publication answers no publication question.
    answer = articles.ask("Which newspaper published the notes about sourdough starter?")
    assert all(citation.quote.text != "By Carla Reyes" for citation in answer.citations)


def test_the_title_of_a_page_is_the_headline_its_byline_follows(articles: rag.KnowledgeBase) -> None:
    # The page's first line names the site; the article's own title is the headline before "By".
    assert first_quote(articles, "What is the title of the piece about the cedar bridge piers?") == (
        "Storms Leave the Cedar Bridge Closed for Weeks."
    )
    assert first_quote(articles, "What is the title of the notes about sourdough starter?") == "Baking Notes"


def test_which_organization_published_quotes_the_copyright_holder(articles: rag.KnowledgeBase) -> None:
    assert first_quote(articles, "Which organization published the report on harbour dredging?") == (
        "Harbour Analytics, Inc."
    )


def test_what_are_the_headings_quotes_every_heading_of_the_document(articles: rag.KnowledgeBase) -> None:
    answer = articles.ask("What are the section headings of the harbour dredging report?")
    assert [citation.quote.text for citation in answer.citations] == ["Why It Matters", "What Happened"]


def test_who_said_quotes_the_commenter_then_what_they_said(articles: rag.KnowledgeBase) -> None:
    answer = articles.ask("Who said that the cedar bridge closed for 17 days?")
    assert [citation.quote.text for citation in answer.citations] == [
        "Lee Wong",
        "The cedar bridge closed for 17 days, which nobody here mentioned.",
    ]
    # A sentence of the article itself has no author line above it: the byline is not its speaker.
    answer = articles.ask("Who said that the amber river rose by two metres after the rain?")
    assert answer.answered
    assert all(not citation.quote.text.startswith("By ") for citation in answer.citations)
    assert "amber river rose by two metres" in answer.citations[0].quote.text


ARTICLES_IN_OTHER_LANGUAGES = [
    rag.TextItem(
        "brücke.txt",
        "Die Brücke bleibt gesperrt\n\nVon Anna Schmidt und Jonas Weber – Berliner Zeitung\n"
        "9. November 2018 | 21:13\n\nDie alte Brücke über den Fluss bleibt nach dem Hochwasser "
        "gesperrt. Die Ingenieure prüfen jetzt alle Pfeiler, bevor wieder Autos fahren dürfen.\n",
    ),
    rag.TextItem(
        "puente.txt",
        "El puente sigue cerrado\n\nPor María López y Juan Pérez – El Diario del Valle\n"
        "12 de marzo de 2021\n\nEl viejo puente sobre el río sigue cerrado después de la "
        "inundación. Los ingenieros revisan todos los pilares antes de abrirlo otra vez.\n",
    ),
    rag.TextItem(
        "pont.txt",
        "Le pont reste fermé\n\nPar Jean Dupont – Le Courrier\n3 avril 2020\n\nLe vieux pont sur "
        "la rivière reste fermé après la crue. Les ingénieurs vérifient toutes les piles avant "
        "de le rouvrir aux voitures.\n",
    ),
    rag.TextItem(
        "мост.txt",
        "Мост остаётся закрытым\n\nАвтор: Иван Петров\n9 ноября 2018 г.\n\nСтарый мост через "
        "реку остаётся закрытым после наводнения. Инженеры проверяют все опоры, прежде чем "
        "снова пустить машины.\n",
    ),
    rag.TextItem(
        "大桥.txt",
        "大桥关闭\n\n作者：王小明 – 江城日报\n2021年3月12日\n\n大桥因暴雨关闭了十七天。工程师检查了所有桥墩。"
        "\n\n李华\n2021年3月13日 10:02\n\n报道很好，大桥的问题终于有人关注了。\n",
    ),
    rag.TextItem(
        "الجسر.txt",
        "إغلاق الجسر\n\nبقلم: أحمد علي – جريدة المدينة\n12 مارس 2021\n\nأغلق الجسر سبعة عشر يوما بعد "
        "العاصفة. فحص المهندسون كل الأعمدة.\n",
    ),
    rag.TextItem(
        "पुल.txt",
        "पुल बंद\n\nलेखक: राहुल शर्मा – नगर समाचार\n12 मार्च 2021\n\nतूफान के बाद पुल सत्रह दिन बंद रहा। "
        "इंजीनियरों ने सभी खंभों की जांच की।\n\nसीमा वर्मा\n13 मार्च 2021 10:02\n\nबंद पुल पर अच्छी रिपोर्ट।\n",
    ),
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wer hat den Artikel über die gesperrte Brücke geschrieben?", "Von Anna Schmidt und Jonas Weber"),
        ("Wann wurde der Artikel über die Brücke veröffentlicht?", "9. November 2018 | 21:13"),
        ("Welche Zeitung hat über die gesperrte Brücke berichtet?", "Berliner Zeitung"),
        ("¿Quién escribió el artículo sobre el puente cerrado?", "Por María López y Juan Pérez"),
        ("¿Cuándo se publicó el artículo sobre el puente?", "12 de marzo de 2021"),
        ("Qui a écrit l'article sur le pont fermé ?", "Par Jean Dupont"),
        ("Quel est le titre de l'article sur le pont ?", "Le pont reste fermé"),
        ("Кто написал статью о закрытом мосте?", "Автор: Иван Петров"),
        ("Когда была опубликована статья о мосте?", "9 ноября 2018 г."),
        ("谁写了关于大桥的文章？", "作者：王小明"),
        ("关于大桥的文章是什么时候发表的？", "2021年3月12日"),
        ("哪家报纸发表了关于大桥的文章？", "江城日报"),
        ("谁发表了这条评论？", "李华"),
        ("من كتب المقال عن الجسر؟", "بقلم: أحمد علي"),
        ("متى نشر المقال عن الجسر؟", "12 مارس 2021"),
        ("أي صحيفة نشرت المقال عن الجسر؟", "جريدة المدينة"),
        ("पुल के बारे में लेख किसने लिखा?", "लेखक: राहुल शर्मा"),
        ("पुल के बारे में लेख कब प्रकाशित हुआ?", "12 मार्च 2021"),
        ("किसने टिप्पणी की?", "सीमा वर्मा"),
    ],
)
def test_structure_questions_in_other_languages_quote_the_span(
    fake_base: rag.KnowledgeBase, question: str, expected: str
) -> None:
    fake_base.add_texts(ARTICLES_IN_OTHER_LANGUAGES)
    assert first_quote(fake_base, question).startswith(expected)


def test_a_question_worded_with_generic_words_still_finds_the_comment_author(
    articles: rag.KnowledgeBase,
) -> None:
    # "name", "person" and "left" say what is asked, not which document: no document need hold them.
    assert first_quote(articles, "What is the name of the person who left the comment about the bridge?") == (
        "Lee Wong"
    )
    assert first_quote(articles, "What is the date of the comment about the cedar bridge?") == (
        "Wed, 03/10/2021 - 11:45pm"
    )


def test_a_date_is_taken_only_from_the_document_the_question_names(articles: rag.KnowledgeBase) -> None:
    # The Courier piece has no date; the Gazette's, on a page that shares only "Valley", is no answer.
    answer = articles.ask("When was the Valley Courier article published?")
    assert all("2021" not in citation.quote.text for citation in answer.citations)
    assert (
        first_quote(articles, "When was the Valley Gazette article published?") == "March 3, 2021 | 08:15 GMT"
    )


def test_a_title_question_may_call_the_document_an_analysis(articles: rag.KnowledgeBase) -> None:
    assert first_quote(articles, "What is the title of the harbour dredging analysis?") == "Harbour Report"


def test_short_headings_after_the_last_long_section_are_not_listed(fake_base: rag.KnowledgeBase) -> None:
    body = " ".join(["The lighthouse keepers logged every passing ship in the winter ledger."] * 4)
    page = (
        f"Lighthouse Logs\n\nThe Keepers\n\n{body}\n\nThe Ledgers\n\n{body}\n\n"
        "Site Search\n\nCopyright © 2021 Coast Archive.\n\nCoast Archive Worldview\n\nKnow the coast.\n"
    )
    fake_base.add_texts([rag.TextItem("lighthouse.txt", page)])
    answer = fake_base.ask("What are the section headings of the lighthouse logs page?")
    assert [citation.quote.text for citation in answer.citations] == ["The Keepers", "The Ledgers"]


def test_date_and_commenter_lines_are_never_quoted_as_answer_sentences(articles: rag.KnowledgeBase) -> None:
    for question in ("What happened on Tue, 03/09/2021 at 10:02am?", "What did Ann K. say?"):
        answer = articles.ask(question)
        quoted = [citation.quote.text for citation in answer.citations]
        assert "Tue, 03/09/2021 - 10:02am" not in quoted and "Ann K." not in quoted, question
