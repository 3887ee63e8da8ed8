"""The refusal rule calibrated for each embedding model and document language (python -m eval.calibrate).

A model's sentence scores sit on its own scale (multilingual-e5's cosines run higher than
MiniLM's), so the score below which an answer is refused, and the two coverage settings that go
with it, are chosen per model on the honest xquad splits and read from REFUSAL_RULES. A Settings
value that is set (refusal_threshold, refusal_min_coverage, refusal_sure_score) overrides the
table; None, the default, means "as calibrated".
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.settings import Settings

ANY_LANGUAGE = "*"
# The question is in another language than the document it is answered from.
ACROSS_LANGUAGES = "across"


@dataclass(frozen=True)
class RefusalRule:
    """Refuse below `threshold`; below `sure_score` a passage must cover `min_coverage` of the question."""

    threshold: float
    min_coverage: float
    sure_score: float


# Model -> the document's language (ANY_LANGUAGE: every other one; ACROSS_LANGUAGES: a question
# in another language, "across:LANG" one over documents in LANG) -> rule. MiniLM's was tuned on
# English articles 00-05/12-17 and held out on 06-11/18-23; docs/evaluation.md, "Refusal per
# model and language", has how e5's were chosen and what they score.
REFUSAL_RULES: dict[str, dict[str, RefusalRule]] = {
    "all-MiniLM-L6-v2": {ANY_LANGUAGE: RefusalRule(0.41, 0.4, 0.6)},
    # Fitted on 200 sampled questions per language (python -m eval.calibrate --two-fold): one
    # rule for all seven languages, where a language's own rule did not score better on the
    # other half of the articles, both ways round.
    "multilingual-e5-small": {
        ANY_LANGUAGE: RefusalRule(0.66, 0.3, 0.8),
        "es": RefusalRule(0.71, 0.3, 0.8),
        "ru": RefusalRule(0.66, 0.2, 0.8),
        "zh": RefusalRule(0.65, 0.2, 0.8),
        # English questions over German, Chinese and Arabic articles (--across de,zh,ar): a
        # threshold only, since a passage in another language shares no words to cover.
        ACROSS_LANGUAGES: RefusalRule(0.6, 0.0, 10.0),
        f"{ACROSS_LANGUAGES}:de": RefusalRule(0.63, 0.0, 10.0),
    },
}
# A model never calibrated is given the rule of the bundled one.
UNCALIBRATED = "all-MiniLM-L6-v2"


def calibrated_across(model: str) -> bool:
    """Whether the model has a rule of its own for questions asked across languages."""
    rules = REFUSAL_RULES.get(model.rsplit("/", 1)[-1], {})
    return any(key.startswith(ACROSS_LANGUAGES) for key in rules)


def refusal_rule(settings: Settings, model: str, language: str, across: bool = False) -> RefusalRule:
    """The rule for sentences of a document in `language` under `model`, with the settings' overrides."""
    rules = REFUSAL_RULES.get(model.rsplit("/", 1)[-1], REFUSAL_RULES[UNCALIBRATED])
    calibrated = (
        (across and (rules.get(f"{ACROSS_LANGUAGES}:{language}") or rules.get(ACROSS_LANGUAGES)))
        or rules.get(language)
        or rules[ANY_LANGUAGE]
    )
    return RefusalRule(
        calibrated.threshold if settings.refusal_threshold is None else settings.refusal_threshold,
        calibrated.min_coverage if settings.refusal_min_coverage is None else settings.refusal_min_coverage,
        calibrated.sure_score if settings.refusal_sure_score is None else settings.refusal_sure_score,
    )
