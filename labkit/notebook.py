"""Run notebooks headless in a profile and turn them into an HTML report (``labkit run`` / ``labkit report``).

``run`` executes one notebook (with ``-p`` values injected after its ``parameters`` cell), writes it
executed and as an offline page, and keeps what it measured in ``OUT/<stem>/``: the tables the notebook kept
(``$LABKIT_OUT``, see ``labkit.lesson``), ``run.json`` (completed here with the runner's facts) and a
thumbnail of its main figure. ``report`` runs several and writes the dashboard ``OUT/index.html``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
    raise ValueError(f"notebook name={key!r} not found; choose from {[nb.stem for nb in candidates]}")


def _kernel_env(profile: str, extra: dict[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment a notebook's kernel starts with: this process's, with ``LABKIT_PROFILE`` and ``extra``
    set, and without ``MPLBACKEND`` (a caller's ``MPLBACKEND=Agg`` would stop the kernel's inline backend
    from putting figures in the notebook) or the names in ``drop``. This process's environment is not changed."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND" and k not in drop}
    env.update({"LABKIT_PROFILE": profile, **{k: str(v) for k, v in (extra or {}).items()}})
    return env


def prepare(path: str | os.PathLike, parameters: dict[str, Any] | None = None):
    """The notebook at ``path``, read, with ``parameters`` injected after its ``parameters`` cell
    (``ValueError`` listing the notebook's parameters for a name it does not have)."""
    import nbformat

    from labkit import parameters as params

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    return params.inject(nb, parameters or {}, notebook=path.stem) if parameters else nb


def _execute_in_place(nb, folder: Path, *, env: dict[str, str], timeout: float | None = None,
                     total_timeout: float | None = None, allow_errors: bool = False) -> None:
    """Run ``nb`` in a fresh kernel started in ``folder`` with the environment ``env`` (:func:`_kernel_env`);
    outputs go into ``nb``. The one kernel runner, for reports (errors stop the run) and for grading
    (``allow_errors=True``, and ``total_timeout`` seconds for the whole notebook rather than ``timeout``
    per cell). nbclient's errors propagate (``CellExecutionError``, ``CellTimeoutError``, ``DeadKernelError``).
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    timing: dict[str, Any] = {"timeout": timeout}
    if total_timeout is not None:
        deadline = time.monotonic() + total_timeout
        timing = {"timeout_func": lambda cell: max(1, int(deadline - time.monotonic() + 0.999)),
                  "startup_timeout": max(60, int(total_timeout))}
    with tempfile.TemporaryDirectory(prefix="labkit-kernel-") as sockets:
        # IPC sockets (absolute paths) instead of TCP ports: no race for free ports when several
        # kernels start at once. An *async* kernel manager, so that a timeout also fires on a cell that
        # never finishes (with a blocking one nbclient waits for its output without a limit).
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        # store_widget_state: the widgets' last state goes into the notebook's metadata, from which the
        # static page draws them (labkit.pages.static_widgets)
        client = NotebookClient(nb, km=km, kernel_name="python3", store_widget_state=True,
                                allow_errors=allow_errors, resources={"metadata": {"path": str(folder.resolve())}},
                                **timing)
        try:
            client.execute(env=env)
        finally:
            if km.has_kernel:  # nbclient leaves a kernel it did not create running
                run_sync(km.shutdown_kernel)(now=True)


def execute(path: str | os.PathLike, *, profile: str = "smoke", timeout: int = 900,
            parameters: dict[str, Any] | None = None, out_dir: str | os.PathLike | None = None,
            env: dict[str, str] | None = None):
    """Execute a notebook in ``profile`` (the kernel sees ``LABKIT_PROFILE``) and return it executed.

    ``parameters`` are injected after the ``parameters`` cell; ``out_dir`` becomes the kernel's
    ``LABKIT_OUT`` (absolute); ``env`` adds variables to the kernel's environment. The kernel runs in the
    notebook's own folder. Errors propagate as ``nbclient`` ``CellExecutionError``.
    """
    path = Path(path)
    nb = prepare(path, parameters)
    extra = dict(env or {})
    if out_dir is not None:
        extra["LABKIT_OUT"] = str(Path(out_dir).resolve())
    _execute_in_place(nb, path.parent, env=_kernel_env(profile, extra), timeout=timeout)
    return nb


def to_html(nb, *, stem: str = "notebook") -> str:
    """Static HTML of an executed notebook that loads nothing from another host (``labkit.pages``):
    figures embedded as data URIs, MathJax from ``_static/mathjax`` beside the page, widgets in their last
    state."""
    from labkit import pages

    return pages.to_html(nb, stem=stem)


@dataclass
class RunResult:
    notebook: Path
    executed: Path | None
    html: Path | None
    seconds: float
    error: str | None = None
    results: Path | None = None  # OUT/<stem>: the notebook's tables, run.json, thumb.png
    record: dict = field(default_factory=dict)  # run.json as written


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=repr))


def _clear_results(folder: Path) -> None:
    """Remove what an earlier run left in ``folder`` (its run.json, thumbnail and tables)."""
    if folder.is_dir():
        for stale in [folder / "run.json", folder / "thumb.png", *folder.glob("*.csv")]:
            stale.unlink(missing_ok=True)


def merge_run_json(folder: str | os.PathLike, facts: dict[str, Any]) -> dict:
    """Merge the runner's ``facts`` into ``folder/run.json`` (created when the notebook wrote none).

    The runner's keys (status, error, runner_seconds, profile, injected_parameters, …) replace the file's;
    ``parameters``, ``headlines`` and ``tables`` written by the notebook are kept (defaults: the injected
    values, no headlines, the CSV files found in ``folder``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.json"
    record: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            record = loaded if isinstance(loaded, dict) else {}
        except (OSError, json.JSONDecodeError):
            record = {}
    record.update(_json_safe(facts))
    record.setdefault("parameters", record.get("injected_parameters", {}))
    record.setdefault("headlines", [])
    record.setdefault("tables", [p.stem for p in sorted(folder.glob("*.csv"))])
    path.write_text(json.dumps(record, indent=2, default=repr) + "\n", encoding="utf-8")
    return record


def _error_text(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[-1] if text else repr(err)


def run(name: str | os.PathLike, *, profile: str = "quick", out_dir: str | os.PathLike = "reports",
        directory: str | os.PathLike | None = None, parameters: dict[str, Any] | None = None,
        env: dict[str, str] | None = None, timeout: int = 900) -> RunResult:
    """Execute one notebook; write ``<out_dir>/<stem>.ipynb``, the offline page ``<out_dir>/<stem>.html``
    and, in ``<out_dir>/<stem>/``, the tables the notebook kept, ``run.json`` and ``thumb.png``.

    ``parameters`` (e.g. from ``-p``) are injected after the notebook's ``parameters`` cell; a name it does
    not have is a ``ValueError`` (raised before anything runs). ``env`` adds variables to the kernel's
    environment. A failing notebook is still written (executed up to the error, with a banner) and reported
    in ``RunResult.error`` and run.json's ``status``/``error``.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from labkit import pages

    path = resolve_notebook(name, directory)
    values = dict(parameters or {})
    nb = prepare(path, values)  # unknown names fail here, before anything is written
    out = Path(out_dir)
    results = out / path.stem
    out.mkdir(parents=True, exist_ok=True)
    _clear_results(results)
    extra = {**(env or {}), "LABKIT_OUT": str(out.resolve())}
    start = time.perf_counter()
    error = None
    try:
        _execute_in_place(nb, path.parent, env=_kernel_env(profile, extra), timeout=timeout)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        error = _error_text(err)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**This notebook failed in the {profile} profile:**\n\n```\n{err}\n```"))
    seconds = time.perf_counter() - start
    executed = out / f"{path.stem}.ipynb"
    nbformat.write(nb, executed)
    page = pages.write_page(nb, out / f"{path.stem}.html", stem=path.stem)
    thumb = pages.write_thumbnail(nb, results / "thumb.png")
    record = merge_run_json(results, {
        "notebook": path.stem,
        "profile": profile,
        "status": "ok" if error is None else "failed",
        "error": error,
        "runner_seconds": round(seconds, 3),
        "injected_parameters": values,
        "executed": executed.name,
        "page": page.name,
        "thumbnail": thumb.name if thumb else None,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return RunResult(path, executed, page, seconds, error, results=results, record=record)


def _title(path: Path) -> str:
    import nbformat

    from labkit import pages

    return pages.title(nbformat.read(path, as_version=4)) or path.stem


def split_parameters(values: dict[str, Any], paths: list[Path]) -> dict[Path, dict[str, Any]]:
    """Per notebook, the ``values`` it has a parameter for. A name no notebook has is a ``ValueError``
    listing the parameters of all of them."""
    from labkit import parameters as params

    known = {p: {q.name for q in params.notebook_parameters(p)} for p in paths}
    everything = set().union(*known.values()) if known else set()
    for name in values:
        if name not in everything:
            params.check_names({name: values[name]}, [params.Parameter(n, "") for n in sorted(everything)],
                               "these notebooks")
    return {p: {k: v for k, v in values.items() if k in known[p]} for p in paths}


def _runner_device() -> str | None:
    try:
        from labkit.core import get_device

        return str(get_device())
    except Exception:  # noqa: BLE001 -- the dashboard says "unknown device" rather than failing the report
        return None


def report(*, profile: str = "quick", out_dir: str | os.PathLike = "reports",
           directory: str | os.PathLike | None = None, notebooks=None,
           parameters: dict[str, Any] | None = None,
           env: dict[str, str] | None = None) -> tuple[Path, list[RunResult]]:
    """Execute every notebook (or ``notebooks``) with ``run`` and write the dashboard ``<out_dir>/index.html``.

    Each ``parameters`` value goes to the notebooks that have that parameter; a name none has is a
    ``ValueError`` (raised before anything runs).
    """
    from tqdm.auto import tqdm

    from labkit import pages

    paths = [resolve_notebook(n, directory) for n in notebooks] if notebooks else list_notebooks(directory)
    per_notebook = split_parameters(dict(parameters or {}), paths)
    results = []
    bar = tqdm(paths, desc=f"notebooks ({profile})", unit="nb")
    for path in bar:
        bar.set_postfix_str(path.stem)
        results.append(run(path, profile=profile, out_dir=out_dir, directory=directory,
                           parameters=per_notebook[path], env=env))
    entries = [pages.read_entry(out_dir, r.notebook) for r in results]
    device = None if any(e.device for e in entries) else _runner_device()
    index = pages.write_index(out_dir, entries, profile=profile, device=device)
    return index, results
