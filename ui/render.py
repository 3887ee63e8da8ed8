"""Turn answers, passages and documents into inert HTML: every document-derived string is escaped."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence

import rag
import rag.sources
from rag.display import format_bytes

QUOTE_CONTEXT_CHARS = 300
_MARKER = re.compile(r"\[(\d+)\]")
# Gradio's HTML component runs values through JS-template and Handlebars substitution, so the
# characters those treat specially are escaped too, not only HTML's.
_EXTRA_ESCAPES = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;", "\\": "&#92;"})

DocumentLoader = Callable[[str], rag.Document]


def escape(text: object) -> str:
    """Text made safe to place inside HTML element content or a quoted attribute."""
    return html.escape(str(text), quote=True).translate(_EXTRA_ESCAPES)


def highlight(text: str, start: int, end: int, mark_id: str = "") -> str:
    """Escaped text with [start, end) wrapped in a <mark>."""
    start, end = max(0, start), min(len(text), end)
    attribute = f' id="{escape(mark_id)}"' if mark_id else ""
    return (
        f"{escape(text[:start])}<mark class='quote'{attribute}>{escape(text[start:end])}</mark>"
        f"{escape(text[end:])}"
    )


def _markers(text: str, turn: int) -> str:
    """Escaped answer text whose [n] markers become buttons that open citation n."""
    pieces, last = [], 0
    for match in _MARKER.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        number = match.group(1)
        pieces.append(
            f"<button class='cite cite-{turn}-{number}' title='Open source {number}'>[{number}]</button>"
        )
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def answer_html(answer: rag.Answer, turn: int, is_final: bool) -> str:
    """One assistant message: quotes with clickable [n], sentence support, refusal and notices."""
    # Gradio's chat sanitiser drops data-* attributes, so state and targets travel in class names.
    state = "final" if is_final else "partial"
    refused = "" if answer.answered else " refused"
    parts = [f"<div class='answer {state}{refused} turn-{turn}'>"]
    if answer.parts:
        parts.extend(_part_html(part, turn, is_final) for part in answer.parts)
    elif not answer.answered:
        parts.append(f"<p class='refusal' dir='auto'>{escape(answer.text)}</p>")
        if answer.passages:
            parts.append("<p class='hint'>The closest passages are listed under Sources.</p>")
    elif answer.sentences:
        parts.append(f"<div class='answer-text' dir='auto'>{_supported_sentences(answer, turn)}</div>")
    else:
        parts.append(f"<div class='answer-text' dir='auto'>{_markers(answer.text, turn)}</div>")
    if answer.computation is not None and answer.answered:
        parts.append(
            "<p class='computed'>Computed from the quoted rows, not a quote: "
            f"<span class='formula' dir='auto'>{_markers(answer.computation.formula, turn)}</span></p>"
        )
    if answer.mode == "llm" and answer.answered and is_final:
        parts.append(
            "<p class='notice'>Written by a language model; each sentence checked against the passages.</p>"
        )
    if answer.notice:
        parts.append(f"<p class='notice'>{escape(answer.notice)}</p>")
    if is_final and not answer.parts and answer.query and answer.query.strip() != answer.question.strip():
        parts.append(f"<p class='query-used'>Searched for: <q dir='auto'>{escape(answer.query)}</q></p>")
    parts.append("</div>")
    return "".join(parts)


def _part_html(part: rag.AnswerPart, turn: int, is_final: bool) -> str:
    """One ask of a compound question: the ask, its quotes with clickable [n] (or its refusal),
    and the query it was searched with when that differs from the ask."""
    state = "" if part.answered else " refused"
    body = (
        f"<div class='answer-text' dir='auto'>{_markers(part.text, turn)}</div>"
        if part.answered
        else f"<p class='refusal' dir='auto'>{escape(part.text)}</p>"
    )
    searched = ""
    if is_final and part.query and part.query.strip() != part.question.strip():
        searched = f"<p class='query-used'>Searched for: <q dir='auto'>{escape(part.query)}</q></p>"
    return (
        f"<div class='answer-part{state}'><p class='part-question' dir='auto'>{escape(part.question)}</p>"
        f"{body}{searched}</div>"
    )


def _supported_sentences(answer: rag.Answer, turn: int) -> str:
    """The answer text with each checked sentence styled by its support; markers and the
    still-streaming tail are rendered where they stand in the text."""
    pieces, cursor = [], 0
    for sentence in answer.sentences:
        found = answer.text.find(sentence.text, cursor)
        if found < 0 or not sentence.text:
            continue
        pieces.append(_markers(answer.text[cursor:found], turn))
        css = "sentence supported" if sentence.is_supported else "sentence unsupported"
        tip = "" if sentence.is_supported else " title='Not supported by the retrieved passages'"
        pieces.append(f"<span class='{css}'{tip}>{escape(sentence.text)}</span>")
        cursor = found + len(sentence.text)
    pieces.append(_markers(answer.text[cursor:], turn))
    return "".join(pieces)


def question_html(question: str) -> str:
    """One user message, escaped."""
    return f"<div class='question' dir='auto'>{escape(question)}</div>"


def place_html(title: str, source: str, place: str) -> str:
    name = source.rsplit("/", 1)[-1]
    place_text = f" · {escape(place)}" if place else ""
    heading = "" if title in ("", source, name, name.rsplit(".", 1)[0]) else title
    title_html = f"<div class='source-title' dir='auto'>{escape(heading)}</div>" if heading else ""
    return f"{title_html}<div class='source-file' title='{escape(source)}'>{escape(name)}{place_text}</div>"


def passage_for(answer: rag.Answer, citation: rag.Citation) -> rag.Passage | None:
    """The retrieved passage a citation's quote came from."""
    return next((passage for passage in answer.passages if passage.rank == citation.passage_rank), None)


def quote_in_context(citation: rag.Citation, passage: rag.Passage | None, load: DocumentLoader) -> str:
    """The citing passage with its quote highlighted, or a window of the document around it."""
    quote = citation.quote
    if (
        passage is not None
        and passage.document_id == quote.document_id
        and passage.start <= quote.start
        and quote.end <= passage.end
    ):
        return highlight(passage.text, quote.start - passage.start, quote.end - passage.start)
    text = load(quote.document_id).text
    window_start = max(0, quote.start - QUOTE_CONTEXT_CHARS)
    window_end = min(len(text), quote.end + QUOTE_CONTEXT_CHARS)
    window = text[window_start:window_end]
    body = highlight(window, quote.start - window_start, quote.end - window_start)
    return ("… " if window_start else "") + body + (" …" if window_end < len(text) else "")


def sources_html(
    answer: rag.Answer | None, turn: int, load: DocumentLoader, thumbnails: Mapping[int, str] | None = None
) -> str:
    """The Sources panel: each citation with its highlighted quote (under a thumbnail of it on its
    page, HTML by citation number, for PDFs and pictures), or the closest passages."""
    if answer is None:
        return "<div class='sources empty'>Sources of the latest answer appear here.</div>"
    parts = ["<div class='sources'>"]
    for citation in answer.citations:
        context = quote_in_context(citation, passage_for(answer, citation), load)
        parts.append(
            f"<div class='source' data-number='{citation.number}'>"
            f"<button class='cite source-number cite-{turn}-{citation.number}'"
            f" title='Open in the document viewer'>[{citation.number}]</button>"
            f"{place_html(citation.title, citation.source, citation.place)}"
            f"{_instructions_flag(passage_for(answer, citation))}"
            f"{(thumbnails or {}).get(citation.number, '')}"
            f"<blockquote class='passage' dir='auto'>{context}</blockquote></div>"
        )
    if not answer.citations and answer.passages:
        parts.append("<div class='sources-heading'>Closest passages (not enough to answer)</div>")
        for passage in answer.passages:
            parts.append(
                f"<div class='source closest'>{place_html(passage.title, passage.source, passage.place)}"
                f"{_instructions_flag(passage)}<blockquote class='passage' dir='auto'>{escape(passage.text)}</blockquote></div>"
            )
    if not answer.citations and not answer.passages:
        parts.append("<div class='sources empty'>No passages were found.</div>")
    parts.append("</div>")
    return "".join(parts)


def _instructions_flag(passage: rag.Passage | None) -> str:
    if passage is None or not passage.contains_instructions:
        return ""
    return (
        "<p class='flag' title='Possible prompt injection'>⚠ This passage contains instructions addressed"
        " to an AI or its reader. It is shown as data and never used as evidence.</p>"
    )


def documents_html(documents: Sequence[rag.DocumentInfo]) -> str:
    """The indexed documents as a table with size and chunk count."""
    if not documents:
        return "<p class='hint'>No documents yet: upload some above.</p>"
    rows = "".join(
        f"<tr><td class='doc-name' title='{escape(info.source)}'>{escape(info.source.rsplit('/', 1)[-1])}</td>"
        f"<td dir='auto'>{escape(info.title)}</td><td>{escape(info.language_label)}</td>"
        f"<td class='num'>{format_bytes(info.size_bytes)}</td>"
        f"<td class='num'>{info.chunks}</td></tr>"
        for info in documents
    )
    return (
        "<table class='documents'><thead><tr><th>File</th><th>Title</th><th>Language</th><th>Size</th>"
        "<th>Chunks</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def sync_sources_html(sources: Sequence[dict[str, object]]) -> str:
    """Each synced source: documents, its last pass and last change (counts, failures with their
    reasons, errors) and when the next pass is due."""
    if not sources:
        return (
            "<p class='hint'>No synced sources: `rag sync FOLDER --index ...` or a sources.toml keeps "
            "this index in step with folders, buckets and web pages (docs/sync.md).</p>"
        )
    rows = []
    for source in sources:
        last = _mapping(source.get("last"))
        change = _mapping(source.get("last_change"))
        problems = [f"error: {last['error']}"] if last.get("error") else []
        failing = source.get("failing")
        problems += [
            f"{key}: {reason}" for key, reason in (failing if isinstance(failing, list) else [])[:10]
        ]
        since = (
            f"<br><span class='hint'>last change {escape(change.get('started_at'))}: "
            f"{escape(rag.sources.counts_text(change))}</span>"
            if change and change != last
            else ""
        )
        next_run = source.get("next_run")
        rows.append(
            f"<tr><td class='doc-name' title='{escape(source.get('location'))}'>{escape(source.get('location'))}</td>"
            f"<td>{escape(source.get('kind'))}</td><td class='num'>{escape(source.get('documents'))}</td>"
            f"<td>{escape(last.get('started_at') or 'never')}: {escape(rag.sources.counts_text(last))}{since}</td>"
            f"<td>{escape(rag.sources.next_text(next_run if isinstance(next_run, float | int) else None))}</td>"
            f"<td class='sync-problems'>{'<br>'.join(escape(problem) for problem in problems)}</td></tr>"
        )
    return (
        "<table class='documents' id='sync-table'><thead><tr><th>Source</th><th>Kind</th><th>Documents</th>"
        f"<th>Last pass</th><th>Next</th><th>Failing</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def report_html(report: rag.IngestReport, names: dict[str, str] | None = None) -> str:
    """Per-file ingest results (added / updated / unchanged / failed with the reason)."""
    names = names or {}
    rows = []
    for result in report.files:
        name = names.get(result.source, result.source.rsplit("/", 1)[-1])
        detail = result.reason or (_plural(result.chunks, "chunk") if result.chunks else "")
        if result.warnings:
            detail += " · " + "; ".join(result.warnings)
        rows.append(
            f"<tr class='status-{escape(result.status)}'><td>{escape(name)}</td>"
            f"<td><span class='badge'>{escape(result.status)}</span></td><td>{escape(detail)}</td></tr>"
        )
    summary = (
        f"{_plural(len(report.files), 'file')} in {report.seconds:.1f} s, "
        f"{_plural(report.chunks_embedded, 'chunk')} embedded"
    )
    return (
        f"<div class='report'><p>{escape(summary)}</p><table class='results'><tbody>{''.join(rows)}"
        "</tbody></table></div>"
    )


def rejected_html(rejected: Sequence[tuple[str, str]]) -> str:
    """Uploads refused before ingest, with the reason."""
    rows = "".join(
        f"<tr class='status-failed'><td>{escape(name)}</td><td><span class='badge'>refused</span></td>"
        f"<td>{escape(reason)}</td></tr>"
        for name, reason in rejected
    )
    return f"<table class='results'><tbody>{rows}</tbody></table>" if rows else ""


def stats_html(stats: dict[str, object]) -> str:
    """Documents, chunks, model and index size."""
    size = stats.get("size_bytes")
    items = [
        ("Documents", stats.get("documents")),
        ("Chunks", stats.get("chunks")),
        ("Languages", _languages_text(stats.get("languages"))),
        ("Embedding model", stats.get("embedding_model")),
        ("Vector index", _vector_index(stats)),
        ("Index size", format_bytes(int(size)) if isinstance(size, int) else size),
        ("Index folder", stats.get("index")),
    ]
    cells = "".join(f"<div class='stat'><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return f"<dl class='stats'>{cells}</dl>"


def _vector_index(stats: dict[str, object]) -> object:
    """'exact', or an approximate kind with its last measured recall@10."""
    kind, recall = stats.get("vector_index"), stats.get("vector_recall@10")
    if kind in ("exact", "empty") or not isinstance(recall, float):
        return kind
    return f"{kind}, recall@10 {recall:.3f}"


def _languages_text(counts: object) -> str:
    """'de 120, en 3': documents per detected language."""
    if not isinstance(counts, dict) or not counts:
        return "–"
    return ", ".join(f"{language} {count}" for language, count in counts.items())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def audit_html(events: Sequence[tuple[str, object]], unreadable: Mapping[str, str] | None = None) -> str:
    """The audit trail's latest events, newest first: time, collection, person, action, detail;
    first, each collection whose trail could not be read and why."""
    problems = "".join(
        f"<p class='hint audit-unreadable'>{escape(name)}: {escape(reason)}</p>"
        for name, reason in (unreadable or {}).items()
    )
    if not events:
        return problems + "<p class='hint'>No audit events.</p>"
    rows = "".join(
        f"<tr><td>{escape(getattr(event, 'at', ''))}</td><td>{escape(name)}</td>"
        f"<td>{escape(getattr(event, 'actor', ''))}</td><td>{escape(getattr(event, 'action', ''))}</td>"
        f"<td><code>{escape(json.dumps(getattr(event, 'detail', {}), ensure_ascii=False, sort_keys=True))}</code></td></tr>"
        for name, event in events
    )
    return problems + (
        "<table class='audit'><thead><tr><th>Time (UTC)</th><th>Collection</th><th>Who</th><th>Action</th>"
        f"<th>Detail</th></tr></thead><tbody>{rows}</tbody></table>"
    )
