"""Real behaviour with the bundled all-MiniLM-L6-v2 on ../shared (marked `model`)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag
from rag.ingest.chunking import split_text

pytestmark = pytest.mark.model

SEED_ARTICLE = "000_2888b457f8e77719.txt"
SEED_COMMENTS = "004_6d4a6feab1b6d0a6.txt"
SEED_QUESTIONS = [
    (
        "Which ministry hosted the multinational conference in Moscow on Nov. 9?",
        SEED_ARTICLE,
        "Foreign Ministry",
    ),
    ("How many members were in the Taliban delegation sent to Moscow?", SEED_ARTICLE, "five-member"),
    ("When did the Soviet Union invade Afghanistan?", SEED_ARTICLE, "1979"),
    # The sentence naming the goal is quoted with the next one, which says what it is.
    ("What is the goal of the new Russian foreign policy in the comment?", SEED_COMMENTS, "buffer zones"),
    ("Who is the U.S. special envoy for Afghan reconciliation?", SEED_ARTICLE, "Khalilzad"),
    ("What does Moscow fear the Islamic State's Khorasan group could do?", SEED_ARTICLE, "threaten Russia"),
    (
        "Besides discreet contacts with Taliban leaders, what has the Kremlin's initiative in Afghanistan included?",
        SEED_COMMENTS,
        "military buildup",
    ),
    (
        "Why was the Kremlin's invitation to the Taliban for a September meeting rescinded?",
        SEED_COMMENTS,
        "objected",
    ),
    (
        "What does the commenter say Russia's efforts are really designed to contain?",
        SEED_COMMENTS,
        "Containing the U.S.",
    ),
]
UNANSWERABLE = [
    # On the documents' topic, asking for a number they never give.
    "How many Soviet soldiers died in Afghanistan?",
    "How many Taliban fighters are there?",
    "What is the boiling point of water at the top of Mount Everest?",
    "Who won the 2014 FIFA World Cup final?",
    "How do I bake sourdough bread at home?",
    "What is the population of Tokyo?",
]


def citations_are_verbatim(base: rag.KnowledgeBase, answer: rag.Answer) -> bool:
    return all(
        base.document(c.quote.document_id).text[c.start : c.end] == c.quote.text for c in answer.citations
    )


@pytest.mark.parametrize(("question", "source", "expected"), SEED_QUESTIONS)
def test_seed_questions_find_the_right_document_and_quote_it(
    seeds_base: rag.KnowledgeBase, question: str, source: str, expected: str
) -> None:
    passages = seeds_base.search(question)
    assert Path(passages[0].source).name == source
    answer = seeds_base.ask(question)
    assert answer.answered
    assert citations_are_verbatim(seeds_base, answer)
    assert any(expected in citation.quote.text for citation in answer.citations), answer.text


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_the_seeds_cannot_answer_are_refused(seeds_base: rag.KnowledgeBase, question: str) -> None:
    answer = seeds_base.ask(question)
    assert not answer.answered, answer.text
    assert answer.passages


def test_follow_up_is_rewritten_and_answered(seeds_base: rag.KnowledgeBase) -> None:
    history = ["When did the Soviet Union invade Afghanistan?"]
    answer = seeds_base.ask("and when did the United States invade it?", rag.AskOptions(history=history))
    assert "Afghanistan" in answer.query
    assert answer.answered and any("2001" in c.quote.text for c in answer.citations)


def test_reingesting_the_seeds_embeds_nothing(seeds_base: rag.KnowledgeBase, shared_dir: Path) -> None:
    report = seeds_base.ingest([shared_dir / "corpus" / "seeds"])
    assert report.chunks_embedded == 0 and report.count("unchanged") == 2


def test_xquad_search_and_quotes(tmp_path: Path, real_embedder: rag.Embedder, shared_dir: Path) -> None:
    folder = shared_dir / "datasets" / "xquad-dev"
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").read_text().splitlines()]
    questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()][::6]
    with rag.open(tmp_path / "xquad", embedder=real_embedder) as base:
        base.add_texts([rag.TextItem(doc["_id"], doc["text"], doc["title"]) for doc in corpus])
        hits_at_1 = hits_at_5 = answered = 0
        for question in questions:
            sources = [p.source for p in base.search(question["question"], k=5)]
            hits_at_1 += sources[0] in question["sources"]
            hits_at_5 += any(source in question["sources"] for source in sources)
            answer = base.ask(question["question"])
            answered += answer.answered
            assert citations_are_verbatim(base, answer)
    total = len(questions)
    assert hits_at_1 / total >= 0.75 and hits_at_5 / total >= 0.9
    assert answered / total >= 0.8


KILL_SCRIPT = """
import sys, rag
base = rag.open(sys.argv[1])
base.ingest([sys.argv[2]])
"""


def test_killed_ingest_leaves_whole_documents_only(tmp_path: Path, shared_dir: Path) -> None:
    corpus = [
        json.loads(line)["text"]
        for line in (shared_dir / "datasets" / "xquad-dev" / "corpus.jsonl").read_text().splitlines()
    ]
    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(60):
        (docs / f"doc{number:02d}.txt").write_text("\n\n".join(corpus[number::7][:12]))
    index = tmp_path / "index"
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(index), str(docs)], env=env)
    deadline = time.monotonic() + 300
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(index / "rag.sqlite", timeout=1) as connection:
                committed = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        except sqlite3.Error:
            continue
        if committed > 0:
            break
    assert process.poll() is None, "the ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    with rag.open(index) as base:
        stored = base.documents()
        assert 0 < len(stored) < 60
        for info in stored:
            document = base.document(info.id)
            assert info.chunks == len(split_text(document.text, 1000, 150))
        assert base.search("Super Bowl", k=3)
        report = base.ingest([docs])
        assert report.count("unchanged") == len(stored)
        assert base.stats()["documents"] == 60
