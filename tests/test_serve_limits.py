"""The work gate: a few run, some wait, the rest are refused at once with 429, or 503 after waiting."""

from __future__ import annotations

import asyncio

import pytest

from rag.serve.errors import APIError
from rag.serve.limits import Gate


async def hold(gate: Gate, seconds: float, log: list[str]) -> None:
    try:
        async with gate.slot():
            log.append("ran")
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
    assert error.status == 429 and error.headers["Retry-After"] == "2"
    assert error.body()["error"]["type"] == "rate_limit_error"


def test_once_the_pace_is_known_a_hopeless_wait_is_refused_at_once() -> None:
    gate = Gate(1, 50, 0.5)

    async def scenario() -> list[str]:
        await hold(gate, 0.2, [])  # teaches the gate that work takes about 0.2 s
        log: list[str] = []
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(hold(gate, 0.2, log) for _ in range(8)))
        assert asyncio.get_running_loop().time() - started < 1.5
        return log

    log = asyncio.run(scenario())
    # One runs and two fit in 0.5 s of waiting; the rest are told at once rather than after 0.5 s.
    assert log.count("503") == 0 and log.count("429") == 5 and log.count("ran") == 3
