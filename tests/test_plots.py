"""labkit.plots: one CI plot for every mean ± interval; every axes-level plot takes ``ax=`` and labels its axes."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from labkit import plots, stats  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _runs(n_repeats=3):
    rng = np.random.default_rng(0)
    return pd.DataFrame([{"strategy": s, "k": k, "seed": r, "accuracy": 0.5 + 0.1 * i + 0.0001 * k + 0.01 * rng.random(),
                          "f1": rng.random()}
                         for i, s in enumerate(["random", "entropy"]) for k in (50, 150, 500) for r in range(n_repeats)])


def test_ci_plot_numeric_x_draws_one_line_and_band_per_group():
    summary = stats.summarize(_runs(), ["strategy", "k"], ["accuracy"])
    ax = plots.ci_plot(summary, x="k", y="accuracy", by="strategy", log_x=True, references={"seed only": (0.4, 0.02)},
                       xlabel="k (samples selected)", ylabel="test accuracy", title="accuracy vs k")
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["random", "entropy"]
    assert len(ax.collections) == 2 and len(ax.patches) == 1  # two CI bands; the reference's band
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["50", "150", "500"]
    assert ax.get_xlabel() == "k (samples selected)"
    assert ax.get_ylabel() == "test accuracy, mean ± 95 % CI (indicative, n = 3)"
    assert ax.get_ylim()[0] < 0.4 - 0.02, "the references are inside the value axis"
    assert "seed only: 0.400" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_ci_plot_states_n_without_the_indicative_label_from_five_repeats():
    summary = stats.summarize(_runs(n_repeats=6), ["strategy", "k"], ["accuracy"])
    ax = plots.ci_plot(summary, x="k", y="accuracy", by="strategy", kind="errorbar")
    assert ax.get_ylabel() == "accuracy, mean ± 95 % CI (n = 6)" and ax.get_xlabel() == "k"


def test_ci_plot_with_a_text_y_is_horizontal_one_row_per_category():
    summary = stats.summarize(_runs(), "strategy", ["accuracy"])
    ax = plots.ci_plot(summary, x="accuracy", y="strategy", references={"teacher": 0.9}, annotate=True)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["random", "entropy"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1], "first category on top"
    assert ax.get_xlabel().startswith("accuracy, mean ± 95 % CI") and ax.get_ylabel() == "strategy"
    assert ax.get_xlim()[1] > 0.9
    assert len(ax.texts) == 2  # the two means written beside their points


def test_ci_plot_of_several_value_columns_puts_them_on_the_x_axis():
    summary = stats.summarize(_runs(), "strategy", ["accuracy", "f1"])
    ax = plots.ci_plot(summary, y=["accuracy", "f1"], by="strategy", lim=(-0.02, 1.02))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["accuracy", "f1"]
    assert ax.get_ylim() == (-0.02, 1.02) and ax.get_ylabel().startswith("score, mean ± 95 % CI")
    assert ax.get_legend().get_title().get_text() == "strategy"


def test_ci_plot_validates():
    summary = stats.summarize(_runs(), ["strategy", "k"], ["accuracy"])
    with pytest.raises(ValueError, match="accuracy_ci"):
        plots.ci_plot(summary.drop(columns="accuracy_ci"), x="k", y="accuracy")
    with pytest.raises(ValueError, match="lacks columns \\['method'\\]"):
        plots.ci_plot(summary, x="k", y="accuracy", by="method")
    with pytest.raises(ValueError, match="kind must be one of"):
        plots.ci_plot(summary, x="k", y="accuracy", kind="bars")
    with pytest.raises(ValueError, match="log_x needs a numeric x axis"):
        plots.ci_plot(summary, x="strategy", y="accuracy", log_x=True)
    with pytest.raises(ValueError, match="x must be None"):
        plots.ci_plot(summary, x="k", y=["accuracy"])
    with pytest.raises(ValueError, match="x is required"):
        plots.ci_plot(summary, y="accuracy")
    with pytest.raises(TypeError, match="title must be a str, got dict"):
        plots.ci_plot(summary, x="k", y="accuracy", title={1: 2, "all": 2})


def _active_results():
    rows = [{"strategy": s, "repeat": r, "n_labeled": n, "accuracy": 0.5 + 0.001 * n * (1 + i) + 0.01 * r}
            for i, s in enumerate(["random", "entropy"]) for r in range(2) for n in (20, 30, 40)]
    labeled = pd.DataFrame([{"strategy": s, "repeat": 0, "order": o, "pool_index": o + 3 * i}
                            for i, s in enumerate(["random", "entropy"]) for o in range(6)])
    return pd.DataFrame(rows), labeled


def _axes_plots():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0.8).astype(int)
    results, labeled = _active_results()
    sweep = pd.DataFrame([{"temperature": t, "alpha": a, "accuracy": 0.5 + 0.01 * t + a}
                          for t in (1.0, 4.0) for a in (0.5, 0.9)])
    return {
        "ci_plot": lambda ax: plots.ci_plot(stats.summarize(_runs(), ["strategy", "k"], ["accuracy"]),
                                            x="k", y="accuracy", by="strategy", ax=ax),
        "decision_boundary": lambda ax: plots.decision_boundary(LogisticRegression().fit(X, y), X, y, ax=ax,
                                                                resolution=20),
        "plot_class_counts": lambda ax: plots.plot_class_counts(pd.DataFrame({"a": [3], "b": [1]}, index=["x"]),
                                                                ax=ax),
        "active_learning_curves": lambda ax: plots.active_learning_curves(results, target=0.6, ax=ax),
        "queried_class_histogram": lambda ax: plots.queried_class_histogram(labeled, np.arange(12) % 3,
                                                                            n_initial=2, ax=ax),
        "subset_map": lambda ax: plots.subset_map(X, X[:5], y[:5], ax=ax),
        "smoothing_curves": lambda ax: plots.smoothing_curves([1e-3, 1e-2], {"kl": [2.0, 1.0]}, ax=ax),
        "soft_targets": lambda ax: plots.soft_targets([2.0, 1.0, 0.0], [1, 4], ax=ax),
        "kd_grid": lambda ax: plots.kd_grid(sweep, ax=ax, highlight=(4.0, 0.9)),
    }


@pytest.mark.parametrize("name", list(_axes_plots()))
def test_every_axes_plot_draws_on_the_given_axes_returns_them_and_labels_them(name):
    _, ax = plt.subplots()
    assert _axes_plots()[name](ax) is ax
    assert ax.get_xlabel() and ax.get_ylabel(), f"{name} left an axis unlabelled"


@pytest.mark.parametrize("name", list(_axes_plots()))
def test_every_axes_plot_makes_its_own_axes_when_none_are_given(name):
    ax = _axes_plots()[name](None)
    assert isinstance(ax, matplotlib.axes.Axes)


def test_active_learning_curves_order_names_n_and_dash_random():
    results, _ = _active_results()
    ax = plots.active_learning_curves(results, strategies=["entropy", "random"])
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == ["entropy (n=2)", "random (n=2)"]
    assert lines[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match=r"strategies \['margin'\] are not in results"):
        plots.active_learning_curves(results, strategies=["margin"])


def test_queried_class_shares_sum_to_one_per_strategy():
    _, labeled = _active_results()
    shares = plots.queried_class_shares(labeled, np.arange(12) % 3, n_initial=2, class_names=["a", "b", "c"])
    assert list(shares.index) == ["a", "b", "c"] and list(shares.columns) == ["random", "entropy"]
    assert np.allclose(shares.sum(), 1.0)


def test_figure_level_plots_return_the_figure_and_refuse_non_text_titles():
    fig = plots.plot_reconstructions(np.zeros((3, 1, 4, 4)), np.ones((3, 1, 4, 4)), n=2, title="autoencoder")
    assert isinstance(fig, matplotlib.figure.Figure) and fig.get_suptitle() == "autoencoder"
    with pytest.raises(TypeError, match="title must be a str"):
        plots.plot_reconstructions(np.zeros((3, 1, 4, 4)), np.ones((3, 1, 4, 4)), title={"n": 2})
