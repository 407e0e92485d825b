"""labkit.active: uncertainty scores, query functions, the loop with a true-label oracle, and its errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression

from labkit import active, errata
from labkit.metrics import entropy


@pytest.fixture(scope="module")
def blobs():
    """A small, well separated 3-class problem: pool and test split."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=400, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


def lr():
    return LogisticRegression(max_iter=500)


# ---------------------------------------------------------------------------------------- uncertainty
def test_uncertainty_known_values():
    p = np.array([[1.0, 0.0, 0.0], [0.5, 0.3, 0.2], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(active.uncertainty(p, "least_confident"), [0.0, 0.5, 2 / 3])
    np.testing.assert_allclose(active.uncertainty(p, "margin"), [0.0, 0.8, 1.0])
    np.testing.assert_allclose(active.uncertainty(p, "entropy"), entropy(p))
    np.testing.assert_allclose(active.uncertainty(p, "entropy")[[0, 2]], [0.0, np.log(3)])


@pytest.mark.parametrize("method", active.UNCERTAINTY_METHODS)
def test_uncertainty_orders_confident_below_unsure(method):
    p = np.array([[0.98, 0.01, 0.01], [0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    u = active.uncertainty(p, method)
    assert u[0] < u[1] < u[2]


def test_certainty_of_the_document_is_reversed():
    """ERRATA 003 §4: sum(p**2) is largest for the most confident row, the opposite of an uncertainty."""
    p = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25]])
    doc = (p**2).sum(axis=1)
    assert np.argmax(doc) == 0 and np.argmax(active.uncertainty(p, "entropy")) == 1


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)), elements=st.floats(0.01, 1)))
def test_uncertainty_bounds_property(raw):
    p = raw / raw.sum(axis=1, keepdims=True)
    k = p.shape[1]
    lc = active.uncertainty(p, "least_confident")
    mg = active.uncertainty(p, "margin")
    h = active.uncertainty(p, "entropy")
    assert np.all((lc >= -1e-12) & (lc <= 1 - 1 / k + 1e-12))
    assert np.all((mg >= -1e-12) & (mg <= 1 + 1e-12))
    assert np.all((h >= -1e-12) & (h <= np.log(k) + 1e-9))


def test_uncertainty_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="probs"):
        active.uncertainty([[0.5, 0.6]], "entropy")
    with pytest.raises(ValueError, match="probs"):
        active.uncertainty([[1.2, -0.2]], "margin")
    with pytest.raises(ValueError, match="method.*'variance'"):
        active.uncertainty([[0.5, 0.5]], "variance")
    with pytest.raises(ValueError, match="probs must be 2-D"):
        active.uncertainty([0.5, 0.5], "least_confident")


# --------------------------------------------------------------------------------------------- queries
def test_top_k_returns_highest_first_and_breaks_ties_by_index():
    s = np.array([0.1, 0.9, 0.5, 0.9, 0.0])
    assert active.query_top_k(s, 3).tolist() == [1, 3, 2]
    assert active.query_top_k(s, 5).tolist() == [1, 3, 2, 0, 4]


def test_query_random_is_seeded_and_distinct():
    a = active.query_random(100, 10, random_state=3)
    assert len(set(a.tolist())) == 10
    assert a.tolist() == active.query_random(100, 10, random_state=3).tolist()
    with pytest.raises(ValueError, match="k must be <= .* 100, got 101"):
        active.query_random(100, 101)


def test_boltzmann_probabilities_sign_and_limits():
    s = np.array([0.0, 0.5, 1.0, 2.0])
    p = active.boltzmann_probabilities(s, 3.0)
    assert np.isclose(p.sum(), 1) and np.all(np.diff(p) > 0)  # more uncertain -> more likely (ERRATA sign)
    np.testing.assert_allclose(active.boltzmann_probabilities(s, 0.0), 0.25)  # beta = 0: random
    np.testing.assert_allclose(active.boltzmann_probabilities(s, np.inf), [0, 0, 0, 1])  # argmax
    doc = active.boltzmann_probabilities(s, -3.0)  # the document's exp(-beta U)
    assert np.all(np.diff(doc) < 0)


def test_query_boltzmann_limits_match_random_and_top_k():
    rng = np.random.default_rng(0)
    s = rng.random(50)
    assert active.query_boltzmann(s, 5, beta=np.inf).tolist() == active.query_top_k(s, 5).tolist()
    # beta = 0: every index is equally likely to be drawn
    counts = np.zeros(50)
    for seed in range(2000):
        counts[active.query_boltzmann(s, 1, beta=0.0, random_state=seed)] += 1
    assert counts.min() > 15 and counts.max() < 70  # expectation 40 per index
    picked = active.query_boltzmann(s, 10, beta=2.0, random_state=1)
    assert len(set(picked.tolist())) == 10


def test_query_boltzmann_single_draw_matches_softmax():
    s = np.array([0.0, 1.0, 2.0])
    beta = 1.0
    draws = np.array([active.query_boltzmann(s, 1, beta=beta, random_state=i)[0] for i in range(6000)])
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, active.boltzmann_probabilities(s, beta), atol=0.02)


def test_query_boltzmann_rejects_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        active.query_boltzmann([0.1, 0.2], 1, beta=float("nan"))
    with pytest.raises(ValueError, match="beta"):
        active.boltzmann_probabilities([0.1, 0.2], "hot")


def test_vote_entropy():
    votes = np.array([[0, 1, 2], [0, 1, 0], [0, 2, 1], [0, 2, 2]])
    ve = active.vote_entropy(votes, n_classes=3)
    np.testing.assert_allclose(ve, [0.0, np.log(2), entropy([0.25, 0.25, 0.5])])
    with pytest.raises(ValueError, match="n_classes is 2"):
        active.vote_entropy(votes, n_classes=2)


def test_kcenter_picks_far_apart_points():
    X_lab = np.array([[0.0, 0.0]])
    X_un = np.array([[0.1, 0.0], [10.0, 0.0], [10.1, 0.0], [0.0, 10.0], [5.0, 5.0]])
    picked = active.query_kcenter(X_un, X_lab, 2).tolist()
    assert picked[0] == 2  # farthest from the labelled point (10.1 > 10)
    assert picked[1] == 3  # then farthest from both: (0, 10), not the near-duplicate (10, 0)
    assert len(set(active.query_kcenter(X_un, np.empty((0, 2)), 5).tolist())) == 5


def test_committee_votes_shape_and_classes(blobs):
    X, y, _, _ = blobs
    votes, classes = active.bootstrap_committee_votes(lr(), X[:30], y[:30], X[30:], n_members=4,
                                                      random_state=0)
    assert votes.shape == (4, 270) and classes.tolist() == [0, 1, 2]
    assert votes.min() >= 0 and votes.max() <= 2


# ------------------------------------------------------------------------------------------- the loop
@pytest.mark.parametrize("strategy", active.STRATEGIES)
def test_run_curve_shape_and_budget(blobs, strategy):
    X, y, Xt, yt = blobs
    curve, labeled = active.run(lr(), X, y, Xt, yt, strategy=strategy, n_initial=10, batch_size=7,
                                budget=40, random_state=0, n_members=3, return_labeled=True)
    assert list(curve.columns) == ["n_labeled", "accuracy"]
    assert curve["n_labeled"].tolist() == [10, 17, 24, 31, 38, 40]  # last batch cut to the budget
    assert curve["accuracy"].between(0, 1).all()
    assert len(labeled) == 40 and len(set(labeled.tolist())) == 40


def test_run_seed_set_is_shared_across_strategies_and_reproducible(blobs):
    X, y, Xt, yt = blobs
    kw = dict(n_initial=12, batch_size=5, budget=22, random_state=7, return_labeled=True)
    c1, a = active.run(lr(), X, y, Xt, yt, strategy="entropy", **kw)
    c2, b = active.run(lr(), X, y, Xt, yt, strategy="entropy", **kw)
    _, r = active.run(lr(), X, y, Xt, yt, strategy="random", **kw)
    pd.testing.assert_frame_equal(c1, c2)
    assert a.tolist() == b.tolist()
    assert a[:12].tolist() == r[:12].tolist()


def test_oracle_returns_true_labels(blobs):
    """The model trained inside run() must equal one trained on the true labels of the queried rows."""
    X, y, Xt, yt = blobs
    curve, labeled = active.run(lr(), X, y, Xt, yt, strategy="margin", n_initial=10, batch_size=10,
                                budget=30, random_state=1, return_labeled=True)
    acc = lr().fit(X[labeled], y[labeled]).score(Xt, yt)
    assert curve["accuracy"].iloc[-1] == pytest.approx(acc)


def test_uncertainty_sampling_queries_near_the_boundary(blobs):
    X, y, Xt, yt = blobs
    learner = active.ActiveLearner(lr(), X, strategy="entropy", random_state=0)
    first = active.initial_indices(len(X), 15, random_state=0)
    learner.teach(first, y[first])
    picked = learner.query(10)
    pool = learner.unlabeled()
    h_pool = active.uncertainty(learner.model.predict_proba(X[pool]), "entropy")
    h_picked = active.uncertainty(learner.model.predict_proba(X[picked]), "entropy")
    assert h_picked.min() >= np.sort(h_pool)[-10] - 1e-12


def test_callable_strategy_is_used(blobs):
    X, y, Xt, yt = blobs
    calls = []

    def first_rows(model, X_unlabeled, X_labeled, y_labeled, k, rng):
        calls.append(len(X_unlabeled))
        return np.arange(k)

    active.run(lr(), X, y, Xt, yt, strategy=first_rows, n_initial=10, batch_size=10, budget=30, random_state=0)
    assert calls == [290, 280]


def test_bad_callable_strategy_is_reported(blobs):
    X, y, Xt, yt = blobs
    with pytest.raises(ValueError, match="strategy must return 5 distinct indices"):
        active.run(lr(), X, y, Xt, yt, strategy=lambda *a: np.zeros(5, dtype=int), n_initial=10,
                   batch_size=5, budget=20, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(budget=301), "budget must be <= the pool size 300, got 301"),
        (dict(batch_size=0), "batch_size must be >= 1, got 0"),
        (dict(strategy="greedy"), "strategy must be one of .* got 'greedy'"),
        (dict(n_initial=50, budget=40), "n_initial must be <= budget"),
        (dict(n_initial=0), "n_initial must be >= 1, got 0"),
    ],
)
def test_run_rejects_bad_input(blobs, kwargs, message):
    X, y, Xt, yt = blobs
    args = dict(strategy="entropy", n_initial=10, batch_size=5, budget=40, random_state=0) | kwargs
    with pytest.raises(ValueError, match=message):
        active.run(lr(), X, y, Xt, yt, **args)


def test_run_rejects_nan_features(blobs):
    X, y, Xt, yt = blobs
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X_pool contains NaN"):
        active.run(lr(), X, y, Xt, yt, strategy="random", n_initial=10, batch_size=5, budget=20)


def test_single_class_seed_set_is_an_error():
    X = np.arange(20, dtype=float).reshape(10, 2)
    learner = active.ActiveLearner(lr(), X)
    with pytest.raises(ValueError, match="single class"):
        learner.teach([0, 1], [0, 0])


def test_teach_rejects_repeats(blobs):
    X, y, _, _ = blobs
    learner = active.ActiveLearner(lr(), X, random_state=0)
    learner.teach([0, 1, 2, 3, 4, 5], y[:6])
    with pytest.raises(ValueError, match="already labelled"):
        learner.teach([3], y[[3]])


# ------------------------------------------------------------------------------- compare / efficiency
def test_compare_tidy_and_paired(blobs):
    X, y, Xt, yt = blobs
    res = active.compare(lr(), X, y, Xt, yt, strategies=["random", "entropy"], n_repeats=2, n_initial=10,
                         batch_size=10, budget=30, random_state=0)
    assert list(res.columns) == ["strategy", "repeat", "n_labeled", "accuracy"]
    assert len(res) == 2 * 2 * 3
    first = res[res["n_labeled"] == 10].groupby("repeat")["accuracy"].nunique()
    assert (first == 1).all()  # same seed set within a repeat -> same starting accuracy


def test_compare_accepts_a_mapping_and_rejects_unknown(blobs):
    X, y, Xt, yt = blobs
    res = active.compare(lr(), X, y, Xt, yt, strategies={"b0": active.boltzmann_strategy(0.0)},
                         n_repeats=1, n_initial=10, batch_size=10, budget=20)
    assert set(res["strategy"]) == {"b0"}
    with pytest.raises(ValueError, match="'nope'"):
        active.compare(lr(), X, y, Xt, yt, strategies=["random", "nope"], n_initial=10, batch_size=10,
                       budget=20)


def test_labels_to_reach():
    curve = pd.DataFrame({"n_labeled": [10, 20, 30, 40], "accuracy": [0.5, 0.8, 0.79, 0.9]})
    assert active.labels_to_reach(curve, 0.8) == 20
    assert active.labels_to_reach(curve, 0.9) == 40
    assert active.labels_to_reach(curve, 0.95) is None
    with pytest.raises(ValueError, match="target"):
        active.labels_to_reach(curve, 95)


def test_label_efficiency_median_and_ratio():
    rows = []
    for strategy, hits in {"random": [40, 60, None], "entropy": [20, 30, 20]}.items():
        for r, hit in enumerate(hits):
            for n in (10, 20, 30, 40, 50, 60):
                rows.append((strategy, r, n, 0.9 if hit is not None and n >= hit else 0.5))
    res = pd.DataFrame(rows, columns=["strategy", "repeat", "n_labeled", "accuracy"])
    table = active.label_efficiency(res, 0.85).set_index("strategy")
    assert table.loc["random", "reached"] == 2 and table.loc["random", "median_labels"] == 60
    assert table.loc["entropy", "median_labels"] == 20
    assert table.loc["entropy", "ratio"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="baseline 'passive'"):
        active.label_efficiency(res, 0.85, baseline="passive")


# ---------------------------------------------------------------------------------- document 003 loop
def test_document_loop_random_oracle_and_double_calls(blobs):
    X, y, Xt, yt = blobs
    doc, calls = errata.document_loop(X, y, Xt, yt, n_steps=30, n_initial=10, random_state=0)
    assert calls == 60  # label_strategy called twice per step
    fixed, calls1 = errata.document_loop(X, y, Xt, yt, n_steps=30, n_initial=10, oracle="true",
                                         label_calls=1, retrain="all", score="entropy", random_state=0)
    assert calls1 == 30
    assert list(doc.columns) == ["step", "n_labeled", "accuracy", "no_candidate"] and len(doc) == 31
    assert fixed["accuracy"].iloc[-1] > doc["accuracy"].iloc[-1]
    with pytest.raises(ValueError, match="oracle"):
        errata.document_loop(X, y, Xt, yt, oracle="human")


def test_compare_parallel_matches_serial_and_returns_labeled(blobs):
    X, y, Xt, yt = blobs
    kw = dict(strategies=["random", "qbc"], n_repeats=2, n_initial=10, batch_size=10, budget=30,
              random_state=3, n_members=3, return_labeled=True)
    serial, bought = active.compare(lr(), X, y, Xt, yt, n_jobs=1, **kw)
    parallel, _ = active.compare(lr(), X, y, Xt, yt, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(serial, parallel)
    assert list(bought.columns) == ["strategy", "repeat", "order", "pool_index"]
    assert len(bought) == 2 * 2 * 30
    assert bought.groupby(["strategy", "repeat"])["pool_index"].nunique().eq(30).all()


# ---------------------------------------------------------------------------------------------- widgets
@pytest.fixture(scope="module")
def digits_small():
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data / 16.0
    return X[:400], d.target[:400], d.images[:400], X[1500:], d.target[1500:]


def test_active_explorer_update_runs_and_validates(digits_small):
    from labkit import widgets

    X, y, _, Xt, yt = digits_small
    explorer = widgets.active_explorer(lr(), X, y, Xt, yt, n_initial=20, budget=60, batch_size=20,
                                       strategy="margin", n_repeats=1, target=0.5, max_budget=400)
    assert {c.description for c in (explorer.budget, explorer.batch_size, explorer.strategy, explorer.beta,
                                     explorer.button)} == {"budget", "batch size", "strategy", "β", "run"}
    table = explorer.update(strategy="boltzmann", beta=3.0)
    assert table["strategy"].tolist() == ["random", "boltzmann (β=3)"]
    assert explorer.strategy.value == "boltzmann" and explorer.last_table is table
    explorer.button.click()  # the button calls the same update
    with pytest.raises(ValueError, match="budget=5000 is outside"):
        explorer.update(budget=5000)
    with pytest.raises(ValueError, match="strategy must be one of"):
        explorer.update(strategy="greedy")


def test_oracle_game_answers_retrain_and_count_agreement(digits_small):
    from labkit import widgets

    X, y, images, Xt, yt = digits_small
    game = widgets.oracle_game(lr(), X, y, images, Xt, yt, class_names=[str(i) for i in range(10)],
                               n_initial=20, batch_size=3, random_state=0)
    assert [b.description for b in game.buttons] == [str(i) for i in range(10)]
    first = game.current
    game.answer(int(y[first]))             # right
    game.buttons[(int(y[game.current]) + 1) % 10].click()  # a click, and a wrong label
    assert game.history[-1][0] == 20       # no retrain before the batch is complete
    game.answer(int(y[game.current]))
    assert game.history[-1][0] == 23 and len(game.history) == 2
    assert game.agreement == (2, 3)
    assert first in game.learner.labeled
    with pytest.raises(ValueError, match="label must be a class index"):
        game.answer(10)


# ------------------------------------------------------------------------------- one selection core, speed
def test_query_functions_use_the_select_core():
    from labkit import select

    assert active.query_random(50, 7, random_state=4).tolist() == select.random_subset(50, 7, random_state=4).tolist()
    s = np.array([0.5, 0.9, 0.9, 0.9, 0.1])  # three tied at the boundary of k=2: the lower indices win
    assert active.query_top_k(s, 2).tolist() == select.top_k(s, 2).tolist() == [1, 2]
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        active.query_top_k(s, 0)
    with pytest.raises(ValueError, match="k=6 exceeds"):
        active.query_random(5, 6)


def _eager_kcenter(Xu, Xl, k):
    """The k-center loop that re-measures every row after every pick (the reference for the lazy one)."""
    Xu, Xl = Xu.astype(np.float32), Xl.astype(np.float32)
    sq = np.einsum("ij,ij->i", Xu, Xu)
    if len(Xl):
        nearest = np.full(len(Xu), np.inf, dtype=np.float32)
        for start in range(0, len(Xl), 1024):
            block = Xl[start:start + 1024]
            d = sq[:, None] + np.einsum("ij,ij->i", block, block)[None, :] - 2.0 * (Xu @ block.T)
            nearest = np.minimum(nearest, d.min(axis=1))
    else:
        nearest = ((Xu - Xu.mean(axis=0)) ** 2).sum(axis=1)
    chosen = []
    for _ in range(k):
        j = int(np.argmax(nearest))
        chosen.append(j)
        c = Xu[j]
        nearest = np.minimum(nearest, sq + c @ c - 2.0 * (Xu @ c))
        nearest[chosen] = -np.inf
    return np.array(chosen)


@pytest.mark.parametrize("n", [301, 302, 303, 304])
def test_lazy_kcenter_picks_what_the_eager_loop_picks(n, monkeypatch):
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    X[7] = X[250]  # duplicates and a cluster of near-duplicates
    X[100:140] = X[100] + rng.normal(scale=1e-3, size=(40, 12))
    with threadpool_limits(limits=1, user_api="blas"):
        for labeled in (np.empty((0, 12)), X[:30]):
            pool = X[30:] if len(labeled) else X
            eager = _eager_kcenter(pool, labeled, 60).tolist()
            assert active.query_kcenter(pool, labeled, 60).tolist() == eager
            monkeypatch.setattr(active, "_EAGER_CELLS", 0)  # the lazy loop, which large pools take
            assert active.query_kcenter(pool, labeled, 60).tolist() == eager
            monkeypatch.undo()


def test_float32_pool_is_kept_and_not_copied(blobs):
    X, y, _, _ = blobs
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    learner = active.ActiveLearner(lr(), X32, strategy="entropy", random_state=0)
    assert learner.X_pool.dtype == np.float32 and np.shares_memory(learner.X_pool, X32)
    first = active.initial_indices(len(X), 15, random_state=0)
    learner.teach(first, y[first])
    picked = learner.query(10)
    pool = learner.unlabeled()
    h = active.uncertainty(learner.model.predict_proba(X32[pool]), "entropy")
    assert set(picked.tolist()) == set(pool[select_top(h, 10)].tolist())


def select_top(scores, k):
    from labkit import select

    return select.top_k(scores, k)


def test_builtin_strategies_called_directly_match_the_learner(blobs):
    """The Strategy protocol (arrays) and the learner's by-index route pick the same rows."""
    X, y, _, _ = blobs
    for name in ("random", "margin", "boltzmann", "qbc", "kcenter"):
        learner = active.ActiveLearner(lr(), X, strategy=name, n_members=3, random_state=1)
        first = active.initial_indices(len(X), 20, random_state=2)
        learner.teach(first, y[first])
        state = learner.rng.bit_generator.state
        via_learner = learner.query(8)
        learner.rng.bit_generator.state = state
        pool = learner.unlabeled()
        direct = learner.strategy(learner.model, X[pool], X[learner.labeled], np.asarray(learner.labels), 8,
                                  learner.rng)
        assert via_learner.tolist() == pool[direct].tolist(), name


def reference_committee_votes(estimator, Xl, yl, X, n_members, seed):
    """The committee as its docstring defines it: bootstrap rows drawn first, in member order; each member a
    clone fitted on its rows (or voting for the one class its rows hold), predicting every row of X."""
    from sklearn.base import clone

    rng = np.random.default_rng(seed)
    classes = np.unique(yl)
    draws = [rng.integers(0, len(Xl), size=len(Xl)) for _ in range(n_members)]
    votes = []
    for sample in draws:
        if len(np.unique(yl[sample])) == 1:
            votes.append(np.full(len(X), np.searchsorted(classes, yl[sample][0])))
        else:
            votes.append(np.searchsorted(classes, clone(estimator).fit(Xl[sample], yl[sample]).predict(X)))
    return np.stack(votes)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_committee_votes_match_the_definition_in_workers_and_blocks(blobs, monkeypatch, n_jobs):
    # a block of 256 rows: the 260-row pool is read in two blocks, shared by the members (and the threads)
    monkeypatch.setattr(active, "_BLOCK_BYTES", 256 * 2 * 8)
    X, y, _, _ = blobs
    expected = reference_committee_votes(lr(), X[:40], y[:40], X[40:], 4, 0)
    votes, classes = active.bootstrap_committee_votes(lr(), X[:40], y[:40], X[40:], n_members=4,
                                                      random_state=0, n_jobs=n_jobs)
    assert classes.tolist() == [0, 1, 2]
    assert np.array_equal(votes, expected)


def test_committee_member_with_one_class_votes_for_it_in_workers(blobs):
    X, y, _, _ = blobs
    Xl, yl = X[:4], np.array([0, 0, 0, 1])  # 4 rows: some bootstrap samples hold only class 0
    expected = reference_committee_votes(lr(), Xl, yl, X[4:], 12, 3)
    assert (expected == 0).all(axis=1).any() and not (expected == 0).all()
    votes, _ = active.bootstrap_committee_votes(lr(), Xl, yl, X[4:], n_members=12, random_state=3, n_jobs=2)
    assert np.array_equal(votes, expected)


# ------------------------------------------------------------------------------------- issue 13: bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(y_test=np.zeros(100, dtype=int)), ValueError, "y_test must contain at least 2 classes"),
        (dict(y_test=np.r_[np.nan, np.ones(99)]), ValueError, "y_test contains NaN"),
        (dict(y_pool=np.zeros(299, dtype=int)), ValueError, "y_pool has 299 entries but X_pool has 300"),
        (dict(beta="x"), ValueError, "beta"),
        (dict(beta=float("nan")), ValueError, "beta"),
        (dict(n_members=0), ValueError, "n_members must be >= 1, got 0"),
        (dict(return_labeled="no"), TypeError, "return_labeled must be True or False, got 'no'"),
        (dict(budget=True), TypeError, "budget must be an int, got True"),
        (dict(estimator="svc"), TypeError, "estimator must be a scikit-learn estimator"),
    ],
)
def test_run_names_the_bad_parameter(blobs, kwargs, error, message):
    X, y, Xt, yt = blobs
    args = dict(estimator=lr(), X_pool=X, y_pool=y, X_test=Xt, y_test=yt, strategy="entropy", n_initial=10,
                batch_size=5, budget=20, random_state=0) | kwargs
    with pytest.raises(error, match=message):
        active.run(args.pop("estimator"), args.pop("X_pool"), args.pop("y_pool"), args.pop("X_test"),
                   args.pop("y_test"), **args)


def test_compare_checks_labels_and_flags_up_front(blobs):
    X, y, Xt, yt = blobs
    kw = dict(strategies=["random"], n_repeats=1, n_initial=10, batch_size=10, budget=20)
    with pytest.raises(ValueError, match="y_test must contain at least 2 classes"):
        active.compare(lr(), X, y, Xt, np.ones_like(yt), **kw)
    with pytest.raises(TypeError, match="progress must be True or False, got 'no'"):
        active.compare(lr(), X, y, Xt, yt, progress="no", **kw)
    with pytest.raises(ValueError, match="beta"):
        active.compare(lr(), X, y, Xt, yt, beta="x", **kw)


# ------------------------------------------------ notebook 02's support: validation sets, seeds, user data
def test_eval_sets_score_a_validation_split_beside_the_test_set(blobs):
    X, y, Xt, yt = blobs
    plain = active.run(lr(), X[:200], y[:200], Xt, yt, strategy="entropy", n_initial=10, batch_size=10,
                       budget=50, random_state=3)
    both = active.run(lr(), X[:200], y[:200], Xt, yt, strategy="entropy", n_initial=10, batch_size=10,
                      budget=50, random_state=3, eval_sets={"validation": (X[200:], y[200:])})
    pd.testing.assert_frame_equal(both[["n_labeled", "accuracy"]], plain)  # the test curve is unchanged
    again = active.run(lr(), X[:200], y[:200], X[200:], y[200:], strategy="entropy", n_initial=10,
                       batch_size=10, budget=50, random_state=3)
    np.testing.assert_allclose(both["accuracy_validation"], again["accuracy"])  # same model, other set
    res = active.compare(lr(), X[:200], y[:200], Xt, yt, strategies=["random"], n_repeats=2, n_initial=10,
                         batch_size=20, budget=50, eval_sets={"validation": (X[200:], y[200:])})
    assert list(res.columns) == ["strategy", "repeat", "n_labeled", "accuracy", "accuracy_validation"]
    with pytest.raises(ValueError, match="features"):
        active.run(lr(), X, y, Xt, yt, strategy="random", n_initial=10, batch_size=10, budget=20,
                   eval_sets={"validation": (X[:, :2], y)})
    with pytest.raises(ValueError, match="identifiers"):
        active.compare(lr(), X, y, Xt, yt, n_initial=10, batch_size=10, budget=20,
                       eval_sets={"my set": (X, y)})


def test_seed_indices_hold_two_classes_on_a_rare_positive_class():
    y = np.zeros(300, dtype=int)
    y[:10] = 1  # 3 % positives: most 20-row draws hold only the negative class
    for seed in range(20):
        first = active.seed_indices(y, 20, random_state=seed)
        assert len(first) == 20 and len(set(first.tolist())) == 20 and len(np.unique(y[first])) == 2
    balanced = np.arange(300) % 3  # the first draw is kept when it has two classes: as initial_indices
    np.testing.assert_array_equal(active.seed_indices(balanced, 20, random_state=5),
                                  active.initial_indices(300, 20, random_state=5))
    with pytest.raises(ValueError, match="y_pool must contain at least 2 classes"):
        active.seed_indices(np.zeros(50, dtype=int), 5, random_state=0)


def test_labels_needed_is_the_per_repeat_table_behind_label_efficiency():
    results = pd.DataFrame({"strategy": ["random"] * 6 + ["entropy"] * 6, "repeat": [0, 0, 0, 1, 1, 1] * 2,
                            "n_labeled": [10, 20, 30] * 4,
                            "accuracy": [0.5, 0.7, 0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.9, 0.9, 0.9]})
    needed = active.labels_needed(results, 0.9)
    assert needed.set_index(["strategy", "repeat"]).labels.to_dict() == pytest.approx(
        {("random", 0): 30.0, ("random", 1): np.nan, ("entropy", 0): 20.0, ("entropy", 1): 10.0}, nan_ok=True)
    eff = active.label_efficiency(results, 0.9).set_index("strategy")
    assert eff.loc["random", "reached"] == needed[needed.strategy == "random"].labels.notna().sum()
