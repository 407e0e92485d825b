"""labkit.select: random / stratified / top-entropy selection, entropy and class weights, the document's code."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import errata, metrics, select


def random_probs(rng, n, c, zero_fraction=0.0):
    p = rng.dirichlet(np.ones(c), size=n)
    if zero_fraction:
        p[rng.random((n, c)) < zero_fraction] = 0.0
        p[p.sum(axis=1) == 0, 0] = 1.0
        p /= p.sum(axis=1, keepdims=True)
    return p


# --- random_subset ---------------------------------------------------------------------------------------

def test_random_subset_distinct_in_range_and_reproducible():
    idx = select.random_subset(100, 30, random_state=1)
    assert len(idx) == 30 and len(set(idx.tolist())) == 30
    assert idx.min() >= 0 and idx.max() < 100
    assert np.array_equal(idx, select.random_subset(100, 30, random_state=1))
    assert not np.array_equal(idx, select.random_subset(100, 30, random_state=2))


def test_random_subset_prefixes_nest():
    assert np.array_equal(select.random_subset(50, 10, random_state=3),
                          select.random_subset(50, 20, random_state=3)[:10])


def test_random_subset_is_uniform():
    hits = np.zeros(10)
    for seed in range(2000):
        hits[select.random_subset(10, 3, random_state=seed)] += 1
    expected = 2000 * 3 / 10
    assert np.all(np.abs(hits - expected) < 5 * np.sqrt(expected))


def test_random_subset_edge_cases_and_errors():
    assert len(select.random_subset(5, 0, random_state=0)) == 0
    assert sorted(select.random_subset(5, 5, random_state=0).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"k=6 exceeds n=5"):
        select.random_subset(5, 6)
    with pytest.raises(ValueError, match="k must be >= 0"):
        select.random_subset(5, -1)
    with pytest.raises(TypeError, match="k must be an int"):
        select.random_subset(5, 2.5)
    with pytest.raises(TypeError, match="random_state"):
        select.random_subset(5, 2, random_state="x")


# --- stratified_subset -----------------------------------------------------------------------------------

def labels_from_sizes(sizes):
    return np.repeat(np.arange(len(sizes)), sizes)


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8), data=st.data())
def test_stratified_counts_property(sizes, data):
    y = labels_from_sizes(sizes)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y = rng.permutation(y)
    k = data.draw(st.integers(0, len(y)))
    idx = select.stratified_subset(y, k, random_state=data.draw(st.integers(0, 1000)))
    assert len(idx) == k and len(np.unique(idx)) == k
    counts = np.bincount(y[idx], minlength=len(sizes))
    sizes = np.asarray(sizes)
    assert np.all(counts <= sizes)
    # a class that was not taken whole is never more than one below any other class
    not_exhausted = counts < sizes
    if not_exhausted.any():
        assert counts.max() - counts[not_exhausted].min() <= 1
    # where every class has enough samples for an equal share, counts differ by at most one
    if sizes.min() >= -(-k // len(sizes)):
        assert counts.max() - counts.min() <= 1


def test_stratified_small_class_taken_whole_remainder_redistributed():
    y = labels_from_sizes([50, 4, 20])
    counts = np.bincount(y[select.stratified_subset(y, 30, random_state=0)])
    assert counts.tolist() == [13, 4, 13]
    y = labels_from_sizes([100, 2, 3, 100])
    counts = np.bincount(y[select.stratified_subset(y, 45, random_state=0)])
    assert counts.tolist() == [20, 2, 3, 20]


def test_stratified_extra_samples_not_always_to_the_first_class():
    y = labels_from_sizes([10, 10, 10])
    firsts = {tuple(np.bincount(y[select.stratified_subset(y, 4, random_state=s)])) for s in range(30)}
    assert firsts == {(2, 1, 1), (1, 2, 1), (1, 1, 2)}


def test_stratified_string_labels_and_errors():
    y = np.array(["a", "b", "b", "c", "c", "c"])
    idx = select.stratified_subset(y, 3, random_state=0)
    assert sorted(y[idx].tolist()) == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"k=7 exceeds len\(y\)=6"):
        select.stratified_subset(y, 7)
    with pytest.raises(ValueError, match="y must be 1-D"):
        select.stratified_subset(np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match="y contains NaN"):
        select.stratified_subset([0.0, np.nan, 1.0], 1)


def test_stratified_counts_validation():
    with pytest.raises(ValueError, match="class_sizes"):
        select.stratified_counts([3, -1], 1)
    with pytest.raises(ValueError, match="k=9 exceeds"):
        select.stratified_counts([3, 5], 9)


# --- top_entropy / top_k ---------------------------------------------------------------------------------

def test_top_entropy_matches_a_full_sort(rng):
    p = random_probs(rng, 500, 6)
    h = metrics.entropy(p)
    idx = select.top_entropy(p, 40)
    assert np.array_equal(idx, np.argsort(-h, kind="stable")[:40])
    assert np.all(np.diff(h[idx]) <= 0)  # most uncertain first


def test_top_entropy_is_zero_safe_where_the_document_picks_nan_rows_first(rng):
    p = random_probs(rng, 300, 5, zero_fraction=0.3)
    assert (p == 0).any()
    idx = select.top_entropy(p, 20)
    h = metrics.entropy(p)
    assert np.isfinite(h).all()
    assert np.all(h[idx] >= np.sort(h)[-20] - 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        doc_idx, _ = errata.document_sample_by_entropy(np.arange(len(p)), p, 20)
        doc_h = errata.document_entropy_loop(p)
    assert np.isnan(doc_h[doc_idx]).all()  # the document picks rows whose entropy it could not compute


def test_top_k_ties_go_to_lower_index():
    scores = np.array([1.0, 3.0, 3.0, 0.5, 3.0, 2.0])
    assert select.top_k(scores, 2).tolist() == [1, 2]
    assert select.top_k(scores, 4).tolist() == [1, 2, 4, 5]
    assert select.top_k(np.zeros(5), 3).tolist() == [0, 1, 2]
    assert len(select.top_k(scores, 0)) == 0
    with pytest.raises(ValueError, match="scores contain NaN"):
        select.top_k([1.0, np.nan], 1)


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        ([[0.5, 0.6], [0.5, 0.5]], r"probs must sum to 1"),
        ([[1.2, -0.2], [0.5, 0.5]], r"probs must be non-negative"),
        ([0.5, 0.5], r"probs must be 2-D"),
        ([[np.nan, 1.0]], r"probs contains NaN"),
    ],
)
def test_top_entropy_rejects_bad_probabilities(probs, message):
    with pytest.raises(ValueError, match=message):
        select.top_entropy(probs, 1)


def test_top_entropy_k_larger_than_n():
    with pytest.raises(ValueError, match=r"k=3 exceeds len\(probs\)=2"):
        select.top_entropy([[0.5, 0.5], [1.0, 0.0]], 3)


# --- weights ---------------------------------------------------------------------------------------------

def test_entropy_weights_proportional_and_sum_to_one(rng):
    p = random_probs(rng, 200, 4, zero_fraction=0.2)
    w = select.entropy_weights(p)
    h = metrics.entropy(p)
    assert np.isclose(w.sum(), 1.0)
    assert np.allclose(w, h / h.sum())


def test_entropy_weights_one_hot_fallback_warns_and_is_uniform():
    p = np.eye(3)[[0, 1, 2, 2]]
    with pytest.warns(select.DegenerateWeightsWarning, match="zero entropy"):
        w = select.entropy_weights(p)
    assert np.allclose(w, 0.25)
    with pytest.raises(ValueError, match="one-hot"):
        select.entropy_weights(p, fallback="raise")
    with pytest.raises(ValueError, match="fallback"):
        select.entropy_weights(p, fallback="zeros")


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 30), c=st.integers(2, 6), zero=st.sampled_from([0.0, 0.5, 1.0]),
       seed=st.integers(0, 10_000))
def test_entropy_weights_never_nan(n, c, zero, seed):
    rng = np.random.default_rng(seed)
    p = np.eye(c)[rng.integers(0, c, n)] if zero == 1.0 else random_probs(rng, n, c, zero)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", select.DegenerateWeightsWarning)
        w = select.entropy_weights(p)
    assert np.isfinite(w).all() and np.all(w >= 0) and np.isclose(w.sum(), 1.0)


def test_entropy_weights_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="probs must be non-negative"):
        select.entropy_weights([[1.5, -0.5]])
    with pytest.raises(ValueError, match="probs must sum to 1"):
        select.entropy_weights([[0.2, 0.2]])
    with pytest.raises(ValueError, match="probs has no rows"):
        select.entropy_weights(np.empty((0, 3)))


def test_class_weights_match_sklearn_balanced():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    cw = select.class_weights(y)
    ref = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)
    assert np.allclose([cw[0], cw[1], cw[2]], ref)
    assert select.class_weights(["x", "y", "y"]) == {"x": 1.5, "y": 0.75}


def test_sample_weights_mean_one_and_balanced_class_totals():
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    w = select.sample_weights("class", y=y)
    assert np.isclose(w.mean(), 1.0)
    totals = [w[y == c].sum() for c in range(3)]
    assert np.allclose(totals, totals[0])
    p = random_probs(np.random.default_rng(0), 100, 3)
    we = select.sample_weights("entropy", probs=p)
    assert np.isclose(we.mean(), 1.0) and np.allclose(we / we.sum(), select.entropy_weights(p))
    assert np.array_equal(select.sample_weights("none", y=y), np.ones(100))
    with pytest.raises(ValueError, match="scheme must be one of"):
        select.sample_weights("focal", y=y)
    with pytest.raises(ValueError, match="needs probs"):
        select.sample_weights("entropy", y=y)
    with pytest.raises(ValueError, match="y has 100 entries but probs has 5 rows"):
        select.sample_weights("entropy", y=y, probs=p[:5])


# --- the document's code ---------------------------------------------------------------------------------

def test_document_code_agrees_on_positive_probabilities(rng):
    p = random_probs(rng, 50, 5)
    assert np.allclose(errata.document_entropy_loop(p), metrics.entropy(p))
    assert np.allclose(errata.document_weight_by_entropy(p), select.entropy_weights(p))


def test_document_code_fails_on_zeros_and_one_hot():
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(errata.document_entropy_loop(p)[1])
        assert np.isnan(errata.document_weight_by_entropy(p)).all()  # one NaN poisons every weight
        assert np.isnan(errata.document_weight_by_entropy(np.array([[1.0, 0.0], [0.0, 1.0]]))).all()
    assert np.allclose(metrics.entropy(p), [np.log(2), 0.0])
    assert np.allclose(select.entropy_weights(p), [1.0, 0.0])


# --- dispatcher and experiment ---------------------------------------------------------------------------

def test_select_dispatch_and_errors(rng):
    y = np.repeat([0, 1, 2], 10)
    p = random_probs(rng, 30, 3)
    assert len(select.select("random", 5, y=y, random_state=0)) == 5
    assert np.bincount(y[select.select("stratified", 6, y=y, random_state=0)]).tolist() == [2, 2, 2]
    assert np.array_equal(select.select("top_entropy", 4, probs=p), select.top_entropy(p, 4))
    with pytest.raises(ValueError, match="strategy must be one of"):
        select.select("margin", 3, y=y)
    with pytest.raises(ValueError, match="needs probs"):
        select.select("top_entropy", 3, y=y)


@pytest.fixture(scope="module")
def toy():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=700, n_features=8, n_informative=5, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    return X[:500], y[:500], X[500:], y[500:]


def test_compare_strategies_rows_counts_and_pairing(toy):
    X, y, Xt, yt = toy
    df = select.compare_strategies(X, y, Xt, yt, ks=[30, 60], weightings=("none", "class"), n_seed=30,
                                   n_repeats=2, random_state=0)
    assert len(df) == 1 + 2 * (1 + 3 * 2 * 2)
    assert (df.strategy == "full pool").sum() == 1
    sel = df[~df.strategy.isin(["seed only", "full pool"])]
    counts = sel[["count_0", "count_1", "count_2"]].to_numpy()
    assert np.array_equal(counts.sum(axis=1), sel.k.to_numpy())
    strat = sel[sel.strategy == "stratified"][["count_0", "count_1", "count_2"]].to_numpy()
    assert np.all(strat.max(axis=1) - strat.min(axis=1) <= 1)
    assert (sel.n_train == sel.k + 30).all()
    assert df.accuracy.between(0, 1).all()
    # top-entropy picks the most uncertain pool samples under the seed model
    means = sel.groupby("strategy").mean_entropy.mean()
    assert means["top_entropy"] > means["random"]
    again = select.compare_strategies(X, y, Xt, yt, ks=[30, 60], weightings=("none", "class"), n_seed=30,
                                      n_repeats=2, random_state=0)
    assert np.allclose(df.accuracy, again.accuracy)


def test_evaluate_selection_resample_equalises_training_classes(toy):
    X, y, Xt, yt = toy
    seed_idx = select.stratified_subset(y, 30, random_state=0)
    pool_idx = np.setdiff1d(np.arange(len(y)), seed_idx)
    model, seed_probs = select.seed_model(X, y, seed_idx, random_state=0)
    pool_probs = model.predict_proba(X[pool_idx])
    row = select.evaluate_selection(X, y, Xt, yt, seed_idx=seed_idx, pool_idx=pool_idx, pool_probs=pool_probs,
                                    seed_probs=seed_probs, strategy="top_entropy", k=60, weighting="resample",
                                    random_state=0)
    assert row["n_train"] == 3 * 30
    assert np.array_equal(row["selected"], select.top_entropy(pool_probs, 60))
    with pytest.raises(ValueError, match="weighting must be one of"):
        select.evaluate_selection(X, y, Xt, yt, seed_idx=seed_idx, pool_idx=pool_idx, pool_probs=pool_probs,
                                  seed_probs=seed_probs, strategy="random", k=5, weighting="focal")


def test_compare_strategies_validation(toy):
    X, y, Xt, yt = toy
    with pytest.raises(ValueError, match=r"k=480 exceeds the pool size"):
        select.compare_strategies(X, y, Xt, yt, ks=[480], n_seed=30, n_repeats=1)
    with pytest.raises(ValueError, match="n_seed=4 is too small"):
        select.compare_strategies(X, y, Xt, yt, ks=[10], n_seed=4, n_repeats=1)
    with pytest.raises(ValueError, match="strategies must be drawn from"):
        select.compare_strategies(X, y, Xt, yt, ks=[10], strategies=["margin"], n_repeats=1)


# --- the notebook-03 widget ------------------------------------------------------------------------------

def test_selection_explorer_runs_programmatically_and_validates(toy):
    import functools

    import ipywidgets

    from labkit import widgets

    X, y, Xt, yt = toy
    seed_idx = select.stratified_subset(y, 30, random_state=0)
    pool_idx = np.setdiff1d(np.arange(len(y)), seed_idx)
    model, seed_probs = select.seed_model(X, y, seed_idx, random_state=0)
    run = functools.partial(select.evaluate_selection, X, y, Xt, yt, seed_idx=seed_idx, pool_idx=pool_idx,
                            pool_probs=model.predict_proba(X[pool_idx]), seed_probs=seed_probs, random_state=0)
    calls = []

    def counting_run(k, strategy, weighting):
        calls.append((k, strategy, weighting))
        return run(k=k, strategy=strategy, weighting=weighting)

    ex = widgets.selection_explorer(counting_run, k_min=10, k_max=100, k_step=10, k=20)
    assert isinstance(ex.output, ipywidgets.Output)
    assert [ex.k.description, ex.strategy.description, ex.weighting.description] == ["k", "strategy", "weighting"]
    result = ex.update(k=40, strategy="stratified", weighting="class")
    assert calls == [(40, "stratified", "class")]  # one retrain for three changed controls
    counts = [result[f"count_{c}"] for c in range(3)]
    assert sum(counts) == 40 and max(counts) - min(counts) <= 1
    assert "strategy=stratified" in ex.describe(result)
    ex.strategy.value = "top_entropy"  # a user's change retrains too
    assert calls[-1] == (40, "top_entropy", "class") and ex.last_result is not result
    with pytest.raises(ValueError, match=r"k=500 is outside"):
        ex.update(k=500)
    with pytest.raises(ValueError, match="strategy must be one of"):
        ex.update(strategy="margin")


def test_skewed_subset_shares_and_validation():
    y = np.repeat(np.arange(4), 100)
    idx = select.skewed_subset(y, 80, 1.0, target=2, random_state=0)
    assert len(idx) == 80 and (y[idx] == 2).all() and len(np.unique(idx)) == 80
    balanced = select.skewed_subset(y, 200, 0.0, random_state=0)
    assert np.bincount(y[balanced], minlength=4).min() > 30
    with pytest.raises(ValueError, match="skew"):
        select.skewed_subset(y, 10, 1.5)
    with pytest.raises(ValueError, match="target"):
        select.skewed_subset(y, 10, 0.5, target=9)
    with pytest.raises(ValueError, match="class 0 has 100"):
        select.skewed_subset(y, 150, 1.0, target=0)


def test_redundant_subset_repeats():
    idx = select.redundant_subset(50, 20, copies=5, random_state=0)
    assert len(idx) == 20 and len(np.unique(idx)) == 4
    with pytest.raises(ValueError, match="copies"):
        select.redundant_subset(50, 3, copies=5)


def test_kcenter_subset_spreads_out():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.1, size=(200, 2)), [[10.0, 10.0]], [[-10.0, 10.0]]])
    idx = select.kcenter_subset(X, 3, random_state=1)
    assert len(set(idx.tolist())) == 3 and {200, 201} <= set(idx.tolist())
    assert np.array_equal(idx, select.kcenter_subset(X, 3, random_state=1))


# --- issue 13: bad input names the parameter ---------------------------------------------------------------

def test_kcenter_subset_k_zero_names_k_and_zero():
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        select.kcenter_subset(np.ones((5, 2)), 0)


def test_experiment_functions_check_their_arrays(toy):
    X, y, Xt, yt = toy
    seed_idx = select.stratified_subset(y, 30, random_state=0)
    with pytest.raises(ValueError, match="y has 499 entries but X has 500 rows"):
        select.seed_model(X, y[:-1], seed_idx)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="X_train contains NaN"):
        select.fit_and_score(select.default_estimator(), Xn, y, Xt, yt)
    with pytest.raises(ValueError, match="X_train must be 2-D"):
        select.fit_and_score(select.default_estimator(), X[:, 0], y, Xt, yt)
    with pytest.raises(ValueError, match="y_test has 199 entries but X_test has 200"):
        select.fit_and_score(select.default_estimator(), X, y, Xt, yt[:-1])
    pool_idx = np.setdiff1d(np.arange(len(y)), seed_idx)
    model, seed_probs = select.seed_model(X, y, seed_idx, random_state=0)
    kw = dict(seed_idx=seed_idx, pool_idx=pool_idx, pool_probs=model.predict_proba(X[pool_idx]),
              seed_probs=seed_probs, strategy="random", k=5)
    with pytest.raises(ValueError, match="X must be 2-D"):
        select.evaluate_selection(X[:, 0], y, Xt, yt, **kw)
    with pytest.raises(ValueError, match="X_test has 3 features but X has 8"):
        select.evaluate_selection(X, y, Xt[:, :3], yt, **kw)
    with pytest.raises(TypeError, match="progress must be callable"):
        select.compare_strategies(X, y, Xt, yt, ks=[10], n_seed=30, n_repeats=1, progress="no")
