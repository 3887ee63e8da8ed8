"""Plots, with matplotlib (Agg, no display): an evaluation run's PNGs, and the quality dashboard's SVGs.

The dashboard's charts are inline SVG with their text kept as text, so a page holding them is
one file, and a browser (or a test reading it) sees the numbers on the axes.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

OUTCOME_COLOURS = {
    "correct": "#2e7d32",
    "hit": "#2e7d32",
    "refused (correct)": "#66bb6a",
    "top10": "#f9a825",
    "answered, not found in answer": "#f9a825",
    "refused (wrongly)": "#ef6c00",
    "answered (should refuse)": "#c62828",
    "miss": "#c62828",
}

HELPFUL_COLOUR = "#2e7d32"
NOT_HELPFUL_COLOUR = "#c62828"
REFUSED_COLOUR = "#f9a825"
MAX_DAY_LABELS = 15


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported on first use: it is slow to load)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in an SVG
    import matplotlib.pyplot as plt

    return plt


def write_plots(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """metric_by_k.png, latency.png and outcomes.png (matplotlib with the Agg backend)."""
    plt = _pyplot()
    written = []
    curves = results.get("curves", {})
    if curves.get("hit@k"):
        figure, axes = plt.subplots(figsize=(6, 4))
        for name, curve in curves.items():
            axes.plot([int(k) for k in curve], list(curve.values()), marker="o", label=name)
        axes.set(xscale="log", ylim=(0, 1.02), xlabel="k (documents)", ylabel="fraction of questions")
        axes.set_title("Retrieval by k")
        axes.grid(alpha=0.3)
        axes.legend()
        written.append(_save(figure, out_dir / "metric_by_k.png", plt))
    timings = {
        name: [row[f"{name}_ms"] for row in results["rows"] if f"{name}_ms" in row]
        for name in ("search", "ask")
    }
    timings = {name: values for name, values in timings.items() if values}
    if timings:
        figure, axes = plt.subplots(figsize=(6, 4))
        for name, values in timings.items():
            axes.hist(values, bins=30, alpha=0.6, label=name)
        axes.set(xlabel="milliseconds", ylabel="questions", title="Latency distribution")
        axes.legend()
        written.append(_save(figure, out_dir / "latency.png", plt))
    counts = Counter(row["outcome"] for row in results["rows"])
    if counts:
        figure, axes = plt.subplots(figsize=(7, 0.5 * len(counts) + 1.5))
        labels = list(counts)
        colours = [OUTCOME_COLOURS.get(label, "#777777") for label in labels]
        axes.barh(labels, [counts[label] for label in labels], color=colours)
        axes.invert_yaxis()
        axes.set(xlabel="questions", title="Outcome per question")
        written.append(_save(figure, out_dir / "outcomes.png", plt))
    return written


def _save(figure: Any, path: Path, plt: Any) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _svg(figure: Any, plt: Any, title: str) -> str:
    """The figure as an inline <svg> element titled for screen readers."""
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if 0 <= start < end:  # the creation time and the tool's name: a page need not carry them
        text = text[:start] + text[end + len("</metadata>") :]
    return text.replace(">", f' role="img" aria-label="{title}">', 1)


def _day_ticks(axes: Any, days: list[str]) -> None:
    """Label at most MAX_DAY_LABELS of the days under the bars (a year of days is 365 bars)."""
    step = max(1, -(-len(days) // MAX_DAY_LABELS))
    axes.set_xticks(range(0, len(days), step), days[::step])


def questions_chart(by_day: dict[str, dict[str, int]]) -> str:
    """Questions per day, answered and refused stacked."""
    plt = _pyplot()
    days = list(by_day)
    answered = [by_day[day].get("answered", 0) for day in days]
    refused = [by_day[day].get("refused", 0) for day in days]
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    positions = range(len(days))
    axes.bar(positions, answered, color=HELPFUL_COLOUR, label="answered")
    axes.bar(positions, refused, bottom=answered, color=REFUSED_COLOUR, label="refused")
    _day_ticks(axes, days)
    axes.set(ylabel="questions", title="Questions per day")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=30)
    return _svg(figure, plt, "Questions per day, answered and refused")


def feedback_chart(by_day: dict[str, dict[str, int]]) -> str:
    """Ratings per day, helpful and not helpful side by side."""
    plt = _pyplot()
    days = list(by_day)
    positions = range(len(days))
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    helpful = [by_day[day].get("helpful", 0) for day in days]
    not_helpful = [by_day[day].get("not_helpful", 0) for day in days]
    axes.bar([x - 0.2 for x in positions], helpful, width=0.4, color=HELPFUL_COLOUR, label="helpful")
    axes.bar(
        [x + 0.2 for x in positions], not_helpful, width=0.4, color=NOT_HELPFUL_COLOUR, label="not helpful"
    )
    _day_ticks(axes, days)
    axes.set(ylabel="ratings", title="Feedback per day")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=30)
    return _svg(figure, plt, "Feedback per day, helpful and not helpful")


def documents_chart(cited: list[dict[str, Any]]) -> str:
    """The most asked-about documents: how many questions' answers cited each."""
    plt = _pyplot()
    names = [Path(item["source"]).name for item in cited]
    figure, axes = plt.subplots(figsize=(6.4, 0.35 * len(names) + 1.2))
    axes.barh(names, [item["questions"] for item in cited], color="#3949ab")
    axes.invert_yaxis()
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set(xlabel="questions citing it", title="Most asked-about documents")
    return _svg(figure, plt, "Most asked-about documents")


def history_chart(runs: list[dict[str, Any]]) -> str:
    """The evaluation metrics of each `rag eval` run over time, one line per dataset and metric."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    labels = [run["finished_at"][:16].replace("T", " ") for run in runs]
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for position, run in enumerate(runs):
        for metric, value in run["metrics"].items():
            series.setdefault((run["dataset"], metric), []).append((position, value))
    for (dataset, metric), points in series.items():
        axes.plot([x for x, _ in points], [y for _, y in points], marker="o", label=f"{dataset}: {metric}")
    axes.set_xticks(range(len(labels)), labels)
    axes.set(ylim=(0, 1.02), ylabel="fraction of questions", title="rag eval runs")
    axes.tick_params(axis="x", labelrotation=30)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="lower left")
    return _svg(figure, plt, "Evaluation metrics of each rag eval run over time")
