"""Fixtures for the browser tests: a JupyterLab server, the system Chromium, and the smoke-profile report.

Every test in this folder is marked ``e2e`` and skips, with the reason shown by ``pytest -ra``, when
Playwright or the system Chromium is missing. Run them with ``pytest -m e2e``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import labdriver

CHROMIUM = labdriver.find_chromium()


def _have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


HAVE_PLAYWRIGHT = _have_playwright()
SKIP_REASON = (
    None if HAVE_PLAYWRIGHT and CHROMIUM else
    "e2e: Playwright is not installed (pip install -e '.[test]')" if not HAVE_PLAYWRIGHT else
    "e2e: no system Chromium at /usr/bin/chromium or on PATH (apt-get install chromium); "
    "browsers are never downloaded"
)

E2E_DIR = Path(__file__).resolve().parent
REPORT_TEST = "test_report"


def _in_e2e(item) -> bool:
    return E2E_DIR in Path(str(item.fspath)).resolve().parents


def _is_report_test(item) -> bool:
    return _in_e2e(item) and item.name.startswith(REPORT_TEST)


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``e2e``; skip them, visibly, when the browser stack is missing."""
    for item in items:
        if _in_e2e(item):
            item.add_marker(pytest.mark.e2e)
            if SKIP_REASON and "chromium" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
    # the report test last: its `labkit report` run starts with the first e2e test and overlaps the others
    items.sort(key=_is_report_test)


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium, headless, started once per session through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = labdriver.launch_chromium(playwright, CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    """A fresh browser context (own storage) whose requests to anything but this machine are aborted;
    ``context.blocked`` lists what was blocked."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.blocked = labdriver.block_outside_requests(context)
    yield context
    context.close()


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 (random port and token) serving a temporary copy of notebooks/; kernels run
    the smoke profile and import this checkout's labkit."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(labdriver.REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = labdriver.LabServer(root, base / "state").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _report_process(request, tmp_path_factory):
    """``labkit report --profile smoke`` into a temporary folder, started at the beginning of the e2e session
    (so it overlaps the JupyterLab tests) when the report test is selected; None otherwise."""
    if SKIP_REASON or not any(_is_report_test(item) for item in request.session.items):
        yield None
        return
    out = tmp_path_factory.mktemp("report")
    log = (out.parent / "labkit-report.log").open("w")
    cmd = [sys.executable, "-m", "labkit.cli", "report", "--profile", "smoke", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=labdriver.REPO, env=labdriver.kernel_env(), stdout=log,
                            stderr=subprocess.STDOUT)
    proc.out, proc.log_path, proc.started = out, Path(log.name), time.perf_counter()
    yield proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)
    log.close()


@pytest.fixture(autouse=True, scope="session")
def _start_report_early(_report_process):
    """Starts the report run with the first e2e test."""
    return _report_process


@pytest.fixture(scope="session")
def smoke_report(_report_process):
    """The folder holding ``index.html`` of a finished smoke-profile report (waits for the run)."""
    proc = _report_process
    try:
        rc = proc.wait(timeout=labdriver.REPORT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"labkit report did not finish in {labdriver.REPORT_S} s")
    log = proc.log_path.read_text(errors="replace")
    print(f"labkit report (smoke): {time.perf_counter() - proc.started:.1f} s since start\n{log[-2000:]}")
    assert rc == 0, f"labkit report --profile smoke failed (exit {rc}):\n{log[-4000:]}"
    return proc.out
