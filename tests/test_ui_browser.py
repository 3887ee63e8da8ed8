"""End to end in a real Chromium: the UI served on a temp index of the seeds corpus."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import REPO, SCREENSHOTS, Server, start_ui, stop_ui
from playwright.sync_api import Browser, Locator, Page

import rag
from eval.ports import listen_port

pytestmark = pytest.mark.browser

SEEDS = REPO.parent / "shared" / "corpus" / "seeds"
ANSWER_TIMEOUT_MS = 60_000
HOSTILE_NAME = "<img src=x onerror=alert(1)>.md"
HOSTILE_TEXT = (
    "# <img src=x onerror=alert(2)> Okapi field notes\n\n"
    "Okapi calves in the Ituri forest are weaned at six months <script>alert(3)</script> "
    "![pixel](http://example.invalid/pixel.png) <img src=http://example.invalid/p.png>.\n"
)
LATENCY_QUESTIONS = (
    "Who hosted the multinational conference in Moscow on Nov. 9?",
    "Which countries sent officials to the Moscow conference?",
    "How many members were in the Taliban delegation?",
    "What is the Taliban's principal external backer?",
    "Why is Russia interested in Afghanistan?",
    "What did the Kremlin invite Taliban representatives to?",
    "Who objected to the Moscow meeting in September?",
    "What group could use Afghanistan as a base to threaten Russia?",
    "When did the Soviet Union suffer its defeat in Afghanistan?",
    "What did the Taliban reject at the meeting?",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The UI on the seeds plus one file whose name and text are hostile HTML."""
    if not SEEDS.is_dir():
        pytest.fail(f"{SEEDS} is missing: clone the project beside the shared folder")
    workdir = tmp_path_factory.mktemp("ui-browser")
    hostile = workdir / "hostile"
    hostile.mkdir()
    (hostile / HOSTILE_NAME).write_text(HOSTILE_TEXT)
    running = start_ui(workdir, [SEEDS, hostile])
    yield running
    stop_ui(running)


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh desktop-sized page on the app; any JavaScript dialog is recorded as a failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (server.dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto(server.url)
    tab.wait_for_selector("#question textarea")
    yield tab
    context.close()
    assert server.dialogs == [], f"a script ran from page content: {server.dialogs}"


def save_screenshot(page: Page, name: str, full_page: bool = False) -> None:
    """Save a screenshot into docs/screenshots, reduced to 128 colours so the committed PNG stays small."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    try:
        from PIL import Image  # pillow arrives with matplotlib (the eval extra)
    except ImportError:
        return
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def ask(page: Page, question: str) -> Locator:
    """Type a question, press Enter, wait for its final answer and return that answer's element."""
    finals = page.locator("#chatbot .answer.final")
    count = finals.count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chatbot .answer.final').length > {count}", timeout=ANSWER_TIMEOUT_MS
    )
    return finals.nth(count)


def ingest_uploads(page: Page, *files: Any) -> str:
    """Upload files on the Documents tab, ingest them, wait for the results, return to the chat;
    the results table's text."""
    page.click("button[role=tab]:has-text('Documents')")
    for file in files:
        page.set_input_files("#upload input[type=file]", [file])
    page.wait_for_timeout(500)
    page.click("#ingest")
    page.wait_for_selector("#ingest-results table", timeout=ANSWER_TIMEOUT_MS)
    results = page.locator("#ingest-results").inner_text()
    page.click("button[role=tab]:has-text('Chat')")
    return results


FEEDBACK_PORT = int(os.environ.get("VERBATIM_TEST_FEEDBACK_PORT", "0")) or None


def test_two_clicks_give_feedback_that_lands_in_the_index(browser: Browser, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orchard.md").write_text(
        "The alpha orchard grows apples in Norway. The harvest starts in September.\n"
    )
    running = start_ui(tmp_path, [docs], ("--model", "hashing-256"), port=FEEDBACK_PORT)
    try:
        tab = browser.new_page()
        tab.goto(running.url)
        tab.wait_for_selector("#question textarea")
        ask(tab, "When does the harvest start?")
        # Click one: the thumb down under the answer.
        tab.locator("#chatbot button[aria-label='Dislike']").last.click()
        tab.wait_for_selector("#feedback-status .feedback-status", timeout=10_000)
        assert "feedback stored" in tab.locator("#feedback-status").inner_text()
        # The panel: flag the quote, paste the right words, send.
        tab.click("#feedback-panel button, #feedback-panel .label-wrap")
        tab.locator("#feedback-flags label:has-text('[1] wrong document')").click()
        tab.fill("#feedback-passage textarea", "The harvest starts in September.")
        tab.click("#feedback-send")
        tab.wait_for_function(
            "document.querySelector('#feedback-status').innerText.includes('found in')", timeout=10_000
        )
        # It shows on the Quality tab.
        tab.click("button[role=tab]:has-text('Quality')")
        tab.wait_for_function(
            "document.querySelector('#quality').innerText.includes('2 feedback')", timeout=10_000
        )
        assert "orchard.md" in tab.locator("#quality").inner_text()  # the flagged document
        with rag.open(running.index) as base:
            given = base.feedback()
        assert [item.rating for item in given] == ["not_helpful", None]
        assert given[1].citations[0].flags == ("wrong_document",)
        assert given[1].better_source is not None and given[1].better_source.source.endswith("orchard.md")
    finally:
        stop_ui(running)


def test_answer_shows_citation_and_highlighted_quote(page: Page) -> None:
    answer = ask(page, "Who hosted the multinational conference in Moscow on Nov. 9?")
    assert "Russian Foreign Ministry" in answer.inner_text()
    assert answer.locator("button.cite").count() >= 1
    marks = page.locator("#sources mark.quote")
    marks.first.wait_for()
    assert marks.first.inner_text().strip().replace("\n", " ") in answer.inner_text().replace("\n", " ")


def test_citation_opens_the_viewer_at_the_quote(page: Page) -> None:
    answer = ask(page, "Which countries sent officials to the Moscow conference?")
    answer.locator("button.cite").first.click()
    target = page.locator("#viewer #quote-target")
    target.wait_for()
    quote = target.inner_text().strip()
    assert quote and quote[:40].replace("\n", " ") in answer.inner_text().replace("\n", " ")
    # The quote must end up scrolled into view inside the viewer's scroll box.
    page.wait_for_function(
        """() => {
          const box = document.querySelector('#viewer .viewer-text').getBoundingClientRect();
          const mark = document.querySelector('#viewer #quote-target').getBoundingClientRect();
          return mark.top >= box.top - 2 && mark.top < box.bottom && mark.top >= 0 && mark.top < innerHeight;
        }""",
        timeout=5000,
    )
    # The README picture: answer, sources and the viewer at the quote, on one laptop-sized screen.
    page.set_viewport_size({"width": 1280, "height": 1080})
    page.evaluate("document.querySelector('#viewer #quote-target').scrollIntoView({block: 'center'})")
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, "chat-desktop.png")


def test_follow_up_shows_the_rewritten_query_and_re_asks_an_edited_one(page: Page) -> None:
    ask(page, "Why did Russia invite the Taliban to Moscow?")
    ask(page, "and what about Pakistan?")
    page.click("#query-panel button, #query-panel .label-wrap")
    query = page.locator("#query textarea")
    assert "Pakistan" in query.input_value() and "Taliban" in query.input_value()
    finals = page.locator("#chatbot .answer.final").count()
    query.fill("Pakistan principal external backer")
    page.click("#reask")
    page.wait_for_function(
        f"document.querySelectorAll('#chatbot .answer.final').length > {finals}", timeout=ANSWER_TIMEOUT_MS
    )
    assert "Pakistan principal external backer" in page.locator("#chatbot .answer.final").last.inner_text()


def test_a_compound_question_is_answered_part_by_part(page: Page) -> None:
    answer = ask(page, "Who wrote the comment, and what did he say about Russia?")
    parts = answer.locator(".answer-part")
    assert parts.count() == 2
    assert "Bill C." in parts.nth(0).inner_text()
    assert "Russia" in parts.nth(1).inner_text() and "do not contain" not in parts.nth(1).inner_text()
    numbers = [button.inner_text() for button in answer.locator("button.cite").all()]
    assert numbers == [f"[{number}]" for number in range(1, len(numbers) + 1)] and len(numbers) >= 2
    assert page.locator("#sources .source").count() == len(numbers)
    parts.nth(1).locator("button.cite").first.click()
    page.locator("#viewer #quote-target").wait_for()
    save_screenshot(page, "compound-answer.png")


def test_question_not_covered_is_refused_with_closest_passages(page: Page) -> None:
    answer = ask(page, "What is the boiling point of liquid nitrogen in kelvin?")
    assert "do not contain an answer" in answer.inner_text()
    assert page.locator("#sources .source.closest").count() >= 1


def test_uploaded_document_is_indexed_and_quoted(page: Page, server: Server, tmp_path: Path) -> None:
    notes = tmp_path / "zanzibar-harbour.md"
    notes.write_text(
        "# Zanzibar harbour\n\nThe Zanzibar spice harbour shipped 4,200 tonnes of cloves in 2021.\n"
    )
    disguised = {"name": "photo.txt", "mimeType": "text/plain", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 64}
    hostile = {"name": HOSTILE_NAME, "mimeType": "text/markdown", "buffer": HOSTILE_TEXT.encode()}
    results = ingest_uploads(page, str(notes), disguised, hostile)
    assert "zanzibar-harbour.md" in results and "added" in results
    assert "photo.txt" in results and "PNG" in results
    assert (server.index / "uploads" / "zanzibar-harbour.md").is_file()
    answer = ask(page, "How many tonnes of cloves did the Zanzibar spice harbour ship?")
    assert "4,200 tonnes" in answer.inner_text()
    assert "zanzibar-harbour.md" in page.locator("#sources").inner_text()


def test_a_computed_answer_shows_its_formula_and_each_input_row_quoted(
    page: Page, server: Server, tmp_path: Path
) -> None:
    table = tmp_path / "department_budgets.csv"
    table.write_text("department,budget_eur,floor\nResearch,1717641,North\nLegal,1812337,North\n")
    ingest_uploads(page, str(table))
    answer = ask(page, "What is the combined budget eur of Legal and Research in the department budgets?")
    formula = answer.locator(".computed .formula")
    assert "1812337 [1] + 1717641 [2] = 3,529,978" in formula.inner_text()
    assert "not a quote" in answer.locator(".computed").inner_text()
    answer.locator(".computed button.cite").nth(1).click()
    target = page.locator("#viewer #quote-target")
    target.wait_for()
    assert target.inner_text().strip() == "Research,1717641,North"


def test_a_percent_change_shows_its_formula_its_rounding_and_its_quoted_rows(
    page: Page, server: Server, tmp_path: Path
) -> None:
    table = tmp_path / "ferry_passengers.csv"
    table.write_text(
        "route,passengers_2022,passengers_2023\nIsland Loop,48250,52111\nNight Ferry,9800,9800\n"
    )
    ingest_uploads(page, str(table))
    answer = ask(page, "By what percent did the passengers of Island Loop change from 2022 to 2023?")
    formula = answer.locator(".computed .formula")
    assert "(52111 [1] − 48250 [1]) / 48250 [1] × 100 ≈ 8.00 %" in formula.inner_text()
    assert "rounded half to even to two decimals" in answer.inner_text()
    answer.locator(".computed button.cite").first.click()
    target = page.locator("#viewer #quote-target")
    target.wait_for()
    assert target.inner_text().strip() == "Island Loop,48250,52111"


def test_hostile_file_name_and_text_render_as_text(page: Page, server: Server) -> None:
    remote: list[str] = []
    page.on(
        "request", lambda request: remote.append(request.url) if "example.invalid" in request.url else None
    )
    page.click("button[role=tab]:has-text('Documents')")
    table = page.locator("#documents")
    table.get_by_text(HOSTILE_NAME, exact=True).wait_for()
    assert table.locator("img").count() == 0
    page.click("button[role=tab]:has-text('Chat')")
    answer = ask(page, "When are okapi calves in the Ituri forest weaned?")
    assert "six months" in answer.inner_text()
    assert "<script>" in answer.inner_text() or "<script>" in page.locator("#sources").inner_text()
    answer.locator("button.cite").first.click()
    page.locator("#viewer #quote-target").wait_for()
    # The cited file's name, as text: the ingested file, or its upload (the same text; the upload
    # lost < and > on the way in), whichever the answer cited.
    shown = page.locator("#viewer .viewer-head .source-file").inner_text()
    assert shown in (HOSTILE_NAME, HOSTILE_NAME.replace("<", "").replace(">", ""))
    assert shown == page.locator("#sources .source[data-number='1'] .source-file").inner_text()
    for area in ("#chatbot", "#sources", "#viewer", "#documents"):
        assert page.locator(f"{area} img, {area} script").count() == 0, area
    page.wait_for_timeout(300)
    assert remote == [] and server.dialogs == []


def test_index_and_system_files_are_not_served(page: Page, server: Server) -> None:
    base = server.url.rstrip("/")
    targets = [
        server.index / "rag.sqlite",
        Path("/etc/passwd"),
        server.index / "uploads",
        REPO / "pyproject.toml",
    ]
    targets += list((server.index / "uploads").glob("*")) + sorted(SEEDS.iterdir())[:1]
    for target in targets:
        response = page.request.get(f"{base}/gradio_api/file={target}")
        body = response.body()
        assert response.status in (403, 404), f"{target} served with {response.status}"
        assert b"SQLite format" not in body and b"root:" not in body


def test_login_is_required_when_the_variables_are_set(browser: Browser, tmp_path: Path) -> None:
    login = {"RAG_UI_USER": "alice", "RAG_UI_PASSWORD": "s3cret"}
    guarded = start_ui(tmp_path, [], ("--model", "hashing-256"), login)
    try:
        context = browser.new_context()
        request = context.request
        assert request.get(guarded.url + "config").status == 401
        wrong = request.post(guarded.url + "login", form={"username": "alice", "password": "nope"})
        assert wrong.status >= 400
        right = request.post(guarded.url + "login", form={"username": "alice", "password": "s3cret"})
        assert right.ok and request.get(guarded.url + "config").status == 200
        context.close()
    finally:
        stop_ui(guarded)


def test_phone_width_dark_mode_screenshot(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    phone = context.new_page()
    phone.on("dialog", lambda dialog: (server.dialogs.append(dialog.message), dialog.dismiss()))
    phone.goto(server.url + "?__theme=dark")
    phone.wait_for_selector("#question textarea")
    answer = ask(phone, "What is the Taliban's principal external backer?")
    assert answer.is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the page scrolls sideways at phone width ({width}px)"
    save_screenshot(phone, "chat-phone-dark.png", full_page=True)
    context.close()


def test_latency_enter_to_first_token_and_full_answer(page: Page) -> None:
    """Median of 10 questions on the seeds index, measured in the page with performance.now()."""
    page.evaluate(
        """() => {
          window.__timing = [];
          document.querySelector('#question textarea').addEventListener('keydown', (event) => {
            if (event.key !== 'Enter') return;
            const finals = document.querySelectorAll('#chatbot .answer.final').length;
            const record = { start: performance.now(), first: null, final: null };
            window.__timing.push(record);
            const observer = new MutationObserver(() => {
              const now = performance.now();
              const answers = document.querySelectorAll('#chatbot .answer:not(.pending)').length;
              if (record.first === null && answers > finals) record.first = now;
              if (document.querySelectorAll('#chatbot .answer.final').length > finals) {
                record.final = now;
                observer.disconnect();
              }
            });
            observer.observe(document.querySelector('#chatbot'), { subtree: true, childList: true, characterData: true, attributes: true });
          }, true);
        }"""
    )
    for question in LATENCY_QUESTIONS:
        ask(page, question)
    records = page.evaluate("window.__timing")
    first = [record["first"] - record["start"] for record in records]
    final = [record["final"] - record["start"] for record in records]
    result = {
        "questions": len(records),
        "median_first_token_ms": round(statistics.median(first), 1),
        "median_full_answer_ms": round(statistics.median(final), 1),
        "first_token_ms": [round(value, 1) for value in first],
        "full_answer_ms": [round(value, 1) for value in final],
        "note": "Enter keydown to first answer text / final answer in the page; extractive mode, seeds index",
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "latency.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    assert len(records) == len(LATENCY_QUESTIONS)


class SlowChatModel:
    """A language model that takes PIECE_SECONDS per piece, so an answer is still coming for seconds."""

    name = "slow"
    PIECE_SECONDS = 0.5

    def stream(self, messages: object, max_tokens: int) -> Iterator[str]:
        for piece in ("Lighthouse ", "keepers ", "logged ", "every ", "passing ", "ship."):
            time.sleep(self.PIECE_SECONDS)
            yield piece

    def complete(self, messages: object, max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens))


def test_a_question_sent_while_an_answer_streams_is_answered_after_it(
    browser: Browser, tmp_path: Path
) -> None:
    from rag.llm.server import start_server

    llm = start_server(SlowChatModel(), port=listen_port())
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lighthouse.md").write_text(
        "# Lighthouse\n\nThe keepers logged every passing ship in the winter ledger.\n"
        "The lamp was lit at dusk and put out at dawn.\n"
    )
    slow = {"RAG_ANSWER_MODE": "llm", "RAG_LLM_BASE_URL": llm.base_url, "RAG_LLM_MODEL": "slow"}
    running = start_ui(tmp_path, [notes], ("--model", "hashing-256"), slow)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        page.goto(running.url)
        page.fill("#question textarea", "What did the keepers log?")
        page.press("#question textarea", "Enter")
        # The first update empties the box; the answer then streams for about three seconds.
        page.wait_for_function("document.querySelector('#question textarea').value === ''")
        page.wait_for_selector("#chatbot .answer.pending, #chatbot .answer:not(.final)")
        page.fill("#question textarea", "When was the lamp lit?")
        page.press("#question textarea", "Enter")
        page.wait_for_function(
            "document.querySelectorAll('#chatbot .answer.final').length >= 2", timeout=ANSWER_TIMEOUT_MS
        )
        questions = page.locator("#chatbot .question").all_inner_texts()
        assert questions == ["What did the keepers log?", "When was the lamp lit?"]
    finally:
        context.close()
        stop_ui(running)
        llm.shutdown()
        llm.server_close()


def test_documents_tab_shows_each_synced_source_and_follows_a_watched_folder(
    browser: Browser, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text("The harbour master rings the copper bell at dawn.\n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    past = time.time() - 60
    for path in docs.iterdir():
        os.utime(path, (past, past))
    index = tmp_path / "index"
    synced = subprocess.run(
        [sys.executable, "-m", "rag", "sync", str(docs), "--index", str(index), "--model", "hashing-256"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert synced.returncode == 1, synced.stderr  # one file failed
    running = start_ui(tmp_path, [], ("--sync",))
    try:
        tab = browser.new_page()
        tab.goto(running.url)
        tab.wait_for_selector("#question textarea")
        tab.click("button[role=tab]:has-text('Documents')")
        panel = tab.locator("#sync-sources")
        panel.locator("table").wait_for(timeout=10_000)
        shown = panel.inner_text()
        # The first pass (by `rag sync`) stays visible after the server's own quiet pass.
        assert str(docs) in shown and "folder" in shown and "1 added, 1 failed" in shown
        assert "broken.pdf" in shown  # the failure, with its reason
        # A file written by hand shows up without a click: the tab follows the passes.
        (docs / "ferry.txt").write_text("The ferry to the island leaves from pier seven every hour.\n")
        tab.wait_for_function(
            "document.querySelector('#documents').innerText.includes('ferry.txt')", timeout=20_000
        )
        assert "1 added" in panel.inner_text()
        save_screenshot(tab, "documents-sync.png", full_page=True)
        tab.click("button[role=tab]:has-text('Chat')")
        ask(tab, "Where does the ferry to the island leave from?")
        assert "ferry.txt" in tab.locator("#sources").inner_text()
    finally:
        stop_ui(running)
