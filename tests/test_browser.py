"""A real browser: JupyterLab on 127.0.0.1, notebook 03 run in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "03_numpy_gan_2d.ipynb"
SCREENSHOTS = ROOT / "build" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "gancourse-browser-test"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium: `make test` installs Debian's chromium package as root; "
    "elsewhere install chromium yourself",
)


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab serving a copy of notebooks/ (autosave must not touch the repo)."""
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--ServerApp.token={TOKEN}", f"--notebook-dir={work}",
    ]  # fmt: skip
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    env = dict(
        os.environ,
        GANCOURSE_QUICK="1",
        GANCOURSE_HEADLESS="0",  # as for a person: live panels train in the background
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
    )
    log = open(tmp_path / "jupyterlab.log", "w")  # noqa: SIM115
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={TOKEN}", server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _drag(page, slider, pixels: int) -> None:
    """Drag a slider's handle sideways with the mouse, as a person would."""
    handle = slider.locator(".noUi-handle")
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + pixels, y, steps=8)
    page.mouse.up()


def _changes(locator_text, before: str, timeout: float = 60) -> str:
    """Wait until a value differs from `before`; return the new value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = locator_text()
        if now != before:
            return now
        time.sleep(0.25)
    raise AssertionError(f"nothing changed within {timeout} s (still {before[:80]!r})")


def test_explorer_sliders_change_the_readout_and_plot(jupyterlab):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            _drive_explorer(page, jupyterlab)
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "explorer_failure.png"))
            raise
        finally:
            browser.close()


def _drive_explorer(page, jupyterlab: str) -> None:
    """Open the notebook, run all cells, move two sliders, check what changes."""
    if True:
        page.goto(f"{jupyterlab}/lab/tree/{NOTEBOOK}?token={TOKEN}")
        page.locator(".jp-Notebook").wait_for(timeout=90_000)
        idle = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")
        idle.first.wait_for(timeout=90_000)  # the kernel is up: run all cells now
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

        readout = page.locator(".widget-html", has_text="modes covered").last
        readout.wait_for(timeout=150_000)
        readout.scroll_into_view_if_needed()
        explorer = readout.locator("xpath=..")
        image = explorer.locator(".widget-image").last

        def text() -> str:
            return readout.inner_text()

        def picture() -> str:
            return image.get_attribute("src") or ""

        before_text, before_picture = text(), picture()
        page.screenshot(path=str(SCREENSHOTS / "explorer_before.png"))

        lr_slider = explorer.locator(".widget-hslider", has_text="lr D").first
        _drag(page, lr_slider, 25)
        after_lr = _changes(text, before_text)
        after_picture = _changes(picture, before_picture)
        assert "step" in after_lr and after_lr != before_text

        ratio_slider = explorer.locator(".widget-hslider", has_text="D steps").first
        _drag(page, ratio_slider, 30)
        after_ratio = _changes(text, after_lr)
        assert after_ratio != after_lr
        assert _changes(picture, after_picture) != after_picture
        page.screenshot(path=str(SCREENSHOTS / "explorer_after.png"))
