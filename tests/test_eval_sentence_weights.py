"""eval.sentence_weights: candidates re-scored under other weights, fitted on one half and scored on the other."""

from __future__ import annotations

from eval.sentence_weights import RANK, SIMILARITY, held_out, reweighed


def row(article: int, answerable: bool, candidates: list[tuple[float, float | None, int, bool]]) -> dict:
    return {
        "article": article,
        "answerable": answerable,
        "kind": "other_topic" if article >= 12 else "missing_fact",
        "lexical": True,
        "candidates": [
            {"score": score, "similarity": similarity, "rank": rank, "coverage": 1.0, "contains": contains}
            for score, similarity, rank, contains in candidates
        ],
    }


def test_todays_weights_leave_the_scores_as_they_are() -> None:
    rows = [row(0, True, [(0.7, 0.8, 1, True), (0.6, None, 2, False)])]
    assert reweighed(rows, SIMILARITY, RANK) == rows


def test_dropping_the_rank_term_reorders_the_candidates() -> None:
    # The first candidate leads only by its rank-1 bonus (0.10 against 0.05).
    rows = [row(0, True, [(0.65 * 0.80 + 0.10, 0.80, 1, False), (0.65 * 0.85 + 0.05, 0.85, 2, True)])]
    first = reweighed(rows, SIMILARITY, 0.0)[0]["candidates"][0]
    assert first["contains"] and abs(first["score"] - 0.65 * 0.85) < 1e-9


def test_held_out_scores_each_half_by_what_the_other_half_fitted() -> None:
    # Answerable questions score 0.8, unanswerable ones 0.5, on both halves: any threshold between
    # separates them, so the held-out halves are refused and answered perfectly.
    rows = [
        row(article, article < 12, [(0.8 if article < 12 else 0.5, 0.9, 1, True)])
        for article in (0, 1, 6, 7, 12, 13, 18, 19)
    ]
    result = held_out(rows, [(SIMILARITY, RANK)])
    assert result["held_out"]["auc"] == 1.0
    assert result["held_out"]["refusal_precision"] == 1.0
    assert result["held_out"]["refusal_recall"] == 1.0
    assert result["held_out"]["answerable_answered"] == 1.0
    assert len(result["fitted"]) == 2
