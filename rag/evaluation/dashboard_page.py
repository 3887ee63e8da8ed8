"""The quality dashboard as HTML: headline numbers, inline SVG charts and tables.

`dashboard_html` is the fragment the UI's Quality tab shows; `report_page` wraps it in a whole
page for `rag report --out report.html` (one file: its charts are inline SVG, nothing is fetched).
"""

from __future__ import annotations

from html import escape
from typing import Any

from rag.evaluation import plots

TABLE_DAYS = 31  # rows of the questions-per-day table; the chart shows every day
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #222; padding: 0 1rem; }
#dashboard h2 { margin-top: 2rem; font-size: 1.2rem; }
.dashboard-totals { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0; }
.dashboard-totals div { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 0.9rem; min-width: 8rem; }
.dashboard-totals dt { font-size: 0.8rem; color: #555; }
.dashboard-totals dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
#dashboard table { border-collapse: collapse; margin: 0.5rem 0; }
#dashboard td, #dashboard th { border-bottom: 1px solid #eee; padding: 0.25rem 0.6rem; text-align: left; }
#dashboard td.num { text-align: right; font-variant-numeric: tabular-nums; }
#dashboard svg { max-width: 100%; height: auto; }
.hint { color: #666; }
"""


def dashboard_html(values: dict[str, Any]) -> str:
    """The dashboard fragment: totals, then each section with its chart and table."""
    parts = [_totals(values), _questions(values), _feedback(values), _slowest(values)]
    parts += [_documents(values), _history(values)]
    return "<div id='dashboard'>" + "".join(parts) + "</div>"


def report_page(values: dict[str, Any]) -> str:
    """A whole HTML page of the dashboard (`rag report`)."""
    indexes = ", ".join(values["indexes"])
    since = f" since {values['since']}" if values["since"] else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Verbatim quality report</title><style>{_STYLE}</style></head><body>"
        f"<h1>Verbatim quality report</h1><p class='hint'>{escape(indexes)}{escape(since)}</p>"
        f"{dashboard_html(values)}</body></html>\n"
    )


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _totals(values: dict[str, Any]) -> str:
    feedback = values["feedback"]
    median = values["median_latency_ms"]
    cells = [
        ("questions", "Questions asked", f"{values['questions']:,}"),
        ("answered-share", "Answered", _share(values["answered_share"])),
        ("refused", "Refused", f"{values['refused']:,}"),
        ("median-latency", "Median time", "–" if median is None else f"{median:,.0f} ms"),
        ("feedback", "Feedback given", f"{feedback['feedback']:,}"),
        ("feedback-rate", "Questions rated", _share(values["feedback_rate"])),
        ("helpful-share", "Rated helpful", _share(feedback["helpful_share"])),
        ("never-cited", "Documents never cited", f"{values['never_cited_count']} of {values['documents']}"),
    ]
    items = "".join(
        f"<div><dt>{label}</dt><dd id='dash-{key}'>{escape(shown)}</dd></div>" for key, label, shown in cells
    )
    return f"<dl class='dashboard-totals'>{items}</dl>"


def _questions(values: dict[str, Any]) -> str:
    if not values["questions"]:
        return (
            "<h2>Questions</h2><p class='hint'>No questions logged yet: the log keeps what is asked in the"
            " chat, over the API, MCP and `rag ask` (unless RAG_LOG_QUESTIONS=0).</p>"
        )
    rows = "".join(
        f"<tr><td>{escape(day)}</td><td class='num'>{counts.get('answered', 0)}</td>"
        f"<td class='num'>{counts.get('refused', 0)}</td></tr>"
        for day, counts in list(values["questions_by_day"].items())[-TABLE_DAYS:]
    )
    shown = len(values["questions_by_day"])
    days_note = f" (the last {TABLE_DAYS} of {shown} days)" if shown > TABLE_DAYS else ""
    channels = ", ".join(f"{escape(name or 'python')} {count}" for name, count in values["channels"].items())
    return (
        f"<h2>Questions</h2>{plots.questions_chart(values['questions_by_day'])}"
        "<table id='dash-days'><thead><tr><th>Day</th><th>Answered</th><th>Refused</th></tr></thead>"
        f"<tbody>{rows}</tbody></table><p class='hint'>By channel: {channels}.{days_note}</p>"
    )


def _feedback(values: dict[str, Any]) -> str:
    feedback = values["feedback"]
    if not feedback["feedback"]:
        return (
            "<h2>Feedback</h2><p class='hint'>No feedback yet: rate an answer with the thumbs under it.</p>"
        )
    head = (
        f"<p id='dash-ratings'>{feedback['feedback']} feedback: {feedback['helpful']} helpful, {feedback['not_helpful']} not helpful,"
        f" {feedback['unrated']} unrated; {feedback['corrected']} with a corrected answer or source.</p>"
    )
    flagged = "".join(
        f"<tr><td>{escape(item['source'])}</td><td class='num'>{item['flags']}</td></tr>"
        for item in feedback["most_flagged_documents"]
    )
    stale = "".join(
        f"<li>{escape(item['source'])}: {escape(item['state'])} since feedback {escape(item['feedback_id'])}</li>"
        for item in feedback["stale_citations"]
    )
    parts = [f"<h2>Feedback</h2>{head}"]
    if feedback["by_day"]:
        parts.append(plots.feedback_chart(feedback["by_day"]))
    if flagged:
        parts.append(
            "<h3>Most flagged documents</h3><table id='dash-flagged'><thead><tr><th>Document</th>"
            f"<th>Flags</th></tr></thead><tbody>{flagged}</tbody></table>"
        )
    if stale:
        parts.append(f"<h3>Citations whose document changed since</h3><ul id='dash-stale'>{stale}</ul>")
    return "".join(parts)


def _slowest(values: dict[str, Any]) -> str:
    if not values["slowest_questions"]:
        return ""
    rows = "".join(
        f"<tr><td>{escape(item['question'])}</td><td class='num'>{item['latency_ms']:,.0f} ms</td>"
        f"<td>{'answered' if item['answered'] else 'refused'}</td><td>{escape(item['channel'])}</td>"
        f"<td>{escape(item['asked_at'])}</td></tr>"
        for item in values["slowest_questions"]
    )
    return (
        "<h2>Slowest questions</h2><table id='dash-slowest'><thead><tr><th>Question</th><th>Time</th>"
        f"<th>Outcome</th><th>Channel</th><th>Asked</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _documents(values: dict[str, Any]) -> str:
    parts = ["<h2>Documents</h2>"]
    cited = values["most_cited_documents"]
    if cited:
        rows = "".join(
            f"<tr><td>{escape(item['source'])}</td><td class='num'>{item['questions']}</td></tr>"
            for item in cited
        )
        parts.append(plots.documents_chart(cited))
        parts.append(
            "<table id='dash-cited'><thead><tr><th>Most asked-about document</th><th>Questions citing it</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    never = values["never_cited_documents"]
    if never:
        more = values["never_cited_count"] - len(never)
        items = "".join(f"<li>{escape(source)}</li>" for source in never)
        tail = f"<p class='hint'>and {more} more</p>" if more > 0 else ""
        parts.append(
            f"<h3>Never cited ({values['never_cited_count']} of {values['documents']})</h3>"
            f"<ul id='dash-uncited'>{items}</ul>{tail}"
        )
    return "".join(parts) if len(parts) > 1 else ""


def _history(values: dict[str, Any]) -> str:
    runs = values["eval_runs"]
    if not runs:
        return (
            "<h2>Evaluation runs</h2><p class='hint'>No `rag eval --out DIR` results found"
            " (give their folders: `rag report --runs DIR`, or RAG_EVAL_RUNS for the UI).</p>"
        )
    names = list(dict.fromkeys(name for run in runs for name in run["metrics"]))
    header = "".join(f"<th>{escape(name)}</th>" for name in names)
    rows = "".join(
        f"<tr><td>{escape(run['finished_at'])}</td><td>{escape(run['dataset'])}</td>"
        f"<td class='num'>{run['questions']}</td>"
        + "".join(
            f"<td class='num'>{run['metrics'][name]:.3f}</td>" if name in run["metrics"] else "<td></td>"
            for name in names
        )
        + "</tr>"
        for run in runs
    )
    return (
        f"<h2>Evaluation runs</h2>{plots.history_chart(runs)}<table id='dash-runs'><thead><tr><th>Finished</th>"
        f"<th>Set</th><th>Questions</th>{header}</tr></thead><tbody>{rows}</tbody></table>"
    )
