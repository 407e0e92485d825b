"""labkit.metrics against scipy on random inputs, the contract's inf/boundedness rules, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon, pdist
from scipy.special import rel_entr
from scipy.stats import entropy as scipy_entropy

from labkit import metrics


def random_probs(rng, shape, zero_share=0.0):
    p = rng.random(shape)
    if zero_share:
        p[rng.random(shape) < zero_share] = 0.0
        p[..., 0] += (p.sum(axis=-1) == 0)  # keep every row non-empty
    return p / p.sum(axis=-1, keepdims=True)


# --- entropy ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, 2, 10])
def test_entropy_matches_scipy(rng, base):
    p = random_probs(rng, (50, 7), zero_share=0.3)
    ours = metrics.entropy(p, base=base)
    theirs = scipy_entropy(p, base=base, axis=-1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_entropy_axis_and_zero_rows(rng):
    p = random_probs(rng, (4, 6))
    np.testing.assert_allclose(metrics.entropy(p.T, axis=0), scipy_entropy(p, axis=1), rtol=1e-12)
    assert metrics.entropy(np.array([0.0, 1.0, 0.0])) == 0.0  # 0·log 0 = 0, not NaN


# --- KL -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, 2])
def test_kl_matches_scipy_on_random_inputs(rng, base):
    p = random_probs(rng, (40, 9), zero_share=0.3)  # zeros in p are fine: 0·log(0/q) = 0
    q = random_probs(rng, (40, 9))  # q > 0 everywhere: finite
    ours = metrics.kl_divergence(p, q, base=base)
    np.testing.assert_allclose(ours, scipy_entropy(p, q, base=base, axis=-1), rtol=1e-10, atol=1e-14)
    scale = 1.0 if base is None else np.log(base)
    np.testing.assert_allclose(ours, rel_entr(p, q).sum(axis=-1) / scale, rtol=1e-10, atol=1e-14)
    assert np.isfinite(ours).all()
    assert isinstance(metrics.kl_divergence(p[0], q[0]), float)


def test_kl_is_inf_exactly_where_q_is_zero_and_p_is_not(rng):
    p = random_probs(rng, (200, 5), zero_share=0.3)
    q = random_probs(rng, (200, 5), zero_share=0.3)
    kl = metrics.kl_divergence(p, q)
    should_be_inf = ((q == 0) & (p > 0)).any(axis=-1)
    assert should_be_inf.any() and (~should_be_inf).any()  # both cases occur in this sample
    np.testing.assert_array_equal(np.isinf(kl), should_be_inf)
    assert (kl[~should_be_inf] >= -1e-12).all()


def test_kl_smoothing_is_additive_then_renormalised_and_always_finite(rng):
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([1.0, 0.0, 0.0])
    assert metrics.kl_divergence(p, q) == np.inf
    eps = 0.01
    ps, qs = (p + eps) / (1 + 3 * eps), (q + eps) / (1 + 3 * eps)
    assert metrics.kl_divergence(p, q, eps=eps) == pytest.approx(scipy_entropy(ps, qs), rel=1e-12)
    np.testing.assert_allclose(metrics.smooth(p, eps), ps)
    many = metrics.kl_divergence(random_probs(rng, (100, 4), 0.5), random_probs(rng, (100, 4), 0.5), eps=1e-9)
    assert np.isfinite(many).all()
    # more smoothing pulls the two distributions together: KL falls as eps grows
    values = [metrics.kl_divergence(p, q, eps=e) for e in (1e-6, 1e-3, 1e-1, 10.0)]
    assert all(a > b for a, b in zip(values[:-1], values[1:], strict=True))


def test_kl_is_asymmetric_and_zero_for_equal(rng):
    p = np.array([0.7, 0.2, 0.1])
    q = np.array([0.1, 0.3, 0.6])
    assert metrics.kl_divergence(p, q) != pytest.approx(metrics.kl_divergence(q, p), rel=1e-3)
    assert metrics.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


# --- JS -----------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12), st.integers(0, 2**32 - 1), st.floats(0.0, 0.9))
def test_js_is_symmetric_bounded_and_matches_scipy(k, seed, zero_share):
    rng = np.random.default_rng(seed)
    p, q = random_probs(rng, (3, k), zero_share), random_probs(rng, (3, k), zero_share)
    pq, qp = metrics.js_divergence(p, q), metrics.js_divergence(q, p)
    np.testing.assert_array_equal(pq, qp)
    assert (pq >= 0).all() and (pq <= np.log(2) + 1e-12).all()
    assert (metrics.js_divergence(p, q, base=2) <= 1 + 1e-12).all()
    np.testing.assert_allclose(pq, jensenshannon(p, q, axis=-1) ** 2, rtol=1e-9, atol=1e-12)


def test_js_reaches_log2_on_disjoint_supports_and_0_on_equal():
    assert metrics.js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.log(2), rel=1e-12)
    assert metrics.js_divergence([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-15)


# --- mean pairwise distance ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, d, block", [(2, 3, 2048), (57, 4, 8), (300, 30, 64), (301, 5, 300), (500, 2, 7)])
def test_mean_pairwise_distance_matches_pdist(rng, n, d, block):
    X = rng.normal(size=(n, d)) * 3 + 100  # an offset: centring keeps the cancellation error small
    before = X.copy()
    ours = metrics.mean_pairwise_distance(X, block_size=block)
    assert ours == pytest.approx(pdist(X).mean(), rel=1e-10)
    np.testing.assert_array_equal(X, before)  # the caller's array is not modified


def test_mean_pairwise_distance_integer_input_and_duplicates(rng):
    X = rng.integers(0, 256, size=(120, 16), dtype=np.uint8)
    X[10] = X[11]  # an exact duplicate contributes a distance of exactly 0
    assert metrics.mean_pairwise_distance(X, block_size=50) == pytest.approx(
        pdist(X.astype(float)).mean(), rel=1e-10)
    assert metrics.mean_pairwise_distance([[0, 0], [3, 4]]) == pytest.approx(5.0)


def test_mean_pairwise_distance_exact_when_max_samples_covers_all(rng):
    X = rng.normal(size=(40, 3))
    mean, se = metrics.mean_pairwise_distance(X, max_samples=40, return_se=True)
    assert mean == pytest.approx(pdist(X).mean(), rel=1e-12) and se == 0.0
    assert metrics.mean_pairwise_distance(X, max_samples=10**6) == pytest.approx(mean, rel=1e-12)


def test_mean_pairwise_distance_subsample_is_seeded_and_its_se_is_calibrated(rng):
    X = rng.normal(size=(2000, 5)) * rng.uniform(0.5, 3, size=5)
    exact = pdist(X).mean()
    a = metrics.mean_pairwise_distance(X, max_samples=80, random_state=3)
    assert a == metrics.mean_pairwise_distance(X, max_samples=80, random_state=3)
    assert a != metrics.mean_pairwise_distance(X, max_samples=80, random_state=4)
    est, se = np.array([metrics.mean_pairwise_distance(X, max_samples=80, random_state=s, return_se=True)
                        for s in range(300)]).T
    assert 0.8 < se.mean() / est.std() < 1.3  # the stated SE matches the spread over subsamples
    coverage = np.mean(np.abs(est - exact) <= 1.96 * se)
    assert 0.88 <= coverage <= 0.995
    assert abs(est.mean() - exact) < 3 * est.std() / np.sqrt(len(est))  # unbiased


# --- feature entropy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [1, 2, 10, 37])
def test_feature_entropy_matches_numpy_histograms(rng, bins):
    X = rng.normal(size=(500, 6)) * [1, 2, 3, 4, 5, 6]
    X[:, 2] = np.round(X[:, 2])  # ties and values on bin edges
    ours = metrics.feature_entropy(X, bins=bins)
    theirs = [scipy_entropy(np.histogram(X[:, j], bins=bins)[0]) for j in range(X.shape[1])]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ours.shape == (6,) and (ours <= np.log(bins) + 1e-12).all()


def test_feature_entropy_shared_edges_and_binning_matters(rng):
    reference = rng.normal(size=(2000, 3))
    edges = metrics.feature_bin_edges(reference, bins=8)
    assert edges.shape == (3, 9)
    subset = reference[:300]
    ours = metrics.feature_entropy(subset, bins=edges, base=2)
    theirs = [scipy_entropy(np.histogram(subset[:, j], bins=edges[j])[0], base=2) for j in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    same = metrics.feature_entropy(subset, bins=np.linspace(-6, 6, 13))  # 1-D edges for every feature
    theirs = [scipy_entropy(np.histogram(subset[:, j], bins=np.linspace(-6, 6, 13))[0]) for j in range(3)]
    np.testing.assert_allclose(same, theirs, rtol=1e-12)
    # the number depends on the binning (ERRATA 002 §3.2)
    assert metrics.feature_entropy(subset, bins=5).mean() < metrics.feature_entropy(subset, bins=50).mean()
    # the full range of the reference set fits its own edges exactly (no value falls off the end)
    metrics.feature_entropy(reference, bins=edges)


def test_feature_entropy_constant_feature_and_value_entropy(rng):
    X = np.column_stack([np.full(50, 3.0), rng.normal(size=50)])
    assert metrics.feature_entropy(X, bins=10)[0] == 0.0
    np.testing.assert_allclose(metrics.value_entropy(X), [0.0, np.log(50)], atol=1e-12)


# --- representativeness -------------------------------------------------------------------------------


def test_category_histogram_and_representativeness():
    reference = np.repeat([0, 1, 2], [50, 30, 20])
    subset = np.array([0, 0, 0, 1])  # class 2 is missing from the subset
    np.testing.assert_allclose(metrics.category_histogram(subset, [0, 1, 2]), [0.75, 0.25, 0.0])
    rep = metrics.representativeness(subset, reference, eps=0.0)
    np.testing.assert_allclose(rep.q, [0.5, 0.3, 0.2])
    assert np.isfinite(rep.kl_subset_reference)  # the subset puts no mass where the reference has none
    assert rep.kl_reference_subset == np.inf  # the reference has class 2, the subset does not
    assert rep.js == pytest.approx(metrics.js_divergence(rep.p, rep.q))
    smoothed = metrics.representativeness(subset, reference, eps=1e-3)
    assert np.isfinite(smoothed.kl_reference_subset)
    assert smoothed.kl_reference_subset == pytest.approx(metrics.kl_divergence(rep.q, rep.p, eps=1e-3))
    assert set(smoothed.scores()) == {"kl_subset_reference", "kl_reference_subset", "js"}


def test_representativeness_by_kmeans(rng):
    reference = np.vstack([rng.normal(loc=c, size=(100, 2)) for c in (-10, 0, 10)])
    fair = reference[rng.choice(300, 60, replace=False)]
    skewed = reference[:60]  # all from one cluster
    a = metrics.representativeness(fair, reference, eps=1e-3, by="kmeans", n_clusters=3, random_state=0)
    b = metrics.representativeness(skewed, reference, eps=1e-3, by="kmeans", n_clusters=3, random_state=0)
    assert a.js < b.js and a.kl_reference_subset < b.kl_reference_subset
    np.testing.assert_allclose(np.sort(b.p), [0, 0, 1])


# --- Vendi score --------------------------------------------------------------------------------------


def test_vendi_score_extremes_duplicates_and_definition(rng):
    assert metrics.vendi_score(np.eye(6), kernel="cosine") == pytest.approx(6.0)
    assert metrics.vendi_score(np.ones((5, 3)), gamma=1.0) == pytest.approx(1.0)
    X = rng.normal(size=(40, 4))
    gamma = metrics.rbf_gamma(X)
    v = metrics.vendi_score(X, gamma=gamma)
    assert v == pytest.approx(metrics.vendi_score(np.vstack([X, X]), gamma=gamma), rel=1e-8)
    K = np.exp(-gamma * np.square(X[:, None] - X[None]).sum(-1))
    lam = np.clip(np.linalg.eigvalsh(K / len(X)), 0, None)
    assert v == pytest.approx(np.exp(scipy_entropy(lam)), rel=1e-8)
    assert 1.0 <= v <= len(X)


def test_subset_metrics_row(rng):
    X = rng.normal(size=(60, 3))
    y = rng.integers(0, 3, 60)
    ref_y = rng.integers(0, 3, 500)
    row = metrics.subset_metrics(X, y, reference_y=ref_y, bins=5, eps=1e-3, clusters=y, reference_clusters=ref_y)
    assert row["mean_distance"] == pytest.approx(pdist(X).mean())
    assert row["kl_class"] == row["kl_cluster"]
    assert {"feature_entropy", "vendi", "js_class", "kl_class_reverse"} <= set(row)


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.entropy([0.5, 0.6]), "p must sum to 1"),
    (lambda: metrics.entropy([-0.5, 1.5]), "p must be non-negative"),
    (lambda: metrics.kl_divergence([0.5, 0.5], [0.2, 0.2]), "q must sum to 1"),
    (lambda: metrics.kl_divergence([1.5, -0.5], [0.5, 0.5]), "p must be non-negative"),
    (lambda: metrics.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), "p and q must have the same shape"),
    (lambda: metrics.kl_divergence([0.5, 0.5], [0.5, 0.5], eps=-1e-3), "eps must be"),
    (lambda: metrics.kl_divergence([0.5, 0.5], [0.5, 0.5], eps=np.nan), "eps must be"),
    (lambda: metrics.kl_divergence([0.5, 0.5], [0.5, 0.5], base=1), "base must be"),
    (lambda: metrics.js_divergence([np.nan, 1.0], [0.5, 0.5]), "p contains NaN"),
    (lambda: metrics.js_divergence([0.5, 0.5], [[0.5, 0.5]]), "p and q must have the same shape"),
    (lambda: metrics.mean_pairwise_distance([[0.0, np.nan], [1.0, 2.0]]), "X contains NaN"),
    (lambda: metrics.mean_pairwise_distance([1.0, 2.0, 3.0]), "X must be 2-D"),
    (lambda: metrics.mean_pairwise_distance([[1.0, 2.0]]), "X needs at least 2 rows"),
    (lambda: metrics.mean_pairwise_distance(np.ones((5, 2)), max_samples=1), "max_samples must be >= 2"),
    (lambda: metrics.mean_pairwise_distance(np.ones((5, 2)), random_state=-1), "random_state"),
    (lambda: metrics.feature_entropy([[np.nan, 1.0], [1.0, 2.0]]), "X contains NaN"),
    (lambda: metrics.feature_entropy(np.ones((5, 2)), bins=0), "bins must be >= 1"),
    (lambda: metrics.feature_entropy(np.ones((5, 2)), bins=[[0, 1, 2]]), "bins must be an int"),
    (lambda: metrics.feature_entropy(np.ones((5, 2)), bins=[2, 1, 3]), "strictly increasing"),
    (lambda: metrics.feature_entropy(np.full((5, 2), 9.0), bins=[0, 1, 2]), r"X\[0, 0\] = 9.0 lies outside"),
    (lambda: metrics.category_histogram([0, 1, 5], [0, 1, 2]), "labels contains 5"),
    (lambda: metrics.representativeness([0, 1], [0, 1], eps=-1.0), "eps must be"),
    (lambda: metrics.representativeness([0, 1], [0, 1], eps=0.0, by="density"), "by must be"),
    (lambda: metrics.kmeans_codes(np.ones((5, 2)), np.ones((5, 3))), "X has 2 features but reference has 3"),
    (lambda: metrics.kmeans_codes(np.ones((5, 2)), [[np.inf, 1.0]]), "reference contains NaN"),
    (lambda: metrics.vendi_score(np.ones((3, 2)), gamma=-1.0), "gamma must be"),
    (lambda: metrics.vendi_score(np.ones((3, 2)), kernel="poly"), "kernel must be"),
    (lambda: metrics.vendi_score([[0.0, 0.0], [1.0, 1.0]], kernel="cosine"), "all-zero row"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_subsampling_still_rejects_nan_anywhere_in_x(rng):
    X = rng.normal(size=(1000, 3))
    X[999, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(first at row 999, column 2\)"):
        metrics.mean_pairwise_distance(X, max_samples=10, random_state=0)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="max_samples must be an int"):
        metrics.mean_pairwise_distance(np.ones((5, 2)), max_samples=2.5)
    with pytest.raises(TypeError, match="X must be numeric"):
        metrics.mean_pairwise_distance(np.array([["a", "b"], ["c", "d"]]))


# --- notebook 04's explorer widget and plots (they call labkit.metrics) --------------------------------


def test_diversity_explorer_update_runs_the_callback_once_and_fills_the_output(rng):
    import matplotlib

    matplotlib.use("Agg")
    from labkit import widgets

    Z = rng.normal(size=(300, 4))
    y = np.repeat(np.arange(3), 100)
    draws = []

    def draw(size, skew, seed):
        draws.append((size, skew, seed))
        r = np.random.default_rng(seed)
        n_target = int(round(skew * size))
        return np.r_[r.choice(100, n_target, replace=False), r.choice(np.arange(100, 300), size - n_target,
                                                                         replace=False)]

    def score(idx):
        return {"n": len(idx), "mean_distance": metrics.mean_pairwise_distance(Z[idx]),
                "js_class": metrics.js_divergence(metrics.category_histogram(y[idx], [0, 1, 2]), np.full(3, 1 / 3))}

    explorer = widgets.diversity_explorer(draw, score, Z[:, :2], Z[:, :2], y, sizes=(20, 100, 10), size=40, skew=0.5)
    assert explorer.n_updates == 1 and draws == [(40, 0.5, 0), (40, 0.0, 0)]
    assert {w.description for w in (explorer.size, explorer.skew, explorer.seed)} == {"subset size", "skew", "seed"}
    table = explorer.update(size=60, skew=1.0, seed=3)
    assert explorer.n_updates == 2  # three sliders moved, one recomputation
    assert list(table.index) == ["skew 1.00", "skew 0 (baseline)"] and (table["n"] == 60).all()
    assert table.loc["skew 1.00", "js_class"] > table.loc["skew 0 (baseline)", "js_class"]
    status, shown, image = explorer.out.outputs  # status line, table, map
    assert status["text"].startswith("subset size=60, skew=1.00, seed=3: ")
    assert "<table" in shown["data"]["text/html"] and "image/png" in image["data"]
    explorer.skew.value = 0.25  # a slider moved by hand runs the same callback
    assert explorer.n_updates == 3 and draws[-2] == (60, 0.25, 3)
    with pytest.raises(ValueError, match="size must be in"):
        explorer.update(size=1000)


def test_notebook04_plots_validate_and_draw(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labkit import plots

    bg = rng.normal(size=(50, 2))
    fig = plots.subset_maps(bg, {"a": (bg[:5], np.arange(5)), "b": (bg[5:9], np.zeros(4, int))}, class_names=list("abcde"))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    plt.close(fig)
    ax = plots.smoothing_curves([1e-3, 1e-2], {"kl": [2.0, 1.0]})
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="points must have shape"):
        plots.subset_map(bg, bg[:, :1], np.zeros(50))
    with pytest.raises(ValueError, match="eps must be"):
        plots.smoothing_curves([0.0, 1.0], {"kl": [1.0, 2.0]})


def test_blocked_row_entropy_equals_the_formula(rng):
    p = rng.dirichlet(np.ones(7), size=20_000)
    p[::5, 2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    ref = np.zeros_like(p)
    np.multiply(p, np.log(np.where(p > 0, p, 1.0)), out=ref, where=p > 0)
    assert np.array_equal(metrics.entropy(p), 0.0 - ref.sum(axis=1))  # bit for bit
    ref2 = np.zeros_like(p)
    np.multiply(p, np.log(np.where(p > 0, p, 1.0)) / np.log(2), out=ref2, where=p > 0)
    assert np.array_equal(metrics.entropy(p, base=2), 0.0 - ref2.sum(axis=1))
    assert np.allclose(metrics.entropy(p.T, axis=0), metrics.entropy(p))
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        metrics.entropy(p, axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        metrics.entropy(p, axis=1.0)


# --- comparing subsets over repeats ---------------------------------------------------------------------


def _subset_results(rng, n_repeats=8):
    import pandas as pd

    rows = []
    for r in range(n_repeats):
        shared = rng.normal(0, 1.0)  # run-to-run noise both subsets share: pairing removes it
        rows.append({"subset": "random", "repeat": r, "vendi": 10 + shared + rng.normal(0, 0.05),
                     "mean_distance": 5 + rng.normal(0, 0.05), "kl_class": 0.02 + rng.normal(0, 0.001)})
        rows.append({"subset": "k-center", "repeat": r, "vendi": 20 + shared + rng.normal(0, 0.05),
                     "mean_distance": 5 + rng.normal(0, 0.05), "kl_class": 0.10 + rng.normal(0, 0.001)})
        rows.append({"subset": "copies", "repeat": r, "vendi": 7 + shared + rng.normal(0, 0.05),
                     "mean_distance": 5 + rng.normal(0, 0.05), "kl_class": 0.02 + rng.normal(0, 0.001)})
    return pd.DataFrame(rows)


def test_compare_subsets_uses_the_verdict_rule_with_each_measures_direction(rng):
    from labkit import lesson

    results = _subset_results(rng)
    table = metrics.compare_subsets(results, [("k-center", "random"), ("copies", "random")])
    assert list(table["measure"].unique()) == ["mean_distance", "vendi", "kl_class"]  # MEASURES order
    row = table.set_index(["a", "measure"])
    # diversity: higher is better; KL: lower is better (closer to the reference)
    assert row.loc[("k-center", "vendi"), "direction"] == "higher"
    assert row.loc[("k-center", "vendi"), "verdict"] == "better"
    assert row.loc[("k-center", "kl_class"), "direction"] == "higher"
    assert row.loc[("k-center", "kl_class"), "verdict"] == "worse"
    assert row.loc[("copies", "vendi"), "direction"] == "lower"
    assert row.loc[("k-center", "mean_distance"), "direction"] == metrics.NO_DIFFERENCE
    # every row is what lesson.compare decides
    v = lesson.compare(results, "k-center", "random", by="subset", pair="repeat", value="kl_class",
                       higher_is_better=False)
    assert row.loc[("k-center", "kl_class"), "verdict"] == v.word
    assert row.loc[("k-center", "kl_class"), "diff"] == pytest.approx(v.diff)
    assert "k-center's class KL(subset‖reference) is higher than random's" in row.loc[("k-center", "kl_class"), "sentence"]
    assert "(n = 8)" in row.loc[("k-center", "kl_class"), "sentence"]
    grid = metrics.direction_table(table)
    assert list(grid.columns) == ["good", "k-center", "copies"]
    assert list(grid.index) == ["mean_distance", "vendi", "kl_class"]
    assert grid.loc["mean_distance"].tolist() == ["higher = more diverse", "–", "–"]  # no detectable difference
    assert grid.loc["vendi", "copies"] == "lower"
    assert grid.loc["kl_class", "good"] == "lower = closer"
    both = metrics.compare_subsets(results, [("k-center", "random"), ("k-center", "copies")], measures=["vendi"])
    assert list(metrics.direction_table(both).columns) == ["good", "k-center vs random", "k-center vs copies"]


def test_noticed_and_standing_say_only_what_the_verdicts_found(rng):
    results = _subset_results(rng)
    pairs = [("k-center", "random"), ("k-center", "copies"), ("copies", "random"), ("copies", "k-center")]
    table = metrics.compare_subsets(results, pairs)
    text = metrics.noticed(table, "copies")
    assert text.startswith("copies vs random (n = 8): told apart by 1 of 3 measures — Vendi score lower (")
    assert "no detectable difference on mean pairwise distance, class KL(subset‖reference)" in text
    assert metrics.standing(table, "k-center", "vendi").startswith(
        "k-center has the highest Vendi score of the 3 subsets: detectably higher than each of the other 2")
    assert metrics.standing(table, "copies", "vendi").startswith("copies has the lowest Vendi score")
    mixed = metrics.standing(table, "copies", "kl_class")
    assert mixed == ("copies's class KL(subset‖reference) (n = 8): lower than k-center; "
                     "no detectable difference from random.")
    flat = metrics.standing(table, "k-center", "mean_distance")
    assert flat == "k-center's mean pairwise distance (n = 8): no detectable difference from random, copies."


def test_small_n_is_labelled_indicative(rng):
    table = metrics.compare_subsets(_subset_results(rng, n_repeats=3), [("k-center", "random")])
    assert table["indicative"].all()
    assert "indicative, n = 3" in table.set_index("measure").loc["vendi", "sentence"]
    assert "indicative: fewer than 5 pairs" in metrics.noticed(table, "k-center")


def test_compare_subsets_rejects_bad_input(rng):
    results = _subset_results(rng)
    with pytest.raises(ValueError, match="measures must be one of"):
        metrics.compare_subsets(results, [("k-center", "random")], measures=["accuracy"])
    with pytest.raises(ValueError, match="is not a column of results"):
        metrics.compare_subsets(results, [("k-center", "random")], measures=["js_class"])
    with pytest.raises(ValueError, match="pairs is empty"):
        metrics.compare_subsets(results, [])
    with pytest.raises(ValueError, match=r"pairs\[0\] must be an \(a, b\) pair"):
        metrics.compare_subsets(results, ["k-center"])
    with pytest.raises(TypeError, match="results must be a pandas DataFrame"):
        metrics.compare_subsets(results.to_dict(), [("k-center", "random")])
    table = metrics.compare_subsets(results, [("k-center", "random")])
    with pytest.raises(ValueError, match="no comparison with a='copies'"):
        metrics.noticed(table, "copies")
    with pytest.raises(ValueError, match="group must be one of"):
        metrics.measures_in("all")
    assert metrics.measures_in("classes") == ["kl_class", "kl_class_reverse", "js_class"]
