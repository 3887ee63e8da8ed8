"""Ports for the servers the tests and benchmarks start on 127.0.0.1.

By default the operating system picks a free port, so two test runs on one machine never reach
for the same one. A machine whose firewall or neighbours want a fixed range names it:
VERBATIM_TEST_PORTS=18800-18824 (web, S3, OpenID Connect and chat servers; a Ray cluster takes
8 ports and 16 a CPU more, so the ray tests want about a hundred: 18800-18899),
VERBATIM_POSTGRES_PORTS=18900-18924 (PostgreSQL). Two test runs at once need ranges of their own.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import deque

HOST = "127.0.0.1"
TEST_PORTS = "VERBATIM_TEST_PORTS"
POSTGRES_PORTS = "VERBATIM_POSTGRES_PORTS"

# The ports this process handed out: a server given one may not have bound it yet, and one that
# has may have stopped (a Ray cluster gives up its workers' ports between tasks), so the operating
# system's picks skip all of them, not only the last few: two clusters started at once take about
# 50 ports between them. 4,096 is a seventh of Linux's ephemeral range. In a range, the search
# goes on from the last one handed out, so a range serves a whole test run.
REMEMBERED_PORTS = 4096
_recent: deque[int] = deque(maxlen=REMEMBERED_PORTS)
_lock = threading.Lock()


def port_range(variable: str) -> range | None:
    """The range FIRST-LAST the environment variable names; None when it is not set."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    first, _, last = value.partition("-")
    if not (first.strip().isdigit() and last.strip().isdigit()) or int(first) > int(last):
        raise RuntimeError(f"{variable}={value!r}: give a range of ports as FIRST-LAST, e.g. 18800-18824")
    return range(int(first), int(last) + 1)


def free_port(variable: str = TEST_PORTS) -> int:
    """A port on 127.0.0.1 that nothing holds, for a server started with its number: one from
    the range `variable` names when it is set, else one the operating system picks."""
    ports = port_range(variable)
    with _lock:
        if ports is None:
            candidates: list[int] = [0] * 64
        else:
            after = next((port for port in reversed(_recent) if port in ports), ports.start - 1)
            start = after + 1 - ports.start
            candidates = [ports[(start + step) % len(ports)] for step in range(len(ports))]
        for port in candidates:
            chosen = _bindable(port)
            # A range is gone through in turn; the system may give a port it gave a moment ago.
            if chosen is not None and (ports is not None or chosen not in _recent):
                _recent.append(chosen)
                return chosen
    where = f"in {ports.start}-{ports.stop - 1} ({variable})" if ports is not None else f"on {HOST}"
    raise RuntimeError(f"no free port {where}")


def free_ports(count: int, variable: str = TEST_PORTS) -> list[int]:
    """`count` different ports that nothing holds (each as free_port finds one), for a server
    that binds many (a Ray cluster); a range with fewer free ports is a one-line error."""
    found: list[int] = []
    for _ in range(count * 3):  # the operating system may pick a port it picked a moment ago
        port = free_port(variable)
        if port not in found:
            found.append(port)
            if len(found) == count:
                return found
    ports = port_range(variable)
    where = f"in {ports.start}-{ports.stop - 1} ({variable})" if ports is not None else f"on {HOST}"
    raise RuntimeError(f"{count} free ports are needed {where}, and only {len(found)} were found")


def listen_port(variable: str = TEST_PORTS) -> int:
    """The port to give a server that binds in this process and says which port it got: 0 (the
    operating system picks, with no gap for another process to take it) unless a range is set."""
    return 0 if port_range(variable) is None else free_port(variable)


def _bindable(port: int) -> int | None:
    """The port (the one picked, for 0) when it can be bound on HOST now; None when it is held."""
    with socket.socket() as probe:
        # As servers bind: a port whose last connections are closing (TIME_WAIT) is free to them,
        # one something listens on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return None
        return int(probe.getsockname()[1])
