"""Every notebook: committed clean, has a `parameters` cell, and runs top to bottom in the smoke profile."""

import time

import nbformat
import pytest

from labkit import notebook

NOTEBOOKS = notebook.list_notebooks()


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
    installs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "pip install" in c.source]
    assert not installs, f"{path.name}: code cells {installs} run pip install"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executes_in_smoke_profile(path):
    start = time.perf_counter()
    nb = notebook.execute(path, profile="smoke")
    seconds = time.perf_counter() - start
    print(f"{path.name}: {seconds:.1f} s in the smoke profile")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
