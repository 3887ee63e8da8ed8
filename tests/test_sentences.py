"""Sentences with their offsets (rag/language/sentences.py): what answers quote and ingest embeds."""

from __future__ import annotations

import random

import pytest

from rag.language import sentences
from rag.language.sentences import quotable_texts, sentence_texts, sentences_around, split_sentences
from rag.types import Document


def test_abbreviations_do_not_end_sentences_and_offsets_hold() -> None:
    text = "  Dr. Smith went to Washington. He met the U.S. envoy on Nov. 9 in Moscow!  Why? Nobody knows.\n"
    spans = split_sentences(text)
    assert [span.text for span in spans] == [
        "Dr. Smith went to Washington.",
        "He met the U.S. envoy on Nov. 9 in Moscow!",
        "Nobody knows.",
    ]
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_wrapped_prose_is_not_cut_at_line_breaks() -> None:
    text = "Verbatim reads plain text files, Markdown files and HTML pages and also PDF\n(.pdf) files.\n"
    assert [span.text for span in split_sentences(text)] == [text.strip()]


def test_short_lines_and_list_items_are_their_own_sentences() -> None:
    text = "The Big Picture\nThe war goes on in the long-running conflict zone.\n- first item here\n- second item here\n"
    texts = [span.text for span in split_sentences(text)]
    assert texts == [
        "The Big Picture",
        "The war goes on in the long-running conflict zone.",
        "- first item here",
        "- second item here",
    ]


def test_sentences_around_widens_a_cut_chunk_to_whole_sentences() -> None:
    text = "First sentence is here. Second sentence is rather long and important. Third one ends."
    middle = text.index("rather")
    spans = sentences_around(text, middle, middle + 10)
    assert [span.text for span in spans] == ["Second sentence is rather long and important."]


@pytest.mark.parametrize(
    "sentences",
    [
        ("黑豹队的防守只丢了308分，排名第六。", "卡万·肖特以11次擒杀领先全队！", "他们还赢了吗？"),
        ("كم نقطة تخلى عنها دفاع البانثرز؟", "تخلى الدفاع عن 308 نقاط.", "وكان ذلك في عام 2015."),
        ("पैंथर्स डिफ़ेंस ने 308 अंक दिए।", "यह लीग में छठा स्थान था।"),
    ],
    ids=[
        "chinese-full-width-marks-without-spaces",
        "arabic-question-mark-then-caseless-letters",
        "hindi-danda",
    ],
)
def test_sentences_of_other_scripts_end_at_their_own_marks(sentences: tuple[str, ...]) -> None:
    separator = "" if sentences[0].endswith("。") else " "
    assert [span.text for span in split_sentences(separator.join(sentences))] == list(sentences)


def test_cyrillic_and_accented_capitals_and_spanish_openers_start_sentences() -> None:
    text = "Защита пропустила 308 очков. Это шестое место. Él lo dijo claramente. ¿Cuántos puntos cedieron?"
    assert len(split_sentences(text)) == 4
    for span in split_sentences(text):
        assert text[span.start : span.end] == span.text


def test_a_lower_case_word_after_a_full_stop_does_not_start_a_sentence() -> None:
    text = "Die Stadt hat ca. drei Millionen Einwohner und ist groß."
    assert len(split_sentences(text)) == 1


def test_a_sentence_longer_than_the_reach_is_widened_whole() -> None:
    long_sentence = "This sentence runs on " + "and on " * 120 + "until it finally ends."
    text = f"A short one comes first. {long_sentence} Then another short one."
    middle = text.index("until")
    spans = sentences_around(text, middle, middle + 5, reach=100)
    assert [span.text for span in spans] == [long_sentence]


# Prose of several scripts, wrapped lines, abbreviations, quotes, lists and a very long sentence:
# the cases where a split of a window around a passage could cut otherwise than the whole text.
MIXED_PIECES = (
    "黑豹队的防守在本赛季表现出色，他们赢得了比赛。" * 7,
    "「東京は日本の首都です。」と彼は言った！本当ですか？" * 5,
    "ما هي عاصمة مصر؟ القاهرة هي أكبر مدينة في العالم العربي وتقع على ضفاف نهر النيل. " * 6,
    "भारत एक विशाल देश है जिसमें अनेक भाषाएँ बोली जाती हैं। " * 6,
    "The committee met on Tuesday and discussed the budget for the coming year in detail,\n"
    "and after a long debate it decided that the funds would go to the new library\n"
    "rather than to the sports hall. " * 3,
    'Dr. Smith met Mr. Jones at 5 p.m. in the U.S. embassy. "Why?" he asked. (It was late.) ' * 4,
    "# Heading one\n\n- item one is here\n- item two is here\n1. first\n2. second\n\n",
    "This sentence is very long " + "and it goes on " * 60 + "until it ends. ",
    "Der Hund läuft schnell. Über den Fluss! «Wirklich?» fragte sie. ¿Qué pasa? ¡Nada! " * 4,
    "\n\n",
    "\n",
)


def test_sentences_around_any_passage_are_the_whole_texts_sentences() -> None:
    """What ingest stores a vector for (split_sentences of the whole text) is what answers look up."""
    for seed in range(40):
        rng = random.Random(seed)
        text = "".join(rng.choice(MIXED_PIECES) for _ in range(rng.randrange(3, 20)))
        whole = [(span.start, span.end) for span in split_sentences(text)]
        for _ in range(25):
            start = rng.randrange(len(text))
            end = min(len(text), start + rng.randrange(1, 1200))
            around = [(span.start, span.end) for span in sentences_around(text, start, end)]
            assert around == [(left, right) for left, right in whole if right > start and left < end]


def test_a_chunks_sentence_texts_are_those_of_its_split() -> None:
    text = "Green tea cools quickly in a cup. Milk softens its bitter taste."
    assert sentence_texts(text) == tuple(span.text for span in split_sentences(text))


def test_the_quotable_texts_of_prose_are_its_sentences() -> None:
    text = "Green tea cools quickly in a cup. Milk softens its bitter taste."
    prose = Document("id", "tea.txt", "tea", text, {})
    assert quotable_texts(prose) == ["Green tea cools quickly in a cup.", "Milk softens its bitter taste."]


def _safe_start_of_the_whole_reach(text: str, index: int) -> int:
    """_safe_start as it was: the last safe start of one scan over the whole reach."""
    if index <= 0:
        return 0
    safe = index
    for match in sentences._SAFE_START.finditer(
        text, max(0, index - sentences.MAX_SENTENCE_REACH), index + 1
    ):
        safe = match.end()
    return safe if safe <= index else index


def test_the_safe_start_found_near_the_index_is_the_one_of_the_whole_reach() -> None:
    texts = ["".join(random.Random(seed).choice(MIXED_PIECES) for _ in range(10)) for seed in range(4)]
    texts += ["a" * 5000 + " b", "x" * 300 + "。」" * 40 + "。」 y z", " " * 200 + "word" * 1100 + "。\n！x"]
    for text in texts:
        for index in range(len(text) + 2):
            assert sentences._safe_start(text, index) == _safe_start_of_the_whole_reach(text, index), index
