"""Run notebooks headless in a profile and turn them into an HTML report (``labkit run`` / ``labkit report``)."""

from __future__ import annotations

import html
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from labkit.core import PROFILES


def default_notebooks_dir() -> Path:
    """The checkout's ``notebooks/`` folder (``$LABKIT_NOTEBOOKS`` overrides)."""
    env = os.environ.get("LABKIT_NOTEBOOKS", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "notebooks"


def list_notebooks(directory: str | os.PathLike | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in ``directory``, in order."""
    directory = Path(directory) if directory is not None else default_notebooks_dir()
    if not directory.is_dir():
        raise ValueError(f"directory {str(directory)!r} is not a folder of notebooks")
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def resolve_notebook(name: str | os.PathLike, directory: str | os.PathLike | None = None) -> Path:
    """A notebook from a path, a file name, a stem (``01_imbalanced_svm``) or its number (``01``, ``1``)."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    candidates = list_notebooks(directory)
    key = str(name)
    for nb in candidates:
        if key in (nb.name, nb.stem) or (key.isdigit() and int(nb.stem[:2]) == int(key)):
            return nb
    raise ValueError(f"notebook {key!r} not found; choose from {[nb.stem for nb in candidates]}")


@contextmanager
def _profile_env(profile: str):
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    # The kernel inherits this environment: set the profile, and drop MPLBACKEND so a caller's
    # MPLBACKEND=Agg cannot stop the kernel's inline backend from putting figures in the notebook.
    saved = {key: os.environ.get(key) for key in ("LABKIT_PROFILE", "MPLBACKEND")}
    os.environ["LABKIT_PROFILE"] = profile
    os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: str | os.PathLike, *, profile: str = "smoke", timeout: int = 900):
    """Execute a notebook in ``profile`` (the kernel sees ``LABKIT_PROFILE``) and return it executed.

    The kernel runs in the notebook's own folder. Errors propagate as ``nbclient`` ``CellExecutionError``.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with _profile_env(profile), tempfile.TemporaryDirectory(prefix="labkit-kernel-") as sockets:
        # IPC sockets (absolute paths) instead of TCP ports: no race for free ports when several
        # kernels start at once.
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            client.execute()
        finally:
            if km.has_kernel:  # nbclient leaves a kernel it did not create running
                km.shutdown_kernel(now=True)
    return nb


def to_html(nb) -> str:
    """Static HTML of an executed notebook; figures are embedded as data URIs."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


@dataclass
class RunResult:
    notebook: Path
    executed: Path | None
    html: Path | None
    seconds: float
    error: str | None = None


def run(name: str | os.PathLike, *, profile: str = "quick", out_dir: str | os.PathLike = "reports",
        directory: str | os.PathLike | None = None) -> RunResult:
    """Execute one notebook and write ``<out_dir>/<stem>.ipynb`` and ``<out_dir>/<stem>.html``.

    A failing notebook is still written (with its error) and reported in ``RunResult.error``.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    path = resolve_notebook(name, directory)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    error = None
    try:
        nb = execute(path, profile=profile)
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**This notebook failed in the {profile} profile:**\n\n```\n{err}\n```"))
    seconds = time.perf_counter() - start
    executed = out / f"{path.stem}.ipynb"
    nbformat.write(nb, executed)
    page = out / f"{path.stem}.html"
    page.write_text(to_html(nb), encoding="utf-8")
    return RunResult(path, executed, page, seconds, error)


def _title(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def report(*, profile: str = "quick", out_dir: str | os.PathLike = "reports",
           directory: str | os.PathLike | None = None, notebooks=None) -> tuple[Path, list[RunResult]]:
    """Execute every notebook and write ``<out_dir>/index.html`` linking one executed page per notebook."""
    from tqdm.auto import tqdm

    paths = [resolve_notebook(n, directory) for n in notebooks] if notebooks else list_notebooks(directory)
    results = []
    bar = tqdm(paths, desc=f"notebooks ({profile})", unit="nb")
    for path in bar:
        bar.set_postfix_str(path.stem)
        results.append(run(path, profile=profile, out_dir=out_dir, directory=directory))
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(r.html.name)}">{html.escape(_title(r.notebook))}</a></td>'
        f"<td>{html.escape(r.notebook.name)}</td><td>{r.seconds:.1f} s</td>"
        f"<td>{'ok' if r.error is None else 'FAILED: ' + html.escape(r.error)}</td></tr>"
        for r in results
    )
    index = Path(out_dir) / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>labkit report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:.3em 1em}</style>"
        f"</head><body><h1>labkit report</h1><p>Profile: <b>{profile}</b>. Each page is an executed "
        f"notebook.</p><table><tr><th>notebook</th><th>file</th><th>time</th><th>status</th></tr>{rows}"
        "</table></body></html>",
        encoding="utf-8",
    )
    return index, results
