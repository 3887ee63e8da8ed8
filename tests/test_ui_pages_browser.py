"""A citation opens its PDF page in a real Chromium: the quote highlighted on the page image,
which is the very PNG the API and `rag show` give; previous/next page, zoom, text view."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from browser import REPO, SCREENSHOTS, rag_serve, start_server
from PIL import Image
from playwright.sync_api import Browser, Page
from sample_files import positioned_pdf

import rag

pytestmark = pytest.mark.browser

PORT = int(os.environ.get("VERBATIM_TEST_PAGES_PORT", "0")) or None
PRIMER = "The north bridge was repainted in October with a zinc-rich primer."
PAGES = [
    [(72, 700, "F2", "Bridge maintenance report"), (72, 680, "F1", "Prepared by the city works office.")],
    [
        (72, 700, "F1", "Inspectors found no rust on the lower girders."),
        (72, 660, "F2", PRIMER),
        (72, 620, "F3", "The ferry timetable changes in May."),
        (72, 580, "F1", "Budget notes follow on the next page."),
    ],
    [(72, 700, "F1", "Budget: 120000 euros for paint and labour.")],
]


@dataclass
class Served:
    url: str
    index: Path
    pdf: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`rag serve --ui` (no keys, loopback) over an index of one generated three-page PDF."""
    root = tmp_path_factory.mktemp("pages-browser")
    pdf = root / "bridges.pdf"
    pdf.write_bytes(positioned_pdf(PAGES))
    index = root / "index"
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        assert base.ingest([pdf]).count("failed") == 0
    command = rag_serve("--ui", "--model", "hashing-256", "--collection", f"works={index}")
    running = start_server(command, root / "server.log", "/ui/", port=PORT)
    yield Served(running.url, index, pdf)
    running.stop()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    tab.goto(served.url + "/ui/")
    tab.wait_for_selector("#question textarea", timeout=60_000)
    yield tab
    context.close()


def ask(page: Page, question: str) -> None:
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#chatbot .answer.final", timeout=60_000)


def shown_png(page: Page, selector: str) -> bytes:
    """The PNG an <img> with a data: URL shows."""
    source = page.locator(selector).first.get_attribute("src") or ""
    assert source.startswith("data:image/png;base64,")
    return base64.b64decode(source.partition(",")[2])


def rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def yellowness(pixels: np.ndarray) -> np.ndarray:
    """Red and green above blue: near 0 for black on white, over 80 under the highlight."""
    return (pixels[..., 0] + pixels[..., 1]) / 2 - pixels[..., 2]


def inside_and_outside(
    pixels: np.ndarray, boxes: list[tuple[float, float, float, float]]
) -> tuple[float, float]:
    """Mean yellowness inside the boxes (shrunk a little) and everywhere clear of them."""
    height, width = pixels.shape[:2]
    inside = np.zeros((height, width), dtype=bool)
    near = np.zeros((height, width), dtype=bool)
    for left, top, right, bottom in boxes:
        x0, y0, x1, y1 = left * width, top * height, right * width, bottom * height
        inside[round(y0) + 2 : round(y1) - 2, round(x0) + 2 : round(x1) - 2] = True
        near[max(0, round(y0) - 6) : round(y1) + 6, max(0, round(x0) - 6) : round(x1) + 6] = True
    level = yellowness(pixels)
    return float(level[inside].mean()), float(level[~near].mean())


def test_a_citation_opens_its_pdf_page_with_the_quote_highlighted(page: Page, served: Served) -> None:
    ask(page, "What primer was used on the north bridge?")
    assert "zinc-rich primer" in page.locator("#chatbot .answer.final").last.inner_text()
    # The Sources panel shows the quote on its page, yellow.
    page.locator("#sources img.quote-thumb").first.wait_for(timeout=30_000)
    thumbnail = rgb(shown_png(page, "#sources img.quote-thumb"))
    yellow_rows = (yellowness(thumbnail) > 60).mean(axis=1)  # the quote's line yellow, the context around not
    assert yellow_rows.max() > 0.5 and yellow_rows[0] == yellow_rows[-1] == 0
    page.locator("#chatbot .answer.final button.cite").first.click()
    image = page.locator("#viewer .page-frame img.page-image")
    image.wait_for(timeout=30_000)
    assert "Page 2 of 3" in page.locator("#viewer .page-count").inner_text()
    assert not page.locator("#viewer .viewer-text").is_visible()  # the page, not the text
    characters = page.locator("#viewer .viewer-head .hint").inner_text()
    start, end = (int(value.replace(",", "")) for value in re.findall(r"[\d,]+", characters)[:2])
    with rag.open(served.index, embedder=rag.HashingEmbedder(256)) as base:
        document = base.document(str(served.pdf))
        assert document.text[start:end] == PRIMER
        boxes = base.highlight_boxes(document.id, 2, (start, end))
    # The PNG in the page is the API's and `rag show`'s, byte for byte.
    png = shown_png(page, "#viewer .page-frame img.page-image")
    from_api = httpx.get(
        f"{served.url}/v1/documents/{document.id}/pages/2.png",
        params={"highlight": f"{start}:{end}"},
        timeout=30,
    )
    assert from_api.status_code == 200 and from_api.content == png
    out = served.index.parent / "shown.png"
    command = [
        sys.executable,
        "-m",
        "rag",
        "show",
        "bridges.pdf",
        "--page",
        "2",
        "--highlight",
        f"{start}:{end}",
    ]
    command += ["--out", str(out), "--index", str(served.index), "--model", "hashing-256"]
    subprocess.run(
        command, cwd=REPO, check=True, capture_output=True, env=os.environ | {"HF_HUB_OFFLINE": "1"}
    )
    assert out.read_bytes() == png
    # On screen: yellow under the quote's boxes, not elsewhere on the page.
    on_screen = rgb(image.screenshot())
    inside, outside = inside_and_outside(on_screen, boxes)
    assert inside > 80 and outside < 5, (inside, outside)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1500})  # answer, thumbnail and page at once
    page.evaluate("window.scrollTo(0, 0)")
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")  # 128 colours: a small committed PNG
    shot.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
        SCREENSHOTS / "viewer-pdf-page.png", optimize=True
    )
    # The page frame is scrolled so the highlighted line is in view.
    assert page.evaluate(
        """() => {
          const frame = document.querySelector('#viewer .page-frame').getBoundingClientRect();
          const image = document.querySelector('#viewer .page-frame img.page-image');
          const line = image.getBoundingClientRect().top + image.clientHeight * parseFloat(image.dataset.markTop);
          return line >= frame.top && line <= frame.bottom;
        }"""
    )


def test_the_viewer_pages_zooms_and_switches_to_the_text(page: Page) -> None:
    ask(page, "What primer was used on the north bridge?")
    page.locator("#chatbot .answer.final button.cite").first.click()
    image = page.locator("#viewer .page-frame img.page-image")
    image.wait_for(timeout=30_000)
    fitted = image.bounding_box()
    assert fitted is not None
    page.click("#viewer button.zoom-in")
    page.wait_for_function(
        f"document.querySelector('#viewer img.page-image').getBoundingClientRect().width > {fitted['width'] * 1.4}"
    )
    page.click("#viewer button.zoom-fit")
    page.click("#viewer button.viewer-mode")
    page.locator("#viewer #quote-target").wait_for(state="visible")
    assert PRIMER in page.locator("#viewer #quote-target").inner_text()
    assert not image.is_visible()
    page.click("#viewer button.viewer-mode")
    image.wait_for(state="visible")
    page.click("#viewer button.page-nav:has-text('Next page')")
    page.wait_for_function(
        "document.querySelector('#viewer .page-count')?.innerText.startsWith('Page 3 of 3')"
    )
    plain = rgb(shown_png(page, "#viewer .page-frame img.page-image"))
    assert (yellowness(plain) > 60).mean() == 0  # the quote is not on page 3: nothing highlighted
    assert page.locator("#viewer button.page-nav:has-text('Next page')").is_disabled()
    page.click("#viewer button.page-nav:has-text('Previous page')")
    page.wait_for_function(
        "document.querySelector('#viewer .page-count')?.innerText.startsWith('Page 2 of 3')"
    )
    assert page.locator("#viewer img.page-image[data-mark-top]").count() == 1
