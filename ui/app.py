"""The Gradio page: the Chat, Documents, Quality (feedback) and Settings tabs in one gr.Blocks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

import rag
import rag.sources
from rag.evaluation import dashboard_html, quality_dashboard
from rag.ingest import DEFAULT_MAX_UPLOAD_MB, UPLOADS_FOLDER
from ui import chat as chat_tab
from ui import documents, render
from ui.views import PersonOf, View, Views

EXAMPLES = (
    "Which file types can Verbatim read?",
    "What happens when a question is not covered by the documents?",
)
ASK_CONCURRENCY = 2
QUEUE_MAX_SIZE = 32
SYNC_REFRESH_SECONDS = 3.0


@dataclass(frozen=True)
class AppConfig:
    """What the page needs besides the knowledge base."""

    uploads: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    examples: Sequence[str] = EXAMPLES
    # `rag serve --ui`: the served collections; with several, the chat gets a picker.
    collections: rag.Collections | None = None
    # With people logging in: who a request's session names; each sees only their groups' share.
    person_of: PersonOf | None = None
    # Where the page's log-out form posts (with people logging in).
    logout_url: str = ""
    # People in these groups see the Audit tab: the trail of every served collection.
    admin_groups: frozenset[str] = frozenset()


def build_app(base: rag.KnowledgeBase, config: AppConfig) -> gr.Blocks:
    """The whole page; launch it with ui.server.launch."""
    views = Views(base, config.collections, config.person_of, config.admin_groups)
    # Per person, nothing read from the index goes into the page as built (Gradio hands its
    # initial values to anyone who loads it): each visitor's share is filled in when the page loads.
    shown = None if views.is_per_person else views.of(None)
    # delete_cache: uploaded temp copies (the kept copy is in the index) and exports go after a day.
    with gr.Blocks(
        title="Verbatim", analytics_enabled=False, fill_width=True, delete_cache=(3600, 86400)
    ) as app:
        turns = gr.State([])
        gr.HTML(
            "<div id='app-header'><h1>Verbatim</h1><p>Answers made of verbatim quotes from your "
            "documents, each checked character for character.</p></div>",
            js_on_load=None,
        )
        person = gr.HTML("", elem_id="person", visible=views.is_per_person)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = chat_tab.build_chat_tab(
                    base, config.examples, shown.names if shown else [], views.is_per_person
                )
            with gr.Tab("Documents", id="documents") as documents_tab:
                docs = _documents_tab(views, shown, config)
            # The dashboard quotes everyone's questions: not for a page shown per person.
            with gr.Tab("Quality", id="quality", visible=shown is not None) as quality_tab:
                quality = gr.HTML(_quality(base, config) if shown else "", elem_id="quality")
            with gr.Tab("Settings", id="settings") as settings_tab:
                settings = _settings_tab(base, shown)
            # Filled only for people in an admin group, checked on every event.
            with gr.Tab("Audit", id="audit", visible=views.is_per_person) as audit_tab:
                audit = _audit_tab(views)
        chat_tab.wire_chat(views, chat, settings, turns)
        refresh = [docs["table"], docs["choices"], settings["stats"], *docs["writing"]]
        chosen = [docs["collection"]]

        def listing(name: str | None, request: gr.Request) -> tuple[Any, ...]:
            view = views.of(request)
            return _listing(view, view.reader(name), name)

        if shown is not None:
            quality_tab.select(lambda: _quality(base, config), None, quality, queue=False)
        documents_tab.select(listing, chosen, refresh, queue=False)
        settings_tab.select(listing, chosen, refresh, queue=False)
        docs["collection"].change(listing, chosen, refresh, queue=False)
        if views.is_per_person:

            def loaded(request: gr.Request) -> tuple[Any, ...]:
                view = views.of(request)
                names = list(view.names)
                pickers = [
                    gr.Dropdown(choices=names, value=names, visible=len(names) > 1),
                    gr.Dropdown(choices=names, value=names[0] if names else None, visible=len(names) > 1),
                ]
                histories = views.histories
                earlier = histories.choices(view.actor.name) if histories and view.actor else []
                return (
                    _person_html(view, config.logout_url),
                    *pickers,
                    gr.Dropdown(choices=earlier, value=None),
                    *_listing(view, view.base, None),
                )

            app.load(
                loaded,
                None,
                [person, chat["collections"], docs["collection"], chat["history"], *refresh],
                queue=False,
            )
            audit_tab.select(audit["show"], [audit["person"]], audit["table"], queue=False)
        else:
            app.load(listing, chosen, refresh, queue=False)
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    return app


def _audit_tab(views: Views) -> dict[str, Any]:
    """The latest audit events of every collection, optionally of one person (admins only)."""
    parts: dict[str, Any] = {}
    with gr.Row():
        parts["person"] = gr.Textbox(label="Only this person or key", scale=4, elem_id="audit-person")
        parts["refresh"] = gr.Button("Show", scale=1, min_width=80, elem_id="audit-refresh")
    parts["table"] = gr.HTML("", elem_id="audit")

    def show(person: str, request: gr.Request) -> str:
        view = views.of(request)
        if not view.is_admin:
            return "<p class='hint'>Only people in an admin group see the audit trail.</p>"
        listing = view.audit_events(person or "")
        return render.audit_html(listing.events, listing.unreadable)

    parts["show"] = show
    parts["refresh"].click(show, [parts["person"]], parts["table"], queue=False)
    parts["person"].submit(show, [parts["person"]], parts["table"], queue=False)
    return parts


def _person_html(view: View, logout_url: str) -> str:
    """Who is logged in, and a log-out button (a form: logging out changes state, so it is a POST)."""
    name = view.actor.name if view.actor is not None else ""
    nothing = (
        "<p class='hint'>Your groups may read no collection yet: ask an administrator.</p>"
        if view.is_empty_handed
        else ""
    )
    return (
        f"<div id='signed-in'>Logged in as <strong id='person-name'>{render.escape(name)}</strong>"
        f"<form method='post' action='{render.escape(logout_url)}' style='display:inline'>"
        "<button type='submit' id='log-out' class='log-out'>Log out</button></form></div>"
        f"{nothing}"
    )


def _documents_tab(views: Views, shown: View | None, config: AppConfig) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    limit_mb = config.max_upload_bytes // (1024 * 1024)
    gr.Markdown(
        f"Upload {', '.join(sorted(rag.SUPPORTED_SUFFIXES))} files (up to {limit_mb} MB each). "
        "Questions keep working while files are indexed."
    )
    names = list(shown.names) if shown is not None else []
    parts["collection"] = gr.Dropdown(
        names, value=names[0] if names else None, label="Collection", visible=len(names) > 1
    )
    # No file_types: Gradio would refuse the whole batch for one file of another type, with a
    # bare "Error"; each file is checked on its own instead, and refused with its reason.
    parts["files"] = gr.File(label="Files to add", file_count="multiple", elem_id="upload")
    parts["ingest"] = gr.Button("Add to the index", variant="primary", elem_id="ingest")
    parts["progress"] = gr.Textbox(label="Progress", interactive=False, elem_id="ingest-progress")
    parts["results"] = gr.HTML("", elem_id="ingest-results")
    # The sources' folders and failed files are the operator's business: shown in the shared UI only.
    gr.Markdown("### Synced sources", visible=shown is not None)
    parts["sources"] = gr.HTML(
        render.sync_sources_html(rag.sources.status(shown.base.folder)) if shown is not None else "",
        elem_id="sync-sources",
        visible=shown is not None,
    )
    gr.Markdown("### Indexed documents")
    parts["table"] = gr.HTML(
        render.documents_html(shown.base.documents()) if shown is not None else "", elem_id="documents"
    )
    with gr.Row():
        parts["choices"] = gr.Dropdown(label="Document", choices=[], scale=4, elem_id="remove-choice")
        parts["remove"] = gr.Button("Remove", variant="stop", scale=1, min_width=90, elem_id="remove")
    parts["remove_status"] = gr.HTML("", elem_id="remove-status")
    if shown is not None:
        _follow_sync(views, parts)
    # Shown only where the visitor may change the chosen collection.
    parts["writing"] = [parts["files"], parts["ingest"], parts["remove"]]
    refresh = [parts["table"], parts["choices"]]

    def ingest(files: list[str] | None, name: str | None, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        view = views.of(request)
        name = name if name in view.names else (view.names[0] if view.names else None)
        target = view.writer(name)
        if target is None:
            yield "You may read this collection but not add to it.", "", gr.skip(), gr.skip(), None
            return
        uploads = target.folder / UPLOADS_FOLDER if config.collections else config.uploads
        for update in documents.ingest_uploads(target, files or [], uploads, config.max_upload_bytes):
            if update.is_done:
                if update.report is not None and name is not None:
                    changed = [r.source for r in update.report.files if r.status in ("added", "updated")]
                    view.record_change("added", name, {"files": changed})
                table, choices, *_ = _listing(view, view.reader(name), name)
                yield update.progress, update.results_html, table, choices, None
            else:
                yield update.progress, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    parts["ingest"].click(
        ingest,
        [parts["files"], parts["collection"]],
        [parts["progress"], parts["results"], *refresh, parts["files"]],
        concurrency_id="write",
        concurrency_limit=1,
        show_progress="minimal",
    )

    def remove(source: str | None, name: str | None, request: gr.Request) -> tuple[Any, ...]:
        view = views.of(request)
        target = view.reader(name)  # a document the visitor may not read is not found
        if not view.may_write(name if name in view.names else (view.names[0] if view.names else None)):
            message = "You may read this collection but not remove from it."
        else:
            message, removed = documents.remove_document(target, source or "")
            if removed and name is not None:
                view.record_change(
                    "removed", name if name in view.names else view.names[0], {"source": removed}
                )
        table, choices, *_ = _listing(view, target, name)
        return f"<p class='hint'>{render.escape(message)}</p>", table, choices

    parts["remove"].click(
        remove,
        [parts["choices"], parts["collection"]],
        [parts["remove_status"], *refresh],
        concurrency_id="write",
        concurrency_limit=1,
    )
    return parts


def _quality(base: rag.KnowledgeBase, config: AppConfig) -> str:
    """The Quality tab: the dashboard of every collection shown (questions, feedback, evaluation runs)."""
    served = config.collections
    bases = [served.base(name) for name in served.names] if served is not None else [base]
    runs = [Path(part) for part in os.environ.get("RAG_EVAL_RUNS", "").split(os.pathsep) if part]
    return dashboard_html(quality_dashboard(bases, runs))


def _follow_sync(views: Views, parts: dict[str, Any]) -> None:
    """Every few seconds, show the sources' last passes; when a pass has run since (`--sync`, or
    `rag sync` in another process), list the documents again too."""
    seen = gr.State("")
    timer = gr.Timer(SYNC_REFRESH_SECONDS)

    def follow(name: str | None, last_seen: str, request: gr.Request) -> tuple[Any, ...]:
        view = views.of(request)
        target = view.reader(name)
        sources = rag.sources.status(target.folder)
        passes = json.dumps([source["last"] for source in sources], sort_keys=True)
        if passes == last_seen:
            return gr.skip(), gr.skip(), gr.skip(), last_seen
        table, choices, *_ = _listing(view, target, name)
        return render.sync_sources_html(sources), table, choices, passes

    outputs = [parts["sources"], parts["table"], parts["choices"], seen]
    timer.tick(follow, [parts["collection"], seen], outputs, queue=False, show_progress="hidden")


def _settings_tab(base: rag.KnowledgeBase, shown: View | None) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    parts["k"] = gr.Slider(1, 20, value=base.settings.top_k, step=1, label="Passages to retrieve (k)")
    parts["retrieval"] = gr.Radio(
        [("Hybrid (meaning + keywords)", "hybrid"), ("Dense only (meaning)", "dense")],
        value="dense" if base.settings.retrieval_mode == "dense" else "hybrid",
        label="Retrieval",
    )
    parts["answer_mode"] = gr.Radio(
        [("Extractive quotes", "extractive"), ("Language model, verified against the quotes", "llm")],
        value=base.settings.answer_mode,
        label="Answer mode",
        info=(
            "The language model writes the answer and every sentence is checked against the passages "
            "(slower on a CPU). It uses RAG_LLM_BASE_URL, RAG_LLM_LOCAL or the bundled small model; "
            "without one it answers with quotes."
        ),
    )
    gr.Markdown("### Index")
    parts["stats"] = gr.HTML(render.stats_html(shown.base.stats()) if shown else "", elem_id="stats")
    return parts


def _listing(view: View, base: rag.KnowledgeBase, name: str | None) -> tuple[Any, ...]:
    """The Documents table, the remove menu, the index stats, and the upload and remove controls
    shown only where the visitor may change the collection."""
    table = render.documents_html(base.documents())
    choices = gr.Dropdown(choices=documents.document_choices(base), value=None)
    chosen = name if name in view.names else (view.names[0] if view.names else None)
    writing = gr.update(visible=view.may_write(chosen) and not view.is_empty_handed)
    return table, choices, render.stats_html(base.stats()), writing, writing, writing
