import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labkit import lesson, stats

# --- the verdict rule -----------------------------------------------------------------------------------


def paired_frame(deltas, *, a="new", b="old", base=None):
    """Rows for methods a and b over seeds; a − b = deltas[seed] exactly, both sides swing with the seed."""
    base = np.linspace(0.3, 0.9, len(deltas)) if base is None else base
    rows = [{"method": b, "seed": s, "acc": float(base[s])} for s in range(len(deltas))]
    rows += [{"method": a, "seed": s, "acc": float(base[s] + d)} for s, d in enumerate(deltas)]
    return pd.DataFrame(rows)


def test_verdict_ci_excluding_zero_says_better_or_worse():
    v = lesson.verdict(0.042, 0.013, 20, a="KD", b="alone", metric="accuracy")
    assert v.word == "better" and not v.indicative
    assert v.sentence == "KD is better than alone on accuracy: KD − alone = +0.042 ± 0.013 (n = 20)."
    w = lesson.verdict(-0.042, 0.013, 20, a="KD", b="alone", metric="accuracy")
    assert w.word == "worse" and "KD is worse than alone" in w.sentence
    # lower is better (time, loss): a positive difference is worse
    t = lesson.verdict(0.5, 0.1, 10, a="A", b="B", metric="seconds", higher_is_better=False)
    assert t.word == "worse" and "(lower is better)" in t.sentence
    assert lesson.verdict(-0.5, 0.1, 10, a="A", b="B", metric="seconds", higher_is_better=False).word == "better"


def test_verdict_ci_including_zero_is_no_detectable_difference():
    v = lesson.verdict(0.004, 0.013, 20, a="KD", b="alone", metric="accuracy")
    assert v.word == "no detectable difference"
    assert "no detectable difference at n = 20" in v.sentence and "better" not in v.sentence
    # the boundary: |diff| == ci does not exclude 0
    assert lesson.verdict(0.01, 0.01, 8, a="A", b="B", metric="m").word == "no detectable difference"
    # one pair: no interval, so no verdict either way
    one = lesson.verdict(0.3, float("nan"), 1, a="A", b="B", metric="m")
    assert one.word == "no detectable difference" and math.isnan(one.ci) and "no interval" in one.sentence


def test_verdict_small_n_is_labelled_indicative():
    for diff in (0.5, 0.001):
        v = lesson.verdict(diff, 0.1, 3, a="A", b="B", metric="m")
        assert v.indicative and "indicative: n = 3 < 5" in v.sentence
    assert "indicative" not in lesson.verdict(0.5, 0.1, 5, a="A", b="B", metric="m").sentence


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(diff=float("nan")), ValueError, "diff"),
    (dict(ci=-0.1), ValueError, "ci"),
    (dict(n=0), ValueError, "n must be >= 1"),
    (dict(n=2.5), TypeError, "n must be an int"),
    (dict(metric=3), TypeError, "metric"),
    (dict(higher_is_better="yes"), TypeError, "higher_is_better"),
])
def test_verdict_bad_input_names_the_parameter(kwargs, exc, match):
    args = dict(diff=0.1, ci=0.05, n=10, a="A", b="B", metric="m") | kwargs
    with pytest.raises(exc, match=match):
        lesson.verdict(args.pop("diff"), args.pop("ci"), args.pop("n"), **args)


def test_compare_uses_the_paired_difference():
    df = paired_frame([0.10, 0.11, 0.09, 0.10, 0.10, 0.12])
    v = lesson.compare(df, "new", "old", by="method", pair="seed", value="acc")
    mean, ci = stats.paired_difference(df, "new", "old", by="method", pair="seed", value="acc")
    assert v.word == "better" and v.n == 6 and v.diff == pytest.approx(mean) and v.ci == pytest.approx(ci)
    assert lesson.compare(df, "old", "new", by="method", pair="seed", value="acc").word == "worse"
    noisy = paired_frame([0.2, -0.25, 0.1, -0.05, 0.0, 0.03])
    assert lesson.compare(noisy, "new", "old", by="method", pair="seed", value="acc").word == \
        "no detectable difference"
    small = lesson.compare(paired_frame([0.1, 0.1, 0.11]), "new", "old", by="method", pair="seed", value="acc",
                           metric="test accuracy")
    assert small.n == 3 and "indicative: n = 3 < 5" in small.sentence and "test accuracy" in small.sentence


def test_compare_bad_input():
    df = paired_frame([0.1, 0.1])
    with pytest.raises(ValueError, match="a='nope'"):
        lesson.compare(df, "nope", "old", by="method", pair="seed", value="acc")
    with pytest.raises(ValueError, match="columns not in df"):
        lesson.compare(df, "new", "old", by="method", pair="repeat", value="acc")
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        lesson.compare([1, 2], "new", "old", by="method", pair="seed", value="acc")
    apart = pd.DataFrame({"method": ["new", "old"], "seed": [0, 1], "acc": [0.5, 0.4]})
    with pytest.raises(ValueError, match="share no value of pair"):
        lesson.compare(apart, "new", "old", by="method", pair="seed", value="acc")
    with_nan = paired_frame([0.1, 0.1, 0.1]).assign(acc=lambda d: d.acc.where(d.index != 0))
    with pytest.raises(ValueError, match="NaN"):
        lesson.compare(with_nan, "new", "old", by="method", pair="seed", value="acc")


def test_verdict_table_one_row_per_comparison():
    df = pd.concat([paired_frame([0.1] * 6 + [0.11], a="entropy", b="random").assign(k=50),
                    paired_frame([0.0, 0.2, -0.2, 0.1, -0.1, 0.05, -0.05], a="entropy", b="random").assign(k=100)])
    t = lesson.verdict_table(df, [("entropy", "random")], by="method", pair="seed", value="acc", within="k")
    assert list(t.columns) == ["k", "a", "b", "metric", "diff", "ci", "n", "verdict", "indicative"]
    assert t.set_index("k").verdict.to_dict() == {50: "better", 100: "no detectable difference"}
    assert (t.n == 7).all() and not t.indicative.any()
    with pytest.raises(ValueError, match="pairs\\[0\\]"):
        lesson.verdict_table(df, ["entropy"], by="method", pair="seed", value="acc")
    with pytest.raises(ValueError, match="in group"):
        lesson.verdict_table(df, [("entropy", "kcenter")], by="method", pair="seed", value="acc", within="k")


# --- claims and the checkers -------------------------------------------------------------------------


def test_claim_prints_outside_ipython(capsys):
    v = lesson.verdict(0.2, 0.1, 10, a="A", b="B", metric="m")
    assert lesson.claim(v) is None
    lesson.claim("plain text claim")
    assert capsys.readouterr().out == v.sentence + "\n" + "plain text claim\n"
    with pytest.raises(TypeError, match="text_or_verdict"):
        lesson.claim(3)


def test_claim_display_carries_the_claim_metadata(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    monkeypatch.setattr(shell.display_pub, "publish",
                        lambda data, metadata=None, **kw: published.append((data, metadata)))
    try:
        lesson.claim(lesson.verdict(0.2, 0.1, 10, a="top_entropy", b="random", metric="accuracy"))
    finally:
        InteractiveShell.clear_instance()
    (data, metadata), = published
    assert metadata == {"labkit": {"kind": "claim"}}
    assert data["text/plain"].startswith("top_entropy is better than random")
    assert data["text/markdown"].startswith(r"top\_entropy is better")  # markdown-escaped


def _cell_with(source, *outputs, tags=None):
    cell = new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _claim_output(text):
    return new_output("display_data", data={"text/plain": text, "text/markdown": text},
                      metadata={"labkit": {"kind": "claim"}})


def synthetic_notebook():
    """An executed notebook: a claim, a hand-written comparison, a table and an untagged cell."""
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# 99 · A test notebook"),
        _cell_with("print(x)", new_output("stream", name="stdout", text="A is better than B here.\n")),
        new_markdown_cell("## Summary\nWhich method is better? The numbers say."),
        _cell_with("claim(v)", _claim_output("A is better than B on m: A − B = +0.2 ± 0.1 (n = 10).")),
        _cell_with("print(s)", new_output("stream", name="stdout",
                                          text="Data: digits, 20 repeats. SMOTE beats random by a lot.\n")),
        _cell_with("display(table)", new_output("execute_result", execution_count=1,
                                                data={"text/plain": "  gain\n0 higher", "text/html": "<table/>"})),
        _cell_with("display(Markdown(s))", new_output("display_data", data={"text/markdown": "Fewer labels: **k-center**.",
                                                                            "text/plain": "<Markdown>"})),
        new_markdown_cell("### Details"),  # a lower-level heading stays inside the summary
        _cell_with("warn()", new_output("stream", name="stderr", text="worse things happen\n")),
        new_markdown_cell("## Next section"),
        _cell_with("print(t)", new_output("stream", name="stdout", text="more outside the summary\n")),
        _cell_with("print(u)", new_output("stream", name="stdout", text="An erratum that helps.\n"),
                   tags=["summary"]),
    ]
    return nb


def test_comparative_sentences_finds_hand_written_claims_only():
    nb = synthetic_notebook()
    assert lesson.summary_cells(nb) == [2, 3, 4, 5, 6, 7, 8, 11]
    found = lesson.comparative_sentences(nb)
    assert found == [(4, "SMOTE beats random by a lot."), (6, "Fewer labels: **k-center**."),
                     (11, "An erratum that helps.")]
    # the summary's markdown: its question is fine, a statement would not be
    assert lesson.comparative_sentences(nb, markdown=True) == found
    nb.cells[2].source += "\nSMOTE is better."
    assert (2, "SMOTE is better.") in lesson.comparative_sentences(nb, markdown=True)


def test_comparative_sentences_empty_when_all_claims(tmp_path):
    nb = new_notebook()
    nb.cells = [new_markdown_cell("## Summary: what the numbers showed"),
                _cell_with("claim(v)", _claim_output("A is worse than B.")),
                _cell_with("print(n)", new_output("stream", name="stdout", text="Data: digits, 20 repeats.\n"))]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert lesson.comparative_sentences(path) == []
    with pytest.raises(TypeError, match="nb must be"):
        lesson.comparative_sentences(42)


def test_unlabelled_small_n_reads_what_ci_text_prints():
    table = stats.format_ci(stats.summarize(
        pd.DataFrame({"m": ["a"] * 3 + ["b"] * 6, "acc": np.linspace(0.5, 0.9, 9)}), "m", ["acc"]), ["acc"])
    good_lines = [
        f"accuracy {lesson.ci_text(0.64, 0.23, 20)}, tiny {lesson.ci_text(0.6, 0.2, 3)}",
        lesson.verdict(0.004, 0.013, 20, a="A", b="B", metric="m").sentence,  # n before the interval
        lesson.verdict(0.004, 0.013, 2, a="A", b="B", metric="m").sentence,
        lesson.verdict(0.3, 0.013, 3, a="A", b="B", metric="m").sentence,
    ]
    nb = new_notebook()
    nb.cells = [
        _cell_with("print()", new_output("stream", name="stdout", text="\n".join(good_lines) + "\n")),
        _cell_with("table", new_output("execute_result", execution_count=1,
                                       data={"text/plain": table.to_string(), "text/html": table.to_html()})),
        _cell_with("print()", new_output("stream", name="stdout", text="KD − alone: +0.040 ± 0.030 (n = 3)\n")),
        _cell_with("print()", new_output("stream", name="stdout", text="as before: 0.638 ± 0.234 vs 0.656 ± 0.160\n")),
        _cell_with("claim(v)", _claim_output("A − B = +0.2 ± 0.1 (n = 2).")),
        new_markdown_cell("0.5 ± 0.1 in markdown is not output"),
    ]
    assert lesson.unlabelled_small_n(nb) == [
        (2, "KD − alone: +0.040 ± 0.030 (n = 3)"),
        (3, "as before: 0.638 ± 0.234 vs 0.656 ± 0.160"),
        (4, "A − B = +0.2 ± 0.1 (n = 2)."),
    ]
    assert lesson.unlabelled_small_n(nb, require_n=False) == [
        (2, "KD − alone: +0.040 ± 0.030 (n = 3)"), (4, "A − B = +0.2 ± 0.1 (n = 2).")]


# --- honest small n in stats ---------------------------------------------------------------------------


def test_ci_text_labels_small_n():
    assert lesson.ci_text(0.64, 0.23, 20) == "0.640 ± 0.230 (n = 20)"
    assert lesson.ci_text(0.64, 0.23, 3) == "0.640 ± 0.230 (indicative, n = 3)"
    assert lesson.ci_text(0.0423, 0.01, 5, digits=2, signed=True) == "+0.04 ± 0.01 (n = 5)"
    assert lesson.ci_text(0.64, float("nan"), 1) == "0.640 (no interval: n = 1)"
    assert lesson.ci_text(float("nan"), float("nan"), 0) == "n/a (n = 0)"
    with pytest.raises(ValueError, match="ci"):
        lesson.ci_text(0.5, -0.1, 10)
    with pytest.raises(TypeError, match="n must be an int"):
        lesson.ci_text(0.5, 0.1, 2.0)
    with pytest.raises(TypeError, match="mean"):
        lesson.ci_text("0.5", 0.1, 10)


def test_format_ci_labels_small_n_and_keeps_n():
    df = pd.DataFrame({"m": ["a"] * 3 + ["b"] * 6, "acc": np.r_[0.5, 0.6, 0.7, np.full(6, 0.8)]})
    s = stats.summarize(df, "m", ["acc"])
    assert s.set_index("m").n.to_dict() == {"a": 3, "b": 6}
    shown = stats.format_ci(s, ["acc"]).set_index("m")
    assert shown.loc["a", "acc"] == "0.600 ± 0.248 (indicative, n = 3)"
    assert shown.loc["b", "acc"] == "0.800 ± 0.000 (n = 6)"
    assert "n" in shown.columns
    with pytest.raises(ValueError, match="summary lacks columns"):
        stats.format_ci(s.drop(columns="n"), ["acc"])


def test_mean_ci_and_summarize_refuse_nan_unless_told():
    with pytest.raises(ValueError, match="1 NaN of 4"):
        stats.mean_ci([0.1, np.nan, 0.3, 0.4])
    with pytest.warns(RuntimeWarning, match="dropped 1 NaN of 4"):
        mean, _ = stats.mean_ci([0.1, np.nan, 0.3, 0.5], nan_policy="omit")
    assert mean == pytest.approx(0.3)
    with pytest.raises(ValueError, match="nan_policy"):
        stats.mean_ci([0.1], nan_policy="drop")
    df = pd.DataFrame({"m": ["a", "a", "a", "b", "b"], "acc": [0.5, np.nan, 0.7, 0.8, 0.9]})
    with pytest.raises(ValueError, match="column 'acc' in group {'m': 'a'}"):
        stats.summarize(df, "m", ["acc"])
    with pytest.warns(RuntimeWarning):
        s = stats.summarize(df, "m", ["acc"], nan_policy="omit").set_index("m")
    assert s.loc["a", "n"] == 3 and s.loc["a", "acc_n"] == 2
    assert stats.format_ci(s.reset_index(), ["acc"]).set_index("m").loc["a", "acc"].endswith("(indicative, n = 2)")


def test_paired_differences_is_the_one_pairing():
    df = paired_frame([0.1, 0.2, 0.3])
    d = stats.paired_differences(df, "new", "old", by="method", pair="seed", value="acc")
    assert d.to_numpy() == pytest.approx([0.1, 0.2, 0.3]) and list(d.index) == [0, 1, 2]
    assert stats.paired_difference(df, "new", "old", by="method", pair="seed", value="acc") == \
        pytest.approx(stats.mean_ci(d))


# --- ratios, targets, validation ---------------------------------------------------------------------


def test_ratio_interval_bootstraps_over_repeats():
    rng = np.random.default_rng(1)
    den = rng.normal(200, 20, 20)
    num = den * 0.5 + rng.normal(0, 5, 20)
    r = lesson.ratio_interval(num, den)
    point, low, high, n = r
    assert point == pytest.approx(np.median(num) / np.median(den)) and n == 20
    assert low < point < high and 0.4 < low and high < 0.6
    assert lesson.ratio_interval(num, den) == r  # seeded
    assert lesson.ratio_interval(num, den, random_state=2) != r
    assert "bootstrap interval" in r.text() and "n = 20" in r.text()
    assert "indicative, n = 3" in lesson.ratio_interval(num[:3], den[:3]).text()
    mean_r = lesson.ratio_interval(num, den, statistic="mean", paired=False, n_boot=500)
    assert mean_r.point == pytest.approx(num.mean() / den.mean())


def test_ratio_interval_not_reached_and_bad_input():
    num, den = [100.0, np.nan, 120.0, 90.0, 110.0], [200.0, 210.0, 190.0, 250.0, 180.0]
    with pytest.raises(ValueError, match="numerators contains NaN"):
        lesson.ratio_interval(num, den)
    inf = lesson.ratio_interval(num, den, nan_policy="inf")
    assert inf.point == pytest.approx(110 / 200) and math.isinf(inf.high)
    assert lesson.ratio_interval(num, den, nan_policy="omit").n == 4
    with pytest.raises(ValueError, match="paired=True needs"):
        lesson.ratio_interval([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="statistic"):
        lesson.ratio_interval([1.0], [1.0], statistic="mode")
    with pytest.raises(ValueError, match="n_boot"):
        lesson.ratio_interval([1.0], [1.0], n_boot=0)
    with pytest.raises(ValueError, match="numerators must be a non-empty 1-D"):
        lesson.ratio_interval([], [])


def test_reached_counts_repeats_that_got_there():
    assert lesson.reached([100, None, 90, np.nan, np.inf]) == "reached in 2 of 5 repeats"
    assert lesson.reached(np.array([True, False, True])) == "reached in 2 of 3 repeats"
    assert lesson.reached(pd.Series([1.0, np.nan]), noun="seeds") == "reached in 1 of 2 seeds"
    with pytest.raises(ValueError, match="values"):
        lesson.reached([])
    with pytest.raises(TypeError, match="values"):
        lesson.reached(["a", "b"])


def test_best_on_validation_chooses_on_validation_reports_test():
    rows = []
    for beta, val, test in [(1, 0.80, 0.95), (10, 0.90, 0.85), (30, 0.70, 0.99)]:
        for seed in range(6):
            rows.append({"beta": beta, "seed": seed, "split": "validation", "acc": val + 0.001 * seed})
            rows.append({"beta": beta, "seed": seed, "split": "test", "acc": test + 0.001 * seed})
    df = pd.DataFrame(rows)
    c = lesson.best_on_validation(df, "beta", "acc")
    assert c.best == 10  # the test split would have said 30: that is the leak this avoids
    assert c.test == pytest.approx(0.8525) and c.test_n == 6 and c.validation == pytest.approx(0.9025)
    assert c.sentence.startswith("Chosen on the validation split: beta = 10") and c.tied == ()
    assert list(c.table.beta) == [10, 1, 30]
    assert lesson.best_on_validation(df, "beta", "acc", higher_is_better=False).best == 30
    two = lesson.best_on_validation(df.assign(alpha=0.5), ["beta", "alpha"], "acc")
    assert two.best == (10, 0.5)


def test_best_on_validation_refuses_without_validation_rows():
    df = pd.DataFrame({"beta": [1, 10], "split": ["test", "test"], "acc": [0.8, 0.9]})
    with pytest.raises(ValueError, match="refusing to choose on the test split"):
        lesson.best_on_validation(df, "beta", "acc")
    with pytest.raises(ValueError, match="split_col='fold'"):
        lesson.best_on_validation(df, "beta", "acc", split_col="fold")
    with pytest.raises(TypeError, match="df"):
        lesson.best_on_validation({"beta": [1]}, "beta", "acc")


# --- expect --------------------------------------------------------------------------------------------


def test_expect_reports_without_strict(monkeypatch, capsys):
    monkeypatch.delenv("LABKIT_STRICT", raising=False)
    assert lesson.expect(True, "KD beats the student alone") is True
    assert lesson.expect(np.float64(0.1) > 0.2, "KD beats the student alone") is False
    assert capsys.readouterr().out == "The effect did not appear here: KD beats the student alone\n"
    assert lesson.expect(False, "x", strict=True) is False  # strict only matters under LABKIT_STRICT=1


def test_expect_raises_under_labkit_strict(monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_STRICT", "1")
    assert lesson.expect(np.array([True]), "holds") is True
    with pytest.raises(AssertionError, match="the effect"):
        lesson.expect(False, "the effect")
    with pytest.raises(AssertionError):
        lesson.expect(False, "the effect", strict=True)
    assert lesson.expect(False, "user data", strict=False) is False  # e.g. strict=USING_DEFAULT_DATA
    assert "did not appear here: user data" in capsys.readouterr().out


def test_expect_bad_input():
    with pytest.raises(TypeError, match="condition"):
        lesson.expect("yes", "effect")
    with pytest.raises(TypeError, match="effect"):
        lesson.expect(True, "")
    with pytest.raises(TypeError, match="strict"):
        lesson.expect(True, "effect", strict="no")


# --- results you keep ----------------------------------------------------------------------------------


def test_keep_writes_tidy_csv_and_run_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LABKIT_OUT", str(tmp_path))
    monkeypatch.setenv("LABKIT_DEVICE", "cpu")
    namespace = {"PROFILE": "smoke", "SEED": 7, "N_REPEATS": 3, "BETAS": [0.0, float("inf")],
                 "DATASET": "digits", "X": np.zeros((3, 2)), "make_model": print, "lower": 1, "_HIDDEN": 1}
    lab = lesson.start("02_active_learning", namespace)
    assert lab.dir == tmp_path / "02_active_learning"
    summary = pd.DataFrame({"method": ["a", "b"], "acc": [0.5, 0.6]}).set_index("method")
    assert lab.keep(summary, "summary") is summary
    assert pd.read_csv(lab.dir / "summary.csv").to_dict("list") == {"method": ["a", "b"], "acc": [0.5, 0.6]}
    lab.keep(pd.DataFrame({"x": [1]}), "plain")
    assert list(pd.read_csv(lab.dir / "plain.csv").columns) == ["x"]
    lab.headline("random reached 95 % in 14 of 20 repeats")
    lab.headline(lesson.verdict(0.2, 0.1, 20, a="A", b="B", metric="acc"))
    assert "reached 95 % in 14 of 20" in capsys.readouterr().out
    info = json.loads((lab.dir / "run.json").read_text())
    assert info["parameters"] == {"BETAS": [0.0, "inf"], "DATASET": "digits", "N_REPEATS": 3,
                                  "PROFILE": "smoke", "SEED": 7}
    assert info["profile"] == "smoke" and info["seed"] == 7 and info["notebook"] == "02_active_learning"
    assert info["tables"] == {"summary": "summary.csv", "plain": "plain.csv"}
    assert info["headlines"][0] == "random reached 95 % in 14 of 20 repeats"
    assert info["headlines"][1].startswith("A is better than B")
    assert info["device"] == "cpu" and info["wall_seconds"] >= 0
    assert set(info["versions"]) >= {"labkit", "torch", "scikit-learn"} and info["versions"]["scikit-learn"]


def test_results_dir_defaults_to_the_checkout(monkeypatch):
    import labkit

    monkeypatch.delenv("LABKIT_OUT", raising=False)
    from pathlib import Path

    assert lesson.results_dir("01_x") == Path(labkit.__file__).resolve().parent.parent / "reports" / "01_x"


def test_keep_and_lesson_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_OUT", str(tmp_path))
    lab = lesson.Lesson("01_x", {"SEED": 0})
    for bad in ("../escape", "a/b", "", "x.csv", ".hidden"):
        with pytest.raises(ValueError, match="name must be a simple file stem"):
            lab.keep(pd.DataFrame({"a": [1]}), bad)
    with pytest.raises(TypeError, match="df must be a pandas"):
        lab.keep([1, 2], "table")
    with pytest.raises(ValueError, match="stem"):
        lesson.Lesson("../01", {})
    with pytest.raises(TypeError, match="parameters"):
        lesson.Lesson("01_x", [("SEED", 0)])
    with pytest.raises(TypeError, match="namespace"):
        lesson.start("01_x", None)
    assert not list(tmp_path.iterdir())  # nothing written by refused calls


# --- small helpers -------------------------------------------------------------------------------------


def test_pixel_features():
    import torch

    X = np.array([[[0, 255], [51, 102]]] * 3, dtype=np.uint8)[:, None]  # [3, 1, 2, 2]
    F = lesson.pixel_features(X)
    assert F.dtype == np.float32 and F.shape == (3, 4) and F.max() == 1.0 and F[0, 2] == pytest.approx(0.2)
    assert np.array_equal(lesson.pixel_features(torch.from_numpy(X)), F)
    with pytest.raises(TypeError, match="uint8"):
        lesson.pixel_features(X.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        lesson.pixel_features(np.zeros(4, dtype=np.uint8))


@pytest.fixture
def without_fashion(monkeypatch):
    """data.load_images as on a machine where Fashion-MNIST is not installed."""
    from labkit import data

    real = data.load_images

    def missing_fashion(name, split="train", **kw):
        if name == "fashion_mnist":
            raise data.DatasetUnavailable("not installed here")
        return real(name, split, **kw)

    monkeypatch.setattr(data, "load_images", missing_fashion)
    return data


def test_load_images_declares_its_fallback(without_fashion, capsys):
    data = without_fashion
    X, y, name = lesson.load_images("fashion_mnist", "test", n=50, random_state=0)
    out = capsys.readouterr().out
    assert name == "digits" and len(y) == 50 and X.shape[1:] == (1, 8, 8)
    assert "FALLBACK: fashion_mnist is not available here (not installed here)" in out
    assert "every number below is about digits" in out and "a random 50 of 360" in out
    again = lesson.load_images("fashion_mnist", "test", n=50, random_state=0)
    assert np.array_equal(again.y.numpy(), y.numpy())
    with pytest.raises(data.DatasetUnavailable):
        lesson.load_images("fashion_mnist", "test", fallback=None)
    plain = lesson.load_images("digits", "test", n=10_000)
    assert len(plain.y) == 360 and "asked for 10000" in capsys.readouterr().out
    with pytest.raises(ValueError, match="fallback"):
        lesson.load_images("digits", fallback="mnist")
    with pytest.raises(ValueError, match="n must be >= 1"):
        lesson.load_images("digits", n=0)


def test_timer_records_stages():
    t = lesson.timer()
    with t("data"):
        sum(range(10_000))
    with t("data"):
        pass
    assert t.lap("fit") >= 0
    table = t.table()
    assert list(table.index) == ["data", "fit", "total"] and (table >= 0).all().all()
    assert table.loc["total", "wall_s"] >= table.loc["data", "wall_s"]
    assert str(t).startswith("seconds per stage, wall (CPU): data ")
    with pytest.raises(TypeError, match="name"):
        t.lap("")


def test_load_train_test_declares_its_fallback(without_fashion, capsys, tmp_path):
    data = without_fashion
    parts = lesson.load_train_test("fashion_mnist")
    out = capsys.readouterr().out
    assert parts.name == "digits" and parts.X_train.shape == (1437, 64) and len(parts.y_test) == 360
    assert "FALLBACK: fashion_mnist is not available here (not installed here)" in out
    assert "'digits' images (10 classes): 1437 training and 360 test rows, 64 features" in out
    with pytest.raises(data.DatasetUnavailable):
        lesson.load_train_test("fashion_mnist", fallback=None)
    folder = tmp_path / "no such folder"
    with pytest.raises(ValueError, match="no such file or folder"):  # a path never falls back
        lesson.load_train_test(folder)
