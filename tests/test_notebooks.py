"""Every notebook: committed clean, has a `parameters` cell, runs top to bottom in the smoke profile with
the effects it teaches asserted (LABKIT_STRICT=1), keeps its tables, prints no comparative sentence that is
not a computed verdict and no small-n interval without its label — and runs on a user's own data."""

import ast
import json
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from labkit import lesson, notebook

NOTEBOOKS = notebook.list_notebooks()
# Which kinds of user data each notebook accepts (issue 14): 01-04 tables and images, 05-06 images.
ACCEPTS = {"01": ("table", "images"), "02": ("table", "images"), "03": ("table", "images"),
           "04": ("table", "images"), "05": ("images",), "06": ("images",)}


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_has_parameters_cell_using_profile(path):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{path.name}: expected one cell tagged 'parameters', found {len(params)}"
    assert "get_profile()" in params[0].source, "the parameters cell must derive sizes from the profile"
    assert "DATASET" in params[0].source, "DATASET (a built-in name or a path) is a parameter of every notebook"
    # papermill's convention: values injected after this cell replace its assignments, so anything else it did
    # (a print, a computation) would have run with the defaults
    others = [type(s).__name__ for s in ast.parse(params[0].source).body
              if not isinstance(s, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign)]
    assert not others, f"{path.name}: the parameters cell holds {others}, not only imports and assignments"
    installs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "pip install" in c.source]
    assert not installs, f"{path.name}: code cells {installs} run pip install"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_teaching_cells_do_not_assert(path):
    """Taught effects go through lesson.expect, which only raises under the test suite: a learner who moves
    a parameter or brings their own data gets "the effect did not appear here", not an AssertionError."""
    nb = nbformat.read(path, as_version=4)
    asserts = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
               and any(line.lstrip().startswith("assert ") for line in c.source.splitlines())]
    assert not asserts, f"{path.name}: cells {asserts} use a bare assert"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opens_with_objectives_prerequisites_and_time(path):
    nb = nbformat.read(path, as_version=4)
    head = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown").lower()
    for word in ("objectives", "prerequisites", "time"):
        assert word in head, f"{path.name}: the opening cells do not state its {word}"
    assert "GLOSSARY.md" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _executed_checks(path, out, result):
    assert result.error is None, f"{path.name} failed: {result.error}"
    nb = nbformat.read(result.executed, as_version=4)
    sentences = lesson.comparative_sentences(nb)
    assert not sentences, f"{path.name}: comparative sentences not produced by lesson.claim: {sentences}"
    small = lesson.unlabelled_small_n(nb)
    assert not small, f"{path.name}: intervals printed without n or without the small-n label: {small}"
    run = json.loads((out / path.stem / "run.json").read_text())
    assert run["status"] == "ok"
    assert run["tables"], f"{path.name}: no table kept (lab.keep)"
    for table in run["tables"]:
        name = table if str(table).endswith(".csv") else f"{table}.csv"
        assert not pd.read_csv(out / path.stem / name).empty
    assert run["headlines"], f"{path.name}: no headline recorded (lab.headline)"
    return nb, run


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executes_in_smoke_profile(path, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "1")   # lesson.expect raises: the taught effects are asserted
    start = time.perf_counter()
    result = notebook.run(path, profile="smoke", out_dir=tmp_path)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s in the smoke profile")
    _executed_checks(path, tmp_path, result)


@pytest.fixture(scope="module")
def user_data(tmp_path_factory):
    from userdata import make_fraud_csv, make_image_folder

    root = tmp_path_factory.mktemp("userdata")
    folder = make_image_folder(root / "shapes", n_classes=4, per_class=40, size=(16, 16), seed=0)
    csv = make_fraud_csv(root / "fraud.csv", n=400, seed=0)
    return {"images": {"DATASET": str(folder)}, "table": {"DATASET": str(csv), "TARGET": "is_fraud"}}


@pytest.mark.notebook
@pytest.mark.parametrize("path,kind", [(p, k) for p in NOTEBOOKS for k in ACCEPTS[p.stem[:2]]],
                         ids=lambda v: v.stem if isinstance(v, Path) else v)
def test_runs_on_user_data(path, kind, user_data, tmp_path, monkeypatch):
    monkeypatch.delenv("LABKIT_STRICT", raising=False)
    params = user_data[kind]
    result = notebook.run(path, profile="smoke", out_dir=tmp_path, parameters=params)
    nb, run = _executed_checks(path, tmp_path, result)
    assert run["parameters"]["DATASET"] == params["DATASET"]
    summary = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                        for i in lesson.summary_cells(nb) for o in nb.cells[i].get("outputs", []))
    assert Path(params["DATASET"]).name in summary, f"{path.name}: the summary does not name the data it used"


@pytest.mark.notebook
def test_cli_run_01_on_a_csv_keeps_every_repeat(user_data, tmp_path, capsys):
    """`labkit run 01 -p DATASET=fraud.csv -p TARGET=is_fraud -p N_REPEATS=5`: the comparison table it keeps
    holds 5 repeats per method."""
    from labkit import cli

    table = user_data["table"]
    rc = cli.main(["run", "01", "--profile", "smoke", "--out", str(tmp_path), "-p", f"DATASET={table['DATASET']}",
                   "-p", f"TARGET={table['TARGET']}", "-p", "N_REPEATS=5"])
    assert rc == 0, capsys.readouterr()
    df = pd.read_csv(tmp_path / "01_imbalanced_svm" / "compare.csv")
    counts = df.groupby("method")["repeat"].nunique()
    assert len(counts) >= 2 and (counts == 5).all(), counts
