"""Feedback turned into evaluation: regression question sets, and a summary of answer quality.

`rag eval --from-feedback` writes one question a line in the question-set format
(datasets.load_questions), so `rag eval SET.jsonl` runs it like any other set:
- a corrected answer becomes the gold answer; a pasted source passage becomes the gold source
  (its document) and a gold answer (its words: an extractive answer quoting it contains them);
- "helpful" without correction keeps what was cited (sources) and the answer (reference, for
  token F1); a helpful refusal becomes a question that must be refused (answerable false);
- "not helpful" without correction becomes a question to review: `"review": "not_helpful"`,
  asked but left out of the aggregate metrics until a person adds the right answer;
- a question whose cited or gold document changed or went since is marked
  `"review": "stale: ..."`, asked but not scored.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.feedback import Feedback
from rag.knowledge_base import KnowledgeBase

REVIEW_NOT_HELPFUL = "not_helpful"
REVIEW_STALE = "stale"


@dataclass(frozen=True)
class StaleCitation:
    """A document named in feedback that is no longer stored as it was."""

    feedback_id: str
    number: int  # the citation's [n]; 0 for the better source a person pasted
    source: str
    state: str  # changed | removed

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


def stale_citations(base: KnowledgeBase, feedback: Feedback) -> list[StaleCitation]:
    """The documents this feedback cites or names as the source that changed or went since."""
    named = [(cited.number, cited.document_id, cited.source) for cited in feedback.citations]
    if feedback.better_source is not None:
        named.append((0, feedback.better_source.document_id, feedback.better_source.source))
    found = []
    for number, document_id, source in named:
        state = base.engine_store().document_state(document_id, source)
        if state != "current":
            found.append(StaleCitation(feedback.id, number, source, state))
    return found


def question_row(feedback: Feedback, stale: Sequence[StaleCitation] = ()) -> dict[str, Any]:
    """One question-set row made of one feedback (see the module docstring for the rules)."""
    row: dict[str, Any] = {
        "id": feedback.id,
        "question": feedback.question,
        "answers": [],
        "reference_answer": "",
        "sources": [],
        "answerable": True,
    }
    if feedback.corrected_answer.strip():
        row["answers"].append(feedback.corrected_answer.strip())
        row["reference_answer"] = feedback.corrected_answer.strip()
    if feedback.better_source is not None:
        row["sources"].append(feedback.better_source.source)
        if feedback.better_source.text:  # "" when a whole document was named
            row["answers"].append(feedback.better_source.text)
            row["reference_answer"] = row["reference_answer"] or feedback.better_source.text
    if not feedback.is_corrected and feedback.rating == "helpful":
        if feedback.answered:
            kept = [cited.source for cited in feedback.citations if not cited.flags]
            row["sources"] = list(dict.fromkeys(kept))
            row["reference_answer"] = feedback.answer
        else:
            row["answerable"] = False
    if not feedback.is_corrected and feedback.rating != "helpful":
        row["review"] = REVIEW_NOT_HELPFUL
    if stale:
        named = dict.fromkeys(f"{item.source} {item.state}" for item in stale)
        row["review"] = f"{REVIEW_STALE}: {', '.join(named)}"
    if feedback.history:
        row["history"] = [dict(turn) for turn in feedback.history]
    row["feedback"] = {"rating": feedback.rating, "given_at": feedback.created_at, "answer": feedback.answer}
    return row


def regression_rows(base: KnowledgeBase, since: str = "") -> list[dict[str, Any]]:
    """The question set made of the feedback given since `since`; the latest feedback on a question wins."""
    latest: dict[tuple[str, str], Feedback] = {}
    for feedback in base.feedback(since):
        # A follow-up is the same question only in the same conversation.
        asked = " ".join(feedback.question.split()).lower()
        latest[(asked, json.dumps(feedback.history, sort_keys=True))] = feedback
    return [question_row(feedback, stale_citations(base, feedback)) for feedback in latest.values()]


def write_question_set(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """Write rows as a question-set JSONL file; return how many."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def summary(base: KnowledgeBase, since: str = "", top: int = 10) -> dict[str, Any]:
    """Ratings by day, corrections, the most flagged documents and the stale citations."""
    given = base.feedback(since)
    by_day: dict[str, Counter[str]] = {}
    flagged: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    stale: list[StaleCitation] = []
    for feedback in given:
        by_day.setdefault(feedback.created_at[:10], Counter())[feedback.rating or "unrated"] += 1
        for cited in feedback.flagged:
            flagged[cited.source] += len(cited.flags)
            flags.update(cited.flags)
        stale.extend(stale_citations(base, feedback))
    ratings = Counter(feedback.rating or "unrated" for feedback in given)
    rated = ratings["helpful"] + ratings["not_helpful"]
    return {
        "feedback": len(given),
        "helpful": ratings["helpful"],
        "not_helpful": ratings["not_helpful"],
        "unrated": ratings["unrated"],
        "helpful_share": round(ratings["helpful"] / rated, 4) if rated else None,
        "corrected": sum(feedback.is_corrected for feedback in given),
        "by_day": {day: dict(counts) for day, counts in sorted(by_day.items())},
        "flags": dict(flags),
        "most_flagged_documents": [{"source": s, "flags": n} for s, n in flagged.most_common(top)],
        "stale_citations": [item.to_dict() for item in stale],
    }


def format_summary(values: dict[str, Any]) -> str:
    """The summary for a terminal."""
    share = values["helpful_share"]
    lines = [
        f"{values['feedback']} feedback: {values['helpful']} helpful, {values['not_helpful']} not helpful,"
        f" {values['unrated']} unrated" + (f" ({share:.0%} helpful)" if share is not None else ""),
        f"{values['corrected']} with a corrected answer or source",
    ]
    if values["by_day"]:
        lines.append("\nday          helpful  not helpful  unrated")
        for day, counts in values["by_day"].items():
            lines.append(
                f"{day}  {counts.get('helpful', 0):>7}  {counts.get('not_helpful', 0):>11}"
                f"  {counts.get('unrated', 0):>7}"
            )
    if values["most_flagged_documents"]:
        lines.append("\nmost flagged documents:")
        lines += [f"  {item['flags']:>4}  {item['source']}" for item in values["most_flagged_documents"]]
    if values["stale_citations"]:
        lines.append("\ncitations whose document changed since the feedback:")
        for item in values["stale_citations"]:
            cited = f"[{item['number']}]" if item["number"] else "better source"
            lines.append(f"  {item['feedback_id']} {cited} {item['source']}: {item['state']}")
    return "\n".join(lines)
