"""Evaluation metrics, data loading, the cached corpus index and rag.evaluate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.evaluation.datasets import EvalDataError, load_beir_queries, load_questions, open_corpus_index
from rag.evaluation.metrics import (
    answer_contains,
    best_token_f1,
    hit_at_k,
    latency_summary,
    ndcg_at_k,
    normalize_answer,
    recall_at_k,
    reciprocal_rank,
    refusal_scores,
    source_matches,
)

EVAL_QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions"


def reference_ndcg(ranked: list[str], qrels: dict[str, int], k: int) -> float:
    """nDCG@k written independently, the way trec_eval's ndcg_cut does it (linear gains)."""
    run_gains = np.array([qrels.get(doc, 0) for doc in ranked[:k]], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, len(run_gains) + 2))
    ideal_gains = np.sort(np.array([g for g in qrels.values() if g > 0], dtype=float))[::-1][:k]
    ideal = float(np.sum(ideal_gains / np.log2(np.arange(2, len(ideal_gains) + 2))))
    return float(np.sum(run_gains * discounts)) / ideal if ideal else 0.0


def test_ndcg_matches_an_independent_reference_on_random_rankings() -> None:
    generator = np.random.default_rng(7)
    for _ in range(200):
        docs = [f"d{i}" for i in range(30)]
        ranked = list(generator.permutation(docs)[: generator.integers(1, 30)])
        judged = generator.choice(docs, size=generator.integers(1, 8), replace=False)
        qrels = {str(doc): int(generator.integers(0, 3)) for doc in judged}
        expected = reference_ndcg(ranked, qrels, 10)
        assert ndcg_at_k(ranked, {d: float(g) for d, g in qrels.items()}, 10) == pytest.approx(expected)


def test_ndcg_known_value() -> None:
    # Relevant docs at ranks 1 and 3 out of two relevant: (1 + 1/2) / (1 + 1/log2(3)).
    assert ndcg_at_k(["a", "x", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["x"], {"a": 1}, 10) == 0.0


def test_ranking_metrics_count_expected_sources() -> None:
    ranked = ["/docs/a.txt", "/docs/b.txt", "/docs/c.txt"]
    assert hit_at_k(ranked, ["b.txt"], 1) == 0.0
    assert hit_at_k(ranked, ["b.txt"], 2) == 1.0
    assert recall_at_k(ranked, ["a", "c.txt", "z.txt"], 3) == pytest.approx(2 / 3)
    assert reciprocal_rank(ranked, ["c.txt"], 10) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["c.txt"], 2) == 0.0


def test_source_matches_path_name_and_stem() -> None:
    assert source_matches("a.txt", "/x/y/a.txt")
    assert source_matches("a", "/x/y/a.txt")
    assert source_matches("00_1", "00_1")
    assert not source_matches("00_1", "00_10")
    assert not source_matches("", "a.txt")


def test_answer_normalisation_and_containment() -> None:
    assert normalize_answer("The Broncos [1] won, 24–10!") == "broncos won 2410"
    assert answer_contains("“Denver Broncos” won [1].", ["denver broncos"]) == 1.0
    assert answer_contains("In 1979 [1].", ["979"]) == 0.0  # whole words only
    assert answer_contains("anything", []) == 0.0


def test_containment_counts_each_chinese_character_as_a_word_and_any_punctuation_goes() -> None:
    assert answer_contains("黑豹队的防守只丢了 308分，排名第六。", ["308"]) == 1.0
    assert answer_contains("以 136 次擒杀成为领袖", ["136 次"]) == 1.0
    assert answer_contains("डिफ़ेंस ने 308। अंक", ["308"]) == 1.0
    assert answer_contains("«Tesla» ¿dijo?", ["tesla dijo"]) == 1.0
    assert answer_contains("13080分", ["308"]) == 0.0  # digits still form whole numbers


def test_token_f1_is_squad_f1() -> None:
    assert best_token_f1("the cat sat", ["cat sat down"]) == pytest.approx(0.8)
    assert best_token_f1("nothing here", ["cat"]) == 0.0
    assert best_token_f1("cat", ["dog", "cat"]) == 1.0


def test_refusal_precision_and_recall() -> None:
    refused = [True, True, False, False]
    answerable = [False, True, False, True]
    assert refusal_scores(refused, answerable) == {"refusal_precision": 0.5, "refusal_recall": 0.5}
    assert refusal_scores([False, False], [True, True]) == {}


def test_latency_percentiles() -> None:
    summary = latency_summary("search", [float(value) for value in range(1, 101)])
    assert summary == {"search_p50_ms": 50.5, "search_p95_ms": 95.05}


def test_load_questions_defaults_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Why?"}\n\n{"id": "b", "question": "No?", "answerable": false}\n')
    first, second = load_questions(path)
    assert (first.id, first.answerable, first.sources) == ("1", True, ())
    assert not second.answerable
    path.write_text("{not json\n")
    with pytest.raises(EvalDataError, match=r"q.jsonl:1"):
        load_questions(path)
    path.write_text('{"question": "And then?", "history": [{"role": "user", "content": "Who came?"}]}\n')
    (follow_up,) = load_questions(path)
    assert follow_up.history == ({"role": "user", "content": "Who came?"},)
    path.write_text('{"question": "Why?"}\n{"question": "And then?", "history": "Who came?"}\n')
    with pytest.raises(EvalDataError, match=r"q.jsonl:2: history must be a list"):
        load_questions(path)


def write_beir(folder: Path) -> Path:
    """A tiny BEIR folder: three documents, two judged queries."""
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "d1": ("Volcanoes", "Lava flows from volcanoes during an eruption of magma."),
        "d2": ("Glaciers", "Glaciers are slow rivers of ice that carve valleys."),
        "d3": ("Deserts", "Deserts receive very little rain and have sand dunes."),
    }
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items())
    )
    queries = [{"_id": "q1", "text": "magma eruption lava"}, {"_id": "q2", "text": "ice carving valleys"}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(query) + "\n" for query in queries))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq2\td3\t0\n"
    )
    return folder


def test_load_beir_queries_keeps_relevant_sources(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "beir")
    queries = {query.id: query for query in load_beir_queries(folder)}
    assert queries["q2"].sources == ("d2",)
    assert queries["q2"].relevance == {"d2": 1.0, "d3": 0.0}
    with pytest.raises(EvalDataError, match="--split"):
        load_beir_queries(folder, "train")


class CountingEmbedder(rag.HashingEmbedder):
    """The hashing embedder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__(256)
        self.embedded = 0

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed(texts)


def test_corpus_index_is_cached_by_content(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "beir")
    embedder, settings = CountingEmbedder(), rag.Settings()
    with open_corpus_index(folder / "corpus.jsonl", settings, embedder, cache_dir=tmp_path / "c") as base:
        assert base.stats()["documents"] == 3
        assert base.document("d1").text.startswith("Volcanoes\n\nLava")
    first = embedder.embedded
    with open_corpus_index(folder / "corpus.jsonl", settings, embedder, cache_dir=tmp_path / "c"):
        pass
    assert embedder.embedded == first  # only the queries of later runs get embedded
    with open_corpus_index(folder, settings, embedder, ["d1"], cache_dir=tmp_path / "c") as base:
        assert [info.source for info in base.documents()] == ["d1"]


def test_beir_evaluation_is_document_level(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    folder = write_beir(tmp_path / "beir")
    config = rag.EvalConfig(folder, cache_dir=tmp_path / "cache", mode="lexical")
    results = rag.evaluate(config, embedder=fake_embedder).to_dict()
    assert results["kind"] == "beir"
    assert results["aggregates"]["ndcg@10"] == 1.0
    assert results["aggregates"]["recall@100"] == 1.0
    assert {"hit@1", "mrr@10", "recall@10", "search_p50_ms"} <= set(results["aggregates"])
    assert results["rows"][0]["retrieved"][0] == "d1"


def seeds_like_questions(tmp_path: Path) -> Path:
    rows = [
        {"id": "1", "question": "What do glaciers carve?", "answers": ["valleys"], "sources": ["ice.txt"]},
        {"id": "2", "question": "What flows from volcanoes?", "answers": ["lava"], "sources": ["fire.txt"]},
        {"id": "3", "question": "Who won the chess final?", "answerable": False},
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_question_set_evaluation(tmp_path: Path, fake_base: rag.KnowledgeBase) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ice.txt").write_text("Glaciers are slow rivers of ice. Glaciers carve deep valleys.")
    (docs / "fire.txt").write_text("Lava flows from volcanoes. Volcanoes erupt molten rock.")
    fake_base.ingest([docs])
    config = rag.EvalConfig(seeds_like_questions(tmp_path), index=fake_base.folder, seed=3)
    result = rag.evaluate(config, embedder=fake_base.embedder)
    assert all(isinstance(row, rag.QuestionResult) for row in result.rows)
    results = result.to_dict()
    aggregates = results["aggregates"]
    assert aggregates["quote_validity"] == 1.0
    assert aggregates["hit@5"] == 1.0
    assert 0.0 <= aggregates["answer_f1"] <= 1.0
    assert {"answer_contains", "citation_in_source", "ask_p95_ms", "search_p50_ms"} <= set(aggregates)
    assert len(results["rows"]) == 3
    assert results["settings"]["llm_api_key"] == ""
    assert json.loads(json.dumps(results)) == results


def test_missing_sources_become_unanswerable(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    folder = write_beir(tmp_path / "beir")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "lava magma", "answers": ["lava"], "sources": ["d1"]})
        + "\n"
        + json.dumps({"id": "b", "question": "ice valleys", "answers": ["ice"], "sources": ["d2"]})
        + "\n"
    )
    config = rag.EvalConfig(
        questions,
        corpus=folder / "corpus.jsonl",
        corpus_include=("d1",),
        missing_sources_unanswerable=True,
        cache_dir=tmp_path / "cache",
    )
    results = rag.evaluate(config, embedder=fake_embedder).to_dict()
    assert [row["answerable"] for row in results["rows"]] == [True, False]


def test_empty_or_missing_index_is_a_clear_error(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    config = rag.EvalConfig(seeds_like_questions(tmp_path), index=tmp_path / "idx")
    with pytest.raises(rag.NotFoundError, match="no index"):
        rag.evaluate(config, embedder=fake_embedder)
    rag.open(tmp_path / "idx", embedder=fake_embedder).ingest([])
    with pytest.raises(EvalDataError, match="empty"):
        rag.evaluate(config, embedder=fake_embedder)


@pytest.mark.model
def test_seeds_question_set_smoke(seeds_base: rag.KnowledgeBase) -> None:
    config = rag.EvalConfig(EVAL_QUESTIONS / "seeds.jsonl", index=seeds_base.folder)
    results = rag.evaluate(config, embedder=seeds_base.embedder).to_dict()
    aggregates = results["aggregates"]
    assert aggregates["quote_validity"] == 1.0
    # Loose bounds: they catch a broken pipeline, not tuning changes (measured: 1.0, 0.81, 0.89, 1.0).
    assert aggregates["hit@5"] == 1.0
    assert aggregates["answer_contains"] >= 0.5
    assert aggregates["citation_in_source"] >= 0.7
    assert aggregates["refusal_recall"] >= 0.4


@pytest.mark.model
def test_docs_question_set_smoke(real_embedder: rag.Embedder, tmp_path: Path) -> None:
    docs = EVAL_QUESTIONS.parents[1] / "docs"
    config = rag.EvalConfig(EVAL_QUESTIONS / "docs.jsonl", corpus=docs, cache_dir=tmp_path)
    results = rag.evaluate(config, embedder=real_embedder).to_dict()
    aggregates = results["aggregates"]
    assert aggregates["quote_validity"] == 1.0
    assert aggregates["hit@5"] >= 0.7  # the docs are still being written: a loose bound


def test_first_citation_share_counts_only_the_first_quote_of_answered_questions() -> None:
    from rag.evaluation.scoring import CitationResult, QuestionResult, aggregate

    def cited(*holds: bool) -> tuple[CitationResult, ...]:
        return tuple(CitationResult("a.txt", 0, 1, "x", True, True, hold) for hold in holds)

    rows = [
        QuestionResult(
            "1", "q", ("a.txt",), (), 1.0, answerable=True, answered=True, citations=cited(True, False)
        ),
        QuestionResult(
            "2", "q", ("a.txt",), (), 1.0, answerable=True, answered=True, citations=cited(False, True)
        ),
        QuestionResult("3", "q", ("a.txt",), (), 1.0, answerable=True, answered=True, citations=cited(True)),
        QuestionResult("4", "q", ("a.txt",), (), 1.0, answerable=True, answered=False, citations=()),
        QuestionResult("5", "q", (), (), 1.0, answerable=False, answered=True, citations=cited(False)),
    ]
    values = aggregate(rows)
    assert values["first_citation_contains_answer"] == round(2 / 3, 4)
    assert values["citation_contains_answer"] == 0.6


def test_parts_count_only_when_each_has_an_answer_inside_one_quote() -> None:
    from rag.evaluation.metrics import parts_found

    quotes = ["Glaciers carve deep valleys.", "Lava flows from volcanoes."]
    assert parts_found(quotes, [["valleys"], ["lava", "magma"]]) == 2
    assert parts_found(quotes, [["valleys"], ["ash"]]) == 1
    assert parts_found(["deep"], [["deep valleys"]]) == 0


def test_compound_questions_are_scored_by_parts_and_reported_per_kind(
    tmp_path: Path, fake_base: rag.KnowledgeBase
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ice.txt").write_text("Glaciers are slow rivers of ice. Glaciers carve deep valleys.")
    (docs / "fire.txt").write_text("Lava flows from volcanoes. Volcanoes erupt molten rock.")
    fake_base.ingest([docs])
    rows = [
        {
            "id": "c1",
            "question": "What do glaciers carve, and what flows from volcanoes?",
            "answer_parts": [["valleys"], ["lava"]],
            "sources": ["ice.txt", "fire.txt"],
            "kind": "two-passages",
        },
        {
            "id": "c2",
            "question": "What do glaciers carve, and what do volcanoes erupt?",
            "answer_parts": [["valleys"], ["granite"]],
            "sources": ["ice.txt", "fire.txt"],
            "kind": "same-passage",
        },
    ]
    path = tmp_path / "compound.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    results = rag.evaluate(
        rag.EvalConfig(path, index=fake_base.folder), embedder=fake_base.embedder
    ).to_dict()
    by_id = {row["id"]: row for row in results["rows"]}
    assert by_id["c1"]["answer_parts"] == 1.0 and by_id["c1"]["kind"] == "two-passages"
    assert by_id["c2"]["answer_parts"] == 0.0 and by_id["c2"]["answer_part_share"] == 0.5
    assert results["aggregates"]["answer_parts"] == 0.5
    assert results["by_kind"]["two-passages"]["answer_parts"] == 1.0
    assert results["by_kind"]["same-passage"]["questions"] == 1.0
    assert "same-passage" in rag.format_eval_summary(results)
