"""Extractive sentence scoring: what makes one sentence a better answer than another."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.answer.asking import evidence_for
from rag.answer.measures import counts_asked, holds_count
from rag.answer.question_words import ENGLISH_ANSWER_TYPES, answer_type_match
from rag.answer.quotes import MAX_ROW_QUOTE, points_back, sentence_quotes
from rag.answer.scoring import score_sentences


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many years of war?", "The U.S. may exit after 17 years of war.", 1.0),
        ("How many members were in the delegation?", "It sent a five-member delegation.", 1.0),
        ("How many years of war?", "In 1979 the Soviet Union invaded.", 0.0),  # a year, not a count of years
        ("How many years of war?", "Four decades of war have passed.", 0.0),
        ("When did the war start?", "After 17 years of war.", 0.0),  # not a how-many question
    ],
)
def test_a_count_of_the_asked_thing_is_recognised(question: str, sentence: str, expected: float) -> None:
    assert counts_asked(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many soldiers died?", "Three decades after the defeat, the army returned.", True),
        ("How many soldiers died?", "In 1979, the army invaded the country.", False),  # a year is no count
        ("How many soldiers died?", "Many soldiers died in the long war.", False),
        ("How many of the 12 members voted?", "Seven of the 12 members voted.", True),
        ("How many of the 12 members voted?", "All 12 members were present.", False),  # the question's own
        ("How many treaties mention rights?", "None of the treaties mention rights.", True),
        ("How much did the bridge cost?", "The bridge cost $4.5 million.", True),
        ("How much of the region is left undeveloped?", "Vast areas are left undeveloped.", True),
        ("How many troops were sent?", "It is a country of 35 million.", False),  # its people
        ("How many troops were sent?", "The group plotted the 9/11 attacks.", False),  # a date
        ("How many people live there?", "It is a country of 35 million.", True),
        ("When did the war end?", "The war ended badly.", True),  # not a count question
    ],
)
def test_a_count_question_needs_a_number_the_question_does_not_write(
    question: str, sentence: str, expected: bool
) -> None:
    assert holds_count(question, sentence) is expected


def test_a_count_question_is_refused_when_no_sentence_gives_a_number(fake_base: rag.KnowledgeBase) -> None:
    # The sentence shares every word of the question but the number it asks for.
    fake_base.add_texts(
        [rag.TextItem("war.txt", "Soviet soldiers died in Afghanistan during the long war of the eighties.")]
    )
    assert fake_base.ask("Soviet soldiers died in Afghanistan during the long war?").answered
    answer = fake_base.ask("How many Soviet soldiers died in Afghanistan during the long war?")
    assert not answer.answered, answer.text


def test_a_sentence_is_quoted_with_the_next_one_that_says_what_it_announces(
    fake_base: rag.KnowledgeBase,
) -> None:
    text = (
        "The new harbour policy of the city council has a single pragmatic goal. "
        "It aims to build deeper berths for the container ships that now sail past.\n\n"
        "The old fish market closes early on Sundays in winter."
    )
    quote = first_quote(fake_base, text, "What is the goal of the new harbour policy of the city council?")
    assert quote.text.startswith("The new harbour policy")
    assert quote.text.endswith("now sail past.")


def first_quote(base: rag.KnowledgeBase, text: str, question: str) -> rag.Quote:
    """The first quote of the answer to the question about one document holding the text."""
    base.add_texts([rag.TextItem("notes.txt", text)])
    answer = base.ask(question)
    assert answer.answered
    quote = answer.citations[0].quote
    assert base.document(quote.document_id).text[quote.start : quote.end] == quote.text
    return quote


def test_how_many_prefers_the_sentence_that_counts_the_asked_thing(fake_base: rag.KnowledgeBase) -> None:
    text = (
        "The war in the valley dragged on for a long time and cost the region dearly. "
        "Analysts expect an exit from the valley after 17 years of war. "
        "The war in the valley began when 3 rivers flooded the region."
    )
    assert "17 years of war" in first_quote(fake_base, text, "How many years of war in the valley?").text


def test_a_quote_that_points_back_brings_the_sentence_it_points_at(fake_base: rag.KnowledgeBase) -> None:
    text = (
        "Peyton Manning led the Broncos in the final game of the season. "
        "He is the oldest quarterback to start a title game, at age 39.\n\n"
        "Tickets for the game sold out within an hour of going on sale."
    )
    quote = first_quote(fake_base, text, "Who is the oldest quarterback to start a title game?")
    assert quote.text.startswith("Peyton Manning led the Broncos")
    assert quote.text.endswith("at age 39.")


def test_a_quote_does_not_reach_back_across_a_paragraph(fake_base: rag.KnowledgeBase) -> None:
    text = "The old stadium closed in 1999.\n\nIt was the oldest stadium in the league at the time."
    quote = first_quote(fake_base, text, "Which was the oldest stadium in the league?")
    assert quote.text == "It was the oldest stadium in the league at the time."


def test_a_sentence_that_points_back_is_scored_with_the_one_it_points_at(
    fake_base: rag.KnowledgeBase,
) -> None:
    # The question's words are in the first sentence, the asked-for year in the second, which
    # only says "it": quoted alone, neither answers; together they do.
    text = (
        "Warsaw's first stock exchange opened in the early nineteenth century and traded for a long time. "
        "It came back again in April 1991, after the fall of the communist government.\n\n"
        "The city hosts many museums, theatres and galleries along the river."
    )
    quote = first_quote(fake_base, text, "When did Warsaw's stock exchange open again?")
    assert quote.text.startswith("Warsaw's first stock exchange")
    assert "April 1991" in quote.text


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("He is the oldest quarterback to start.", True),
        ("Behind them, two linebackers were also selected.", True),
        ("As such, it made a contribution to the language.", True),
        ("When they arrived, the authorities offered them land.", True),
        ("Hutton published his ideas in 1795.", False),
        ("Theirs was the only team to win twice.", False),
        ("In 1700, several hundred settlers arrived in the colony.", False),
    ],
)
def test_sentences_that_point_back_are_recognised(sentence: str, expected: bool) -> None:
    assert points_back(sentence) is expected


def test_a_pronoun_sentence_is_a_candidate_only_with_its_antecedent(fake_base: rag.KnowledgeBase) -> None:
    text = (
        "The Polonia club won the national championship in 2000 after a long wait. "
        "They also won the national championship in 1946, and the cup twice. "
        "The championship trophy is kept in the club museum near the stadium."
    )
    fake_base.add_texts([rag.TextItem("club.txt", text)])
    question = "When did the Polonia club win the national championship before 2000?"
    scored = score_sentences(evidence_for(question, fake_base))
    quotes = {item.quote.text: item.in_context for item in scored}
    assert quotes[text[: text.index(" The championship")]] is True  # the pair, replacing "They ..."
    assert "They also won the national championship in 1946, and the cup twice." not in quotes
    # "The championship trophy ..." names a thing the sentence before named: a pair and itself.
    assert quotes["The championship trophy is kept in the club museum near the stadium."] is False
    assert any(quote.startswith("They also won") and quote.endswith("stadium.") for quote in quotes)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("Who fumbled the ball?", "On the next play, Miller stripped the ball away from Newton.", 1.0),
        ("Who fumbled the ball?", "Then the ball was stripped away and recovered near the line.", 0.0),
        ("Who did Miller tackle?", "Later in the game, Miller made a tackle.", 0.0),  # only the asker's name
        ("Who led the team?", "Peyton Manning led the team to the title.", 1.0),
        ("When did the war start?", "The war started in 1979.", 1.0),
        ("When did the war of 1979 end?", "The war of 1979 ended badly.", 0.0),
        ("When did they meet?", "They met in Moscow for a meeting in September.", 1.0),  # a month alone
        ("When did they rule?", "They ruled the country during the 1990s.", 1.0),  # a decade
        ("When did it happen?", "It may happen again, they said.", 0.0),  # "may", the verb
        ("How many soldiers died?", "In 1979, the army invaded the country.", 0.0),  # a year is no count
        ("How many soldiers died?", "The war ended on May 3, 1921.", 0.0),
        ("How many soldiers died?", "About 1,500 soldiers died in 1979.", 1.0),
        ("How many soldiers died?", "Some 1500 soldiers died.", 1.0),
    ],
)
def test_a_sentence_holding_the_kind_of_answer_asked_for_is_recognised(
    question: str, sentence: str, expected: float
) -> None:
    assert answer_type_match(question, sentence, ENGLISH_ANSWER_TYPES) == expected


def test_a_question_about_an_identifier_no_document_names_is_refused(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(
        [
            rag.TextItem(
                "flights.txt",
                "The AS-205 test flight carried 402 people over the bay. It landed at noon after two hours.",
            ),
            rag.TextItem("jets.txt", "The F-16 first flew in 1974. It is a single-engine fighter jet."),
        ]
    )
    assert fake_base.ask("How many people were on the AS-205 test flight?").answered
    refused = fake_base.ask("How many people were on the AS-206 test flight?")  # another flight
    assert not refused.answered and refused.text == rag.NOT_FOUND
    assert fake_base.ask("When did F-16s first fly?").answered  # "F-16s": the text says "F-16"


def test_an_answer_over_a_very_wide_table_reads_pieces_not_whole_rows(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    columns = 30_000
    wide = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(columns))
    wide.write_text(header + "\n" + ",".join(f"v{i}" for i in range(columns)) + "\n")
    fake_base.ingest([wide])
    evidence = evidence_for("what is c29999?", fake_base)
    quoted = sentence_quotes(evidence.passages, evidence.document)
    assert quoted and all(len(item.quote.text) <= MAX_ROW_QUOTE for item in quoted)
    assert all(len(item.readable) <= 4 * MAX_ROW_QUOTE for item in quoted)
    answer = fake_base.ask("what is c29999?")
    assert all(len(citation.quote.text) <= MAX_ROW_QUOTE for citation in answer.citations)
