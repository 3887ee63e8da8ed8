"""Ports for the servers the tests and benchmarks start on 127.0.0.1.

By default the operating system picks a free port, so two test runs on one machine never reach
for the same one. A machine whose firewall or neighbours want a fixed range names it:
VERBATIM_TEST_PORTS=18800-18824 (web, S3, OpenID Connect and chat servers),
VERBATIM_POSTGRES_PORTS=18825-18849 (PostgreSQL).
"""

from __future__ import annotations

import os
import socket
import threading

HOST = "127.0.0.1"
TEST_PORTS = "VERBATIM_TEST_PORTS"
POSTGRES_PORTS = "VERBATIM_POSTGRES_PORTS"

# Ports this process handed out: a server given one may not have bound it yet.
_handed_out: set[int] = set()
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
        for port in ports if ports is not None else (0,) * 20:
            chosen = _bindable(port)
            if chosen is not None and chosen not in _handed_out:
                _handed_out.add(chosen)
                return chosen
    where = f"in {ports.start}-{ports.stop - 1} ({variable})" if ports is not None else f"on {HOST}"
    raise RuntimeError(f"no free port {where}")


def listen_port(variable: str = TEST_PORTS) -> int:
    """The port to give a server that binds in this process and says which port it got: 0 (the
    operating system picks, with no gap for another process to take it) unless a range is set."""
    return 0 if port_range(variable) is None else free_port(variable)


def _bindable(port: int) -> int | None:
    """The port (the one picked, for 0) when it can be bound on HOST now; None when it is held."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return None
        return int(probe.getsockname()[1])
