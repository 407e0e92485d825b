"""Pool-based active learning (documents 000 §3.1 and 003): score, query, ask the oracle, retrain, repeat.

The pieces are small and separate, in the style of modAL: uncertainty *scores* are pure functions of
predicted probabilities (:func:`uncertainty`, :func:`vote_entropy`); *query* functions turn scores (or
features) into indices (:func:`query_top_k`, :func:`query_boltzmann`, :func:`query_kcenter`,
:func:`query_random`); *strategies* glue a fitted model to a query function; :class:`ActiveLearner` holds
the labelled set; :func:`run` is the loop with a true-label oracle, :func:`compare` runs strategies ×
repeats, and :func:`labels_to_reach` / :func:`label_efficiency` read the resulting learning curves.
Top-k, random subsets and the ``k`` rule come from :mod:`labkit.select`, the kit's one selection core.

ERRATA 003, corrected here: the Boltzmann query probability is ``exp(+β·U)`` (β = 0 is random sampling,
β → ∞ is max-uncertainty); uncertainty is *high* for unsure predictions (not ``sum(p**2)``, a certainty);
the oracle returns the true label, once per sample; the model is retrained on the whole labelled set.
:func:`labkit.errata.document_loop` reproduces the document's loop with each mistake switchable.

Speed: the pool keeps its dtype (a float32 pool stays float32) and a query reads the unlabelled rows by
index, a block at a time, instead of copying them every round. The built-in strategies, and
:func:`query_kcenter` / :func:`qbc_strategy`, use several cores for their big products (exact k-center's
pool × labelled distances, the committee's fits) when asked to with ``n_jobs`` or inside
``joblib.parallel_config(n_jobs=...)``; the picks do not depend on it (for the committee) or only at
the last bit of a distance (k-center).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from labkit._validation import (
    RandomState,
    as_generator,
    check_bool,
    check_choice,
    check_class_labels,
    check_classes,
    check_estimator,
    check_int,
    check_k,
    check_number,
    check_probability_rows,
    check_samples,
    check_vector,
)
from labkit.metrics import entropy
from labkit.select import random_subset, top_k

UNCERTAINTY_METHODS = ("least_confident", "margin", "entropy")
STRATEGIES = ("random", "least_confident", "margin", "entropy", "boltzmann", "qbc", "kcenter")
DEFAULT_BETA = 10.0
DEFAULT_N_MEMBERS = 5

# A strategy picks k rows of the unlabelled pool: (fitted model, X_unlabeled, X_labeled, y_labeled, k, rng)
# -> k distinct indices into X_unlabeled.
Strategy = Callable[..., np.ndarray]

_BLOCK_BYTES = 8 * 2**20  # rows of the pool read per block when scoring it (about 8 MB)
_EAGER_CELLS = 2**20  # k-center on a pool up to this many values re-measures every row after each pick


# --------------------------------------------------------------------------------------------- scores
def uncertainty(probs, method: str = "entropy") -> np.ndarray:
    """Per-row uncertainty of predicted class probabilities; higher means less sure.

    ``"least_confident"``: 1 − max p; ``"margin"``: 1 − (p₁ − p₂), the gap between the two most likely
    classes; ``"entropy"``: Shannon entropy in nats (:func:`labkit.metrics.entropy`). Each is 0 for a
    one-hot prediction and largest for the uniform one. Document 003 §4 uses ``sum(p**2)``, which is the
    opposite: a *certainty* (largest for one-hot predictions).
    """
    check_choice(method, "method", UNCERTAINTY_METHODS)
    p = check_probability_rows(probs, "probs")
    if method == "entropy":
        return entropy(p)
    if method == "least_confident":
        return 1.0 - p.max(axis=1)
    if p.shape[1] == 1:  # one class: the runner-up has probability 0
        return 1.0 - p[:, 0]
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def vote_entropy(votes, n_classes: int | None = None) -> np.ndarray:
    """Query-by-committee disagreement: entropy of each sample's distribution of committee votes.

    ``votes`` is ``(n_members, n_samples)`` of integer class labels in ``[0, n_classes)``. 0 when the
    committee agrees, ``log(n_members)`` at most.
    """
    v = np.asarray(votes)
    if v.ndim != 2 or v.shape[0] < 1:
        raise ValueError(f"votes must be 2-D (n_members, n_samples), got shape {v.shape}")
    if not np.issubdtype(v.dtype, np.integer):
        raise TypeError(f"votes must be integer class labels, got dtype {v.dtype}")
    if v.size and v.min() < 0:
        raise ValueError(f"votes must be non-negative class labels, got a minimum of {v.min()!r}")
    top = int(v.max()) + 1 if v.size else 1
    if n_classes is None:
        n_classes = top
    n_classes = check_int(n_classes, "n_classes", low=1)
    if top > n_classes:
        raise ValueError(f"votes contain label {top - 1} but n_classes is {n_classes}")
    counts = np.zeros((v.shape[1], n_classes))
    for member in v:  # n_members is small; each step is vectorised over the pool
        counts[np.arange(v.shape[1]), member] += 1
    return entropy(counts / v.shape[0])


def boltzmann_probabilities(scores, beta: float) -> np.ndarray:
    """Query probabilities ``P(x) ∝ exp(β·U(x))`` over the pool (softmax of β × uncertainty).

    β = 0 gives uniform (random) sampling and β → ∞ puts all the mass on the most uncertain samples.
    A negative β reproduces document 003 §3's ``exp(−β·U)``, which prefers the *least* uncertain samples.
    """
    s = check_vector(scores, "scores")
    b = _beta(beta)
    if np.isinf(b):
        top = s == (s.max() if b > 0 else s.min())
        return top / top.sum()
    z = b * s
    z = np.exp(z - z.max())
    return z / z.sum()


# -------------------------------------------------------------------------------------------- queries
def query_random(n: int, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """``k`` distinct indices out of ``range(n)``, uniformly at random: the baseline every strategy must beat.

    :func:`labkit.select.random_subset` with a query's rule that at least one sample is asked for.
    """
    n = check_int(n, "n", low=1)
    k = check_k(k, n, minimum=1)
    return random_subset(n, k, random_state=random_state)


def query_top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first (ties: the lower index first).

    :func:`labkit.select.top_k` on finite scores, with a query's rule that at least one sample is asked for.
    """
    s = check_vector(scores, "scores")
    return top_k(s, check_k(k, len(s), n_name="len(scores)", minimum=1))


def query_boltzmann(scores, k: int, *, beta: float = DEFAULT_BETA,
                    random_state: RandomState = None) -> np.ndarray:
    """``k`` distinct indices drawn one after another with probability ∝ ``exp(β·score)`` (ERRATA 003 sign).

    Sampling without replacement uses the Gumbel-top-k trick (top k of ``β·s + Gumbel noise``), which draws
    exactly the same distribution as k successive softmax draws, in one vectorised step.
    β = 0 is random sampling; β = ∞ is :func:`query_top_k`.
    """
    s = check_vector(scores, "scores")
    b = _beta(beta)
    k = check_k(k, len(s), n_name="len(scores)", minimum=1)
    rng = as_generator(random_state)
    if np.isinf(b):
        return top_k(s if b > 0 else -s, k)
    return top_k(b * s + rng.gumbel(size=len(s)), k)


def query_kcenter(X_unlabeled, X_labeled, k: int, *, n_jobs: int | None = None) -> np.ndarray:
    """Greedy k-center (core-set) batch: repeatedly take the pool point farthest from everything chosen.

    Distances are Euclidean in the given feature space (computed in float32); with no labelled points the
    first pick is the point farthest from the pool mean. A diversity-aware batch: no two picks are
    near-duplicates. Exact: the greedy step re-measures a point only when its stale distance could still
    be the largest (lazy evaluation), which picks what re-measuring every point would. ``n_jobs`` BLAS
    threads compute the pool × labelled distances (``None``: 1, or joblib's ``parallel_config``).
    """
    Xu = check_samples(X_unlabeled, "X_unlabeled", dtype=np.float32)
    k = check_k(k, len(Xu), n_name="len(X_unlabeled)", minimum=1)
    Xl = np.asarray(X_labeled)
    if Xl.size:
        Xl = check_samples(Xl, "X_labeled", dtype=np.float32)
        if Xl.shape[1] != Xu.shape[1]:
            raise ValueError(f"X_labeled has {Xl.shape[1]} features but X_unlabeled has {Xu.shape[1]}")
    else:
        Xl = np.empty((0, Xu.shape[1]), dtype=np.float32)
    return _kcenter(np.ascontiguousarray(Xu), Xl, k, _n_threads(n_jobs, cap=None))


def bootstrap_committee_votes(estimator, X_labeled, y_labeled, X, *, n_members: int = DEFAULT_N_MEMBERS,
                              random_state: RandomState = None,
                              n_jobs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``n_members`` clones of ``estimator`` on bootstrap resamples of the labelled set; return their votes.

    Returns ``(votes, classes)``: ``votes[m, i]`` is member m's predicted class for ``X[i]``, as an index
    into ``classes`` (the labels seen in ``y_labeled``). A bootstrap sample with one class votes for it.
    ``n_jobs`` members are fitted at a time in joblib's workers (processes unless ``parallel_config``
    says otherwise; ``None``: 1, or joblib's ``parallel_config``); the votes do not depend on it. A member's
    warnings, such as a ConvergenceWarning, are printed by its worker when it runs in another process.
    """
    check_estimator(estimator, methods=("fit", "predict"))
    n_members = check_int(n_members, "n_members", low=1)
    Xl = check_samples(X_labeled, "X_labeled", dtype=None)
    yl = check_class_labels(y_labeled, "y_labeled", n=len(Xl), n_name="X_labeled", min_classes=1)
    X = check_samples(X, "X", dtype=None)
    if X.shape[1] != Xl.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but X_labeled has {Xl.shape[1]}")
    return _committee_votes(estimator, Xl, yl, X, None, n_members, as_generator(random_state),
                            _n_threads(n_jobs, cap=n_members))


# ---------------------------------------------------------------------------------------- strategies
class _PoolStrategy:
    """A built-in strategy. Called, it follows the :data:`Strategy` protocol; :class:`ActiveLearner` calls
    ``on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng)`` instead, which reads the rows it
    needs from the pool by index (``unlabeled``, ``labeled``: index arrays) rather than from copies."""

    def __init__(self, name: str, on_pool: Callable, doc: str):
        self.__name__ = name
        self.__doc__ = doc
        self.on_pool = on_pool

    def __call__(self, model, X_unlabeled, X_labeled, y_labeled, k, rng) -> np.ndarray:
        X_unlabeled = check_samples(X_unlabeled, "X_unlabeled", dtype=None)
        X_labeled = np.asarray(X_labeled)
        X_labeled = (check_samples(X_labeled, "X_labeled", dtype=None) if X_labeled.size
                     else np.empty((0, X_unlabeled.shape[1]), dtype=X_unlabeled.dtype))
        if X_labeled.shape[1] != X_unlabeled.shape[1]:
            raise ValueError(f"X_labeled has {X_labeled.shape[1]} features but X_unlabeled has "
                             f"{X_unlabeled.shape[1]}")
        y_labeled = np.asarray(y_labeled)
        if len(y_labeled) != len(X_labeled):
            raise ValueError(f"y_labeled has {len(y_labeled)} entries but X_labeled has {len(X_labeled)} rows")
        nu = len(X_unlabeled)
        X_pool = np.concatenate([X_unlabeled, X_labeled]) if len(X_labeled) else X_unlabeled
        return self.on_pool(model, X_pool, np.arange(nu), np.arange(nu, len(X_pool)), y_labeled, k,
                            as_generator(rng, "rng"))

    def __repr__(self) -> str:
        return f"<labkit.active strategy {self.__name__}>"


def _random_on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng):
    return query_random(len(unlabeled), k, random_state=rng)


def _kcenter_on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng, n_jobs=None):
    Xu = _gather(X_pool, unlabeled, np.float32)
    return _kcenter(Xu, _gather(X_pool, labeled, np.float32), check_k(k, len(Xu), minimum=1),
                    _n_threads(n_jobs, cap=None))


random_strategy = _PoolStrategy("random", _random_on_pool,
                                "Passive learning: k unlabelled samples uniformly at random.")
kcenter_strategy = _PoolStrategy("kcenter", _kcenter_on_pool,
                                 "Diversity only: greedy k-center on the input features (ignores the model).")


def uncertainty_strategy(method: str = "entropy") -> Strategy:
    """Top-k by :func:`uncertainty` of the model's ``predict_proba`` (uncertainty sampling, 000 §3.1)."""
    check_choice(method, "method", UNCERTAINTY_METHODS)

    def on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng):
        return query_top_k(uncertainty(_predict_rows(model.predict_proba, X_pool, unlabeled), method), k)

    return _PoolStrategy(method, on_pool, uncertainty_strategy.__doc__)


def boltzmann_strategy(beta: float = DEFAULT_BETA, method: str = "entropy") -> Strategy:
    """Softmax sampling ∝ ``exp(β·U)`` with U the model's :func:`uncertainty` (003 §3, sign corrected)."""
    beta = _beta(beta)
    check_choice(method, "method", UNCERTAINTY_METHODS)

    def on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng):
        scores = uncertainty(_predict_rows(model.predict_proba, X_pool, unlabeled), method)
        return query_boltzmann(scores, k, beta=beta, random_state=rng)

    return _PoolStrategy(f"boltzmann(beta={beta:g})", on_pool, boltzmann_strategy.__doc__)


def qbc_strategy(n_members: int = DEFAULT_N_MEMBERS, *, n_jobs: int | None = None) -> Strategy:
    """Query-by-committee: top-k vote entropy of a bootstrap committee of clones of the model.

    ``n_jobs`` committee members are fitted at a time in joblib's workers (``None``: 1, or joblib's
    ``parallel_config``); the picks do not depend on it.
    """
    n_members = check_int(n_members, "n_members", low=1)
    if n_jobs is not None:
        _n_threads(n_jobs, cap=None)

    def on_pool(model, X_pool, unlabeled, labeled, y_labeled, k, rng):
        votes, classes = _committee_votes(model, X_pool[labeled], np.asarray(y_labeled), X_pool, unlabeled,
                                          n_members, rng, _n_threads(n_jobs, cap=n_members))
        return query_top_k(vote_entropy(votes, len(classes)), k)

    return _PoolStrategy(f"qbc(n_members={n_members})", on_pool, qbc_strategy.__doc__)


def get_strategy(strategy: str | Strategy, *, beta: float = DEFAULT_BETA,
                 n_members: int = DEFAULT_N_MEMBERS) -> Strategy:
    """A strategy callable from a name in :data:`STRATEGIES` (``beta``/``n_members`` for boltzmann/qbc).

    ``beta`` and ``n_members`` are checked whatever the strategy, so a typo is never ignored silently.
    """
    _beta(beta)
    check_int(n_members, "n_members", low=1)
    if callable(strategy):
        return strategy
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES} or a callable, got {strategy!r}")
    if strategy == "random":
        return random_strategy
    if strategy in UNCERTAINTY_METHODS:
        return uncertainty_strategy(strategy)
    if strategy == "boltzmann":
        return boltzmann_strategy(beta)
    if strategy == "qbc":
        return qbc_strategy(n_members)
    return kcenter_strategy


# ------------------------------------------------------------------------------------------- learner
class ActiveLearner:
    """A model plus the labelled part of a pool: ``query`` asks which samples to label, ``teach`` adds labels.

    The labels come from whoever answers the query: :func:`run` uses the true labels (a perfect oracle),
    the "be the oracle" widget uses a person's clicks. Every ``teach`` refits a fresh clone of
    ``estimator`` on *all* labelled samples (ERRATA 003: not one sample at a time). The pool keeps its
    float dtype (float32 stays float32) and is never copied per round: a mask marks the labelled rows.
    """

    def __init__(self, estimator, X_pool, *, strategy: str | Strategy = "entropy",
                 beta: float = DEFAULT_BETA, n_members: int = DEFAULT_N_MEMBERS,
                 random_state: RandomState = None):
        self.estimator = check_estimator(estimator, methods=("fit", "predict"))
        self.X_pool = check_samples(X_pool, "X_pool", dtype=None)
        self.strategy = get_strategy(strategy, beta=beta, n_members=n_members)
        self.rng = as_generator(random_state)
        self.labeled: list[int] = []
        self.labels: list = []
        self.model = None
        self._is_labeled = np.zeros(len(self.X_pool), dtype=bool)

    @property
    def n_labeled(self) -> int:
        return len(self.labeled)

    def unlabeled(self) -> np.ndarray:
        """Pool indices not labelled yet, ascending."""
        return np.flatnonzero(~self._is_labeled)

    def teach(self, indices, labels) -> None:
        """Add the labelled samples ``X_pool[indices]`` and refit the model on every label so far."""
        from sklearn.base import clone

        idx = np.asarray(indices, dtype=np.intp).reshape(-1)
        lab = np.asarray(labels).reshape(-1)
        if len(idx) != len(lab):
            raise ValueError(f"labels has {len(lab)} entries but indices has {len(idx)}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.X_pool)):
            raise ValueError(f"indices must lie in [0, {len(self.X_pool)}), got {idx.min()}..{idx.max()}")
        repeated = [int(i) for i in idx if self._is_labeled[i]]
        if repeated or len(set(idx.tolist())) != len(idx):
            raise ValueError(f"indices must be new, distinct pool rows; already labelled or repeated: "
                             f"{repeated[:5] or idx.tolist()[:5]}")
        y = np.asarray(self.labels + lab.tolist())
        if len(np.unique(y)) < 2:
            raise ValueError(f"the labelled set would have a single class ({y[0]!r}); a classifier needs "
                             "two — label more samples at once (e.g. a larger n_initial)")
        self.labeled.extend(int(i) for i in idx)
        self.labels.extend(lab.tolist())
        self._is_labeled[idx] = True
        warm = (getattr(self.estimator, "warm_start", False) and self.model is not None
                and np.array_equal(getattr(self.model, "classes_", None), np.unique(y)))
        if not warm:
            self.model = clone(self.estimator)
        # refit on every label so far; a warm_start estimator starts from its last solution (faster),
        # unless a new class appeared
        self.model.fit(self.X_pool[self.labeled], y)

    def query(self, k: int) -> np.ndarray:
        """Pool indices of the next ``k`` samples to label, chosen by the strategy."""
        if self.model is None:
            raise ValueError("the learner has no labels yet: call teach(...) with an initial labelled set")
        pool = self.unlabeled()
        k = check_k(k, len(pool), name="batch_size", n_name="the number of unlabelled samples", minimum=1)
        on_pool = getattr(self.strategy, "on_pool", None)
        labeled = np.asarray(self.labeled, dtype=np.intp)
        if on_pool is not None:  # a built-in strategy: reads the pool by index
            picked = on_pool(self.model, self.X_pool, pool, labeled, np.asarray(self.labels), k, self.rng)
        else:  # a user's strategy gets the Strategy protocol's arrays
            picked = self.strategy(self.model, self.X_pool[pool], self.X_pool[labeled], np.asarray(self.labels),
                                   k, self.rng)
        picked = np.asarray(picked, dtype=np.intp)
        if picked.shape != (k,) or len(np.unique(picked)) != k or picked.min() < 0 or picked.max() >= len(pool):
            raise ValueError(f"strategy must return {k} distinct indices into the unlabelled pool "
                             f"(0..{len(pool) - 1}), got {picked!r}")
        return pool[picked]

    def score(self, X, y) -> float:
        """Accuracy of the current model on ``(X, y)``."""
        if self.model is None:
            raise ValueError("the learner has no labels yet: call teach(...) first")
        return float(np.mean(self.model.predict(X) == np.asarray(y)))


# ----------------------------------------------------------------------------------------- the loop
def initial_indices(n_pool: int, n_initial: int, *, random_state: RandomState = None) -> np.ndarray:
    """The seed set: ``n_initial`` pool rows at random (labels are not looked at before they are bought)."""
    n_pool = check_int(n_pool, "n_pool", low=1)
    n_initial = check_k(n_initial, n_pool, name="n_initial", n_name="n_pool", minimum=1)
    return query_random(n_pool, n_initial, random_state=random_state)


def seed_indices(y_pool, n_initial: int, *, random_state: RandomState = None,
                 max_draws: int = 1000) -> np.ndarray:
    """A seed set of ``n_initial`` random pool rows that holds at least two classes (a classifier needs two).

    The first draw of :func:`initial_indices` is kept when it has two classes (always, on a balanced pool
    such as digits); otherwise it is drawn again — on a rare positive class (10 % fraud) 20 random rows hold
    no positive about one time in eight. Raises ``ValueError`` after ``max_draws`` draws.
    """
    y_pool = check_classes(y_pool, "y_pool", min_classes=2)
    max_draws = check_int(max_draws, "max_draws", low=1)
    rng = as_generator(random_state)
    for _ in range(max_draws):
        first = initial_indices(len(y_pool), n_initial, random_state=rng)
        if len(np.unique(y_pool[first])) >= 2:
            return first
    raise ValueError(f"no random seed set of n_initial={n_initial} rows held two classes in {max_draws} draws; "
                     "raise n_initial")


def _check_loop_data(estimator, X_pool, y_pool, X_test, y_test):
    """The pool and test set of :func:`run` / :func:`compare`: finite features (float dtype kept), labels
    with two classes or more, matching lengths and feature counts."""
    check_estimator(estimator, methods=("fit", "predict"))
    X_pool = check_samples(X_pool, "X_pool", dtype=None)
    y_pool = check_class_labels(y_pool, "y_pool", n=len(X_pool), n_name="X_pool")
    X_test = check_samples(X_test, "X_test", dtype=None)
    y_test = check_class_labels(y_test, "y_test", n=len(X_test), n_name="X_test")
    if X_test.shape[1] != X_pool.shape[1]:
        raise ValueError(f"X_test has {X_test.shape[1]} features but X_pool has {X_pool.shape[1]}")
    return X_pool, y_pool, X_test, y_test


def _check_budget(n_pool: int, n_initial, batch_size, budget) -> tuple[int, int, int]:
    n_initial = check_int(n_initial, "n_initial", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    budget = check_int(budget, "budget", low=1)
    if budget > n_pool:
        raise ValueError(f"budget must be <= the pool size {n_pool}, got {budget}")
    if n_initial > budget:
        raise ValueError(f"n_initial must be <= budget ({budget}), got {n_initial}")
    return n_initial, batch_size, budget


def run(estimator, X_pool, y_pool, X_test, y_test, *, strategy: str | Strategy, n_initial: int,
        batch_size: int, budget: int, random_state: RandomState = None, beta: float = DEFAULT_BETA,
        n_members: int = DEFAULT_N_MEMBERS, return_labeled: bool = False,
        eval_sets: Mapping[str, tuple] | None = None):
    """Pool-based active learning with a true-label oracle; the learning curve as ``DataFrame(n_labeled, accuracy)``.

    Start from ``n_initial`` random pool samples, then repeatedly query ``batch_size`` samples with
    ``strategy``, reveal their true labels ``y_pool[idx]``, refit on everything labelled and record test
    accuracy, until ``budget`` labels (initial ones included) are spent; the last batch is cut to fit.
    The seed set depends on ``random_state`` only, so strategies run with the same seed start alike.
    ``return_labeled=True`` also returns the pool indices in the order they were labelled.
    ``beta`` (boltzmann) and ``n_members`` (qbc) are checked even for strategies that do not use them.
    ``eval_sets`` (``{"validation": (X_val, y_val)}``) are scored after every round too, as columns
    ``accuracy_<name>``: a validation split to choose a setting on, with the test set left for reporting.
    """
    X_pool, y_pool, X_test, y_test = _check_loop_data(estimator, X_pool, y_pool, X_test, y_test)
    n_initial, batch_size, budget = _check_budget(len(X_pool), n_initial, batch_size, budget)
    check_bool(return_labeled, "return_labeled")
    extra = _check_eval_sets(eval_sets, X_pool)
    rng = as_generator(random_state)
    learner = ActiveLearner(estimator, X_pool, strategy=strategy, beta=beta, n_members=n_members,
                            random_state=rng)

    # One BLAS thread: the fits here are small, and on a busy CPU extra BLAS threads made the L-BFGS
    # steps of LogisticRegression ~10x slower (measured on a 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        first = seed_indices(y_pool, n_initial, random_state=rng)
        learner.teach(first, y_pool[first])

        def scores():
            return (learner.n_labeled, learner.score(X_test, y_test),
                    *(learner.score(X, y) for X, y in extra.values()))

        rows = [scores()]
        while learner.n_labeled < budget:
            idx = learner.query(min(batch_size, budget - learner.n_labeled))
            learner.teach(idx, y_pool[idx])  # the oracle: true labels, asked once per sample
            rows.append(scores())

    curve = pd.DataFrame(rows, columns=["n_labeled", "accuracy", *(f"accuracy_{name}" for name in extra)])
    if return_labeled:
        return curve, np.asarray(learner.labeled, dtype=np.intp)
    return curve


def compare(estimator, X_pool, y_pool, X_test, y_test, *,
            strategies: Sequence[str | Strategy] | Mapping[str, str | Strategy] = STRATEGIES,
            n_repeats: int = 5, n_initial: int, batch_size: int, budget: int,
            random_state: RandomState = 0, beta: float = DEFAULT_BETA, n_members: int = DEFAULT_N_MEMBERS,
            n_jobs: int | None = None, progress: bool = False, return_labeled: bool = False,
            eval_sets: Mapping[str, tuple] | None = None):
    """Run every strategy ``n_repeats`` times; one tidy DataFrame (strategy, repeat, n_labeled, accuracy).

    ``strategies``: names, or a mapping ``label -> name or callable`` (e.g. a β sweep). Repeat r uses the
    same seed for every strategy, so they share the seed set and differences are paired.
    ``n_jobs`` runs the (independent) runs in parallel processes with joblib (``-1``: every core), or on
    the Dask cluster named by ``$LABKIT_CLUSTER`` (see :mod:`labkit.parallel`); the results do not depend on it. ``return_labeled=True`` also returns a tidy DataFrame
    (strategy, repeat, order, pool_index) of the labelled pool rows in the order they were bought.
    ``eval_sets``: as in :func:`run` (extra ``accuracy_<name>`` columns, e.g. a validation split).
    """
    from labkit.parallel import run_jobs

    n_repeats = check_int(n_repeats, "n_repeats", low=1)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("n_jobs must be a positive number of processes, -1 (every core) or None, got 0")
    check_bool(progress, "progress")
    check_bool(return_labeled, "return_labeled")
    if isinstance(strategies, str):
        raise TypeError(f"strategies must be a sequence or mapping of strategies, got the string "
                        f"{strategies!r} (wrap it in a list)")
    if isinstance(strategies, Mapping):
        items = list(strategies.items())
    else:
        items = [(s if isinstance(s, str) else getattr(s, "__name__", repr(s)), s) for s in strategies]
    if not items:
        raise ValueError("strategies must not be empty")
    labels = [label for label, _ in items]
    if len(set(labels)) != len(labels):
        raise ValueError(f"strategies must have distinct labels, got {labels}")
    for _, s in items:
        if not callable(s) and s not in STRATEGIES:
            raise ValueError(f"strategies must be drawn from {STRATEGIES} or be callables, got {s!r}")
        get_strategy(s, beta=beta, n_members=n_members)  # fail before any work on a bad beta or n_members
    X_pool, y_pool, X_test, y_test = _check_loop_data(estimator, X_pool, y_pool, X_test, y_test)
    _check_budget(len(X_pool), n_initial, batch_size, budget)
    extra = _check_eval_sets(eval_sets, X_pool)
    seeds = as_generator(random_state).integers(0, 2**31 - 1, size=n_repeats)
    jobs = [(label, s, r) for r in range(n_repeats) for label, s in items]

    def one(s, r):
        return run(estimator, X_pool, y_pool, X_test, y_test, strategy=s, n_initial=n_initial,
                   batch_size=batch_size, budget=budget, random_state=int(seeds[r]), beta=beta,
                   n_members=n_members, return_labeled=True, eval_sets=extra or None)

    outputs = run_jobs(one, [(s, r) for _, s, r in jobs], n_jobs=n_jobs, desc="active learning runs",
                       progress=progress)
    curves, bought = [], []
    for (label, _, r), (curve, labeled) in zip(jobs, outputs, strict=True):
        curves.append(curve.assign(strategy=label, repeat=r))
        bought.append(pd.DataFrame({"strategy": label, "repeat": r, "order": np.arange(len(labeled)),
                                    "pool_index": labeled}))
    results = pd.concat(curves, ignore_index=True)[["strategy", "repeat", "n_labeled", "accuracy",
                                                    *(f"accuracy_{name}" for name in extra)]]
    if return_labeled:
        return results, pd.concat(bought, ignore_index=True)
    return results


def _check_eval_sets(eval_sets, X_pool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (X, y)}`` scored beside the test set; names become column suffixes."""
    if eval_sets is None:
        return {}
    if not isinstance(eval_sets, Mapping):
        raise TypeError(f"eval_sets must be a mapping name -> (X, y), got {type(eval_sets).__name__}")
    out = {}
    for name, pair in eval_sets.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"eval_sets names must be identifiers (they become column names), got {name!r}")
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"eval_sets[{name!r}] must be an (X, y) pair, got {type(pair).__name__}")
        X = check_samples(pair[0], f"eval_sets[{name!r}] X", dtype=None)
        y = check_class_labels(pair[1], f"eval_sets[{name!r}] y", n=len(X), n_name="its X")
        if X.shape[1] != X_pool.shape[1]:
            raise ValueError(f"eval_sets[{name!r}] has {X.shape[1]} features but X_pool has {X_pool.shape[1]}")
        out[name] = (X, y)
    return out


def labels_to_reach(curve: pd.DataFrame, target: float) -> int | None:
    """The first ``n_labeled`` at which ``accuracy >= target``; ``None`` if the curve never gets there."""
    if not isinstance(curve, pd.DataFrame) or not {"n_labeled", "accuracy"} <= set(curve.columns):
        raise ValueError("curve must be a DataFrame with columns 'n_labeled' and 'accuracy'")
    target = check_number(target, "target", low=0.0, high=1.0)
    ordered = curve.sort_values("n_labeled")
    hit = ordered.loc[ordered["accuracy"] >= target, "n_labeled"]
    return int(hit.iloc[0]) if len(hit) else None


def labels_needed(results: pd.DataFrame, target: float) -> pd.DataFrame:
    """Tidy ``(strategy, repeat, labels)``: the labels each run needed to reach ``target`` accuracy (NaN: it
    never got there within its budget) — the per-repeat numbers behind :func:`label_efficiency`, for a
    bootstrap interval of its ratio (:func:`labkit.lesson.ratio_interval`)."""
    need = {"strategy", "repeat", "n_labeled", "accuracy"}
    if not isinstance(results, pd.DataFrame) or not need <= set(results.columns):
        raise ValueError(f"results must be a DataFrame with columns {sorted(need)}")
    target = check_number(target, "target", low=0.0, high=1.0)
    rows = []
    for (strategy, repeat), curve in results.groupby(["strategy", "repeat"], sort=False):
        n = labels_to_reach(curve, target)
        rows.append({"strategy": strategy, "repeat": repeat, "labels": np.nan if n is None else float(n)})
    return pd.DataFrame(rows, columns=["strategy", "repeat", "labels"])


def label_efficiency(results: pd.DataFrame, target: float, *, baseline: str = "random") -> pd.DataFrame:
    """Labels each strategy needs to reach ``target`` accuracy, and the ratio to ``baseline``.

    ``results`` is :func:`compare`'s output. Per strategy: how many repeats reached the target, the median
    labels needed (a repeat that never reached it counts as "more than its budget", so the median is only
    given when at least half reached it), and ``ratio`` = median / baseline median (below 1 = fewer labels).
    """
    need = {"strategy", "repeat", "n_labeled", "accuracy"}
    if not isinstance(results, pd.DataFrame) or not need <= set(results.columns):
        raise ValueError(f"results must be a DataFrame with columns {sorted(need)}, got "
                         f"{list(getattr(results, 'columns', [type(results).__name__]))}")
    if len(results) == 0:
        raise ValueError("results is empty: there are no learning curves to read")
    target = check_number(target, "target", low=0.0, high=1.0)
    if baseline not in set(results["strategy"]):
        raise ValueError(f"baseline {baseline!r} is not among the strategies {sorted(set(results['strategy']))}")
    rows = []
    for strategy, group in results.groupby("strategy", sort=False):
        needed = [labels_to_reach(curve, target) for _, curve in group.groupby("repeat")]
        reached = np.array([n for n in needed if n is not None], dtype=float)
        padded = np.array([np.inf if n is None else n for n in needed], dtype=float)
        median = float(np.median(padded))
        rows.append({"strategy": strategy, "repeats": len(needed), "reached": len(reached),
                     "median_labels": median if np.isfinite(median) else np.nan,
                     "min_labels": reached.min() if len(reached) else np.nan,
                     "max_labels": reached.max() if len(reached) else np.nan,
                     "budget": int(group["n_labeled"].max())})
    table = pd.DataFrame(rows)
    base = table.loc[table["strategy"] == baseline, "median_labels"].iloc[0]
    table["ratio"] = table["median_labels"] / base
    return table


# ------------------------------------------------------------------------------------------- helpers
def _beta(beta) -> float:
    """β: a real number, ±∞ allowed, not NaN. A ValueError for any bad β (a string included), as before."""
    try:
        return check_number(beta, "beta", finite=False)
    except TypeError as err:
        raise ValueError(f"{err}; beta must be a real number (np.inf allowed)") from None


def _n_threads(n_jobs, *, cap: int | None) -> int:
    """Workers (BLAS threads for k-center, processes for the committee) for ``n_jobs`` (``None``: joblib's
    ``parallel_config``, else 1; ``-1``: every core)."""
    from joblib import effective_n_jobs

    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("n_jobs must be a positive number of workers, -1 (every core) or None, got 0")
    n = max(1, effective_n_jobs(n_jobs))
    return n if cap is None else min(n, cap)


def _block_rows(X: np.ndarray, at_least: int = 256) -> int:
    """How many pool rows make one block of about ``_BLOCK_BYTES`` (and at least ``at_least``)."""
    return max(at_least, _BLOCK_BYTES // max(1, X.shape[1] * X.itemsize))


def _gather(X: np.ndarray, rows: np.ndarray, dtype) -> np.ndarray:
    """``X[rows].astype(dtype)`` without a full-size temporary of the other dtype."""
    if X.dtype == dtype:
        return X[rows]
    out = np.empty((len(rows), X.shape[1]), dtype=dtype)
    step = _block_rows(X, at_least=1)
    for start in range(0, len(rows), step):
        out[start:start + step] = X[rows[start:start + step]]
    return out


def _predict_rows(predict: Callable, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``predict(X[rows])``, a block of rows at a time: the unlabelled pool is never copied whole."""
    step = _block_rows(X)
    if len(rows) <= step:
        return np.asarray(predict(X[rows]))
    first = np.asarray(predict(X[rows[:step]]))
    out = np.empty((len(rows), *first.shape[1:]), dtype=first.dtype)
    out[:step] = first
    for start in range(step, len(rows), step):
        out[start:start + step] = predict(X[rows[start:start + step]])
    return out


def _fit_member(estimator, X: np.ndarray, y: np.ndarray, sample: np.ndarray):
    """A fresh clone of ``estimator`` fitted on the rows ``sample`` of ``(X, y)`` (module level, so
    joblib's workers can call it; the labelled set travels once per query, the samples as indices)."""
    from sklearn.base import clone

    return clone(estimator).fit(X[sample], y[sample])


def _committee_votes(estimator, Xl, yl, X, rows, n_members: int, rng: np.random.Generator,
                     n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    """Votes of a bootstrap committee on ``X[rows]`` (``rows=None``: every row); see
    :func:`bootstrap_committee_votes`. The bootstrap rows are drawn first, in member order, so the
    members can be fitted in any order, or at once in ``n_jobs`` joblib workers, with the same votes.

    With ``n_jobs > 1`` the fits go to joblib's workers (processes by default: a scikit-learn fit holds
    the GIL for much of its time, so threads gave no speed-up) and come back as small fitted members. The
    pool never leaves this process: it is read a block at a time, each block once for all members, in
    ``n_jobs`` threads.
    """
    classes = np.unique(yl)
    rows = np.arange(len(X)) if rows is None else rows
    draws = [rng.integers(0, len(Xl), size=len(Xl)) for _ in range(n_members)]
    seen = [np.unique(yl[sample]) for sample in draws]
    votes = np.empty((n_members, len(rows)), dtype=np.intp)
    for m in range(n_members):
        if len(seen[m]) == 1:  # a bootstrap sample with one class votes for it
            votes[m] = np.searchsorted(classes, seen[m][0])
    to_fit = [m for m in range(n_members) if len(seen[m]) > 1]

    if n_jobs > 1 and len(to_fit) > 1:
        from joblib import Parallel, delayed

        fits = Parallel(n_jobs=min(n_jobs, len(to_fit)))(
            delayed(_fit_member)(estimator, Xl, yl, draws[m]) for m in to_fit)
    else:
        fits = [_fit_member(estimator, Xl, yl, draws[m]) for m in to_fit]
    step = _block_rows(X)

    def vote_block(start: int) -> None:  # one read of a block of pool rows serves every member
        block = X[rows[start:start + step]]
        for m, fitted in zip(to_fit, fits, strict=True):
            votes[m, start:start + step] = np.searchsorted(classes, fitted.predict(block))

    starts = range(0, len(rows), step)
    if n_jobs > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_jobs) as pool:
            list(pool.map(vote_block, starts))
    else:
        for start in starts:
            vote_block(start)
    return votes, classes


def _kcenter(Xu: np.ndarray, Xl: np.ndarray, k: int, n_threads: int) -> np.ndarray:
    """Greedy farthest-first picks of ``k`` rows of ``Xu`` (float32), ``Xl`` already chosen.

    The squared distance of every row to its nearest chosen point starts from ``Xl`` (blocks of 1024
    labelled rows, one product each with the whole of ``Xu``). The greedy loop then evaluates lazily:
    a row's stored distance is an upper bound once later centres exist, and is brought up to date only
    when it is the largest, i.e. when it could be the next pick. A row that is up to date and largest is
    the pick of the eager loop that re-measures every row after every centre; ties go to the lower index.
    The per-centre products are computed as the eager loop's single product over ``Xu`` computes them
    (OpenBLAS's matrix-vector kernel treats rows in groups of four and the last ``n % 4`` rows apart), so
    the distances agree bit for bit. A small pool (up to ``_EAGER_CELLS`` values) takes the eager loop.
    """
    n = len(Xu)
    sq = np.einsum("ij,ij->i", Xu, Xu)
    if len(Xl):
        nearest = np.full(n, np.inf, dtype=np.float32)
        rows = max(1, 2**22 // 1024)  # the elementwise part, a slice of rows at a time (small temporaries)
        # more BLAS threads only when asked (threadpool_limits itself costs milliseconds per call)
        with threadpool_limits(limits=n_threads, user_api="blas") if n_threads > 1 else nullcontext():
            for start in range(0, len(Xl), 1024):  # blocks keep the distance matrix small
                block = Xl[start:start + 1024]
                sqb = np.einsum("ij,ij->i", block, block)
                prod = Xu @ block.T
                prod *= 2.0  # exact, as the eager 2.0 * (Xu @ block.T)
                for r in range(0, n, rows):
                    d = sq[r:r + rows, None] + sqb[None, :]
                    d -= prod[r:r + rows]
                    np.minimum(nearest[r:r + rows], d.min(axis=1), out=nearest[r:r + rows])
                del prod
    else:
        centre = Xu.mean(axis=0)
        nearest = ((Xu - centre) ** 2).sum(axis=1)
    if n * Xu.shape[1] <= _EAGER_CELLS:  # a small pool: re-measuring every row is cheaper than bookkeeping
        chosen = np.empty(k, dtype=np.intp)
        for i in range(k):
            j = int(np.argmax(nearest))
            chosen[i] = j
            c = Xu[j]
            nearest = np.minimum(nearest, sq + c @ c - 2.0 * (Xu @ c))
            nearest[chosen[: i + 1]] = -np.inf  # never pick twice (rounding can leave tiny positives)
        return chosen
    body = n - n % 4  # rows OpenBLAS's matrix-vector kernel handles four at a time
    stamp = np.zeros(n, dtype=np.intp)  # how many centres each row's distance includes
    centres = np.empty((k, Xu.shape[1]), dtype=np.float32)
    norms = np.empty(k, dtype=np.float32)
    chosen = np.empty(k, dtype=np.intp)
    batch = 64
    for i in range(k):
        while True:
            j = int(np.argmax(nearest))
            if stamp[j] == i:
                break
            # bring the stale rows with the largest bounds up to date
            top = np.argpartition(nearest, n - batch)[n - batch:] if n > batch else np.arange(n)
            stale = np.union1d(top[stamp[top] < i], [j])  # j itself, even among many equal bounds
            for m in range(int(stamp[stale].min()), i):
                todo = stale[stamp[stale] <= m]
                if len(todo):
                    dots = _matvec_as_in_full_product(Xu, todo, centres[m], body)
                    d = sq[todo] + norms[m] - 2.0 * dots
                    nearest[todo] = np.minimum(nearest[todo], d)
            stamp[stale] = i
        chosen[i] = j
        centres[i] = Xu[j]
        norms[i] = centres[i] @ centres[i]
        nearest[j] = -np.inf  # never pick twice (rounding can leave tiny positives)
        stamp[j] = k
    return chosen


def _matvec_as_in_full_product(X: np.ndarray, rows: np.ndarray, c: np.ndarray, body: int) -> np.ndarray:
    """``(X @ c)[rows]`` computed the way the full product computes those rows, for far fewer rows."""
    out = np.empty(len(rows), dtype=np.float32)
    in_body = rows < body
    if in_body.any():
        r = rows[in_body]
        padded = np.concatenate([r, np.repeat(r[:1], -len(r) % 4)])  # whole groups of four
        out[in_body] = (X[padded] @ c)[: len(r)]
    if not in_body.all():
        tail_start = max(0, body - 4)  # four body rows, then the tail: the same kernels as the full product
        tail = X[tail_start:] @ c
        out[~in_body] = tail[rows[~in_body] - tail_start]
    return out
