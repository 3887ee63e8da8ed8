"""Evaluation output: the terminal summary, results.json, report.md (with plots.py's PNGs) and comparisons."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rag.evaluation.plots import write_plots
from rag.evaluation.runner import EvalResult

# Lower is better for these; every other aggregate is a fraction where higher is better.
LOWER_IS_BETTER_SUFFIX = "_ms"
LOWER_IS_BETTER_FRACTIONS = frozenset({"unsupported_sentence_share"})
FRACTION_TOLERANCE = 0.01
LATENCY_TOLERANCE = 0.25  # relative: timings on a shared laptop vary by tens of percent


def results_document(results: EvalResult | dict[str, Any]) -> dict[str, Any]:
    """The results.json form of a run (an EvalResult, or a results.json already loaded)."""
    return results.to_dict() if isinstance(results, EvalResult) else results


def format_eval_summary(results: EvalResult | dict[str, Any]) -> str:
    """The aggregates as an aligned two-column table, with what was evaluated on top."""
    results = results_document(results)
    counts = Counter(row["outcome"] for row in results["rows"])
    lines = [
        f"{results['kind']} evaluation of {results['dataset']} on {results['index']}",
        f"{len(results['rows'])} questions in {results['seconds']:.1f}s; "
        f"mode {results['settings']['retrieval_mode']}, answer mode {results['settings']['answer_mode']}, "
        f"top_k {results['settings']['top_k']}, refusal_threshold {_threshold(results['settings'])}",
        "",
        f"{'metric':<26}{'value':>10}",
    ]
    for name, value in results["aggregates"].items():
        shown = f"{value:.1f}" if name.endswith(LOWER_IS_BETTER_SUFFIX) else f"{value:.3f}"
        lines.append(f"{name:<26}{shown:>10}")
    lines += _kind_lines(results.get("by_kind") or {})
    lines += ["", "outcomes: " + ", ".join(f"{label} {count}" for label, count in counts.most_common())]
    return "\n".join(lines)


KIND_METRICS = ("answer_parts", "answer_part_share", "answer_contains", "answered_rate", "quote_validity")


def _kind_lines(kinds: dict[str, dict[str, float]], markdown: bool = False) -> list[str]:
    """The per-kind table: questions and the answer metrics of each kind of question."""
    if not kinds:
        return []
    names = [name for name in KIND_METRICS if any(name in values for values in kinds.values())]
    if markdown:
        lines = ["", "| kind | questions | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    else:
        lines = ["", f"{'kind':<18}{'questions':>10}" + "".join(f"{name[:17]:>18}" for name in names)]
    for kind, values in kinds.items():
        cells = [f"{values[name]:.3f}" if name in values else "-" for name in names]
        count = int(values.get("questions", 0))
        if markdown:
            lines.append(f"| {kind} | {count} | " + " | ".join(cells) + " |")
        else:
            lines.append(f"{kind:<18}{count:>10}" + "".join(f"{cell:>18}" for cell in cells))
    return lines


def write_eval_results(results: EvalResult | dict[str, Any], out_dir: Path) -> list[Path]:
    """Write results.json, report.md and the PNG plots into out_dir; return the paths written."""
    results = results_document(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plots = write_plots(results, out_dir)
    report_path = out_dir / "report.md"
    report_path.write_text(markdown_report(results, [plot.name for plot in plots]), encoding="utf-8")
    return [results_path, report_path, *plots]


def markdown_report(results: dict[str, Any], plot_names: list[str]) -> str:
    """A short Markdown report: what ran, the metrics table, the plots, and the worst questions."""
    settings, environment = results["settings"], results["environment"]
    lines = [
        f"# Evaluation: {Path(results['dataset']).name}",
        "",
        f"- dataset: `{results['dataset']}` ({results['kind']}, {len(results['rows'])} questions)",
        f"- index: `{results['index']}` ({results['index_stats']['documents']} documents, "
        f"{results['index_stats']['chunks']} chunks, {results['index_stats']['embedding_model']})",
        f"- retrieval mode `{settings['retrieval_mode']}`, answer mode `{settings['answer_mode']}`, "
        f"top_k {settings['top_k']}, refusal_threshold {_threshold(settings)}",
        f"- run: {results['seconds']:.1f}s, {environment['finished_at']}, commit {environment['git_commit']}, "
        f"python {environment['python']}, {environment['cpus']} CPUs",
        "",
        "| metric | value |",
        "|---|---:|",
    ]
    for name, value in results["aggregates"].items():
        lines.append(f"| {name} | {value:.1f} |" if name.endswith("_ms") else f"| {name} | {value:.3f} |")
    lines += _kind_lines(results.get("by_kind") or {}, markdown=True)
    lines.append("")
    lines += [f"![{name}]({name})" for name in plot_names]
    failures = [row for row in results["rows"] if row["outcome"] not in GOOD_OUTCOMES]
    if failures:
        lines += [
            "",
            "## Questions that went wrong (first 20)",
            "",
            "| id | question | outcome |",
            "|---|---|---|",
        ]
        for row in failures[:20]:
            question = row["question"].replace("|", "\\|")[:120]
            lines.append(f"| {row['id']} | {question} | {row['outcome']} |")
    return "\n".join(lines) + "\n"


def compare_eval_results(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, list[str]]:
    """A table of the aggregates of two runs and the names of metrics that got worse."""
    old, new = before["aggregates"], after["aggregates"]
    lines = [f"{'metric':<26}{'A':>10}{'B':>10}{'change':>10}"]
    regressions = []
    for name in [*old, *(name for name in new if name not in old)]:
        if name not in old or name not in new:
            shown_old = f"{old[name]:.3f}" if name in old else "-"
            shown_new = f"{new[name]:.3f}" if name in new else "-"
            lines.append(f"{name:<26}{shown_old:>10}{shown_new:>10}{'':>10}")
            continue
        change = new[name] - old[name]
        flag = "  REGRESSION" if is_regression(name, old[name], new[name]) else ""
        if flag:
            regressions.append(name)
        lines.append(f"{name:<26}{old[name]:>10.3f}{new[name]:>10.3f}{change:>+10.3f}{flag}")
    old_settings, new_settings = before.get("settings", {}), after.get("settings", {})
    if old_settings != new_settings:
        changed = [
            f"{key}: {old_settings.get(key)!r} -> {new_settings.get(key)!r}"
            for key in sorted(set(old_settings) | set(new_settings))
            if old_settings.get(key) != new_settings.get(key)
        ]
        lines += ["", "settings changed: " + "; ".join(changed)]
    fixed, broken = question_changes(before, after)
    if fixed or broken:
        lines += ["", f"questions: {len(fixed)} fixed, {len(broken)} regressed (same id, outcome changed)"]
        lines += [f"  fixed      {item}" for item in fixed[:SHOWN_CHANGES]]
        lines += [f"  REGRESSED  {item}" for item in broken[:SHOWN_CHANGES]]
        regressions += [f"question {item.split(':')[0]}" for item in broken]
    return "\n".join(lines), regressions


# Outcomes that count as a question answered right (questions.jsonl and BEIR rows).
GOOD_OUTCOMES = frozenset({"correct", "hit", "refused (correct)"})
SHOWN_CHANGES = 20


def question_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """('id: question' of the questions right in B that were wrong in A, and of those wrong in B that
    were right in A); rows to review (not scored) count as neither."""
    old = {row["id"]: row for row in before.get("rows", ()) if not row.get("review")}
    fixed: list[str] = []
    broken: list[str] = []
    for row in after.get("rows", ()):
        earlier = old.get(row["id"])
        if earlier is None or row.get("review"):
            continue
        was, now = earlier["outcome"] in GOOD_OUTCOMES, row["outcome"] in GOOD_OUTCOMES
        if was != now:
            (fixed if now else broken).append(f"{row['id']}: {row['question']}")
    return fixed, broken


def is_regression(name: str, old: float, new: float) -> bool:
    """Worse by more than the tolerance: 0.01 absolute for fractions, 25% for timings."""
    if name.endswith(LOWER_IS_BETTER_SUFFIX):
        return new > old * (1 + LATENCY_TOLERANCE) and new - old > 1.0
    if name in LOWER_IS_BETTER_FRACTIONS:
        return new > old + FRACTION_TOLERANCE
    return new < old - FRACTION_TOLERANCE


def _threshold(settings: dict) -> str:
    """The refusal threshold a run was given, or that the model's calibrated one was used."""
    value = settings.get("refusal_threshold")
    return "as calibrated for the model" if value is None else str(value)
