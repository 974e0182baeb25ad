"""The draw-a-digit page in headless Chromium, for the speed benchmark and the README's screenshot.

``open_page(models)`` serves the page with ``python -m mnist_helpers.web``'s server on 127.0.0.1 and opens it
in Debian's Chromium through Playwright; ``draw(page, strokes)`` draws with the mouse on the pad.
"""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from mnist_helpers import web

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SEVEN = [[(78, 62), (120, 60), (165, 58), (204, 60), (184, 100), (160, 145), (140, 190), (126, 236)]]


@contextlib.contextmanager
def open_page(models: Path, viewport=(1100, 900)):
    """Yield ``(browser, page)`` with the page loaded and its model ready; raises with what to install."""
    executable = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if executable is None:
        raise RuntimeError(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    server, url = web.start_in_thread(port=0, models=models)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                page.goto(url)
                page.wait_for_selector("body[data-ready]", timeout=30_000)
                yield browser, page
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def draw(page, strokes=SEVEN) -> None:
    """Draw ``strokes`` (lists of (x, y) on the 280-pixel pad) and wait for their prediction."""
    page.click("#clear")
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=4)
        page.mouse.up()
    page.wait_for_function("n => !document.body.hasAttribute('data-busy') && "
                           "document.getElementById('prediction').dataset.forStrokes === String(n)", arg=len(strokes))


def use_model(page, name: str) -> None:
    """Pick ``name`` in the page's model picker and wait until it is loaded (nothing to do if it is)."""
    if page.evaluate("() => document.body.dataset.model") == name:
        return
    page.select_option("#model-pick", name)
    page.wait_for_function("n => document.body.dataset.model === n && !document.body.hasAttribute('data-busy')", arg=name)
