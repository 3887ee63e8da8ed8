"""Loaders in a bounded child process: hangs and bombs cost one child, never the application."""

from __future__ import annotations

import os
import signal
import time

import pytest

from rag.errors import DocumentError
from rag.ingest.formats import extract_text
from rag.ingest.loaders import load_bytes
from rag.ingest.sandbox import ParseLimits, run_bounded
from rag.types import LoadedFile

SMALL = ParseLimits(seconds=3, memory_bytes=256 * 1024 * 1024)


def hanging_loader(name: str, data: bytes) -> LoadedFile:
    while True:
        time.sleep(0.01)


def greedy_loader(name: str, data: bytes) -> LoadedFile:
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))


def crashing_loader(name: str, data: bytes) -> LoadedFile:
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def refusing_loader(name: str, data: bytes) -> LoadedFile:
    raise DocumentError(f"{name} is not what it claims to be")


def expanding_loader(name: str, data: bytes) -> LoadedFile:
    return LoadedFile(name, name, data.decode() * 100_000, (), "text", ())


def test_text_expanded_past_the_limit_never_crosses_to_the_parent() -> None:
    limits = ParseLimits(seconds=30, max_chars=1_000_000)
    with pytest.raises(
        DocumentError, match=r"bomb.xlsx: its text is 2,000,000 characters, over the 1,000,000"
    ):
        run_bounded(expanding_loader, "bomb.xlsx", b"AB" * 10, limits)
    assert len(run_bounded(expanding_loader, "fine.xlsx", b"A" * 10, limits).text) == 1_000_000


def test_bounded_load_gives_the_same_result_as_in_process() -> None:
    page = b"<html><head><title>T</title></head><body><p>one</p><ul><li>two</li></ul></body></html>"
    assert load_bytes("page.html", page, limits=SMALL) == extract_text("page.html", page)


def test_hanging_parser_is_stopped_at_the_time_limit() -> None:
    with pytest.raises(DocumentError, match=r"took longer than 1 s .*RAG_PARSE_SECONDS"):
        run_bounded(hanging_loader, "slow.html", b"x", ParseLimits(seconds=1))


def test_memory_bomb_is_stopped_at_the_memory_limit() -> None:
    with pytest.raises(DocumentError, match=r"needed more than 256.0 MB .*RAG_PARSE_MEMORY_MB"):
        run_bounded(greedy_loader, "bomb.html", b"x", SMALL)


def test_crashing_parser_is_one_file_failure_and_the_next_file_still_loads() -> None:
    with pytest.raises(DocumentError, match="stopped unexpectedly"):
        run_bounded(crashing_loader, "crash.html", b"x", SMALL)
    assert load_bytes("next.html", b"<p>fine</p>", limits=SMALL).text == "fine"


def test_loader_errors_come_back_as_they_were_raised() -> None:
    with pytest.raises(DocumentError, match=r"^odd.html is not what it claims to be$"):
        run_bounded(refusing_loader, "odd.html", b"x", SMALL)


def test_large_html_page_parses_within_a_small_memory_limit() -> None:
    row = b"<div class='row'><h2>Section</h2><p>The river floods the valley <b>every</b> spring.</p></div>\n"
    page = b"<html><body>" + row * 40_000 + b"</body></html>"  # 3.8 MB
    loaded = load_bytes("big.html", page, limits=ParseLimits(seconds=120, memory_bytes=96 * 1024 * 1024))
    assert loaded.text.count("every spring.") == 40_000
