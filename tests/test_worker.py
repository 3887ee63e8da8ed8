"""Pages drawn in a bounded child process: a pathological page costs the child, never the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_files import pdf_of_objects, positioned_pdf

import rag
from rag.errors import DocumentError, NotFoundError
from rag.pages import worker
from rag.pages.render import PageRequest, draw_page
from rag.pages.worker import DrawerPool, PageDrawer


def crowded_pdf(operations: int) -> bytes:
    """One page whose content stream fills `operations` tiny rectangles (pdfium parses them all first)."""
    rectangles = "\n".join(f"{(i * 7) % 600} {(i * 13) % 780} 0.5 0.5 re f" for i in range(operations))
    stream = f"BT /F1 12 Tf 72 720 Td (A crowded page.) Tj ET\n{rectangles}".encode()
    return pdf_of_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


@pytest.fixture
def drawer() -> Iterator[PageDrawer]:
    child = PageDrawer(seconds=0.3)
    yield child
    child.stop()


PLAIN = PageRequest("plain.pdf", "pdf", 1, 400)


def test_a_page_drawn_in_the_child_is_the_page_drawn_here(drawer: PageDrawer) -> None:
    data = positioned_pdf([[(72, 700, "F1", "The north bridge was repainted in October.")]])
    highlighted = PageRequest("bridge.pdf", "pdf", 1, 500, ((0.1, 0.1, 0.5, 0.12),))
    assert drawer.draw(data, highlighted) == draw_page(data, highlighted)


def test_a_page_that_takes_too_long_is_stopped_and_the_next_one_is_drawn(drawer: PageDrawer) -> None:
    crowded = crowded_pdf(400_000)
    started = time.monotonic()
    with pytest.raises(DocumentError, match=r"took longer than 0.3 s to draw and was stopped"):
        drawer.draw(crowded, PageRequest("crowded.pdf", "pdf", 1, 1000))
    assert time.monotonic() - started < 3  # the limit, plus killing the child
    assert drawer.draw(positioned_pdf([[(72, 700, "F1", "Fine.")]]), PLAIN).startswith(b"\x89PNG")


def test_errors_come_back_as_they_were_raised(drawer: PageDrawer) -> None:
    data = positioned_pdf([[(72, 700, "F1", "One page.")]])
    with pytest.raises(NotFoundError, match="has 1 pages, not a page 4"):
        drawer.draw(data, PageRequest("one.pdf", "pdf", 4, 400))
    with pytest.raises(DocumentError, match="could not be opened for rendering"):
        drawer.draw(b"%PDF-1.4 garbage", PLAIN)


def test_an_index_draws_its_pages_through_the_bounded_child(
    fake_base: rag.KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bridge.pdf"
    path.write_bytes(positioned_pdf([[(72, 700, "F1", "The north bridge was repainted in October.")]]))
    assert fake_base.ingest([path]).count("failed") == 0
    with monkeypatch.context() as patched:
        patched.setattr(worker.PAGE_DRAWER, "seconds", 0.0001)  # no page is drawn that fast
        with pytest.raises(
            DocumentError, match=r"page 1 of .*bridge\.pdf took longer than 0\.0001 s"
        ) as caught:
            fake_base.page_image(str(path), 1)
    assert "\n" not in str(caught.value)
    assert fake_base.page_image(str(path), 1).startswith(b"\x89PNG")  # a new child draws the next one


def test_a_slow_page_holds_up_one_drawer_not_the_others() -> None:
    pool = DrawerPool(size=2, seconds=30)
    slow_seconds: list[float] = []
    crowded = crowded_pdf(400_000)

    def draw_slow_page() -> None:
        started = time.monotonic()
        pool.draw(crowded, PageRequest("crowded.pdf", "pdf", 1, 1000))
        slow_seconds.append(time.monotonic() - started)

    try:
        slow = threading.Thread(target=draw_slow_page)
        slow.start()
        time.sleep(0.5)  # the crowded page is being drawn in one child
        started = time.monotonic()
        assert pool.draw(positioned_pdf([[(72, 700, "F1", "Quick.")]]), PLAIN).startswith(b"\x89PNG")
        quick_seconds = time.monotonic() - started
        slow.join()
        assert slow_seconds and quick_seconds < slow_seconds[0] - 0.5  # it did not wait its turn
    finally:
        pool.stop()
