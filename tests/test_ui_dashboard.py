"""The quality dashboard in a real Chromium, on real questions and the real model: questions asked and
thumbs given in the chat show on the Quality tab, and become a question set `rag eval` runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from browser import REPO, chromium, start_ui, stop_ui
from playwright.sync_api import Page
from test_ui_browser import SEEDS, ask, save_screenshot

import rag

pytestmark = pytest.mark.browser

QUESTIONS = (
    "Who hosted the multinational conference in Moscow on Nov. 9?",
    "How many members were in the Taliban delegation?",
    "When did the Soviet Union suffer its defeat in Afghanistan?",
)
ORCHARD = "The alpha orchard grows apples in Norway. The harvest starts in September.\n"


def rag_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`rag ...` in a child process, as a person would run it beside the running UI."""
    command = [sys.executable, "-m", "rag", *arguments]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


def quality(tab: Page, ready: str) -> str:
    """Open the Quality tab (it reads the index afresh), wait until the `ready` selector is on it,
    and return its text."""
    tab.click("button[role=tab]:has-text('Chat')")
    tab.click("button[role=tab]:has-text('Quality')")
    tab.wait_for_selector(f"#quality {ready}", timeout=30_000)
    return tab.locator("#quality").inner_text()


def test_questions_and_thumbs_in_the_chat_show_on_the_dashboard_and_in_a_regression_set(
    tmp_path: Path,
) -> None:
    orchard = tmp_path / "orchard"
    orchard.mkdir()
    (orchard / "orchard.md").write_text(ORCHARD)
    runs = tmp_path / "runs"
    running = start_ui(tmp_path, [SEEDS, orchard], extra_env={"RAG_EVAL_RUNS": str(runs)})
    try:
        with chromium() as browser:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(running.url)
            tab.wait_for_selector("#question textarea")
            for question in QUESTIONS:
                ask(tab, question)
            # Two clicks each: the question was one, the thumb is the other.
            thumbs = tab.locator("#chatbot button[aria-label='Like'], #chatbot button[aria-label='Dislike']")
            assert thumbs.count() >= 2 * len(QUESTIONS)
            tab.locator("#chatbot button[aria-label='Like']").nth(0).click()
            tab.wait_for_selector("#feedback-status .feedback-status", timeout=10_000)
            tab.locator("#chatbot button[aria-label='Dislike']").nth(1).click()
            tab.wait_for_function(
                "document.querySelectorAll('#feedback-status .feedback-status').length"
                " && document.querySelector('#feedback-status').innerText.includes('stored')",
                timeout=10_000,
            )

            with rag.open(running.index) as base:
                logged = base.asked_questions()
                given = base.feedback()
            assert [asked.question for asked in logged] == list(QUESTIONS)
            assert {asked.channel for asked in logged} == {"ui"}
            assert [item.rating for item in given] == ["helpful", "not_helpful"]
            answered = sum(asked.answered for asked in logged)

            shown = quality(tab, "#dash-slowest")  # drawn once there are questions
            totals = tab.locator("#dash-questions").inner_text(), tab.locator("#dash-feedback").inner_text()
            assert totals == (str(len(QUESTIONS)), "2")
            share = tab.locator("#dash-answered-share").inner_text()
            assert share == f"{answered / len(QUESTIONS):.0%}"
            assert "2 feedback: 1 helpful, 1 not helpful" in shown
            assert all(question in shown for question in QUESTIONS)  # the slowest questions, all three
            assert "orchard.md" in tab.locator("#dash-uncited").inner_text()
            cited = {document.source for asked in logged for document in asked.cited}
            assert any(Path(source).name in tab.locator("#dash-cited").inner_text() for source in cited)
            assert tab.locator("#quality svg").count() >= 3  # questions, feedback, documents per day
            assert "No `rag eval --out DIR` results found" in shown

            # The feedback becomes a question set, and `rag eval` runs it; the run shows on the tab.
            question_set = tmp_path / "from-feedback.jsonl"
            made = rag_command(
                "eval", "--from-feedback", "--index", str(running.index), "--out", str(question_set)
            )
            assert made.returncode == 0, made.stderr
            rows = [json.loads(line) for line in question_set.read_text().splitlines()]
            assert [row["question"] for row in rows] == list(QUESTIONS[:2])
            assert rows[1]["review"] == "not_helpful" and "review" not in rows[0]
            ran = rag_command(
                "eval", str(question_set), "--index", str(running.index), "--out", str(runs / "one")
            )
            assert ran.returncode == 0, ran.stderr
            quality(tab, "#dash-runs")
            assert "from-feedback.jsonl" in tab.locator("#dash-runs").inner_text()
            assert tab.locator("#quality svg").count() >= 4  # and the history of runs
            with rag.open(running.index) as base:
                assert len(base.asked_questions()) == len(QUESTIONS)  # evaluation asks are not logged
            save_screenshot(tab, "quality-dashboard.png", full_page=True)
    finally:
        stop_ui(running)
