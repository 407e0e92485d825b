import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from labkit import cli, exercises, notebook, stats


def test_mean_ci_matches_scipy_t_interval():
    x = np.array([0.1, 0.4, 0.35, 0.8, 0.5])
    mean, half = stats.mean_ci(x)
    lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert mean == pytest.approx(x.mean()) and half == pytest.approx((hi - lo) / 2)
    assert np.isnan(stats.mean_ci([1.0])[1])
    with pytest.raises(ValueError, match="confidence"):
        stats.mean_ci(x, confidence=1.5)


def test_summarize_and_format():
    df = pd.DataFrame({"m": ["a", "a", "b", "b"], "acc": [0.5, 0.7, 0.9, 0.9]})
    s = stats.summarize(df, "m", ["acc"])
    assert s.set_index("m").loc["a", "acc"] == pytest.approx(0.6)
    assert s.set_index("m").loc["b", "acc_ci"] == pytest.approx(0.0)
    assert stats.format_ci(s, ["acc"]).set_index("m").loc["a", "acc"].startswith("0.600 ± ")
    with pytest.raises(ValueError, match="columns not in df"):
        stats.summarize(df, "m", ["f1"])


def test_exercise_check(capsys):
    # check(exercise id, answer, **notebook variables): the expected value comes from labkit.exercises
    assert exercises.check("02-2", None) == "not answered" and not exercises.check("02-2", None)
    assert exercises.check("03-2", 3) == "correct" and exercises.check("03-2", 3)
    assert exercises.check("02-1", 0.7 + 1e-10) == "correct"  # within the exercise's tolerance
    assert exercises.check("04-3", "KL(reference||subset)") == "correct"
    capsys.readouterr()
    assert exercises.check("03-2", 4) == "wrong"  # a wrong answer prints its hint and never raises
    assert "Not quite: " in capsys.readouterr().out


def test_cli_list_prints_notebooks(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "01_imbalanced_svm" in out


def test_resolve_notebook():
    assert notebook.resolve_notebook("1").name == "01_imbalanced_svm.ipynb"
    assert notebook.resolve_notebook("01_imbalanced_svm").name == "01_imbalanced_svm.ipynb"
    with pytest.raises(ValueError, match="not found"):
        notebook.resolve_notebook("99")


def test_report_writes_index_with_links(tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny"),
                nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()")]
    nbformat.write(nb, nbdir / "01_tiny.ipynb")
    bad = nbformat.v4.new_notebook()
    bad.cells = [nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    nbformat.write(bad, nbdir / "02_bad.ipynb")
    index, results = notebook.report(profile="smoke", out_dir=tmp_path / "out", directory=nbdir)
    html = index.read_text()
    assert 'href="01_tiny.html"' in html and "Tiny" in html and "FAILED" in html
    assert "data:image/png;base64" in (tmp_path / "out" / "01_tiny.html").read_text()
    assert results[0].error is None and "boom" in results[1].error


def test_paired_difference_pairs_by_run():
    # b is a + 0.1 in every seed, but both swing a lot between seeds: the pairing removes the swing
    df = pd.DataFrame({"seed": [0, 1, 2, 0, 1, 2], "method": ["a"] * 3 + ["b"] * 3,
                       "acc": [0.2, 0.9, 0.5, 0.3, 1.0, 0.6]})
    mean, ci = stats.paired_difference(df, "b", "a", by="method", pair="seed", value="acc")
    assert mean == pytest.approx(0.1) and ci == pytest.approx(0.0, abs=1e-12)
    unpaired = stats.mean_ci(df.acc[df.method == "b"])[1]
    assert unpaired > 0.5
    with pytest.raises(ValueError, match="a='c'"):
        stats.paired_difference(df, "c", "a", by="method", pair="seed", value="acc")
    with pytest.raises(ValueError, match="columns not in df"):
        stats.paired_difference(df, "b", "a", by="method", pair="repeat", value="acc")
