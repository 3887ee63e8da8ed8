"""Ports for test servers: picked by the operating system, or from a range the environment names."""

from __future__ import annotations

import socket

import pytest

from eval.ports import TEST_PORTS, free_port, free_ports, listen_port


def test_without_a_range_the_system_picks_ports_that_differ_and_are_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TEST_PORTS, raising=False)
    first, second = free_port(), free_port()
    assert first != second and listen_port() == 0
    with socket.socket() as server:
        server.bind(("127.0.0.1", first))  # nothing holds it


def test_a_range_in_the_environment_is_kept_and_a_held_port_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        monkeypatch.setenv(TEST_PORTS, f"{port}-{port + 40}")
        chosen = free_port()
        assert port < chosen <= port + 40 and listen_port() not in (0, port, chosen)


def test_a_malformed_range_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_PORTS, "18800")
    with pytest.raises(RuntimeError, match="FIRST-LAST"):
        free_port()


def test_a_small_range_serves_more_servers_than_it_has_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        first = probe.getsockname()[1]
    monkeypatch.setenv(TEST_PORTS, f"{first}-{first + 2}")
    chosen = [free_port() for _ in range(9)]  # each server started and stopped in turn
    assert set(chosen) <= {first, first + 1, first + 2} and chosen[0] != chosen[1]


def test_many_ports_at_once_differ_skip_a_held_one_and_too_few_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TEST_PORTS, raising=False)
    assert len(set(free_ports(60))) == 60  # the system may pick one twice: each is kept once
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        monkeypatch.setenv(TEST_PORTS, f"{port}-{port + 9}")
        picked = free_ports(5)
        assert len(set(picked)) == 5 and set(picked) <= set(range(port + 1, port + 10))
        with pytest.raises(
            RuntimeError, match=rf"^40 free ports are needed in {port}-{port + 9} \({TEST_PORTS}\)"
        ):
            free_ports(40)


def test_the_system_s_picks_never_repeat_a_port_this_process_handed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two Ray clusters started at once take about 50 ports, and each port is picked, released and
    # bound later: the system's random picks repeat within a few hundred, so each is remembered.
    monkeypatch.delenv(TEST_PORTS, raising=False)
    first, second = free_ports(300), free_ports(300)
    assert not set(first) & set(second)
