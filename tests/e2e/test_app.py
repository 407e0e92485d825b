"""``labkit app 01`` (Voilà) in the browser, with requests to other hosts blocked: the page shows no code, and
moving the notebook's main widget redraws its figure."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from . import labdriver
from .labdriver import Slide

APP_START_S = 240  # Voilà runs the whole notebook (smoke profile) before the widget appears


def _code_lines(number: str) -> list[str]:
    """Distinctive lines of the notebook's code cells (assignments and calls, 20+ characters)."""
    import nbformat

    from labkit import notebook

    nb = nbformat.read(notebook.resolve_notebook(number), as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")  # quoted in the text on purpose
    return [line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
            if len(line.strip()) >= 20 and ("=" in line or "(" in line) and not line.lstrip().startswith("#")
            and line.strip() not in prose]


def _have_voila() -> bool:
    from labkit import app

    return app.voila_available()


@pytest.fixture
def voila_app(tmp_path):
    """``labkit app 01 --profile smoke --no-browser`` on a free port; yields its URL (with the token)."""
    if not _have_voila():
        pytest.skip("e2e: Voilà is not installed (pip install -e '.[app]')")
    log_path = tmp_path / "labkit-app.log"
    cmd = [sys.executable, "-m", "labkit.cli", "app", "01", "--profile", "smoke", "--no-browser",
           "--port", str(labdriver._free_port())]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=labdriver.REPO, env=labdriver.kernel_env(), stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + labdriver.SERVER_START_S
        url = None
        while url is None:
            found = re.search(r"at (http://127\.0\.0\.1:\d+/\?token=\S+)", log_path.read_text(errors="replace"))
            if found:
                url = found.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"labkit app did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            else:
                time.sleep(0.25)
        yield url
    finally:
        proc.terminate()  # labkit stops Voilà, which shuts its kernel down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"labkit app log:\n{log_path.read_text(errors='replace')[-1500:]}")


def test_app_widget_redraws_in_voila(voila_app, browser_context, tmp_path):
    page = browser_context.new_page()
    clock = labdriver.Clock()
    page.goto(voila_app)
    page.locator(".widget-label", has_text="minority share").first.wait_for(timeout=APP_START_S * 1000)
    clock.lap("Voilà runs 01")
    shown = page.locator("body").inner_text()
    code = [line for line in _code_lines("01") if line in shown]
    assert not code, f"the app shows code: {code[:5]}"
    box = labdriver.widget_box(page, "minority share")
    box.scroll_into_view_if_needed()
    deadline = time.monotonic() + labdriver.WIDGET_REDRAW_S
    state = labdriver.output_state(box)
    while not (state["images"] and state["loaded"]):
        assert time.monotonic() < deadline, f"the widget shows no figure: {labdriver._summary(state)}"
        page.wait_for_timeout(250)
        state = labdriver.output_state(box)
    before = box.screenshot(path=tmp_path / "app-01-0-initial.png")
    page.screenshot(path=tmp_path / "app-01-0-initial-page.png", full_page=True)

    step = Slide("minority share", "ArrowRight", 3, readout="0.100")
    step.apply(box)
    labdriver.wait_output_changed(box, state, ("images",), bad=r"Traceback|Error|Cannot run")
    page.wait_for_timeout(1000)  # three key presses may queue three redraws: let them finish
    after = labdriver.output_state(box)
    assert after["images"] and after["images"] != state["images"], "the figure did not change"
    shot = box.screenshot(path=tmp_path / "app-01-1-minority-share.png")
    assert shot != before, "the widget looks the same on screen"
    errors = labdriver.error_outputs(page)
    assert not errors, "error output in the app:\n" + "\n---\n".join(errors)
    clock.lap(step.label)
    assert not browser_context.blocked, f"requests to other hosts were attempted: {sorted(set(browser_context.blocked))}"
    print(f"labkit app 01: {clock}; screenshots in {tmp_path}")
