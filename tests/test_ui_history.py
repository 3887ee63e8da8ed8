"""Each person's conversations: theirs only, bounded, deletable."""

from __future__ import annotations

from ui.history import PER_PERSON, Histories
from ui.responses import Turn


def test_a_person_lists_reopens_and_deletes_only_their_own_conversations() -> None:
    histories = Histories()
    first = histories.save("alice", "", [Turn("When are holidays booked?", is_final=True)])
    histories.save("bob", "", [Turn("What is the budget?", is_final=True)])
    again = histories.save(
        "alice", first, [Turn("When are holidays booked?", is_final=True), Turn("And March?", is_final=True)]
    )
    assert again == first and [c.title for c in histories.listed("alice")] == ["When are holidays booked?"]
    assert len(histories.get("alice", first).turns) == 2
    assert histories.get("bob", first) is None  # an id of someone else's conversation is not found
    assert histories.delete("bob", first) == 0
    assert histories.delete("alice", first) == 1 and histories.listed("alice") == []
    assert [c.title for c in histories.listed("bob")] == ["What is the budget?"]


def test_unanswered_turns_are_not_kept_and_old_conversations_go_first() -> None:
    histories = Histories()
    histories.save("alice", "", [Turn("still being answered")])
    assert histories.listed("alice") == []
    for number in range(PER_PERSON + 3):
        histories.save("alice", "", [Turn(f"question {number}", is_final=True)])
    titles = [c.title for c in histories.listed("alice")]
    assert (
        len(titles) == PER_PERSON and titles[0] == f"question {PER_PERSON + 2}" and "question 0" not in titles
    )
    assert histories.delete("alice") == PER_PERSON
