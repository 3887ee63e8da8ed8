from __future__ import annotations

import pytest

from rag.language.detection import UNDETERMINED, detect_language

SAMPLES = {
    ("en", "Latin"): "The Panthers defense gave up just 308 points, ranking sixth in the league.",
    ("de", "Latin"): "Die Verteidigung der Panthers ließ nur 308 Punkte zu und belegte den sechsten Platz.",
    (
        "es",
        "Latin",
    ): "La defensa de los Panthers cedió solo 308 puntos y se situó en el sexto lugar de la liga.",
    ("ru", "Cyrillic"): "Защита «Пантер» пропустила всего 308 очков и заняла шестое место в лиге.",
    ("zh", "Han"): "黑豹队的防守只丢了 308分，在联赛中排名第六。",
    ("ja", "Han"): "東京大学の研究者は新しい方法を開発した。",
    ("ar", "Arabic"): "لم يتخلَّ دفاع البانثرز إلا عن 308 نقطة، ليحتل المركز السادس في الدوري.",
    ("hi", "Devanagari"): "पैंथर्स की रक्षा ने केवल 308 अंक दिए और लीग में छठे स्थान पर रही।",
}


@pytest.mark.parametrize(("expected", "text"), list(SAMPLES.items()))
def test_language_and_script_of_a_paragraph(expected: tuple[str, str], text: str) -> None:
    detected = detect_language(text)
    assert (detected.language, detected.script) == expected


def test_numbers_and_symbols_alone_have_no_language() -> None:
    assert detect_language("308 / 24 = 12.8 %").language == UNDETERMINED
