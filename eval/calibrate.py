"""Choose the extractive refusal settings on xquad, honestly.

Index articles 00-11 without every fifth paragraph; questions on articles 12-23 must be refused
(another topic), and so must questions on the held-back paragraphs (the right topic, but the
fact is not in the index: the harder case). The settings are tuned on questions from articles
00-05 and 12-17 and reported on 06-11 and 18-23:

- Settings.refusal_threshold: the best sentence's score below which the answer is refused;
- Settings.refusal_min_coverage and refusal_sure_score: an answer scoring below the sure score
  must come from a passage that holds at least that share of the question's term weight.

Each embedding model has its own rules (rag/answer/calibration.py), since its scores sit on
its own scale. `--languages` names the languages asked in their own language; `--across` the
languages whose articles are asked the English questions. `--two-fold` chooses, for each,
between its own rule and one pooled over all of them: each is fitted on one half of the
articles and scored on the other, both ways round, and a language keeps its own rule only
where that scores better; the rules printed at the end (for REFUSAL_RULES) are fitted on every
question. Languages a model does not cover are scored lexically: the threshold found for those,
subtracted from the model's, is what to add to LEXICAL_SCORE_SHIFT.
Run: .venv/bin/python -m eval.calibrate [--model NAME] [--languages en,de] [--across de,zh]
  [--two-fold] [--limit N] [--rows FILE | --from-rows FILE...] [--index-root DIR] [--backend onnx|torch]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rag
from eval.multilingual import CachedEmbedder, article, dataset_folder
from rag.embedding import covers_language, embed_query
from rag.evaluation import answer_contains, refusal_scores

DEFAULTS = rag.Settings()
MAX_QUOTES, QUOTE_MARGIN = DEFAULTS.max_quotes, DEFAULTS.quote_margin
THRESHOLDS = [round(0.25 + 0.01 * step, 2) for step in range(76)]
HELD_BACK_EVERY = 5  # paragraphs 0, 5, 10... of each indexed article stay out of the index


@dataclass(frozen=True)
class Rule:
    """A refusal rule: the three settings extractive answers use."""

    threshold: float
    min_coverage: float = 0.0
    sure_score: float = 10.0

    def quotes(self, row: dict) -> list[dict]:
        """The candidates this rule quotes, as extractive.py selects them (redundancy aside)."""
        evidence = [
            candidate
            for candidate in row["candidates"]
            if row["lexical"]
            or candidate["score"] >= self.sure_score
            or candidate["coverage"] >= self.min_coverage
        ]
        if not evidence or evidence[0]["score"] < self.threshold:
            return []
        floor = max(self.threshold, evidence[0]["score"] - QUOTE_MARGIN)
        return [candidate for candidate in evidence[:MAX_QUOTES] if candidate["score"] >= floor]

    def answers(self, row: dict) -> bool:
        """Whether this rule answers the row's question."""
        return bool(self.quotes(row))

    def contains(self, row: dict) -> bool:
        """Whether this rule's quotes hold an accepted answer."""
        return any(candidate["contains"] for candidate in self.quotes(row))


def held_back(source: str) -> bool:
    """A paragraph of an indexed article that is left out of the index."""
    return int(source.split("_")[1]) % HELD_BACK_EVERY == 0


def refusal_metrics(rows: list[dict], rule: Rule) -> dict[str, float]:
    answered = [rule.answers(row) for row in rows]
    scores = refusal_scores([not given for given in answered], [row["answerable"] for row in rows])
    answerable = [row for row, given in zip(rows, answered, strict=True) if row["answerable"]]
    contains = sum(rule.contains(row) for row in answerable)
    return {
        "threshold": rule.threshold,
        "min_coverage": rule.min_coverage,
        "sure_score": rule.sure_score,
        "refusal_precision": scores.get("refusal_precision", 1.0),
        "refusal_recall": scores.get("refusal_recall", 1.0),
        "answerable_answered": sum(map(rule.answers, answerable)) / max(1, len(answerable)),
        "answerable_answered_and_contains": contains / max(1, len(answerable)),
    }


def by_kind(rows: list[dict], rule: Rule) -> dict[str, dict[str, float]]:
    """The metrics against each kind of unanswerable question: another topic, a missing fact."""
    return {
        kind: refusal_metrics([row for row in rows if row["answerable"] or row["kind"] == kind], rule)
        for kind in ("other_topic", "missing_fact")
    }


@dataclass(frozen=True)
class Asked:
    """Which index the questions go to and in which language they are written."""

    corpus_language: str
    question_language: str
    ids: frozenset[str] | None = None  # None: every question

    @property
    def group(self) -> str:
        same = self.corpus_language == self.question_language
        return self.corpus_language if same else f"{self.question_language}>{self.corpus_language}"


def best_scores(asked: Asked, folder: Path, embedder: rag.Embedder) -> list[dict]:
    """Every question asked of an index of articles 00-11, never refusing."""
    # Every candidate sentence with its score and coverage: no refusal (a threshold of 0: Settings
    # refuses a negative one, and every threshold tried is above it), no margin, no quote limit.
    settings = rag.Settings(
        refusal_threshold=0.0, refusal_min_coverage=0.0, max_quotes=10_000, quote_margin=100.0
    )
    base = rag.open(folder, settings, embedder=embedder)
    if base.is_empty():
        items = []
        for line in (
            (dataset_folder(asked.corpus_language) / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        ):
            doc = json.loads(line)
            if article(doc["_id"]) < 12 and not held_back(doc["_id"]):
                items.append(rag.TextItem(doc["_id"], f"{doc['title']}\n\n{doc['text']}", doc["title"]))
        base.add_texts(items)
    questions = (dataset_folder(asked.question_language) / "questions.jsonl").read_text(encoding="utf-8")
    answers = {
        row["id"]: row["answers"]
        for row in map(
            json.loads,
            (dataset_folder(asked.corpus_language) / "questions.jsonl")
            .read_text(encoding="utf-8")
            .splitlines(),
        )
    }
    # A model that does not cover the language scores its sentences lexically, and extractive.py
    # applies no coverage rule to those scores.
    # Nor to a question in another language than the passage: they share no words to cover.
    lexical = not covers_language(embedder, asked.corpus_language) or ">" in asked.group
    rows: list[dict] = []
    for line in questions.splitlines():
        question = json.loads(line)
        if asked.ids is not None and question["id"] not in asked.ids:
            continue
        answer = base.ask(question["question"])
        cosines = similarities(embedder, question["question"], [item.quote.text for item in answer.citations])
        if len(rows) % 50 == 49:
            print(f"{asked.group}: {len(rows) + 1} questions asked", file=sys.stderr, flush=True)
        source = question["sources"][0]
        rows.append(
            {
                "group": asked.group,
                "article": article(source),
                "answerable": article(source) < 12 and not held_back(source),
                "kind": "other_topic" if article(source) >= 12 else "missing_fact",
                "lexical": lexical,
                "candidates": [
                    {
                        "score": citation.score,
                        # The parts eval.sentence_weights re-weighs: the passage's rank and the
                        # cosine of question and quote.
                        "rank": citation.passage_rank,
                        "similarity": cosine,
                        "coverage": citation.coverage if citation.coverage is not None else 1.0,
                        # Quotes come from the document: its language's answers are the gold.
                        "contains": bool(answer_contains(citation.quote.text, answers[question["id"]])),
                    }
                    for citation, cosine in zip(answer.citations, cosines, strict=True)
                ],
            }
        )
    base.close()
    return rows


def similarities(embedder: rag.Embedder, question: str, texts: list[str]) -> list[float]:
    """The cosines of a question and its quoted sentences (each embedded once by the cached embedder)."""
    if not texts:
        return []
    return [float(value) for value in embedder.embed(texts) @ embed_query(embedder, question)]


def balanced(rows: list[dict], rule: Rule) -> float:
    """Refusal recall plus the share of answerable questions answered: what the rule is tuned for."""
    answerable = [row for row in rows if row["answerable"]]
    wrongly_refused = sum(1 for row in answerable if not rule.answers(row))
    return refusal_metrics(rows, rule)["refusal_recall"] + (1 - wrongly_refused / max(1, len(answerable)))


def tuned(rows: list[dict], lexical: bool) -> Rule:
    """The rule that scores best on these rows (a threshold alone for lexical scores)."""
    rules = [
        Rule(threshold, coverage, sure)
        for threshold in THRESHOLDS
        for coverage in ((0.0,) if lexical else (0.0, 0.1, 0.2, 0.3, 0.4, 0.5))
        for sure in (0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 10.0)
        if coverage > 0 or sure == 10.0
    ]
    return max(rules, key=lambda rule: balanced(rows, rule))


def table_entry(model: str, chosen: dict[str, Rule]) -> str:
    """The rules as lines of REFUSAL_RULES."""
    lines = [f'    "{model}": {{']
    for key, rule in chosen.items():
        name = {"*": "ANY_LANGUAGE", "across": "ACROSS_LANGUAGES"}.get(key, f'"{key}"')
        if key.startswith("across:"):
            name = f'f"{{ACROSS_LANGUAGES}}:{key.split(":")[1]}"'

        lines.append(
            f"        {name}: RefusalRule({rule.threshold}, {rule.min_coverage}, {rule.sure_score}),"
        )
    return "\n".join([*lines, "    },"])


def question_ids(limit: int | None, seed: int) -> frozenset[str] | None:
    """The sampled question ids (the same in every language), or None for all of them."""
    if limit is None:
        return None
    lines = (dataset_folder("en") / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ids = sorted(json.loads(line)["id"] for line in lines)
    return frozenset(random.Random(seed).sample(ids, min(limit, len(ids))))


def report(
    model: str, groups: dict[str, list[dict]], pooled_keys: Sequence[tuple[str, Sequence[str]]]
) -> dict:
    """Per group: the rule tuned on it, and the held-out metrics of that rule and of today's table."""
    out: dict = {"model": model, "groups": {}}
    for group, rows in groups.items():
        tune = [row for row in rows if row["article"] % 12 < 6]
        test = [row for row in rows if row["article"] % 12 >= 6]
        lexical = rows[0]["lexical"]
        chosen = tuned(tune, lexical)
        language = group.split(">")[-1]
        now = rag.refusal_rule(DEFAULTS, model, language, across=">" in group)
        current = Rule(now.threshold, now.min_coverage, now.sure_score)
        out["groups"][group] = {
            "questions": len(rows),
            "chosen": refusal_metrics(tune, chosen),
            "held_out_chosen": refusal_metrics(test, chosen),
            "held_out_chosen_by_kind": by_kind(test, chosen),
            "held_out_current": refusal_metrics(test, current),
        }
    for name, keys in pooled_keys:
        rows = [row for key in keys for row in groups[key]]
        if not rows:
            continue
        tune = [row for row in rows if row["article"] % 12 < 6]
        chosen = tuned(tune, rows[0]["lexical"])
        out[f"pooled {name}"] = {
            "chosen": refusal_metrics(tune, chosen),
            "held_out_by_group": {
                key: refusal_metrics([row for row in groups[key] if row["article"] % 12 >= 6], chosen)
                for key in keys
            },
        }
    return out


def halves(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Questions on articles 00-05/12-17, and on 06-11/18-23."""
    return [row for row in rows if row["article"] % 12 < 6], [row for row in rows if row["article"] % 12 >= 6]


def crossed(rows: list[dict], rules: tuple[Rule, Rule]) -> dict[str, float]:
    """The metrics of each half under the rule fitted on the other half, averaged."""
    first, second = halves(rows)
    scored = [refusal_metrics(second, rules[0]), refusal_metrics(first, rules[1])]
    return {
        name: (scored[0][name] + scored[1][name]) / 2
        for name in scored[0]
        if "refusal" in name or "answer" in name
    }


def two_fold(groups: dict[str, list[dict]], keys: Sequence[str]) -> tuple[dict, dict[str, Rule]]:
    """Whether each language is better refused by its own rule or by the one of all languages pooled.

    Each way is fitted on one half of the articles and scored on the other, both ways round; a
    language keeps its own rule only where that scores better. The rules returned are then
    fitted on every question: the pooled one, and each own one that won.
    """
    lexical = groups[keys[0]][0]["lexical"]
    pooled = (
        tuned([row for key in keys for row in halves(groups[key])[0]], lexical),
        tuned([row for key in keys for row in halves(groups[key])[1]], lexical),
    )
    scores: dict = {}
    rules: dict[str, Rule] = {"*": tuned([row for key in keys for row in groups[key]], lexical)}
    for key in keys:
        own = (tuned(halves(groups[key])[0], lexical), tuned(halves(groups[key])[1], lexical))
        scores[key] = {"own": crossed(groups[key], own), "pooled": crossed(groups[key], pooled)}
        objective = {
            way: metrics["refusal_recall"] + metrics["answerable_answered"]
            for way, metrics in scores[key].items()
        }
        scores[key]["kept"] = "own" if objective["own"] > objective["pooled"] else "pooled"
        if scores[key]["kept"] == "own":
            rules[key] = tuned(groups[key], lexical)
    return scores, rules


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=rag.DEFAULT_MODEL, help="embedding model")
    parser.add_argument("--languages", default="en", help="comma-separated: each tuned on its own")
    parser.add_argument("--across", default="", help="comma-separated: English questions over these")
    parser.add_argument("--limit", type=int, default=None, help="questions sampled per language (all: 632)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-root", type=Path, default=None, help="one index folder per language here")
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None, help="embedding backend")
    parser.add_argument("--rows", type=Path, default=None, help="also write every row here (JSON)")
    parser.add_argument("--two-fold", action="store_true", help="choose per language or pooled by two folds")
    parser.add_argument(
        "--from-rows", type=Path, nargs="*", default=[], help="report on rows written before, asking nothing"
    )
    args = parser.parse_args()
    root = args.index_root or Path(tempfile.mkdtemp())
    ids = question_ids(args.limit, args.seed)
    embedder = CachedEmbedder(rag.make_embedder(args.model, backend=args.backend))
    languages = [code for code in args.languages.split(",") if code]
    across = [code for code in args.across.split(",") if code]
    asked = [Asked(code, code, ids) for code in languages] + [Asked(code, "en", ids) for code in across]
    groups: dict[str, list[dict]] = {}
    for path in args.from_rows:
        groups |= json.loads(path.read_text())
    for group, rows in groups.items():
        for row in rows:  # rows written before questions across languages were exempt from coverage
            row["lexical"] = row["lexical"] or ">" in group
    for item in [] if args.from_rows else asked:
        folder = root / f"xquad-{item.corpus_language}-00-11-{args.model.rsplit('/', 1)[-1]}"
        groups[item.group] = best_scores(item, folder, embedder)
        print(f"asked {item.group}: {len(groups[item.group])} questions", file=sys.stderr, flush=True)
        if args.rows:  # after each group: a run cut short keeps what it asked
            args.rows.write_text(json.dumps(groups))
    pooled = [("same-language", languages), ("across", [Asked(code, "en").group for code in across])]
    results = report(args.model, groups, pooled)
    print(json.dumps(results, indent=2))
    chosen = {"*": _rule(results["pooled same-language"]["chosen"])} if languages else {}
    if args.two_fold and languages:
        scores, chosen = two_fold(groups, languages)
        print(json.dumps({"two_fold": scores}, indent=2))
    if args.two_fold and across:
        scores, rules = two_fold(groups, [Asked(code, "en").group for code in across])
        print(json.dumps({"two_fold_across": scores}, indent=2))
        chosen |= {
            "across" + (f":{key.split('>')[-1]}" if key != "*" else ""): rule for key, rule in rules.items()
        }
    elif across:
        chosen["across"] = _rule(results["pooled across"]["chosen"])
    print(table_entry(args.model.rsplit("/", 1)[-1], chosen))


def _rule(metrics: dict[str, float]) -> Rule:
    return Rule(metrics["threshold"], metrics["min_coverage"], metrics["sure_score"])


if __name__ == "__main__":
    main()
