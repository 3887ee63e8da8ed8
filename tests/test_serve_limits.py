"""The work gate: a few run, the rest wait their turn while the predicted wait fits, else 429 at once."""

from __future__ import annotations

import asyncio

import pytest

from rag.serve.errors import APIError
from rag.serve.limits import MAX_QUEUE, Gate


async def hold(gate: Gate, seconds: float, log: list[str], caller: str = "") -> None:
    try:
        async with gate.slot(caller):
            log.append(caller or "ran")
            await asyncio.sleep(seconds)
    except APIError as error:
        log.append(str(error.status))


def run_burst(workers: int, queue: int, wait: float, callers: int, seconds: float) -> list[str]:
    gate = Gate(workers, queue, wait)
    log: list[str] = []

    async def burst() -> None:
        await asyncio.gather(*(hold(gate, seconds, log) for _ in range(callers)))

    asyncio.run(burst())
    assert gate.running == 0 and gate.waiting == 0  # every slot was given back
    return log


def test_callers_beyond_workers_and_queue_get_429_at_once() -> None:
    log = run_burst(workers=2, queue=3, wait=5.0, callers=9, seconds=0.05)
    assert log.count("ran") == 5 and log.count("429") == 4


def test_a_caller_that_waits_too_long_gets_503() -> None:
    log = run_burst(workers=1, queue=5, wait=0.05, callers=3, seconds=0.3)
    assert log.count("ran") == 1 and log.count("503") == 2


def test_refusals_carry_retry_after() -> None:
    gate = Gate(1, 0, 8.0)

    async def two() -> APIError:
        async with gate.slot():
            with pytest.raises(APIError) as raised:
                async with gate.slot():
                    pass
            return raised.value

    error = asyncio.run(two())
    assert error.status == 429 and int(error.headers["Retry-After"]) >= 1
    assert error.body()["error"]["type"] == "rate_limit_error"


def test_once_the_pace_is_known_a_hopeless_wait_is_refused_at_once() -> None:
    # Just under three answers' time: the test stays right while a busy machine's event loop makes
    # answers measure up to 45% longer than the 0.2 s they sleep.
    gate = Gate(1, 50, 0.58)

    async def scenario() -> list[str]:
        await hold(gate, 0.2, [])  # teaches the gate that work takes about 0.2 s
        log: list[str] = []
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(hold(gate, 0.2, log) for _ in range(8)))
        assert asyncio.get_running_loop().time() - started < 1.5
        return log

    log = asyncio.run(scenario())
    # One runs and two fit in 0.58 s of waiting; the rest are told at once rather than after 0.58 s.
    assert log.count("503") == 0 and log.count("429") == 5 and log.count("ran") == 3


def test_a_burst_that_fits_the_deadline_is_all_admitted_however_large() -> None:
    gate = Gate(2, MAX_QUEUE, 5.0)

    async def scenario() -> list[str]:
        await hold(gate, 0.01, [])  # teaches the gate that work takes about 0.01 s: 200 fit in 1 s
        log: list[str] = []
        await asyncio.gather(*(hold(gate, 0.01, log) for _ in range(200)))
        return log

    log = asyncio.run(scenario())
    assert log.count("ran") == 200 and gate.running == 0 and gate.waiting == 0


def test_a_refused_caller_that_retries_after_retry_after_is_admitted() -> None:
    # One answer takes 0.25 s (a sleep, never less): three may queue behind a running one (0.75 s)
    # and a fourth may not (1.0 s). A deadline just under four answers keeps the test right on a
    # busy machine, whose event loop makes answers measure up to 30% longer.
    gate = Gate(1, MAX_QUEUE, 0.98)

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        await hold(gate, 0.25, [])
        log: list[str] = []
        refusals: list[str] = []

        async def refused_then_retried() -> None:
            await asyncio.sleep(0)  # after the others
            try:
                async with gate.slot():
                    pass
            except APIError as error:
                refusals.append(error.headers["Retry-After"])
                await asyncio.sleep(int(error.headers["Retry-After"]))
                await hold(gate, 0.0, retried)

        retried: list[str] = []
        await asyncio.gather(*(hold(gate, 0.25, log) for _ in range(4)), refused_then_retried())
        return log, refusals, retried

    log, refusals, retried = asyncio.run(scenario())
    assert log.count("ran") == 4 and refusals == ["1"] and retried == ["ran"]


def test_one_callers_burst_does_not_starve_another_caller() -> None:
    gate = Gate(1, MAX_QUEUE, 30.0)

    async def scenario() -> list[str]:
        order: list[str] = []
        burst = [asyncio.create_task(hold(gate, 0.01, order, "burst")) for _ in range(30)]
        await asyncio.sleep(0)  # the whole burst is queued
        await hold(gate, 0.01, order, "single")
        await asyncio.gather(*burst)
        return order

    order = asyncio.run(scenario())
    # The burst's running request, then its next in turn, then the other caller: not after 30.
    assert order.index("single") <= 2 and order.count("burst") == 30


def test_a_slot_handed_to_a_caller_who_gave_up_goes_to_the_next() -> None:
    gate = Gate(1, MAX_QUEUE, 30.0)

    async def scenario() -> list[str]:
        log: list[str] = []
        first = asyncio.create_task(hold(gate, 0.05, log, "first"))
        await asyncio.sleep(0)
        quitter = asyncio.create_task(hold(gate, 0.0, log, "quitter"))
        patient = asyncio.create_task(hold(gate, 0.0, log, "patient"))
        await asyncio.sleep(0.01)
        quitter.cancel()
        await asyncio.gather(first, patient, return_exceptions=True)
        return log

    log = asyncio.run(scenario())
    assert log == ["first", "patient"] and gate.running == 0 and gate.waiting == 0
