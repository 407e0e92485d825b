"""Parameters from the command line (``-p NAME=VALUE``), ``labkit params``, the runner's results folder and
``labkit app``'s message without Voilà. Notebooks here are tiny ones built in tmp_path."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from labkit import app, cli, notebook, parameters

PARAMS_SOURCE = '''import labkit

PROFILE = labkit.get_profile()
N = {"smoke": 2, "quick": 20, "full": 50}[PROFILE]   # repeats per method
DATASET = "digits"                                 # a built-in name or a path
# the learning rate,
# chosen by hand
LR = 0.1
SIZES = [1,
         2]  # sizes to try
A, B = 1, 2
lower = 3
'''


def _tiny(folder, name="01_tiny.ipynb", body="print(f'N={N} DATASET={DATASET}')"):
    """A numbered notebook with a title, a **Question.**, a parameters cell and one code cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS_SOURCE)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny\n\n**Question.** Does *it* work?\n\nMore."),
                params, nbformat.v4.new_code_cell(body)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("0.1", 0.1), ("1e-3", 1e-3), ("-2", -2), ("True", True), ("None", None),
    ("[50, 100]", [50, 100]), ("{'a': 1}", {"a": 1}), ("'digits'", "digits"), ('"x y"', "x y"),
    ("digits", "digits"), ("data/fraud.csv", "data/fraud.csv"), ("/abs/images", "/abs/images"),
    ("is_fraud", "is_fraud"), ("", ""), ("inf", "inf"), ("a=b", "a=b"),
])
def test_value_is_a_literal_or_else_a_string(text, value):
    assert parameters.parse_value(text) == value
    assert type(parameters.parse_value(text)) is type(value)


def test_parse_assignments():
    values = parameters.parse_assignments(["N=5", "DATASET=fraud.csv", "KS=[1, 2]", "N=6", "Q=a=b"])
    assert values == {"N": 6, "DATASET": "fraud.csv", "KS": [1, 2], "Q": "a=b"}
    with pytest.raises(ValueError, match="NAME=VALUE.*'N'"):
        parameters.parse_assignments(["N"])
    with pytest.raises(ValueError, match="Python name.*'1X=3'"):
        parameters.parse_assignments(["1X=3"])


def test_parameters_cell_gives_names_defaults_and_comments():
    found = {p.name: p for p in parameters.parse_parameters(PARAMS_SOURCE)}
    assert list(found) == ["N", "DATASET", "LR", "SIZES", "A", "B"]  # PROFILE and lower-case names are not
    assert found["N"].default == '{"smoke": 2, "quick": 20, "full": 50}[PROFILE]'
    assert found["N"].comment == "repeats per method"
    assert found["DATASET"].default == '"digits"' and found["DATASET"].comment == "a built-in name or a path"
    assert found["LR"].comment == "the learning rate, chosen by hand"  # the comment lines above it
    assert found["SIZES"].comment == "sizes to try"  # trailing a multi-line statement
    assert (found["A"].default, found["B"].default) == ("1", "2")
    assert found["N"].value_in("smoke") == 2 and found["N"].value_in("full") == 50
    assert found["SIZES"].value_in("quick") == [1, 2]
    assert parameters.Parameter("X", "f(3)").value_in("quick") is parameters.UNKNOWN


def test_inject_adds_a_tagged_cell_after_the_parameters_cell(tmp_path):
    nb = nbformat.read(_tiny(tmp_path), as_version=4)
    out = parameters.inject(nb, {"N": 5, "DATASET": "fraud.csv"})
    assert len(out.cells) == len(nb.cells) + 1 and len(nb.cells) == 3  # the input is unchanged
    injected = out.cells[2]
    assert injected.metadata["tags"] == ["injected-parameters"]
    assert "N = 5" in injected.source and "DATASET = \"fraud.csv\"" in injected.source
    assert "parameters" in out.cells[1].metadata["tags"]
    assert "tags" not in out.cells[0].metadata  # no empty tag lists left behind
    again = parameters.inject(out, {"N": 7})  # a second injection replaces the first
    assert len(again.cells) == len(out.cells) and "N = 7" in again.cells[2].source


def test_unknown_name_is_an_error_listing_the_parameters(tmp_path):
    nb = nbformat.read(_tiny(tmp_path), as_version=4)
    with pytest.raises(ValueError, match=r"unknown parameter 'NREPEATS'.*N, DATASET, LR, SIZES, A, B"):
        parameters.inject(nb, {"NREPEATS": 5})
    with pytest.raises(ValueError, match="--profile"):
        parameters.inject(nb, {"PROFILE": "full"})


def test_cli_params_lists_defaults_and_comments(tmp_path, capsys):
    assert cli.main(["params", str(_tiny(tmp_path)), "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert 'N = {"smoke": 2, "quick": 20, "full": 50}[PROFILE]   -> 2 in smoke' in out
    assert "repeats per method" in out and 'DATASET = "digits"' in out and "PROFILE =" not in out


def test_cli_rejects_an_unknown_parameter_before_running(tmp_path, capsys):
    path = _tiny(tmp_path / "nbs")
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out"), "-p", "NREPEATS=5"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'NREPEATS'" in err and "N, DATASET" in err
    assert not (tmp_path / "out").exists()


def test_report_sends_each_value_to_the_notebooks_that_have_it(tmp_path):
    one = _tiny(tmp_path, "01_a.ipynb")
    other = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("M = 1")
    cell.metadata["tags"] = ["parameters"]
    other.cells = [cell]
    two = tmp_path / "02_b.ipynb"
    nbformat.write(other, two)
    split = notebook.split_parameters({"N": 3, "M": 4}, [one, two])
    assert split == {one: {"N": 3}, two: {"M": 4}}
    with pytest.raises(ValueError, match="unknown parameter 'Z'.*A, B, DATASET, LR, M, N, SIZES"):
        notebook.split_parameters({"Z": 1}, [one, two])


KEEP = '''
import json, os, pathlib
import matplotlib.pyplot as plt
out = pathlib.Path(os.environ["LABKIT_OUT"]) / "01_tiny"
out.mkdir(parents=True, exist_ok=True)
(out / "scores.csv").write_text("method,score\\na,1\\n")
(out / "run.json").write_text(json.dumps({"parameters": {"N": N}, "headlines": [f"N is {N}"], "seed": 0}))
plt.plot([1, 3, 2]); plt.show()
print(f"N={N} DATASET={DATASET}")
'''


@pytest.mark.notebook
def test_cli_run_injects_values_and_keeps_results(tmp_path, capsys):
    path = _tiny(tmp_path / "nbs", body=KEEP)
    out = tmp_path / "out"
    (out / "01_tiny").mkdir(parents=True)
    (out / "01_tiny" / "stale.csv").write_text("from an earlier run")
    code = cli.main(["run", str(path), "--profile", "smoke", "--out", str(out),
                     "-p", "N=5", "-p", "DATASET=data/my table.csv"])
    assert code == 0, capsys.readouterr().err
    executed = nbformat.read(out / "01_tiny.ipynb", as_version=4)
    assert executed.cells[2].metadata["tags"] == ["injected-parameters"]
    printed = "".join(o.get("text", "") for o in executed.cells[3].outputs)
    assert "N=5 DATASET=data/my table.csv" in printed
    assert (out / "01_tiny.html").is_file() and (out / "_static" / "mathjax" / "MathJax.js").is_file()
    record = json.loads((out / "01_tiny" / "run.json").read_text())
    assert record["status"] == "ok" and record["error"] is None and record["profile"] == "smoke"
    assert record["injected_parameters"] == {"N": 5, "DATASET": "data/my table.csv"}
    assert record["headlines"] == ["N is 5"] and record["seed"] == 0  # the notebook's own keys are kept
    assert record["runner_seconds"] > 0 and record["thumbnail"] == "thumb.png"
    assert sorted(p.name for p in (out / "01_tiny").iterdir()) == ["run.json", "scores.csv", "thumb.png"]
    from PIL import Image

    with Image.open(out / "01_tiny" / "thumb.png") as thumb:
        assert thumb.width <= 480 and thumb.height <= 320


def test_merge_run_json_creates_or_completes_the_file(tmp_path):
    record = notebook.merge_run_json(tmp_path / "a", {"status": "failed", "error": "boom",
                                                      "injected_parameters": {"N": float("inf")}})
    assert record["parameters"] == {"N": float("inf")} and record["headlines"] == [] and record["tables"] == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "run.json").write_text(json.dumps({"parameters": {"N": 2}, "status": "stale",
                                                         "tables": ["t"], "device": "cpu"}))
    record = notebook.merge_run_json(tmp_path / "b", {"status": "ok", "profile": "smoke"})
    assert record == {"parameters": {"N": 2}, "status": "ok", "tables": ["t"], "device": "cpu",
                      "profile": "smoke", "headlines": []}
    assert json.loads((tmp_path / "b" / "run.json").read_text()) == record


def test_app_without_voila_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(app, "voila_available", lambda: False)
    assert cli.main(["app", "01", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'labkit[app]'" in err and "Voilà" in err


def test_app_serves_on_localhost_with_a_token_in_the_profile(tmp_path):
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "01_x.ipynb")
    served = app.App(tmp_path / "01_x.ipynb", profile="smoke", port=8123, env={"LABKIT_CLUSTER": "local"})
    cmd = served.command(served.notebook)
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=8123" in cmd and "--no-browser" in cmd
    assert f"--token={served.token}" in cmd and len(served.token) >= 16 and "--template=labkit" in cmd
    assert served.url == f"http://127.0.0.1:8123/?token={served.token}"
    env = served.kernel_env(tmp_path / "results")
    assert env["LABKIT_PROFILE"] == "smoke" and env["LABKIT_OUT"] == str(tmp_path / "results")
    assert env["LABKIT_CLUSTER"] == "local" and "MPLBACKEND" not in env
    data = app.write_template(tmp_path / "jupyter")
    template = (data / "voila" / "templates" / "labkit" / "index.html.j2").read_text()
    assert "extends 'voila/templates/lab/index.html.j2'" in template and 'data-offline-href="https://' in template
    assert served.kernel_env(tmp_path, data)["JUPYTER_PATH"].split(os.pathsep)[0] == str(data)


def test_a_cell_that_never_ends_times_out(tmp_path):
    """The runner's timeout fires on a cell that loops forever (the report does not hang)."""
    import nbformat

    from labkit import notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("while True:\n    pass")]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "01_loop.ipynb")
    result = notebook.run("01", profile="smoke", out_dir=tmp_path / "out", directory=folder, timeout=5)
    assert result.error is not None and result.seconds < 120
