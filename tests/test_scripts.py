from __future__ import annotations

from rag.language import scripts
from rag.language.scripts import dominant_script, script_counts, space_unspaced, tokens, word_count


def test_tokens_keep_marks_inside_words_and_cut_unspaced_runs_from_latin() -> None:
    text = "पैंथर्स डिफ़ेंस ने 308 अंक दिए। 黑豹队NFL职业碗 l'été"
    assert tokens(text) == ["पैंथर्स", "डिफ़ेंस", "ने", "308", "अंक", "दिए", "黑豹队", "NFL", "职业碗", "l", "été"]


def test_dominant_script_weighs_a_chinese_character_like_a_short_word() -> None:
    text = (
        "Internet2是一个由来自研究、教育、工业和政府各界的成员领导的非盈利的美国计算机网络联盟 Qwest Abilene"
    )
    assert dominant_script(script_counts(text)) == "Han"
    assert dominant_script(script_counts("Сколько очков пропустила защита?")) == "Cyrillic"
    assert dominant_script(script_counts("308 + 12")) == "Common"


def test_word_count_counts_two_chinese_characters_as_a_word() -> None:
    assert word_count("黑豹队的防守") == 3
    assert word_count("The defence gave up 308 points") == 6


def test_space_unspaced_separates_each_chinese_character() -> None:
    assert space_unspaced("丢了308分").split() == ["丢", "了", "308", "分"]


def test_ascii_text_is_cut_into_the_tokens_of_the_full_pattern() -> None:
    # ASCII text takes a shortcut (the standard library's matcher): the same tokens, letter by letter.
    every_ascii = "".join(map(chr, range(128)))
    for character in every_ascii:
        assert tokens(character) == scripts._TOKEN.findall(character), repr(character)
    texts = [every_ascii, "It's 2021: x2 = y_3, F-16s (and COVID-19).", every_ascii[::-1] * 3]
    for text in texts:
        assert tokens(text) == scripts._TOKEN.findall(text)
        assert word_count(text) == len(scripts._TOKEN.findall(text))


def test_no_character_beyond_ascii_that_the_shortcut_skips_is_part_of_a_token() -> None:
    # Text whose characters beyond ASCII are all outside _TOKEN_CHARACTER takes the ASCII shortcut:
    # no such character, in any company, is part of a token.
    every_character = "".join(chr(point) for point in range(0x80, 0x110000) if not 0xD800 <= point < 0xE000)
    skipped = scripts._TOKEN_CHARACTER.sub("", every_character)
    assert len(skipped) > 10_000
    assert scripts._TOKEN.findall(skipped) == []
    between = "x".join(skipped[::97])
    assert tokens(between) == scripts._TOKEN.findall(between) == ["x"] * (len(skipped[::97]) - 1)
    text = "The “harbour” — 4,200 tonnes… of cloves\u00a0in 2021 ’tis ©"
    assert (
        tokens(text)
        == scripts._TOKEN.findall(text)
        == ["The", "harbour", "4", "200", "tonnes", "of", "cloves", "in", "2021", "tis"]
    )
    assert word_count(text) == 10


def test_only_tokens_of_a_script_without_spaces_are_unspaced() -> None:
    assert [scripts.is_unspaced(token) for token in ("", "NFL", "été", "黑豹队", "ภาษาไทย", "9")] == [
        False,
        False,
        False,
        True,
        True,
        False,
    ]
