"""Pool-based active learning (documents 000 §3.1 and 003): score, query, ask the oracle, retrain, repeat.

The pieces are small and separate, in the style of modAL: uncertainty *scores* are pure functions of
predicted probabilities (:func:`uncertainty`, :func:`vote_entropy`); *query* functions turn scores (or
features) into indices (:func:`query_top_k`, :func:`query_boltzmann`, :func:`query_kcenter`,
:func:`query_random`); *strategies* glue a fitted model to a query function; :class:`ActiveLearner` holds
the labelled set; :func:`run` is the loop with a true-label oracle, :func:`compare` runs strategies ×
repeats, and :func:`labels_to_reach` / :func:`label_efficiency` read the resulting learning curves.

ERRATA 003, corrected here: the Boltzmann query probability is ``exp(+β·U)`` (β = 0 is random sampling,
β → ∞ is max-uncertainty); uncertainty is *high* for unsure predictions (not ``sum(p**2)``, a certainty);
the oracle returns the true label, once per sample; the model is retrained on the whole labelled set.
:func:`document_loop` reproduces the document's loop with each mistake switchable, to measure them.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from labkit._validation import (
    RandomState,
    as_generator,
    check_features,
    check_labels,
    check_positive_int,
    check_probabilities,
)
from labkit.metrics import entropy

UNCERTAINTY_METHODS = ("least_confident", "margin", "entropy")
STRATEGIES = ("random", "least_confident", "margin", "entropy", "boltzmann", "qbc", "kcenter")
DEFAULT_BETA = 10.0
DEFAULT_N_MEMBERS = 5

# A strategy picks k rows of the unlabelled pool: (fitted model, X_unlabeled, X_labeled, y_labeled, k, rng)
# -> k distinct indices into X_unlabeled.
Strategy = Callable[..., np.ndarray]


# --------------------------------------------------------------------------------------------- scores
def uncertainty(probs, method: str = "entropy") -> np.ndarray:
    """Per-row uncertainty of predicted class probabilities; higher means less sure.

    ``"least_confident"``: 1 − max p; ``"margin"``: 1 − (p₁ − p₂), the gap between the two most likely
    classes; ``"entropy"``: Shannon entropy in nats (:func:`labkit.metrics.entropy`). Each is 0 for a
    one-hot prediction and largest for the uniform one. Document 003 §4 uses ``sum(p**2)``, which is the
    opposite: a *certainty* (largest for one-hot predictions).
    """
    if method not in UNCERTAINTY_METHODS:
        raise ValueError(f"method must be one of {UNCERTAINTY_METHODS}, got {method!r}")
    p = check_probabilities(probs, "probs")
    if p.ndim != 2:
        raise ValueError(f"probs must be 2-D (n_samples, n_classes), got shape {p.shape}")
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
    check_positive_int(n_classes, "n_classes")
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
    s = _check_scores(scores)
    b = _check_beta(beta)
    if np.isinf(b):
        top = s == (s.max() if b > 0 else s.min())
        return top / top.sum()
    z = b * s
    z = np.exp(z - z.max())
    return z / z.sum()


# -------------------------------------------------------------------------------------------- queries
def query_random(n: int, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """``k`` distinct indices out of ``range(n)``, uniformly at random: the baseline every strategy must beat."""
    n = check_positive_int(n, "n")
    k = _check_k(k, n)
    return as_generator(random_state).choice(n, size=k, replace=False)


def query_top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first (ties: the lower index first)."""
    s = _check_scores(scores)
    k = _check_k(k, len(s))
    part = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    return part[np.lexsort((part, -s[part]))]


def query_boltzmann(scores, k: int, *, beta: float = DEFAULT_BETA,
                    random_state: RandomState = None) -> np.ndarray:
    """``k`` distinct indices drawn one after another with probability ∝ ``exp(β·score)`` (ERRATA 003 sign).

    Sampling without replacement uses the Gumbel-top-k trick (top k of ``β·s + Gumbel noise``), which draws
    exactly the same distribution as k successive softmax draws, in one vectorised step.
    β = 0 is :func:`query_random`; β = ∞ is :func:`query_top_k`.
    """
    s = _check_scores(scores)
    b = _check_beta(beta)
    k = _check_k(k, len(s))
    if np.isinf(b):
        return query_top_k(s if b > 0 else -s, k)
    keys = b * s + as_generator(random_state).gumbel(size=len(s))
    return query_top_k(keys, k)


def query_kcenter(X_unlabeled, X_labeled, k: int) -> np.ndarray:
    """Greedy k-center (core-set) batch: repeatedly take the pool point farthest from everything chosen.

    Distances are Euclidean in the given feature space; with no labelled points the first pick is the
    point farthest from the pool mean. A diversity-aware batch: no two picks are near-duplicates.
    """
    Xu = _float32_features(X_unlabeled, "X_unlabeled")
    k = _check_k(k, len(Xu))
    Xl = np.asarray(X_labeled, dtype=np.float32)
    sq = np.einsum("ij,ij->i", Xu, Xu)
    if Xl.size:
        Xl = _float32_features(Xl, "X_labeled")
        if Xl.shape[1] != Xu.shape[1]:
            raise ValueError(f"X_labeled has {Xl.shape[1]} features but X_unlabeled has {Xu.shape[1]}")
        nearest = np.full(len(Xu), np.inf, dtype=np.float32)
        for start in range(0, len(Xl), 1024):  # blocks keep the distance matrix small
            block = Xl[start:start + 1024]
            d = sq[:, None] + np.einsum("ij,ij->i", block, block)[None, :] - 2.0 * (Xu @ block.T)
            nearest = np.minimum(nearest, d.min(axis=1))
    else:
        centre = Xu.mean(axis=0)
        nearest = ((Xu - centre) ** 2).sum(axis=1)
    chosen = np.empty(k, dtype=np.intp)
    for i in range(k):
        j = int(np.argmax(nearest))
        chosen[i] = j
        c = Xu[j]
        nearest = np.minimum(nearest, sq + c @ c - 2.0 * (Xu @ c))
        nearest[chosen[: i + 1]] = -np.inf  # never pick twice (rounding can leave tiny positives)
    return chosen


def bootstrap_committee_votes(estimator, X_labeled, y_labeled, X, *, n_members: int = DEFAULT_N_MEMBERS,
                              random_state: RandomState = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``n_members`` clones of ``estimator`` on bootstrap resamples of the labelled set; return their votes.

    Returns ``(votes, classes)``: ``votes[m, i]`` is member m's predicted class for ``X[i]``, as an index
    into ``classes`` (the labels seen in ``y_labeled``). A bootstrap sample with one class votes for it.
    """
    from sklearn.base import clone

    n_members = check_positive_int(n_members, "n_members")
    Xl = check_features(X_labeled, "X_labeled")
    yl = check_labels(y_labeled, len(Xl), "y_labeled")
    classes = np.unique(yl)
    rng = as_generator(random_state)
    votes = np.empty((n_members, len(X)), dtype=np.intp)
    for m in range(n_members):
        rows = rng.integers(0, len(Xl), size=len(Xl))
        seen = np.unique(yl[rows])
        if len(seen) == 1:
            votes[m] = np.searchsorted(classes, seen[0])
            continue
        member = clone(estimator).fit(Xl[rows], yl[rows])
        votes[m] = np.searchsorted(classes, member.predict(X))
    return votes, classes


# ---------------------------------------------------------------------------------------- strategies
def random_strategy(model, X_unlabeled, X_labeled, y_labeled, k, rng) -> np.ndarray:
    """Passive learning: k unlabelled samples uniformly at random."""
    return query_random(len(X_unlabeled), k, random_state=rng)


def uncertainty_strategy(method: str = "entropy") -> Strategy:
    """Top-k by :func:`uncertainty` of the model's ``predict_proba`` (uncertainty sampling, 000 §3.1)."""
    if method not in UNCERTAINTY_METHODS:
        raise ValueError(f"method must be one of {UNCERTAINTY_METHODS}, got {method!r}")

    def strategy(model, X_unlabeled, X_labeled, y_labeled, k, rng):
        return query_top_k(uncertainty(model.predict_proba(X_unlabeled), method), k)

    strategy.__name__ = method
    return strategy


def boltzmann_strategy(beta: float = DEFAULT_BETA, method: str = "entropy") -> Strategy:
    """Softmax sampling ∝ ``exp(β·U)`` with U the model's :func:`uncertainty` (003 §3, sign corrected)."""
    _check_beta(beta)
    if method not in UNCERTAINTY_METHODS:
        raise ValueError(f"method must be one of {UNCERTAINTY_METHODS}, got {method!r}")

    def strategy(model, X_unlabeled, X_labeled, y_labeled, k, rng):
        scores = uncertainty(model.predict_proba(X_unlabeled), method)
        return query_boltzmann(scores, k, beta=beta, random_state=rng)

    strategy.__name__ = f"boltzmann(beta={beta:g})"
    return strategy


def qbc_strategy(n_members: int = DEFAULT_N_MEMBERS) -> Strategy:
    """Query-by-committee: top-k vote entropy of a bootstrap committee of clones of the model."""
    check_positive_int(n_members, "n_members")

    def strategy(model, X_unlabeled, X_labeled, y_labeled, k, rng):
        votes, classes = bootstrap_committee_votes(model, X_labeled, y_labeled, X_unlabeled,
                                                   n_members=n_members, random_state=rng)
        return query_top_k(vote_entropy(votes, len(classes)), k)

    strategy.__name__ = f"qbc(n_members={n_members})"
    return strategy


def kcenter_strategy(model, X_unlabeled, X_labeled, y_labeled, k, rng) -> np.ndarray:
    """Diversity only: greedy k-center on the input features (ignores the model)."""
    return query_kcenter(X_unlabeled, X_labeled, k)


def get_strategy(strategy: str | Strategy, *, beta: float = DEFAULT_BETA,
                 n_members: int = DEFAULT_N_MEMBERS) -> Strategy:
    """A strategy callable from a name in :data:`STRATEGIES` (``beta``/``n_members`` for boltzmann/qbc)."""
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
    ``estimator`` on *all* labelled samples (ERRATA 003: not one sample at a time).
    """

    def __init__(self, estimator, X_pool, *, strategy: str | Strategy = "entropy",
                 beta: float = DEFAULT_BETA, n_members: int = DEFAULT_N_MEMBERS,
                 random_state: RandomState = None):
        if not hasattr(estimator, "fit"):
            raise TypeError(f"estimator must be a scikit-learn classifier with fit/predict_proba, got "
                            f"{estimator!r}")
        self.estimator = estimator
        self.X_pool = check_features(X_pool, "X_pool")
        self.strategy = get_strategy(strategy, beta=beta, n_members=n_members)
        self.rng = as_generator(random_state)
        self.labeled: list[int] = []
        self.labels: list = []
        self.model = None

    @property
    def n_labeled(self) -> int:
        return len(self.labeled)

    def unlabeled(self) -> np.ndarray:
        """Pool indices not labelled yet, ascending."""
        mask = np.ones(len(self.X_pool), dtype=bool)
        mask[self.labeled] = False
        return np.flatnonzero(mask)

    def teach(self, indices, labels) -> None:
        """Add the labelled samples ``X_pool[indices]`` and refit the model on every label so far."""
        from sklearn.base import clone

        idx = np.asarray(indices, dtype=np.intp).reshape(-1)
        lab = np.asarray(labels).reshape(-1)
        if len(idx) != len(lab):
            raise ValueError(f"labels has {len(lab)} entries but indices has {len(idx)}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.X_pool)):
            raise ValueError(f"indices must lie in [0, {len(self.X_pool)}), got {idx.min()}..{idx.max()}")
        seen = set(self.labeled)
        repeated = [int(i) for i in idx if i in seen]
        if repeated or len(set(idx.tolist())) != len(idx):
            raise ValueError(f"indices must be new, distinct pool rows; already labelled or repeated: "
                             f"{repeated[:5] or idx.tolist()[:5]}")
        y = np.asarray(self.labels + lab.tolist())
        if len(np.unique(y)) < 2:
            raise ValueError(f"the labelled set would have a single class ({y[0]!r}); a classifier needs "
                             "two — label more samples at once (e.g. a larger n_initial)")
        self.labeled.extend(int(i) for i in idx)
        self.labels.extend(lab.tolist())
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
        k = _check_k(k, len(pool), "batch_size")
        picked = np.asarray(self.strategy(self.model, self.X_pool[pool], self.X_pool[self.labeled],
                                          np.asarray(self.labels), k, self.rng), dtype=np.intp)
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
    return query_random(n_pool, _check_k(n_initial, n_pool, "n_initial"), random_state=random_state)


def run(estimator, X_pool, y_pool, X_test, y_test, *, strategy: str | Strategy, n_initial: int,
        batch_size: int, budget: int, random_state: RandomState = None, beta: float = DEFAULT_BETA,
        n_members: int = DEFAULT_N_MEMBERS, return_labeled: bool = False):
    """Pool-based active learning with a true-label oracle; the learning curve as ``DataFrame(n_labeled, accuracy)``.

    Start from ``n_initial`` random pool samples, then repeatedly query ``batch_size`` samples with
    ``strategy``, reveal their true labels ``y_pool[idx]``, refit on everything labelled and record test
    accuracy, until ``budget`` labels (initial ones included) are spent; the last batch is cut to fit.
    The seed set depends on ``random_state`` only, so strategies run with the same seed start alike.
    ``return_labeled=True`` also returns the pool indices in the order they were labelled.
    """
    X_pool = check_features(X_pool, "X_pool")
    y_pool = check_labels(y_pool, len(X_pool), "y_pool")
    X_test = check_features(X_test, "X_test")
    y_test = check_labels(y_test, len(X_test), "y_test")
    n_initial = check_positive_int(n_initial, "n_initial")
    batch_size = check_positive_int(batch_size, "batch_size")
    budget = check_positive_int(budget, "budget")
    if budget > len(X_pool):
        raise ValueError(f"budget must be <= the pool size {len(X_pool)}, got {budget}")
    if n_initial > budget:
        raise ValueError(f"n_initial must be <= budget ({budget}), got {n_initial}")
    rng = as_generator(random_state)
    learner = ActiveLearner(estimator, X_pool, strategy=strategy, beta=beta, n_members=n_members,
                            random_state=rng)

    # One BLAS thread: the fits here are small, and on a busy CPU extra BLAS threads made the L-BFGS
    # steps of LogisticRegression ~10x slower (measured on a 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        first = initial_indices(len(X_pool), n_initial, random_state=rng)
        learner.teach(first, y_pool[first])
        rows = [(learner.n_labeled, learner.score(X_test, y_test))]
        while learner.n_labeled < budget:
            idx = learner.query(min(batch_size, budget - learner.n_labeled))
            learner.teach(idx, y_pool[idx])  # the oracle: true labels, asked once per sample
            rows.append((learner.n_labeled, learner.score(X_test, y_test)))

    curve = pd.DataFrame(rows, columns=["n_labeled", "accuracy"])
    if return_labeled:
        return curve, np.asarray(learner.labeled, dtype=np.intp)
    return curve


def compare(estimator, X_pool, y_pool, X_test, y_test, *,
            strategies: Sequence[str | Strategy] | Mapping[str, str | Strategy] = STRATEGIES,
            n_repeats: int = 5, n_initial: int, batch_size: int, budget: int,
            random_state: RandomState = 0, beta: float = DEFAULT_BETA, n_members: int = DEFAULT_N_MEMBERS,
            n_jobs: int | None = None, progress: bool = False, return_labeled: bool = False):
    """Run every strategy ``n_repeats`` times; one tidy DataFrame (strategy, repeat, n_labeled, accuracy).

    ``strategies``: names, or a mapping ``label -> name or callable`` (e.g. a β sweep). Repeat r uses the
    same seed for every strategy, so they share the seed set and differences are paired.
    ``n_jobs`` runs the (independent) runs in parallel processes with joblib (``-1``: every core), or on
    the Dask cluster named by ``$LABKIT_CLUSTER`` (see :mod:`labkit.parallel`); the results do not depend on it. ``return_labeled=True`` also returns a tidy DataFrame
    (strategy, repeat, order, pool_index) of the labelled pool rows in the order they were bought.
    """
    from labkit.parallel import run_jobs

    n_repeats = check_positive_int(n_repeats, "n_repeats")
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
        get_strategy(s, beta=beta, n_members=n_members)  # fail before any work on an unknown name
    X_pool = check_features(X_pool, "X_pool")
    X_test = check_features(X_test, "X_test")
    seeds = as_generator(random_state).integers(0, 2**31 - 1, size=n_repeats)
    jobs = [(label, s, r) for r in range(n_repeats) for label, s in items]

    def one(s, r):
        return run(estimator, X_pool, y_pool, X_test, y_test, strategy=s, n_initial=n_initial,
                   batch_size=batch_size, budget=budget, random_state=int(seeds[r]), beta=beta,
                   n_members=n_members, return_labeled=True)

    outputs = run_jobs(one, [(s, r) for _, s, r in jobs], n_jobs=n_jobs, desc="active learning runs",
                       progress=progress)
    curves, bought = [], []
    for (label, _, r), (curve, labeled) in zip(jobs, outputs, strict=True):
        curves.append(curve.assign(strategy=label, repeat=r))
        bought.append(pd.DataFrame({"strategy": label, "repeat": r, "order": np.arange(len(labeled)),
                                    "pool_index": labeled}))
    results = pd.concat(curves, ignore_index=True)[["strategy", "repeat", "n_labeled", "accuracy"]]
    if return_labeled:
        return results, pd.concat(bought, ignore_index=True)
    return results


def labels_to_reach(curve: pd.DataFrame, target: float) -> int | None:
    """The first ``n_labeled`` at which ``accuracy >= target``; ``None`` if the curve never gets there."""
    if not isinstance(curve, pd.DataFrame) or not {"n_labeled", "accuracy"} <= set(curve.columns):
        raise ValueError("curve must be a DataFrame with columns 'n_labeled' and 'accuracy'")
    if not isinstance(target, numbers.Real) or not 0 <= target <= 1:
        raise ValueError(f"target must be an accuracy in [0, 1], got {target!r}")
    ordered = curve.sort_values("n_labeled")
    hit = ordered.loc[ordered["accuracy"] >= target, "n_labeled"]
    return int(hit.iloc[0]) if len(hit) else None


def label_efficiency(results: pd.DataFrame, target: float, *, baseline: str = "random") -> pd.DataFrame:
    """Labels each strategy needs to reach ``target`` accuracy, and the ratio to ``baseline``.

    ``results`` is :func:`compare`'s output. Per strategy: how many repeats reached the target, the median
    labels needed (a repeat that never reached it counts as "more than its budget", so the median is only
    given when at least half reached it), and ``ratio`` = median / baseline median (below 1 = fewer labels).
    """
    need = {"strategy", "repeat", "n_labeled", "accuracy"}
    if not need <= set(results.columns):
        raise ValueError(f"results must have columns {sorted(need)}, got {list(results.columns)}")
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


# ------------------------------------------------------------------------- document 003 §4, as written
def document_loop(X_pool, y_pool, X_test, y_test, *, n_steps: int = 100, n_initial: int = 20,
                  beta: float = 1.0, score: str = "certainty", oracle: str = "random",
                  label_calls: int = 2, retrain: str = "one_sample", random_state: RandomState = None,
                  ) -> tuple[pd.DataFrame, int]:
    """Document 003 §4's loop on real data, each ERRATA 003 mistake switchable so its cost can be measured.

    As written (the defaults): ``uncertainty(x) = sum(p**2)`` (``score="certainty"``), a sample is drawn
    uniformly among those with ``1 / (exp(−β·U) + 1) > u``, u ~ U(0, 1), the label is ``randint(0, 2)``
    (``oracle="random"``), the label function is called twice per step (``label_calls=2``), and the model is
    updated with that one sample (``retrain="one_sample"``: ``SGDClassifier.partial_fit``).
    Corrections: ``score="entropy"``, ``oracle="true"``, ``label_calls=1``, ``retrain="all"`` (refit on
    every label so far). Two changes are needed for the code to run at all: ``model.predict`` →
    ``predict_proba`` and the sum per sample (``axis=1``); the document sums over the whole pool, one scalar.
    When no sample passes the threshold the document's ``np.random.choice`` would raise; here that step draws
    uniformly from the pool instead and is flagged in the ``no_candidate`` column.
    Returns the learning curve (``step``, ``n_labeled``, ``accuracy``, ``no_candidate``) and the number of
    oracle calls.
    """
    from sklearn.linear_model import SGDClassifier

    if score not in ("certainty", "entropy"):
        raise ValueError(f"score must be 'certainty' (the document) or 'entropy', got {score!r}")
    if oracle not in ("random", "true"):
        raise ValueError(f"oracle must be 'random' (the document) or 'true', got {oracle!r}")
    if retrain not in ("one_sample", "all"):
        raise ValueError(f"retrain must be 'one_sample' (the document) or 'all', got {retrain!r}")
    label_calls = check_positive_int(label_calls, "label_calls")
    n_steps = check_positive_int(n_steps, "n_steps")
    X_pool = check_features(X_pool, "X_pool")
    y_pool = check_labels(y_pool, len(X_pool), "y_pool")
    X_test = check_features(X_test, "X_test")
    y_test = check_labels(y_test, len(X_test), "y_test")
    if n_initial + n_steps > len(X_pool):
        raise ValueError(f"n_initial + n_steps must be <= the pool size {len(X_pool)}, got "
                         f"{n_initial} + {n_steps}")
    rng = as_generator(random_state)
    classes = np.unique(np.concatenate([y_pool, y_test]))
    calls = 0

    def new_model():
        return SGDClassifier(loss="log_loss", random_state=int(rng.integers(2**31 - 1)))

    def label_strategy(i):
        nonlocal calls
        calls += 1
        return int(rng.integers(0, 2)) if oracle == "random" else y_pool[i]

    with threadpool_limits(limits=1, user_api="blas"):  # small fits: see run()
        labeled = list(initial_indices(len(X_pool), n_initial, random_state=rng))
        labels = list(y_pool[labeled])  # step 1 of §3: train on an initial labelled set
        model = new_model()
        model.partial_fit(X_pool[labeled], labels, classes=classes)
        rows = [(0, len(labeled), float(np.mean(model.predict(X_test) == y_test)), False)]
        for step in range(1, n_steps + 1):
            pool = np.setdiff1d(np.arange(len(X_pool)), labeled)
            p = model.predict_proba(X_pool[pool])
            u = np.sum(p**2, axis=1) if score == "certainty" else entropy(p)
            q = 1 / (np.exp(-beta * u) + 1)
            passed = np.flatnonzero(q > rng.random())  # the document: np.where(query_strategy(data) > rand)
            no_candidate = len(passed) == 0
            if no_candidate:  # the document's np.random.choice raises here; recorded, then drawn uniformly
                passed = np.arange(len(pool))
            i = int(pool[rng.choice(passed)])
            y = label_strategy(i)
            for _ in range(label_calls - 1):
                label_strategy(i)  # the document calls label_strategy(x) again and throws the answer away
            labeled.append(i)
            labels.append(y)
            if retrain == "one_sample":
                model.partial_fit(X_pool[[i]], [y])
            else:
                model = new_model().fit(X_pool[labeled], labels)
            rows.append((step, len(labeled), float(np.mean(model.predict(X_test) == y_test)), no_candidate))
    return pd.DataFrame(rows, columns=["step", "n_labeled", "accuracy", "no_candidate"]), calls


# ------------------------------------------------------------------------------------------- helpers
def _check_scores(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores contains NaN or infinity")
    return s


def _float32_features(X, name: str) -> np.ndarray:
    """``check_features`` in float32 (half the memory traffic for distance computations)."""
    return check_features(X, name, dtype=np.float32)


def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or np.isnan(beta):
        raise ValueError(f"beta must be a real number (np.inf allowed), got {beta!r}")
    return float(beta)


def _check_k(k, n: int, name: str = "k") -> int:
    k = check_positive_int(k, name)
    if k > n:
        raise ValueError(f"{name} must be <= the number of candidates {n}, got {k}")
    return k
