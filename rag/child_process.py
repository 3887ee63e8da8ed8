"""What a child process that does untrusted work (parsing a file, drawing a page) and its parent
share: the memory cap the child sets on itself, and the frames they exchange over its pipes.

A frame is one line with two sizes, then a header (JSON) and data (bytes) of those sizes.
"""

from __future__ import annotations

import os
import resource
from typing import IO


def limit_memory(extra_bytes: int) -> None:
    """Cap the address space at what this process uses now plus extra_bytes (Linux)."""
    try:
        with open("/proc/self/statm") as stream:
            used = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # no /proc (macOS): time limits still apply
    resource.setrlimit(resource.RLIMIT_AS, (used + extra_bytes, used + extra_bytes))


def write_frame(stream: IO[bytes], header: bytes, data: bytes) -> None:
    """Send one frame and flush it."""
    stream.write(f"{len(header)} {len(data)}\n".encode() + header + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> tuple[bytes, bytes]:
    """Receive one frame: its header and its data; ValueError when the other end has closed."""
    sizes = stream.readline().split()
    if len(sizes) != 2:
        raise ValueError("the other end closed the pipe")
    return stream.read(int(sizes[0])), stream.read(int(sizes[1]))
