"""Finding titles, headings, bylines, post authors and dates in plain text."""

from __future__ import annotations

import pytest

from rag.language.structure import find_structure

ARTICLE = """Rivers Rise Across the Valley

By Jane Doe and Omar Al-Farsi – Valley Gazette
March 3, 2021 | 08:15 GMT

The Big Picture

The amber river rose by two metres after 40 days of rain. By Monday the town was dry again.

Ann K.
Tue, 03/09/2021 - 10:02am

Great reporting on the amber river.

Lee Wong
Wed, 03/10/2021 - 11:45pm

The cedar bridge closed for 17 days.
"""


def spans_of(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for span in find_structure(text):
        found.setdefault(span.kind, []).append(text[span.start : span.end])
    return found


def test_an_article_head_gives_title_byline_and_dateline() -> None:
    found = spans_of(ARTICLE)
    assert found["title"] == ["Rivers Rise Across the Valley"]
    assert found["byline"] == ["By Jane Doe and Omar Al-Farsi – Valley Gazette"]
    assert found["published"] == ["March 3, 2021 | 08:15 GMT"]
    assert found["heading"] == ["The Big Picture"]
    assert found["publication"] == ["Valley Gazette"]
    assert "headline" not in found  # the byline has a line of its own


def test_a_headline_on_the_byline_line_and_a_publication_after_the_dash() -> None:
    text = "Site Name\n\nFloods Close the Bridge. By Mia Chen – Valley Courier\n\nBody text here.\n"
    found = spans_of(text)
    assert found["title"] == ["Site Name"]
    assert found["headline"] == ["Floods Close the Bridge."]
    assert found["byline"] == ["By Mia Chen – Valley Courier"]
    assert found["publication"] == ["Valley Courier"]
    # A copyright line names who published the page; a sentence about copyright does not.
    assert spans_of("Notes\n\nBody text.\n\nCopyright © 2021 Harbour Analytics, Inc. All rights reserved.\n")[
        "publication"
    ] == ["Harbour Analytics, Inc."]
    assert spans_of("Notes\n\nBody.\n\n© 2020 The Daily Planet.\n")["publication"] == ["The Daily Planet"]
    assert "publication" not in spans_of("Notes\n\nCopyright law protects the authors of books and songs.\n")
    # A role after a comma is no publication.
    assert "publication" not in spans_of("Notes\n\nBy Mia Chen, Staff Reporter\n\nBody text.\n")


def test_each_comment_gives_its_author_line_and_timestamp() -> None:
    found = spans_of(ARTICLE)
    assert found["author"] == ["Ann K.", "Lee Wong"]
    assert found["posted"] == ["Tue, 03/09/2021 - 10:02am", "Wed, 03/10/2021 - 11:45pm"]


def test_a_sentence_starting_with_by_is_not_a_byline() -> None:
    text = "Notes\n\nBy Monday the river had fallen. By then the bridge was open.\n"
    assert "byline" not in spans_of(text)


def test_a_byline_after_a_headline_on_the_same_line_starts_at_by() -> None:
    text = "Moscow Wants Back In. By Missy Ryan – Washington Post\n\nBody text here.\n"
    assert spans_of(text)["byline"] == ["By Missy Ryan – Washington Post"]


def test_a_month_glued_to_a_capital_word_is_still_a_date() -> None:
    text = "Headline Here\n\n4 MINS READNov 9, 2018 | 21:13 GMT\nBody starts here and goes on.\n"
    assert spans_of(text)["published"] == ["Nov 9, 2018 | 21:13 GMT"]


def test_a_date_inside_a_long_sentence_is_not_a_dateline() -> None:
    text = "Report\n\nThe treaty was signed on March 3, 2021 after a long and careful negotiation by both sides.\n"
    assert "published" not in spans_of(text)
    assert "date" not in spans_of(text)


def test_spans_are_exact_ranges_of_the_text_in_order() -> None:
    spans = find_structure(ARTICLE)
    assert [span.start for span in spans] == sorted(span.start for span in spans)
    for span in spans:
        assert ARTICLE[span.start : span.end] == ARTICLE[span.start : span.end].strip()
        assert span.end > span.start


def test_prose_without_structure_has_no_spans() -> None:
    text = "The river rose. It rained for days, and the valley flooded twice before the dam held."
    assert find_structure(text) == ()


def test_bylines_and_dates_in_other_languages() -> None:
    german = spans_of(
        "Brücke gesperrt\n\nVon Anna Schmidt und Jonas Weber – Berliner Zeitung\n9. November 2018\n\nText.\n"
    )
    assert german["byline"] == ["Von Anna Schmidt und Jonas Weber – Berliner Zeitung"]
    assert german["published"] == ["9. November 2018"]
    spanish = spans_of("Puente\n\nPor María López y Juan Pérez\n12 de marzo de 2021\n\nTexto.\n")
    assert spanish["byline"] == ["Por María López y Juan Pérez"]
    assert spanish["published"] == ["12 de marzo de 2021"]
    russian = spans_of("Мост\n\nАвтор: Иван Петров\n9 ноября 2018 г.\n\nТекст.\n")
    assert russian["byline"] == ["Автор: Иван Петров"]
    assert russian["published"] == ["9 ноября 2018 г."]  # under a byline: when it appeared
    assert "author" not in russian


@pytest.mark.parametrize(
    ("text", "byline", "publication", "published", "author", "posted"),
    [
        (
            "大桥关闭\n\n作者：王小明 – 江城日报\n2021年3月12日\n\n大桥关闭了十七天。\n\n李华\n2021年3月13日 10:02\n\n报道很好。\n",
            "作者：王小明 – 江城日报",
            "江城日报",
            "2021年3月12日",
            "李华",
            "2021年3月13日 10:02",
        ),
        (
            "إغلاق الجسر\n\nبقلم: أحمد علي – جريدة المدينة\n12 مارس 2021\n\nأغلق الجسر سبعة عشر يوما.\n\n"
            "سارة حسن\n13 مارس 2021 - 10:02\n\nتقرير جيد.\n",
            "بقلم: أحمد علي – جريدة المدينة",
            "جريدة المدينة",
            "12 مارس 2021",
            "سارة حسن",
            "13 مارس 2021 - 10:02",
        ),
        (
            "पुल बंद\n\nलेखक: राहुल शर्मा – नगर समाचार\n12 मार्च 2021\n\nपुल सत्रह दिन बंद रहा।\n\n"
            "सीमा वर्मा\n13 मार्च 2021 10:02\n\nअच्छी रिपोर्ट।\n",
            "लेखक: राहुल शर्मा – नगर समाचार",
            "नगर समाचार",
            "12 मार्च 2021",
            "सीमा वर्मा",
            "13 मार्च 2021 10:02",
        ),
    ],
)
def test_bylines_commenters_and_dates_in_scripts_without_capitals(
    text: str, byline: str, publication: str, published: str, author: str, posted: str
) -> None:
    found = spans_of(text)
    assert found["title"] == [text.split("\n", 1)[0]]
    assert found["byline"] == [byline] and found["publication"] == [publication]
    assert found["published"] == [published]
    assert found["author"] == [author] and found["posted"] == [posted]


def test_sentences_in_scripts_without_capitals_are_not_names_or_headings() -> None:
    # A label word opening a sentence, and a sentence standing alone, are neither bylines nor headings.
    found = spans_of(
        "说明\n\n记者会上，部长宣布大桥将在下周重新开放，并感谢所有工程师的努力工作。\n\nكتب المهندسون تقريرا طويلا عن الجسر.\n"
    )
    assert "byline" not in found and found.get("heading", []) == []


def test_sentences_starting_with_a_byline_word_are_not_bylines() -> None:
    found = spans_of("Notes\n\nPar exemple, le pont est fermé.\n\nVon Zeit zu Zeit regnet es im Tal.\n")
    assert "byline" not in found


def test_several_authors_in_scripts_without_capitals() -> None:
    arabic = spans_of("عنوان\n\nبقلم: أحمد علي وسارة حسن – جريدة المدينة\n12 مارس 2021\n\nنص عن الجسر.\n")
    assert arabic["byline"] == ["بقلم: أحمد علي وسارة حسن – جريدة المدينة"]
    chinese = spans_of("标题\n\n作者：王小明、李华 – 江城日报\n\n正文。\n")
    assert chinese["byline"] == ["作者：王小明、李华 – 江城日报"] and chinese["publication"] == ["江城日报"]
    assert "byline" not in spans_of(
        "标题\n\n作者：王小明在大桥上走了很久才回家\n\n正文。\n"
    )  # a sentence, not a name
