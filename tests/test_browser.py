"""A real browser: JupyterLab on 127.0.0.1, notebook 03 run in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from book.check import CHROMIUM, CHROMIUM_FLAGS  # Debian's chromium, headless
from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "03_numpy_gan_2d.ipynb"
SCREENSHOTS = ROOT / "build" / "browser"
TOKEN = "gancourse-browser-test"

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
    _append_long_panel(work / "05_dcgan.ipynb")
    settings = tmp_path / "cfg" / "lab" / "user-settings" / "@jupyterlab"
    tracker = settings / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')  # every cell stays rendered
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


def _append_long_panel(path: Path) -> None:
    """End the copy of 05 with a panel long enough to move sliders while it trains."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PANEL_CELL))
    nbformat.write(notebook, path)


def _drag(page, slider, pixels: int) -> None:
    """Drag a slider's handle sideways with the mouse, as a person would."""
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
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


def _in_chromium(jupyterlab: str, drive, name: str) -> None:
    """Run drive(page, jupyterlab) in headless Chromium; screenshot a failure."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            drive(page, jupyterlab)
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / f"{name}_failure.png"))
            raise
        finally:
            browser.close()


def test_explorer_sliders_change_the_readout_and_plot(jupyterlab):
    _in_chromium(jupyterlab, _drive_explorer, "explorer")


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


PANEL_CELL = "late = training_panel(trainer, steps=100_000, every=5)"


def test_dcgan_panel_sliders_and_buttons_act_on_the_run(jupyterlab):
    _in_chromium(jupyterlab, _drive_panel, "panel")


def _until(read, wanted, timeout: float = 60) -> str:
    """Wait until wanted(read()) holds; return what read() gave then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if wanted(value):
            return value
        time.sleep(0.25)
    raise AssertionError(f"still {value[:300]!r} after {timeout} s")


def _drive_panel(page, jupyterlab: str) -> None:
    """Run notebook 05, start a long panel, move two sliders, pause, resume, stop."""
    page.goto(f"{jupyterlab}/lab/tree/05_dcgan.ipynb?token={TOKEN}")
    page.locator(".jp-Notebook").wait_for(timeout=90_000)
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(
        timeout=90_000
    )
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    # the notebook's own panel trains quick mode's 40 steps; the cell appended to
    # this copy then starts a panel of 100,000 steps on the same trainer
    status = page.locator(".widget-html", has_text="/100000 this run").last
    status.wait_for(timeout=180_000)
    films = page.locator("img[id^='_anim_img']")
    sizes = [
        films.nth(i).evaluate("img => [img.naturalWidth, img.naturalHeight]")
        for i in range(films.count())
    ]
    assert sizes and all(w > 0 and h > 0 for w, h in sizes), f"blank animation {sizes}"
    status.wait_for(timeout=180_000)
    _until(status.inner_text, lambda text: "running" in text and "/100000" in text)
    panel = status.locator("xpath=..")
    lr = panel.locator(".widget-hslider", has_text="lr D").first
    ratio = panel.locator(".widget-hslider", has_text="D steps").first
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "panel_before.png"))

    _drag(page, lr, 40)
    lr_readout = lr.locator(".widget-readout").inner_text().strip()
    assert lr_readout != "2.0e-4", "the drag did not move the lr D slider"
    _until(status.inner_text, lambda text: f"lr D {lr_readout}," in text)

    _drag(page, ratio, 40)
    d_steps = ratio.locator(".widget-readout").inner_text().strip()
    assert d_steps != "1", "the drag did not move the D steps slider"
    _until(status.inner_text, lambda text: f"D steps {d_steps}," in text)

    def step() -> int:
        text = status.inner_text()
        return int(text.split("step ")[1].split()[0])

    panel.locator("button", has_text="pause").click()
    _until(status.inner_text, lambda text: text.startswith("paused"))
    paused_at = step()
    time.sleep(2)
    assert step() == paused_at, "a paused run kept training"
    panel.locator("button", has_text="resume").click()
    _until(status.inner_text, lambda text: text.startswith("running"))
    _until(lambda: str(step()), lambda text: int(text) > paused_at)
    panel.locator("button", has_text="stop").click()
    final = _until(status.inner_text, lambda text: text.startswith("stopped"))
    assert f"lr D {lr_readout}," in final and f"D steps {d_steps}," in final
    page.screenshot(path=str(SCREENSHOTS / "panel_after.png"))
