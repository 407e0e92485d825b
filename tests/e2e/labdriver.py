"""Drive JupyterLab and static report pages in headless Chromium (Playwright's sync API) for the e2e tests.

Everything runs locally: JupyterLab listens on 127.0.0.1 with a random port and token, news/update checks
are off, and the system Chromium starts with background networking, component updates, sync and first-run
work disabled, so neither process makes outside connections. No browser is ever downloaded: Playwright is
pointed at the system Chromium through ``executable_path``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Switches that keep Chromium from phoning home; Playwright adds its own automation switches and a fresh,
# temporary --user-data-dir for every launch() (deleted when the browser closes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
]

# Seconds allowed for the slow steps; generous because the CI machine has 2 shared cores.
SERVER_START_S = 60
RUN_ALL_S = 150
WIDGET_REDRAW_S = 60
REPORT_S = 300


def find_chromium() -> str | None:
    """Debian's Chromium: ``/usr/bin/chromium``, else ``chromium`` on PATH; ``$LABKIT_CHROMIUM``, when set,
    is the only candidate (set it to a path that does not exist to see the tests skip)."""
    override = os.environ.get("LABKIT_CHROMIUM")
    if override is not None:
        found = shutil.which(override)
        return found if found and Path(found).is_file() else None
    if Path("/usr/bin/chromium").is_file() and os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def kernel_env() -> dict[str, str]:
    """Environment for JupyterLab's kernels and ``labkit report``: smoke profile, this checkout's labkit.

    ``MPLBACKEND`` is removed so that the kernel uses matplotlib's inline backend (the unit-test conftest
    sets it to Agg, which would make every ``plt.show()`` draw nothing). BLAS/OpenMP get one thread each
    (unless set already): the JupyterLab kernel and the report's kernel share the CPU.
    """
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env["LABKIT_PROFILE"] = "smoke"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # JupyterLab's kernel and the report's kernel run side by side: one BLAS/OpenMP thread each
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


class Clock:
    """Wall time of the phases of a test, printed in its output."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.last))
        self.last = now

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.laps)
        return f"{self.last - self.start:.1f} s ({parts})"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


@dataclass
class LabServer:
    """A JupyterLab server on 127.0.0.1 serving ``root`` (a temporary copy of notebooks/)."""

    root: Path
    state: Path
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def api(self, method: str, path: str):
        req = urllib.request.Request(f"{self.base}/api/{path.lstrip('/')}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def start(self) -> LabServer:
        """Start ``python -m jupyterlab`` with isolated config/settings dirs; wait until its API answers."""
        settings = self.state / "lab-settings"
        # No news/update toasts; every cell attached to the DOM (no windowing) so selectors see them; the
        # notebook's kernel starts without the "Select Kernel" dialog.
        _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                    {"windowingMode": "none", "autoStartDefaultKernel": True})
        env = kernel_env()
        env.update({
            "JUPYTER_CONFIG_DIR": str(self.state / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.state / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.state / "workspaces"),
            "JUPYTER_PLATFORM_DIRS": "1",
        })
        self.log = self.state / "jupyterlab.log"
        for _attempt in range(3):  # the free port can be taken between choosing and binding it
            self.port = _free_port()
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
                cmd.append("--allow-root")
            log = self.log.open("ab")
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            if self._wait_ready():
                return self
            self.stop()
            if "already in use" not in self.log.read_text(errors="replace"):
                break
        raise RuntimeError(f"JupyterLab did not start; log:\n{self.log.read_text(errors='replace')[-3000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.api("GET", "status")
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        return False

    def shutdown_kernels(self) -> None:
        """Stop every running kernel (frees the CPU between notebooks)."""
        for kernel in self.api("GET", "kernels"):
            try:
                self.api("DELETE", f"kernels/{kernel['id']}")
            except urllib.error.HTTPError:
                pass

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def launch_chromium(playwright, executable: str):
    """The system Chromium, headless, with outside connections disabled."""
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                                      chromium_sandbox=False)


# ---------------------------------------------------------------------------------------------- JupyterLab


def open_notebook(page, server: LabServer, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel has started and is idle."""
    # ?reset: start from an empty layout, so notebooks opened by earlier tests are not restored beside it.
    page.goto(server.url(f"lab/tree/{name}") + "&reset")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(timeout=SERVER_START_S * 1000)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.count():  # only if autoStartDefaultKernel were ignored
            dialog.get_by_role("button", name="Select").click()
        if kernel_state(server, name) == "idle":
            wait_kernel_idle(page, server, name)
            return
        page.wait_for_timeout(250)
    raise TimeoutError(f"no idle kernel for {name} after {SERVER_START_S} s (sessions: {server.api('GET', 'sessions')})")


def kernel_state(server: LabServer, name: str) -> str | None:
    """The execution state of the kernel of notebook ``name`` according to the server, None if it has none."""
    for session in server.api("GET", "sessions"):
        if Path(session.get("path", "")).name == name and session.get("kernel"):
            return session["kernel"].get("execution_state")
    return None


def wait_kernel_idle(page, server: LabServer, name: str, *, timeout_s: float = RUN_ALL_S) -> None:
    """Wait until the server says the notebook's kernel is idle and the toolbar's status circle agrees."""
    deadline = time.monotonic() + timeout_s
    while kernel_state(server, name) != "idle":
        if time.monotonic() > deadline:
            raise TimeoutError(f"kernel of {name} not idle after {timeout_s} s")
        page.wait_for_timeout(250)
    page.wait_for_function(
        """() => {
            const el = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
            return el !== null && el.getAttribute('data-status') === 'idle';
        }""",
        timeout=timeout_s * 1000,
    )


def run_all_cells(page, server: LabServer, name: str, *, timeout_s: float = RUN_ALL_S) -> None:
    """Menu Run → Run All Cells, then wait until every code cell has an execution count, or a cell shows an
    error (Run All stops there), and the kernel is idle."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_function(
        """() => {
            const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const done = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            const failed = [...nb.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                .some(o => /Traceback/.test(o.innerText));
            return done || failed;
        }""",
        timeout=timeout_s * 1000,
    )
    wait_kernel_idle(page, server, name, timeout_s=timeout_s)


def error_outputs(page) -> list[str]:
    """Texts of error outputs on the page: tracebacks (error or stderr), failed widget views, dead kernels."""
    return page.evaluate(
        """() => {
            const found = [];
            for (const el of document.querySelectorAll('.jp-OutputArea-output')) {
                const text = el.innerText || '';
                const mime = el.getAttribute('data-mime-type') || '';
                if (mime === 'application/vnd.jupyter.stderr' && /Traceback|Error\\b/.test(text)) found.push(text);
                else if (/Error displaying widget|Error rendering output/.test(text)) found.push(text);
            }
            for (const el of document.querySelectorAll('.jp-Dialog')) {
                if (/Kernel Restarting|Kernel Dead|Error/.test(el.innerText)) found.push(el.innerText);
            }
            return found.map(t => t.slice(0, 2000));
        }"""
    )


# ------------------------------------------------------------------------------------------------- widgets


def widget_box(page, anchor: str):
    """The innermost widget container (``.widget-vbox``) holding a control labelled ``anchor`` and an Output."""
    label = page.locator(".widget-label", has_text=anchor)
    box = page.locator(".widget-vbox", has=label).filter(has=page.locator(".widget-output")).last
    box.wait_for(timeout=WIDGET_REDRAW_S * 1000)
    return box


def control(box, description: str):
    """The control (slider, dropdown, …) of ``box`` whose description label reads exactly ``description``."""
    label = box.page.locator(".widget-label").filter(has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))
    ctl = box.locator(".widget-inline-hbox").filter(has=label)
    if ctl.count() != 1:
        raise AssertionError(f"expected one control labelled {description!r} in the widget, found {ctl.count()}")
    return ctl


def output_state(box) -> dict:
    """What the widget's Output shows now: image sources, table texts, printed (stdout and text/plain) text,
    and stderr/error texts."""
    return box.locator(".widget-output").first.evaluate(
        """(out) => ({
            images: [...out.querySelectorAll('img')].map(i => i.getAttribute('src') || ''),
            loaded: [...out.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0),
            tables: [...out.querySelectorAll('table')].map(t => t.innerText),
            text: [...out.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/plain"],'
                                          + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]')]
                  .map(t => t.innerText).join('\\n'),
            stderr: [...out.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                  .map(t => t.innerText.slice(0, 3000)),
        })"""
    )


@dataclass(frozen=True)
class Slide:
    """Focus the handle of slider ``description`` and press ``key`` ``presses`` times (as a learner would
    with the keyboard); ``readout`` is the value the slider must then show, e.g. ``"0.100"``."""

    description: str
    key: str = "ArrowRight"
    presses: int = 1
    readout: str | None = None

    @property
    def label(self) -> str:
        return f"{self.description} {self.key}x{self.presses}"

    def apply(self, box) -> None:
        ctl = control(box, self.description)
        handle = ctl.locator(".noUi-handle").first
        handle.focus()
        for _ in range(self.presses):
            handle.press(self.key)
        if self.readout is not None:
            readout = ctl.locator(".widget-readout")
            try:
                readout.filter(has_text=re.compile(rf"^\s*{re.escape(self.readout)}\s*$")).wait_for(timeout=10_000)
            except Exception as err:
                raise AssertionError(f"slider {self.description!r} shows {readout.inner_text()!r} after "
                                     f"{self.presses} x {self.key}, expected {self.readout!r}") from err


@dataclass(frozen=True)
class Select:
    """Choose ``option`` in the Dropdown (a ``<select>``) of control ``description``."""

    description: str
    option: str

    @property
    def label(self) -> str:
        return f"{self.description}={self.option}"

    def apply(self, box) -> None:
        control(box, self.description).locator("select").select_option(self.option)


@dataclass(frozen=True)
class Click:
    """Apply the ``setup`` steps (which by themselves redraw nothing, e.g. for a widget with a run button),
    then click the Button whose text is ``description``."""

    description: str
    setup: tuple = ()

    @property
    def label(self) -> str:
        return "+".join([*(s.label for s in self.setup), f"click {self.description}"])

    def apply(self, box) -> None:
        for step in self.setup:
            step.apply(box)
        button = box.locator("button.widget-button", has_text=re.compile(rf"^\s*{re.escape(self.description)}\s*$"))
        if button.count() != 1:
            raise AssertionError(f"expected one button {self.description!r} in the widget, found {button.count()}")
        button.click()


def wait_output_changed(box, before: dict, parts: tuple[str, ...], *, bad: str | None = None,
                        timeout_s: float = WIDGET_REDRAW_S) -> dict:
    """Wait until every ``part`` of the widget's Output ("images", "tables") is non-empty and differs from
    ``before``, with every image loaded; return that state.

    Fails at once (``AssertionError``) if the Output shows a traceback/stderr or printed text matching
    ``bad``, and after ``timeout_s`` if the output never changed, showing both states.
    """
    deadline = time.monotonic() + timeout_s
    state = output_state(box)
    while True:
        shown_error = state["stderr"] or (bad and re.search(bad, state["text"]))
        if shown_error:
            raise AssertionError(f"the widget's output shows an error:\n{state['text'][:2000]}\n"
                                 + "\n".join(state["stderr"]))
        if state["loaded"] and all(state[p] and state[p] != before[p] for p in parts):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the widget's output did not change ({', '.join(parts)}) within {timeout_s} s:"
                                 f"\nbefore: {_summary(before)}\nnow:    {_summary(state)}")
        box.page.wait_for_timeout(200)
        state = output_state(box)


def wait_settled(page, server: LabServer, name: str, box, *, quiet_s: float = 0.6,
                 timeout_s: float = WIDGET_REDRAW_S) -> dict:
    """Wait until the kernel is idle and the widget's Output stays the same for ``quiet_s`` (a step can
    queue several redraws, e.g. one per key press); return the final state."""
    deadline = time.monotonic() + timeout_s
    state = output_state(box)
    while time.monotonic() < deadline:
        wait_kernel_idle(page, server, name, timeout_s=timeout_s)
        page.wait_for_timeout(quiet_s * 1000)
        again = output_state(box)
        if again == state and kernel_state(server, name) == "idle":
            return state
        state = again
    raise AssertionError(f"the widget's output kept changing for {timeout_s} s")


def _summary(state: dict) -> dict:
    return {"images": [f"{s[:40]}...({len(s)} chars)" for s in state["images"]],
            "tables": [t[:200] for t in state["tables"]], "text": state["text"][:300]}


def block_outside_requests(context) -> list[str]:
    """Abort every request a page makes to anything but 127.0.0.1/localhost (file: and data: URLs never
    reach the network); return the list the aborted URLs are appended to."""
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        host = urllib.parse.urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "file:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked


# ------------------------------------------------------------------------------------------- static report


def page_images(page) -> list[dict]:
    """Every ``<img>`` of a static page with its rendered size (after all have finished loading)."""
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    return page.evaluate(
        """() => [...document.images].map(i => ({src: (i.getAttribute('src') || '').slice(0, 40),
            naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
            width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height}))"""
    )


def static_errors(page) -> list[str]:
    """Error outputs in an nbconvert HTML page: error/stderr outputs with a traceback, failure banners."""
    return page.evaluate(
        """() => {
            const found = [];
            for (const el of document.querySelectorAll('.jp-OutputArea-output')) {
                const mime = el.getAttribute('data-mime-type') || '';
                const text = el.innerText || '';
                if (mime === 'application/vnd.jupyter.stderr' && /Traceback|Error\\b/.test(text)) found.push(text);
            }
            if (/This notebook failed in the/.test(document.body.innerText)) found.push('failure banner');
            return found.map(t => t.slice(0, 2000));
        }"""
    )
