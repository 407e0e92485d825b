"""``labkit app``: one notebook as a live page with Voilà — code hidden, widgets live — for a lecture, or for a
student who should not have to read code.

Voilà is the optional extra ``app`` (``pip install 'labkit[app]'``). The server listens on 127.0.0.1 only,
on a free port unless one is given, and asks for a random token (the printed URL carries it). Its kernel
runs the chosen profile (``LABKIT_PROFILE``) and keeps results in a temporary folder (``LABKIT_OUT``), so a
live session never overwrites a report.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core import PROFILES

INSTALL_HINT = "pip install 'labkit[app]'"
TEMPLATE = "labkit"
# Voilà's lab template, with the stylesheets it links from a CDN (Font Awesome, for widget icons) disabled
# (a link without rel and href is never fetched) and no mermaid loader: the page loads nothing from another
# host. Widgets keep working; a Button's Font Awesome icon, if one were used, would not show.
_TEMPLATE_FILES = {
    "conf.json": '{"base_template": "lab"}\n',
    "index.html.j2": """{%- extends 'voila/templates/lab/index.html.j2' -%}
{%- block notebook_css -%}
{{ super() | replace('rel="stylesheet" href="https://', 'data-offline-href="https://') }}
{%- endblock notebook_css -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
""",
}


class AppUnavailable(RuntimeError):
    """Voilà is not installed."""


def voila_available() -> bool:
    """Whether Voilà can be imported here."""
    return importlib.util.find_spec("voila") is not None


def require_voila() -> None:
    """``AppUnavailable`` with the install command when Voilà is missing."""
    if not voila_available():
        raise AppUnavailable(
            f"labkit app needs Voilà, which is not installed; install the app extra: {INSTALL_HINT} "
            "(in a checkout: pip install -e '.[app]')")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_template(data_dir: Path) -> Path:
    """Write the ``labkit`` Voilà template into the Jupyter data folder ``data_dir``; return ``data_dir``."""
    folder = data_dir / "voila" / "templates" / TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in _TEMPLATE_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return data_dir


@dataclass
class App:
    """A Voilà server for one notebook (``start`` it, read ``url``, ``stop`` it)."""

    notebook: Path
    profile: str = "quick"
    port: int | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    parameters: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    _tmp: tempfile.TemporaryDirectory | None = None

    def __post_init__(self) -> None:
        from labkit._validation import check_choice, check_int, check_path
        from labkit.core import PROFILES

        self.notebook = check_path(self.notebook, "notebook", kind="file", suffixes=(".ipynb",))
        check_choice(self.profile, "profile", PROFILES)
        if self.port is not None:
            check_int(self.port, "port", low=1, high=65535)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def command(self, notebook: Path) -> list[str]:
        """The Voilà command line for ``notebook``: 127.0.0.1, this port and token, no browser, sources
        stripped (Voilà's default), tracebacks shown so a failing cell says why."""
        return [sys.executable, "-m", "voila", str(notebook), f"--port={self.port}", "--Voila.ip=127.0.0.1",
                "--Voila.port_retries=0", f"--token={self.token}", "--no-browser", "--strip_sources=True",
                "--show_tracebacks=True", f"--template={TEMPLATE}"]

    def kernel_env(self, out_dir: Path, data_dir: Path | None = None) -> dict[str, str]:
        """The environment of Voilà and its kernel: the profile, ``LABKIT_OUT`` and, with ``data_dir``,
        that folder first on ``JUPYTER_PATH`` (where the offline template is)."""
        env = dict(os.environ)
        env.update(self.env)
        if data_dir is not None:
            env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(data_dir), env.get("JUPYTER_PATH", "")) if p)
        env["LABKIT_PROFILE"] = self.profile
        env["LABKIT_OUT"] = str(out_dir)
        env.pop("MPLBACKEND", None)  # the inline backend draws the figures
        return env

    def start(self, *, wait_s: float = 60.0, log=None) -> App:
        """Start Voilà (``AppUnavailable`` without it) and wait until it accepts connections."""
        require_voila()
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {self.profile!r}")
        if self.port is None:
            self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-app-")
        tmp = Path(self._tmp.name)
        notebook = self.notebook
        if self.parameters:  # serve a copy with the values injected after the parameters cell
            import nbformat

            from labkit.notebook import prepare

            notebook = tmp / self.notebook.name
            nbformat.write(prepare(self.notebook, self.parameters), notebook)
        data_dir = write_template(tmp / "jupyter")
        self.proc = subprocess.Popen(self.command(notebook), cwd=notebook.parent,
                                     env=self.kernel_env(tmp / "results", data_dir), stdout=log, stderr=log,
                                     start_new_session=True)  # Ctrl-C reaches labkit, which stops it
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Voilà exited with code {self.proc.returncode} before serving {self.url}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Voilà did not listen on port {self.port} within {wait_s:.0f} s")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server (it shuts its kernel down first) and remove the temporary folder."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def serve(name: str | os.PathLike, *, profile: str = "quick", port: int | None = None,
          open_browser: bool = True, parameters: dict[str, Any] | None = None,
          directory: str | os.PathLike | None = None) -> int:
    """Serve notebook ``name`` with Voilà until Ctrl-C (``labkit app``); return the exit code."""
    from labkit.notebook import prepare, resolve_notebook

    path = resolve_notebook(name, directory)
    require_voila()
    if parameters:
        prepare(path, parameters)  # unknown names fail before the server starts
    app = App(path, profile=profile, port=port, parameters=dict(parameters or {}))
    # SIGTERM (kill, timeout, a closing terminal) stops the server too, as Ctrl-C does
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        app.start()
        print(f"labkit app: {path.stem} ({profile} profile) at {app.url}\n"
              "code hidden, widgets live; Ctrl-C stops the server", flush=True)
        if open_browser:
            webbrowser.open(app.url)
        return app.proc.wait() if app.proc is not None else 0
    except KeyboardInterrupt:
        return 0
    finally:
        app.stop()
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
