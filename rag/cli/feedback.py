"""`rag feedback`: give feedback on an answer, list what was given, or summarise answer quality."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.answer.question import AskOptions
from rag.cli.options import local_user, open_from, print_json
from rag.display import printable
from rag.feedback import CITATION_FLAGS, CitationFlag, Feedback, FeedbackError, feedback_on, flag_of


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add feedback to the `rag` parser."""
    parser = subparsers.add_parser(
        "feedback",
        parents=[common],
        help="give feedback on an answer, list feedback, or summarise it",
        description="Give feedback on an answer: ANSWER is the JSON of `rag ask --json` (a file, or - to "
        "read it from stdin), or use --question to ask now. --list shows what was given, --summary "
        "the helpful share by day, the most flagged documents and citations whose document changed.",
    )
    parser.add_argument("answer_json", nargs="?", metavar="ANSWER", help="answer JSON file, or - for stdin")
    parser.add_argument(
        "--question", default=None, help="ask this question now and give feedback on the answer"
    )
    rating = parser.add_mutually_exclusive_group()
    rating.add_argument(
        "--up", dest="rating", action="store_const", const="helpful", help="the answer helped"
    )
    rating.add_argument("--down", dest="rating", action="store_const", const="not_helpful", help="it did not")
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="N:KIND",
        help=f"flag citation [N]; KIND is one of {', '.join(CITATION_FLAGS)}; repeatable",
    )
    parser.add_argument("--answer", default="", help="the right answer")
    parser.add_argument(
        "--source", default="", help="words of the passage that answers it, as the document has them"
    )
    parser.add_argument("--comment", default="", help="anything else")
    parser.add_argument("--who", default=None, help="who gives the feedback (default: your user name)")
    parser.add_argument("--list", action="store_true", help="list the feedback given")
    parser.add_argument("--summary", action="store_true", help="summarise the feedback given")
    parser.add_argument(
        "--delete",
        action="append",
        default=[],
        metavar="ID",
        help="delete feedback by its id (fb-...), or a logged question by its answer's id (ans-...); repeatable",
    )
    parser.add_argument(
        "--delete-by",
        default=None,
        metavar="WHO",
        help="delete all feedback a person gave and every question the log keeps of theirs",
    )
    parser.add_argument(
        "--since", default="", metavar="DATE", help="with --list/--summary: from this date on"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run_feedback)


def run_feedback(args: argparse.Namespace) -> int:
    """rag feedback ANSWER (--up|--down) ... | --list | --summary"""
    with open_from(args) as base:
        if args.delete or args.delete_by is not None:
            feedback_gone = base.delete_feedback(args.delete, args.delete_by)
            questions_gone = base.delete_questions(args.delete, args.delete_by)
            print(f"deleted {feedback_gone} feedback and {questions_gone} logged questions")
            return 0
        if args.summary:
            from rag.evaluation.feedback import format_summary, summary

            values = summary(base, args.since)
            print_json(values) if args.json else print(format_summary(values))
            return 0
        if args.list:
            given = base.feedback(args.since)
            if args.json:
                print_json([feedback.to_dict() for feedback in given])
            else:
                print("\n".join(map(format_feedback, given)) or "No feedback yet.")
            return 0
        if args.question is not None:
            asker = args.who if args.who is not None else local_user()
            answer = base.ask(args.question, AskOptions(channel="cli", asked_by=asker)).to_dict()
        elif args.answer_json is not None:
            answer = read_answer(args.answer_json)
        else:
            raise FeedbackError("give the answer's JSON (`rag ask --json`), --question, --list or --summary")
        feedback = feedback_on(
            answer,
            args.rating,
            parse_flags(args.flag),
            comment=args.comment,
            corrected_answer=args.answer,
            who=args.who if args.who is not None else local_user(),
            channel="cli",
        )
        stored = base.add_feedback(feedback, passage=args.source)
    print_json(stored.to_dict()) if args.json else print(f"stored feedback {stored.id}")
    return 0


def read_answer(name: str) -> dict[str, Any]:
    """An answer as `rag ask --json` prints it, from a file or stdin."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        answer = json.loads(text)
    except (OSError, ValueError) as error:
        raise FeedbackError(f"cannot read {name} as the JSON of `rag ask --json` ({error})") from None
    if not isinstance(answer, dict) or "question" not in answer:
        raise FeedbackError(f"{name} is not the JSON of `rag ask --json`: it has no question")
    return answer


def parse_flags(values: list[str]) -> dict[int, list[CitationFlag]]:
    """'1:does_not_support' arguments as {1: ['does_not_support']}."""
    flags: dict[int, list[CitationFlag]] = {}
    for value in values:
        number, _, kind = value.partition(":")
        if not number.strip().isdigit():
            raise FeedbackError(f"--flag {value!r}: write N:KIND, e.g. 1:does_not_support")
        flags.setdefault(int(number), []).append(flag_of(kind.strip() or "does_not_support"))
    return flags


def format_feedback(feedback: Feedback) -> str:
    """One feedback on two lines: when, who, rating and what was said; the question."""
    said: list[str] = [feedback.rating or "unrated"]
    said += [f"[{cited.number}] {', '.join(cited.flags)}" for cited in feedback.flagged]
    if feedback.corrected_answer:
        said.append(f"answer: {feedback.corrected_answer}")
    if feedback.better_source is not None:
        said.append(f"source: {feedback.better_source.source}")
    if feedback.comment:
        said.append(f"comment: {feedback.comment}")
    who = f" by {feedback.who}" if feedback.who else ""
    head = printable(f"{feedback.id} {feedback.created_at}{who} ({feedback.channel}): {'; '.join(said)}")
    return f"{head}\n  {printable(feedback.question)}"
