"""rag/answer/calibration.py: the refusal rule of each model and document language, and overrides."""

from __future__ import annotations

import rag
from rag.answer.calibration import (
    ACROSS_LANGUAGES,
    ANY_LANGUAGE,
    REFUSAL_RULES,
    UNCALIBRATED,
    calibrated_across,
    refusal_rule,
)


def test_each_calibrated_model_has_a_rule_for_any_language() -> None:
    assert UNCALIBRATED in REFUSAL_RULES
    assert all(ANY_LANGUAGE in rules for rules in REFUSAL_RULES.values())


def test_a_model_is_found_by_its_name_with_or_without_its_organisation() -> None:
    settings = rag.Settings()
    for model in REFUSAL_RULES:
        expected = REFUSAL_RULES[model][ANY_LANGUAGE]
        assert refusal_rule(settings, model, "und") == expected
        assert refusal_rule(settings, f"someone/{model}", "und") == expected


def test_an_uncalibrated_model_gets_the_rule_of_the_bundled_one() -> None:
    rule = refusal_rule(rag.Settings(), "hashing-64", "en")
    assert rule == REFUSAL_RULES[UNCALIBRATED][ANY_LANGUAGE]


def test_a_question_across_languages_takes_that_rule_where_the_model_has_one() -> None:
    settings = rag.Settings()
    for model, rules in REFUSAL_RULES.items():
        across = refusal_rule(settings, model, "de", across=True)
        expected = rules.get(f"{ACROSS_LANGUAGES}:de", rules.get(ACROSS_LANGUAGES, rules[ANY_LANGUAGE]))
        assert across == expected
        # A language with no rule of its own across languages takes the model's general one.
        assert refusal_rule(settings, model, "xx", across=True) == rules.get(
            ACROSS_LANGUAGES, rules[ANY_LANGUAGE]
        )


def test_settings_that_are_set_override_the_table() -> None:
    settings = rag.Settings(refusal_threshold=0.9, refusal_sure_score=0.95)
    rule = refusal_rule(settings, UNCALIBRATED, "en")
    assert (rule.threshold, rule.sure_score) == (0.9, 0.95)
    assert rule.min_coverage == REFUSAL_RULES[UNCALIBRATED][ANY_LANGUAGE].min_coverage


def test_only_a_model_calibrated_across_languages_has_its_questions_language_guessed() -> None:
    assert not calibrated_across(UNCALIBRATED)
    assert calibrated_across("intfloat/multilingual-e5-small")
