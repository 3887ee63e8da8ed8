"""The Chat tab: conversation, question box, query editing, exports, sources and viewer."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

import rag
from ui import assets, feedback, render, responses, viewer
from ui.views import View, Views


def build_chat_tab(
    base: rag.KnowledgeBase,
    examples: Sequence[str],
    collections: Sequence[str] = (),
    per_person: bool = False,
) -> dict[str, Any]:
    """The Chat tab's components, by name; a collection picker when several collections are served,
    and each person's earlier conversations when people log in."""
    parts: dict[str, Any] = {"conversation": gr.State("")}
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            # Always there (hidden with fewer than two): with people logging in it is filled per person.
            parts["collections"] = gr.Dropdown(
                list(collections),
                value=list(collections),
                multiselect=True,
                label="Collections to search",
                elem_id="collections",
                visible=len(collections) > 1,
            )
            parts["chatbot"] = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="chatbot",
                height=520,
                render_markdown=False,
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=("Like", "Dislike"),
                buttons=[],
                placeholder="Ask a question about your documents.",
            )
            with gr.Row():
                parts["question"] = gr.Textbox(
                    show_label=False,
                    placeholder="Ask a question and press Enter",
                    elem_id="question",
                    scale=5,
                    max_lines=4,
                    autofocus=True,
                )
                parts["send"] = gr.Button("Ask", variant="primary", scale=1, min_width=80)
            if examples:
                gr.Examples(list(examples), parts["question"], label="Try")
            with gr.Accordion("Query used for retrieval", open=False, elem_id="query-panel"):
                parts["query"] = gr.Textbox(
                    show_label=False, elem_id="query", placeholder="The search query appears here"
                )
                parts["reask"] = gr.Button("Search again with this query", size="sm", elem_id="reask")
            with gr.Accordion("Copy or export", open=False):
                parts["markdown"] = gr.Textbox(
                    label="Latest answer as Markdown", lines=6, buttons=["copy"], elem_id="answer-markdown"
                )
                with gr.Row():
                    parts["export_md"] = gr.Button("Export chat as Markdown", size="sm")
                    parts["export_json"] = gr.Button("Export chat as JSON", size="sm")
                    parts["clear"] = gr.Button("Clear chat", size="sm")
                parts["export_file"] = gr.File(label="Export", visible=False, interactive=False)
            _feedback_panel(parts)
            with gr.Accordion("Your conversations", open=False, visible=per_person, elem_id="history-panel"):
                parts["history"] = gr.Dropdown(
                    choices=[], label="Earlier conversations", elem_id="history-choice"
                )
                with gr.Row():
                    parts["history_open"] = gr.Button("Open", size="sm", elem_id="history-open")
                    parts["history_delete"] = gr.Button(
                        "Delete", size="sm", variant="stop", elem_id="history-delete"
                    )
                    parts["history_new"] = gr.Button("New conversation", size="sm", elem_id="history-new")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("### Sources")
            parts["sources"] = gr.HTML(
                render.sources_html(None, -1, base.document),
                elem_id="sources",
                js_on_load=assets.SOURCES_ON_LOAD_JS,
            )
            gr.Markdown("### Document viewer")
            parts["viewer"] = gr.HTML(viewer.viewer_placeholder(), elem_id="viewer")
            parts["target"] = gr.Textbox(visible="hidden", elem_id="cite-target")
            parts["open"] = gr.Button("Open citation", visible="hidden", elem_id="cite-open")
    return parts


def _feedback_panel(parts: dict[str, Any]) -> None:
    """Thumbs are on each answer; this panel adds the latest answer's citation flags and corrections."""
    with gr.Accordion("Feedback on the latest answer", open=False, elem_id="feedback-panel"):
        parts["rating"] = gr.Radio(
            feedback.RATING_CHOICES, label="Was it helpful?", elem_id="feedback-rating"
        )
        parts["flags"] = gr.CheckboxGroup([], label="Citations", elem_id="feedback-flags")
        parts["comment"] = gr.Textbox(label="Comment", lines=2, elem_id="feedback-comment")
        parts["corrected"] = gr.Textbox(label="The right answer", lines=2, elem_id="feedback-answer")
        parts["passage"] = gr.Textbox(
            label="The right passage: paste its words from the document", lines=3, elem_id="feedback-passage"
        )
        parts["give"] = gr.Button("Send feedback", size="sm", elem_id="feedback-send")
    parts["feedback_status"] = gr.HTML("", elem_id="feedback-status")


def _wire_feedback(views: Views, chat: dict[str, Any], turns: gr.State) -> None:
    """A thumb on an answer is stored at once; the panel's Send stores flags and corrections."""

    def thumbed(history: list[responses.Turn], data: gr.LikeData, request: gr.Request) -> str:
        return feedback.thumb(views.of(request).answered_in, history, data.index, data.liked, _who(request))

    def sent(
        history: list[responses.Turn],
        rating: str | None,
        flags: list[str],
        comment: str,
        corrected: str,
        passage: str,
        request: gr.Request,
    ) -> Any:
        texts = (comment, corrected, passage)
        return feedback.panel_feedback(views.of(request).answered_in, history, rating, flags or [], texts, "")

    chat["chatbot"].like(thumbed, [turns], chat["feedback_status"], queue=False)
    panel = [chat["rating"], chat["flags"], chat["comment"], chat["corrected"], chat["passage"]]
    chat["give"].click(sent, [turns, *panel], chat["feedback_status"], queue=False)


def _options(k: float, retrieval: str, mode: str, request: gr.Request | None) -> rag.AskOptions:
    """The Settings tab's choices for one question, which the question log records as the UI's."""
    return rag.AskOptions(
        k=int(k), retrieval_mode=retrieval, answer_mode=mode, channel="ui", asked_by=_who(request)
    )


def _who(request: gr.Request | None) -> str:
    """The signed-in UI user, when the page has a login."""
    return str(getattr(request, "username", None) or "")


def wire_chat(views: Views, chat: dict[str, Any], settings: dict[str, Any], turns: gr.State) -> None:
    """Connect the chat events: ask, re-ask, open a citation, clear, export.

    Each event answers from what its visitor may read (`views.of(request)`), from the collections
    picked in the chat.
    """
    options_inputs = [settings["k"], settings["retrieval"], settings["answer_mode"]]
    picker = chat["collections"]
    outputs = [
        chat["chatbot"],
        turns,
        chat["sources"],
        chat["query"],
        chat["markdown"],
        chat["question"],
        chat["flags"],
        chat["conversation"],
        chat["history"],
    ]

    def run(
        question: str,
        history: list[responses.Turn],
        options: rag.AskOptions,
        query: str | None,
        picked: list[str] | None,
        conversation: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        view = views.of(request)
        # Citations and the viewer read from every collection the visitor may: a quote's document is in one.
        reader = view.corpus()
        # The question box is emptied with the first update, so a new question can be typed.
        box: Any = gr.skip() if query is not None else ""
        for current in responses.stream_turns(view.corpus(picked), question, history, options, query=query):
            last = current[-1]
            if not last.is_final:
                yield (
                    responses.chat_messages(current),
                    current,
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    box,
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                )
                box = gr.skip()
                continue
            answer = last.answer
            if answer is not None:
                view.record_question(last.question, answer, picked)
            kept, listed = _kept(views, view, conversation, current)
            yield (
                responses.chat_messages(current),
                current,
                responses.sources_for(reader, current),
                answer.query if answer is not None else "",
                responses.answer_markdown(answer),
                box,
                gr.CheckboxGroup(choices=feedback.flag_choices(current), value=[]),
                kept,
                listed,
            )

    def ask(
        question: str,
        history: list[responses.Turn],
        k: float,
        retrieval: str,
        mode: str,
        picked: list[str] | None,
        conversation: str,
        request: gr.Request,
    ) -> Any:
        options = _options(k, retrieval, mode, request)
        yield from run(question, history, options, None, picked, conversation, request)

    def reask(
        query: str,
        history: list[responses.Turn],
        k: float,
        retrieval: str,
        mode: str,
        picked: list[str] | None,
        conversation: str,
        request: gr.Request,
    ) -> Any:
        if not history or not query.strip():
            yield (gr.skip(),) * len(outputs)
            return
        options = _options(k, retrieval, mode, request)
        yield from run(history[-1].question, history, options, query, picked, conversation, request)

    # One event for Enter and the button. A question sent while an answer is still coming is
    # answered after it ("always_last"; "once" dropped it, leaving it unsent in the box).
    ask_args: dict[str, Any] = {
        "concurrency_id": "ask",
        "show_progress": "minimal",
        "trigger_mode": "always_last",
    }
    gr.on(
        [chat["question"].submit, chat["send"].click],
        ask,
        [chat["question"], turns, *options_inputs, picker, chat["conversation"]],
        outputs,
        **ask_args,
    )
    chat["reask"].click(
        reask, [chat["query"], turns, *options_inputs, picker, chat["conversation"]], outputs, **ask_args
    )

    def opened(history: list[responses.Turn], clicked: str, request: gr.Request) -> str:
        return responses.open_citation(views.of(request).corpus(), history, clicked)

    chat["open"].click(opened, [turns, chat["target"]], chat["viewer"], queue=False).then(
        None, js=assets.SCROLL_TO_QUOTE_JS
    )
    reset = [
        chat["chatbot"],
        turns,
        chat["sources"],
        chat["viewer"],
        chat["query"],
        chat["markdown"],
        chat["conversation"],
    ]

    def cleared() -> tuple[Any, ...]:
        # The next question starts a new conversation; the cleared one stays in the person's list.
        return [], [], render.sources_html(None, -1, _no_document), viewer.viewer_placeholder(), "", "", ""

    _wire_feedback(views, chat, turns)
    _wire_history(views, chat, reset)
    chat["history_new"].click(cleared, None, reset, queue=False)
    chat["clear"].click(cleared, None, reset, queue=False)
    chat["chatbot"].clear(cleared, None, reset, queue=False)
    chat["export_md"].click(
        lambda t: _export(responses.export_markdown(t), ".md"), turns, chat["export_file"]
    )
    chat["export_json"].click(
        lambda t: _export(responses.export_json(t), ".json"), turns, chat["export_file"]
    )


def _kept(views: Views, view: View, conversation: str, turns: list[responses.Turn]) -> tuple[Any, Any]:
    """Keep a person's conversation after each answer: (its id, the refreshed list)."""
    if views.histories is None or view.actor is None:
        return gr.skip(), gr.skip()
    kept = views.histories.save(view.actor.name, conversation, turns)
    return kept, gr.Dropdown(choices=views.histories.choices(view.actor.name), value=kept)


def _wire_history(views: Views, chat: dict[str, Any], reset: list[Any]) -> None:
    """Reopen or delete one of the person's earlier conversations."""
    histories = views.histories
    if histories is None:
        return

    def opened(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        view = views.of(request)
        name = view.actor.name if view.actor is not None else ""
        found = histories.get(name, conversation_id or "")
        if found is None:
            return (gr.skip(),) * len(reset)
        turns = list(found.turns)
        try:
            sources = responses.sources_for(view.corpus(), turns)
        except rag.RagError:  # a quoted document since removed, or no longer theirs to read
            sources = render.sources_html(None, -1, _no_document)
        return responses.chat_messages(turns), turns, sources, viewer.viewer_placeholder(), "", "", found.id

    def deleted(conversation_id: str | None, request: gr.Request) -> Any:
        view = views.of(request)
        name = view.actor.name if view.actor is not None else ""
        histories.delete(name, conversation_id or "")
        return gr.Dropdown(choices=histories.choices(name), value=None)

    chat["history_open"].click(opened, [chat["history"]], reset, queue=False)
    chat["history_delete"].click(deleted, [chat["history"]], chat["history"], queue=False)


def _no_document(document_id: str) -> rag.Document:
    raise rag.NotFoundError(f"no document {document_id!r}")


def _export(text: str, suffix: str) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="verbatim-export-"))
    path = folder / f"verbatim-chat{suffix}"
    path.write_text(text, encoding="utf-8")
    return gr.File(value=str(path), visible=True)
