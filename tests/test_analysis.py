from __future__ import annotations

from rag.language.analysis import (
    bigrams,
    cut_at_stop_words,
    fold,
    fts_query,
    index_terms,
    query_terms,
    stop_words,
)


def test_german_words_are_stemmed_then_folded() -> None:
    assert index_terms("Die Häuser der Verteidigung", "de") == ["die", "haus", "der", "verteid"]
    assert index_terms("Haus", "de") == index_terms("Häuser", "de")


def test_english_is_stemmed_like_sqlite_porter() -> None:
    assert index_terms("treaties running quickly", "en") == ["treati", "run", "quickli"]


def test_chinese_is_cut_into_overlapping_bigrams_and_latin_runs_stay_words() -> None:
    assert index_terms("黑豹队的防守 NFL职业碗", "zh") == [
        "黑豹",
        "豹队",
        "队的",
        "的防",
        "防守",
        "nfl",
        "职业",
        "业碗",
    ]
    assert bigrams("分") == ["分"]


def test_arabic_loses_vowel_marks_and_hamza_seats() -> None:
    assert fold("أَحْمَد", "Arabic") == "احمد"
    assert index_terms("دفاعُ", "ar") == index_terms("دفاع", "ar")


def test_hindi_keeps_its_vowel_signs() -> None:
    assert fold("डिफ़ेंस", "Devanagari") == "डिफ़ेंस"


def test_a_stemmer_never_touches_another_script() -> None:
    assert index_terms("Москва", "de") == ["москва"]


def test_question_words_are_stemmed_for_every_language_of_the_index() -> None:
    terms = query_terms("Verteidigung", ["de", "en"])
    assert terms == ["verteid", "verteidigung"]


def test_stop_words_and_single_letters_are_skipped_unless_nothing_else_is_left() -> None:
    assert query_terms("What is a cat?", ["en"], skip=frozenset({"what", "is"})) == ["cat"]
    assert query_terms("What is it?", ["en"], skip=frozenset({"what", "is", "it"})) == [
        "what",
        "i",
        "it",
    ]  # porter: is -> i


def test_fts_query_quotes_every_term() -> None:
    assert fts_query('fish "hi" 黑豹', ["en"]) == '"fish" OR "hi" OR "黑豹"'


def test_question_words_of_each_language_are_left_out() -> None:
    assert query_terms("Welche Art von Stadt ist Warschau?", ["de"]) == ["art", "stadt", "warschau"]
    assert query_terms("¿Cuántos puntos cedieron?", ["es"]) == ["punt", "ced"]


def test_a_chinese_question_is_cut_at_its_stop_words_before_bigrams() -> None:
    # 的 and 多少 go, so the cross-word bigrams 队的, 的防, 了多, 多少 and 少分 never reach the index.
    assert query_terms("黑豹队的防守丢了多少分？", ["zh"]) == ["黑豹", "豹队", "防守", "守丢"]
    assert cut_at_stop_words("中国大学", stop_words("zh")) == ["中国大学"]
