"""The UI's response logic, rendering and upload checks, without a server or a browser."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ScriptedChatModel
from sample_files import docx_bytes, positioned_pdf

import rag
from eval.ports import listen_port
from rag.ingest import UPLOADS_FOLDER, check_upload, safe_file_name
from rag.llm.server import start_server  # tests may use internals; ui/ may not
from ui import documents, render, responses, security, viewer

ZANZIBAR = (
    "The Zanzibar spice harbour shipped 4,200 tonnes of cloves in 2021. Dockworkers there use blue cranes."
    "\n\nThe lighthouse keeper of Pemba island paints the tower white every spring."
)
HOSTILE = "<img src=x onerror=alert(1)> {{constructor}} ${alert(2)} ![pixel](http://example.invalid/p.png)"


@pytest.fixture
def base(fake_base: rag.KnowledgeBase) -> rag.KnowledgeBase:
    """The fake-embedder knowledge base holding one small document."""
    fake_base.add_texts([rag.TextItem("notes/zanzibar.md", ZANZIBAR, "Zanzibar")])
    return fake_base


def ask(base: rag.KnowledgeBase, question: str, turns: Sequence[responses.Turn] = ()) -> list[responses.Turn]:
    *_, final = responses.stream_turns(base, question, turns, rag.AskOptions())
    return final


def test_escape_neutralises_html_and_template_syntax() -> None:
    escaped = render.escape(HOSTILE)
    assert "<img" not in escaped and "&lt;img" in escaped
    assert "{{" not in escaped and "${" not in escaped


def test_stream_turns_yields_pending_then_growing_then_final(base: rag.KnowledgeBase) -> None:
    steps = list(responses.stream_turns(base, "How many tonnes of cloves?", [], rag.AskOptions()))
    assert steps[0][-1].answer is None
    assert all(not step[-1].is_final for step in steps[:-1])
    final = steps[-1][-1]
    assert final.is_final and final.answer is not None and final.answer.answered
    assert "4,200 tonnes" in final.answer.text


def test_empty_question_yields_nothing(base: rag.KnowledgeBase) -> None:
    assert list(responses.stream_turns(base, "   ", [], rag.AskOptions())) == []


def test_ask_error_becomes_a_final_error_turn(base: rag.KnowledgeBase) -> None:
    options = rag.AskOptions(retrieval_mode="nonsense")
    *_, final = responses.stream_turns(base, "cloves?", [], options)
    assert final[-1].is_final and "unknown retrieval mode" in final[-1].error
    assert "answer final error" in responses.chat_messages(final)[-1]["content"]


def test_follow_up_uses_the_conversation_and_shows_the_query(base: rag.KnowledgeBase) -> None:
    first = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
    second = ask(base, "and what about Pemba?", first)
    answer = second[-1].answer
    assert answer is not None and "Zanzibar" in answer.query and answer.query != answer.question
    assert "Searched for:" in responses.chat_messages(second)[-1]["content"]
    assert responses.history_of(first)[0] == {"role": "user", "content": first[0].question}


def test_edited_query_overrides_retrieval(base: rag.KnowledgeBase) -> None:
    first = ask(base, "tell me something")
    *_, again = responses.stream_turns(
        base, first[-1].question, first, rag.AskOptions(), query="lighthouse keeper Pemba island"
    )
    assert again[-1].answer is not None and again[-1].answer.query == "lighthouse keeper Pemba island"


def test_answer_html_makes_markers_clickable_and_escapes_text(base: rag.KnowledgeBase) -> None:
    answer = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")[-1].answer
    assert answer is not None
    html = render.answer_html(answer, 3, True)
    assert "class='cite cite-3-1'" in html and "answer final" in html
    hostile = rag.Answer("q", HOSTILE + " [1]", True, answer.citations, answer.passages, "q")
    assert "<img" not in render.answer_html(hostile, 0, True)


def test_a_compound_answer_is_shown_part_by_part_with_its_own_quotes(base: rag.KnowledgeBase) -> None:
    question = "How many tonnes of cloves did the Zanzibar harbour ship, and what colour does the keeper paint the tower?"
    answer = ask(base, question)[-1].answer
    assert answer is not None and len(answer.parts) == 2
    html = render.answer_html(answer, 2, True)
    assert html.count("<div class='answer-part") == 2
    for part in answer.parts:
        assert render.escape(part.question) in html
        for citation in part.citations:
            assert f"cite-2-{citation.number}'" in html
    sources = render.sources_html(answer, 2, base.document)
    assert sources.count("<div class='source'") == len(answer.citations)
    hostile_part = rag.AnswerPart(HOSTILE, HOSTILE, False, (), "q")
    hostile = rag.Answer("q", "x", False, (), (), "q", parts=(hostile_part,))
    assert "<img" not in render.answer_html(hostile, 0, True)


def test_unsupported_sentences_are_marked_and_markers_kept() -> None:
    sentences = (
        rag.SentenceSupport("Cloves ship from Zanzibar.", 0.9, True, (1,)),
        rag.SentenceSupport("They are purple.", 0.1, False, ()),
    )
    text = "Cloves ship from Zanzibar. [1] They are purple. And more is stream"
    answer = rag.Answer("q", text, True, (), (), "q", mode="llm", sentences=sentences)
    html = render.answer_html(answer, 0, False)
    assert "<span class='sentence supported'>Cloves ship from Zanzibar.</span>" in html
    assert "cite-0-1" in html and "And more is stream" in html
    assert html.index("They are purple") > html.index("sentence unsupported")


def test_llm_mode_streams_tokens_and_ends_with_sentence_support(base: rag.KnowledgeBase) -> None:
    reply = "The Zanzibar spice harbour shipped 4,200 tonnes of cloves in 2021 [1]. Cloves are blue [1]."
    chat_server = start_server(ScriptedChatModel(reply), port=listen_port())
    settings = base.settings.replace(llm_base_url=chat_server.base_url)
    try:
        with rag.open(base.folder, settings=settings, embedder=base.embedder) as llm_base:
            steps = list(
                responses.stream_turns(llm_base, "How many tonnes?", [], rag.AskOptions(answer_mode="llm"))
            )
    finally:
        chat_server.shutdown()
        chat_server.server_close()
    partial_texts = [step[-1].answer.text for step in steps[1:-1] if step[-1].answer is not None]
    assert len(partial_texts) > 3 and partial_texts[0] != partial_texts[-1]
    final = responses.chat_messages(steps[-1])[-1]["content"]
    assert "sentence supported" in final and "sentence unsupported" in final and "cite-0-1" in final


def test_refusal_is_plain_and_sources_list_closest_passages(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "What is the boiling point of mercury?")
    answer = turns[-1].answer
    assert answer is not None and not answer.answered
    assert rag.NOT_FOUND in responses.chat_messages(turns)[-1]["content"]
    assert "Closest passages" in responses.sources_for(base, turns)


def test_sources_highlight_the_quote_inside_its_passage(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
    sources = responses.sources_for(base, turns)
    assert "<mark class='quote'>The Zanzibar spice harbour shipped 4,200 tonnes" in sources


def test_quote_outside_its_passage_is_shown_in_a_document_window(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
    answer = turns[-1].answer
    assert answer is not None
    citation = answer.citations[0]
    elsewhere = rag.Passage(1, 0, "other", "x", "x", None, 500, 600, "unrelated", None, None, 0.1)
    context = render.quote_in_context(citation, elsewhere, base.document)
    assert f"<mark class='quote'>{render.escape(citation.quote.text)}</mark>" in context


def test_open_citation_highlights_exactly_the_quote(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
    viewer = responses.open_citation(base, turns, "cite-0-1")
    quote = turns[-1].answer.citations[0].quote.text  # type: ignore[union-attr]
    assert f"<mark class='quote' id=\"quote-target\">{render.escape(quote)}</mark>" in viewer
    assert "no longer available" in responses.open_citation(base, turns, "cite-0-9")
    assert responses.parse_target("garbage") is None


def test_a_pdf_citation_opens_its_page_with_the_quote_highlighted(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    pdf = tmp_path / "bridge.pdf"
    lines = [(72, 700, "F1", "The north bridge was repainted in October with a zinc-rich primer.")]
    pdf.write_bytes(positioned_pdf([lines]))
    fake_base.ingest([pdf])
    turns = ask(fake_base, "When was the north bridge repainted?")
    citation = turns[-1].answer.citations[0]  # type: ignore[union-attr]
    viewer = responses.open_citation(fake_base, turns, "cite-0-1")
    assert "<img class='page-image'" in viewer and "src='data:image/png;base64," in viewer
    assert "<mark class='quote' id=\"quote-target\">" in viewer  # the extracted text stays below
    pdf.unlink()
    missing = responses.open_citation(fake_base, turns, "cite-0-1")
    assert "No page image: the original of" in missing and citation.quote.text in missing


def test_a_citation_opens_the_page_of_its_own_file_when_another_has_the_same_text(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    text = "The north bridge was repainted in October with a zinc-rich primer."
    left, right = tmp_path / "a" / "left.pdf", tmp_path / "b" / "right.pdf"
    for path, x in ((left, 72), (right, 300)):  # the same text, drawn at another place
        path.parent.mkdir()
        path.write_bytes(positioned_pdf([[(x, 700, "F1", text)]], size=(900, 792)))
    fake_base.ingest([left, right])
    assert fake_base.document(str(left)).id == fake_base.document(str(right)).id
    turns = ask(fake_base, "When was the north bridge repainted?")
    answer = turns[-1].answer
    assert answer is not None
    citation = answer.citations[0]
    for path in (left, right):
        cited = replace(answer, citations=(replace(citation, source=str(path)),))
        opened = responses.open_citation(fake_base, [responses.Turn("q", cited)], "cite-0-1")
        own = fake_base.page_image(str(path), 1, (citation.start, citation.end), viewer.VIEWER_PAGE_WIDTH)
        assert base64.b64encode(own).decode("ascii") in opened
        sources = responses.sources_for(fake_base, [responses.Turn("q", cited)])
        thumbnail = fake_base.quote_thumbnail(
            str(path), (citation.start, citation.end), viewer.THUMBNAIL_WIDTH
        )
        assert base64.b64encode(thumbnail).decode("ascii") in sources
    assert fake_base.page_image(str(left), 1) != fake_base.page_image(str(right), 1)


def test_a_quote_across_a_page_break_shows_both_pages(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(
        positioned_pdf([[(72, 700, "F1", "The first page ends")], [(72, 700, "F1", "here on page two.")]])
    )
    fake_base.ingest([pdf])
    document = fake_base.document(str(pdf))
    span = SimpleNamespace(start=document.text.index("ends"), end=document.text.index(" on page"))
    citation = SimpleNamespace(start=span.start, end=span.end, number=1)
    view = viewer.page_view_of(fake_base, document, citation, "0-1")  # type: ignore[arg-type]
    assert [page.page for page in view.images] == [1, 2] and all(page.png for page in view.images)
    assert all(page.mark_top is not None for page in view.images)  # both parts are highlighted
    html = viewer.viewer_html(document, citation, view)  # type: ignore[arg-type]
    assert html.count("<img class='page-image' data-mark-top=") == 2 and "Pages 1–2 of 2" in html


def test_the_viewer_pages_through_a_pdf_and_sources_show_a_thumbnail(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    pdf = tmp_path / "three.pdf"
    pages = [[(72, 700, "F1", text)] for text in ("Cover page.", "The ferry leaves at noon daily.", "Index.")]
    pdf.write_bytes(positioned_pdf(pages))
    fake_base.ingest([pdf])
    turns = ask(fake_base, "When does the ferry leave?")
    opened = responses.open_citation(fake_base, turns, "cite-0-1")
    assert "Page 2 of 3" in opened and "class='page-nav goto-0-1-1'" in opened and "goto-0-1-3" in opened
    assert "<div class='viewer has-pages'" in opened and "data-mark-top=" in opened
    assert "Show text" in opened and "zoom-in" in opened
    following = responses.open_citation(fake_base, turns, "cite-0-1@3")
    assert "Page 3 of 3" in following and "data-mark-top" not in following  # the quote is not there
    assert "<button class='page-nav' disabled>Next page ▶</button>" in following
    sources = responses.sources_for(fake_base, turns)
    assert "<button class='cite thumb cite-0-1'" in sources and "class='quote-thumb'" in sources


def test_an_office_citation_says_it_has_no_page_image(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(docx_bytes())
    fake_base.ingest([path])
    turns = ask(fake_base, "What is the research budget for 2025?")
    opened = responses.open_citation(fake_base, turns, "cite-0-1")
    assert "No page image: a .docx file is shown as its text, with the quote marked." in opened
    assert "has-pages" not in opened and "<mark class='quote' id=\"quote-target\">" in opened
    assert "quote-thumb" not in responses.sources_for(fake_base, turns)


def test_arabic_and_chinese_quotes_are_right_to_left_aware_and_highlighted_exactly(tmp_path: Path) -> None:
    embedder = rag.HashingEmbedder(256, frozenset({"en"}))  # like the bundled model: English only
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.add_texts(
            [
                rag.TextItem(
                    "ar.txt", "تقع وارسو على نهر فيستولا. تخلى دفاع البانثرز عن 308 نقطة فقط في الموسم."
                ),
                rag.TextItem("zh.txt", "华沙是波兰的首都。黑豹队的防守只丢了308分，在联赛中排名第六。"),
            ]
        )
        for question, quote in (
            ("كم نقطة تخلى عنها دفاع البانثرز؟", "تخلى دفاع البانثرز عن 308 نقطة فقط في الموسم."),
            ("黑豹队的防守丢了多少分？", "黑豹队的防守只丢了308分，在联赛中排名第六。"),
        ):
            turns = ask(base, question)
            answer = turns[-1].answer
            assert answer is not None and answer.answered, question
            assert "class='answer-text' dir='auto'" in render.answer_html(answer, 0, True)
            viewer = responses.open_citation(base, turns, "cite-0-1")
            assert f"<mark class='quote' id=\"quote-target\">{quote}</mark>" in viewer
            assert "class='viewer-text' dir='auto'" in viewer
        table = render.documents_html(base.documents())
        assert "<td>ar · Arabic</td>" in table and "<td>zh · Han</td>" in table


def test_markdown_and_json_exports(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
    markdown = responses.export_markdown(turns)
    assert "## How many tonnes" in markdown and "> The Zanzibar spice harbour" in markdown
    assert "[1] Zanzibar (notes/zanzibar.md)" in responses.answer_markdown(turns[-1].answer)
    record = json.loads(responses.export_json(turns))
    assert record["turns"][0]["answer"]["citations"][0]["n"] == 1


def test_safe_file_name_drops_folders_and_leading_dots() -> None:
    assert safe_file_name("../../etc/.passwd.md") == "passwd.md"
    assert safe_file_name("C:\\Users\\me\\notes.txt") == "notes.txt"
    with pytest.raises(rag.DocumentError):
        safe_file_name("...")


def test_check_upload_refuses_wrong_type_size_and_content(tmp_path: Path) -> None:
    png = tmp_path / "photo.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    with pytest.raises(rag.DocumentError, match="PNG"):
        check_upload("photo.txt", png, 10_000)
    with pytest.raises(rag.DocumentError, match="not supported"):
        check_upload("tool.exe", png, 10_000)
    with pytest.raises(rag.DocumentError, match="upload limit"):
        check_upload("photo.txt", png, 10)


def test_blocked_paths_cover_the_index_and_data_folders(tmp_path: Path) -> None:
    blocked = security.blocked_paths(tmp_path / "index", [tmp_path / "docs"])
    assert str((tmp_path / "index").resolve()) in blocked and str((tmp_path / "docs").resolve()) in blocked


def test_login_needs_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_UI_USER", raising=False)
    monkeypatch.delenv("RAG_UI_PASSWORD", raising=False)
    assert security.auth_from_env() is None
    monkeypatch.setenv("RAG_UI_USER", "me")
    with pytest.raises(rag.RagError):
        security.auth_from_env()
    monkeypatch.setenv("RAG_UI_PASSWORD", "secret")
    check = security.auth_from_env()
    assert check is not None and check("me", "secret") and not check("me", "guess")


def test_uploads_are_kept_and_ingested_with_per_file_results(base: rag.KnowledgeBase, tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "cranes.md").write_text("# Cranes\n\nBlue cranes lift forty containers an hour.\n")
    (incoming / "fake.pdf").write_text("not a pdf at all")
    uploads = base.folder / UPLOADS_FOLDER
    files = [incoming / "cranes.md", incoming / "fake.pdf"]
    updates = list(documents.ingest_uploads(base, files, uploads, 1_000_000))
    final = updates[-1]
    assert final.is_done and "1 added" in final.progress and "1 failed" in final.progress
    assert "cranes.md" in final.results_html and "not a PDF" in final.results_html
    assert (uploads / "cranes.md").is_file() and not (uploads / "fake.pdf").exists()
    assert any(info.source == str((uploads / "cranes.md").absolute()) for info in base.documents())
    assert documents.remove_document(base, "cranes.md")[0].startswith("Removed cranes.md")


@pytest.mark.postgres
def test_an_upload_to_a_postgresql_index_is_refused_and_nothing_is_written(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a folder named after the URL was made
    (tmp_path / "cranes.md").write_text("# Cranes\n\nBlue cranes lift forty containers an hour.\n")
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("harbour.md", ZANZIBAR)])
        updates = list(
            documents.ingest_uploads(base, [tmp_path / "cranes.md"], base.folder / UPLOADS_FOLDER, 10**6)
        )
        assert [update.is_done for update in updates] == [True]
        assert "is a PostgreSQL index: add documents with `rag ingest" in updates[0].progress
        assert [info.source for info in base.documents()] == ["harbour.md"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cranes.md"]


def test_office_upload_is_ingested_and_a_mislabelled_one_refused(
    base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "report.docx").write_bytes(docx_bytes())
    (incoming / "notes.docx").write_text("Plain text saved with the wrong extension.")
    uploads = base.folder / UPLOADS_FOLDER
    final = list(documents.ingest_uploads(base, sorted(incoming.iterdir()), uploads, 1_000_000))[-1]
    assert "1 added" in final.progress and "1 failed" in final.progress
    assert "notes.docx is not a Word document (it is not a ZIP archive)" in final.results_html
    answer = base.ask("How many engineers does the team have?")
    assert "section: Staff" in render.sources_html(answer, 1, base.document)
    viewer = responses.open_citation(base, [responses.Turn("q", answer)], "cite-0-1")
    assert "No page image: a .docx file is shown as its text" in viewer


class _BlockingEmbedder:
    """Blocks while embedding any text containing a marker word, to hold an ingest mid-way."""

    def __init__(self, inner: rag.Embedder, marker: str) -> None:
        self.inner, self.marker, self.name = inner, marker, inner.name
        self.entered, self.release = threading.Event(), threading.Event()

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(self.marker in text for text in texts):
            self.entered.set()
            self.release.wait(10)
        return self.inner.embed(texts)


def test_questions_during_an_ingest_are_answered_from_committed_documents(tmp_path: Path) -> None:
    embedder = _BlockingEmbedder(rag.HashingEmbedder(256), "Quokka")
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.add_texts([rag.TextItem("zanzibar.md", ZANZIBAR)])
        writer = threading.Thread(
            target=base.add_texts, args=([rag.TextItem("quokka.md", "Quokka colonies live on Rottnest.")],)
        )
        writer.start()
        assert embedder.entered.wait(10)
        turns = ask(base, "How many tonnes of cloves did the Zanzibar harbour ship?")
        embedder.release.set()
        writer.join(10)
    answer = turns[-1].answer
    assert answer is not None and answer.answered
    assert all(passage.source == "zanzibar.md" for passage in answer.passages)


def test_build_app_makes_a_bounded_queue_without_analytics(base: rag.KnowledgeBase) -> None:
    from ui import app

    page = app.build_app(base, app.AppConfig(uploads=base.folder / "uploads"))
    assert page.analytics_enabled is False
    assert page._queue.max_size == app.QUEUE_MAX_SIZE


def test_same_name_upload_of_another_file_keeps_both(base: rag.KnowledgeBase, tmp_path: Path) -> None:
    uploads = base.folder / UPLOADS_FOLDER
    for number, text in enumerate(("Alice's notes on cranes lifting containers.", "Bob's notes on tides.")):
        incoming = tmp_path / f"user{number}"
        incoming.mkdir()
        (incoming / "notes.txt").write_text(text)
        *_, final = documents.ingest_uploads(base, [incoming / "notes.txt"], uploads, 1_000_000)
        assert "1 added" in final.progress
    kept = sorted(path.name for path in uploads.iterdir())
    assert kept == ["notes (2).txt", "notes.txt"]
    texts = {base.document(info.source).text for info in base.documents() if "/notes" in info.source}
    assert texts == {"Alice's notes on cranes lifting containers.", "Bob's notes on tides."}
    # The same bytes again are the same document, not a third copy.
    *_, final = documents.ingest_uploads(base, [tmp_path / "user1" / "notes.txt"], uploads, 1_000_000)
    assert "1 unchanged" in final.progress and len(list(uploads.iterdir())) == 2


def test_files_a_crashed_upload_left_behind_are_indexed_at_start(base: rag.KnowledgeBase) -> None:
    uploads = base.folder / UPLOADS_FOLDER
    uploads.mkdir()
    (uploads / "orphan.md").write_text("# Orphan\n\nThe ferry to Pemba leaves at dawn every Tuesday.\n")
    (uploads / ".half.md.partial").write_text("half cop")
    report = documents.recover_uploads(base, uploads)
    assert report is not None and report.count("added") == 1
    assert not (uploads / ".half.md.partial").exists()
    assert documents.recover_uploads(base, uploads) is None


def test_one_bad_file_does_not_refuse_the_batch_in_gradio(base: rag.KnowledgeBase, tmp_path: Path) -> None:
    from gradio.data_classes import FileData, ListFiles

    from ui import app

    page = app.build_app(base, app.AppConfig(uploads=base.folder / "uploads"))
    upload = next(block for block in page.blocks.values() if getattr(block, "elem_id", None) == "upload")
    good, bad = tmp_path / "good.txt", tmp_path / "tool.exe"
    good.write_text("fine")
    bad.write_bytes(b"MZ\x90\x00")
    paths = upload.preprocess(ListFiles(root=[FileData(path=str(good)), FileData(path=str(bad))]))
    assert [Path(path).name for path in paths] == ["good.txt", "tool.exe"]
    updates = list(documents.ingest_uploads(base, paths, base.folder / "uploads", 1_000_000))
    assert "1 added" in updates[-1].progress and "tool.exe" in updates[-1].results_html


def test_login_slows_guessing_down_and_still_lets_the_user_in() -> None:
    now = [0.0]
    check = security.LoginCheck("ada", "correct horse", clock=lambda: now[0])
    accepted_guesses = 0
    for attempt in range(300):  # 300 wrong passwords as fast as possible
        now[0] += 0.01
        accepted_guesses += check("ada", f"guess-{attempt}") is False
    # Only attempts outside a pause are checked at all; 300 in 3 s leave a handful.
    assert check.FREE_ATTEMPTS <= check._failures <= check.FREE_ATTEMPTS + 3
    assert check("ada", "correct horse") is False  # still paused: the right password waits too
    now[0] += check.LONGEST_PAUSE_SECONDS
    assert check("ada", "correct horse") is True
    assert check("eve", "correct horse") is False


def test_gradio_environment_variables_are_removed() -> None:
    environment = {
        "GRADIO_ALLOWED_PATHS": "/etc",
        "GRADIO_TEMP_DIR": "/etc",
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SHARE": "True",
        "GRADIO_ROOT_PATH": "http://evil.example",
        "GRADIO_MCP_SERVER": "True",
        "GRADIO_VIBE_MODE": "1",
        "GRADIO_SSR_MODE": "True",
        "GRADIO_ANALYTICS_ENABLED": "True",
        "PATH": "/usr/bin",
    }
    ignored = security.pin_gradio_environment(environment)
    assert len(ignored) == 8 and "GRADIO_ALLOWED_PATHS" in ignored
    assert environment == {"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin"}


def test_an_unexpected_failure_while_indexing_uploads_is_shown_not_lost(
    base: rag.KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "note.txt").write_text("A note about ferries.")

    def broken_ingest(*args: object, **kwargs: object) -> rag.IngestReport:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(base, "ingest", broken_ingest)
    *_, final = documents.ingest_uploads(base, [tmp_path / "note.txt"], base.folder / "uploads", 1_000_000)
    assert final.is_done and "No space left on device" in final.progress


def test_lone_surrogate_in_a_question_does_not_cut_the_event_stream(base: rag.KnowledgeBase) -> None:
    import orjson  # what Gradio encodes its events with

    *_, final = responses.stream_turns(base, "How many tonnes of cloves \ud800?", [], rag.AskOptions())
    assert final[-1].is_final and not final[-1].error
    orjson.dumps(responses.chat_messages(final))


def test_stats_show_an_approximate_index_with_its_measured_recall() -> None:
    approximate = render.stats_html({"vector_index": "ivf-sq8", "vector_recall@10": 0.9625})
    assert "ivf-sq8, recall@10 0.963" in approximate
    assert ">exact<" in render.stats_html({"vector_index": "exact", "vector_recall@10": 1.0})


def test_a_question_over_the_limit_is_a_clear_error_turn_not_cut_short(base: rag.KnowledgeBase) -> None:
    question = "Where were cloves grown? " * 100  # 2,500 characters
    turns = list(responses.stream_turns(base, question, [], rag.AskOptions()))
    assert len(turns) == 1
    turn = turns[0][-1]
    assert turn.is_final and turn.answer is None and "the limit is 2000" in turn.error
    assert question.strip().startswith(turn.question)


def test_a_computed_answer_shows_its_formula_with_clickable_markers(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    (tmp_path / "budgets.csv").write_text("department,budget_eur\nLegal,1812337\nResearch,1717641\n")
    fake_base.ingest([tmp_path / "budgets.csv"])
    turns = ask(fake_base, "What is the combined budget eur of Legal and Research?")
    answer = turns[-1].answer
    assert answer is not None and answer.computation is not None
    html = render.answer_html(answer, 2, True)
    assert "Computed from the quoted rows, not a quote" in html
    assert "class='formula'" in html and html.count("cite-2-1") == 2 and "3,529,978" in html


def test_a_percent_change_shows_its_formula_and_its_rounding(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    (tmp_path / "budgets.csv").write_text("department,budget_eur\nLegal,1812337\nResearch,1717641\n")
    fake_base.ingest([tmp_path / "budgets.csv"])
    turns = ask(fake_base, "How much larger is the budget eur of Legal than that of Research in percent?")
    answer = turns[-1].answer
    assert answer is not None and answer.computation is not None
    html = render.answer_html(answer, 3, True)
    assert "Computed from the quoted rows, not a quote" in html
    assert "× 100 ≈ 5.51 %" in html and "rounded half to even to two decimals" in html
    assert html.count("cite-3-1") == 2 and html.count("cite-3-2") == 4


def test_any_login_check_can_be_throttled() -> None:
    now = [0.0]
    check = security.ThrottledLogin(lambda _user, key: key == "right-key-0123456789", clock=lambda: now[0])
    assert not any(check("x", f"wrong-{attempt}") for attempt in range(10))
    assert check("x", "right-key-0123456789") is False  # paused
    now[0] += check.LONGEST_PAUSE_SECONDS
    assert check("x", "right-key-0123456789") is True


def test_an_upload_while_a_sync_pass_writes_waits_for_it_and_says_so(
    base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    from rag.storage.lock import write_lock

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "tides.md").write_text("Spring tides follow the full moon.")
    holding, release = threading.Event(), threading.Event()

    def sync_pass() -> None:  # another writer of the folder, as a `rag sync` process would be
        with write_lock(base.folder):
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=sync_pass)
    writer.start()
    holding.wait(5)
    updates = documents.ingest_uploads(base, [incoming / "tides.md"], base.folder / UPLOADS_FOLDER, 1_000_000)
    shown = [next(updates).progress for _ in range(3)]
    release.set()
    writer.join()
    *_, final = updates
    assert any("waiting: a sync pass" in text for text in shown), shown
    assert final.is_done and "1 added" in final.progress


def test_a_guessing_client_is_paused_while_another_still_logs_in() -> None:
    now = [0.0]
    check = security.ThrottledLogin(lambda _user, key: key == "right-key-0123456789", clock=lambda: now[0])

    def attempt(client: str, key: str) -> bool:
        token = security.LOGIN_CLIENT.set(client)
        try:
            return check("x", key)
        finally:
            security.LOGIN_CLIENT.reset(token)

    assert not any(attempt("10.0.0.9", f"wrong-{number}") for number in range(10))
    assert attempt("10.0.0.9", "right-key-0123456789") is False  # the guesser is paused
    assert attempt("10.0.0.7", "right-key-0123456789") is True  # everyone else is not
