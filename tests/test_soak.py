"""A short crash soak: SIGKILL at random moments of each write command loses nothing."""

from __future__ import annotations

import random
from pathlib import Path

from eval.soak import OPERATIONS, soak, summary


def test_short_soak_loses_and_half_writes_nothing_and_resumes(tmp_path: Path) -> None:
    totals = soak(tmp_path, trials=len(OPERATIONS), files=12, chooser=random.Random(5))
    assert totals.trials == len(OPERATIONS) and set(totals.by_operation) == set(OPERATIONS)
    assert totals.documents_lost == 0 and totals.documents_half_written == 0, summary(totals)
    assert totals.check_failures_after_kill == 0, summary(totals)
    assert totals.resumed_ok == totals.trials, summary(totals)
