"""Choosing and weighting training data (document 001 §3.1–3.3, §4.1–4.3).

Three ways to choose ``k`` samples — at random, per class (stratified) and by highest predictive entropy —
and three ways to weight them — not at all, per class (balanced) and by entropy. Scores are pure functions
of probabilities (``labkit.metrics.entropy``, the kit's one entropy); picking indices is separate
(:func:`top_k`). :func:`compare_strategies` runs the notebook's experiment: a model trained on a small seed
set scores a pool, each strategy picks ``k`` pool samples, and a model is retrained on seed + selection.

This module is also the kit's one selection core: :func:`top_k`, :func:`random_subset` and the ``k`` rule
(``labkit._validation.check_k``) are what :mod:`labkit.active` queries with. The document's own row-by-row
code (ERRATA 001: NaN for any zero probability, 0/0 when every prediction is one-hot, a Python loop over
rows) lives in :mod:`labkit.errata`.
"""

from __future__ import annotations

import numbers
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from labkit._validation import (
    RandomState,
    as_generator,
    as_seed,
    check_bool,
    check_callable,
    check_choice,
    check_class_labels,
    check_estimator,
    check_indices,
    check_int,
    check_k,
    check_number,
    check_probability_rows,
    check_same_length,
    check_samples,
)
from labkit.metrics import entropy

STRATEGIES = ("random", "stratified", "top_entropy")
WEIGHTINGS = ("none", "class", "entropy")
# what compare_strategies can do to the training set: the three weightings, or 001 §4.3 resampling
TRAINING_SCHEMES = (*WEIGHTINGS, "resample")



class DegenerateWeightsWarning(UserWarning):
    """Entropy weights are undefined (every row has zero entropy) and a fallback was used instead."""


# ---------------------------------------------------------------------------------------------------------
# choosing k samples


def random_subset(n: int, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """``k`` distinct indices from ``range(n)``, uniformly at random, in random order (001 §3.1 item 1).

    Any prefix of the result is itself a uniform random subset, so growing ``k`` with the same seed nests.
    This is the kit's one random subset: :func:`labkit.active.query_random` draws with it too.
    """
    n = check_int(n, "n", low=0)
    k = check_k(k, n)
    rng = as_generator(random_state)
    return rng.permutation(n)[:k]


def stratified_counts(class_sizes, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """How many samples :func:`stratified_subset` takes from each class, given the class sizes.

    Water-filling: every class gets an equal share of ``k``; a class smaller than its share gives all it
    has and the remainder is shared among the others. Counts of the classes that are not exhausted differ
    by at most one; which of them get the extra one is drawn at random (not always the first labels).
    """
    sizes = np.asarray(class_sizes)
    if sizes.ndim != 1 or len(sizes) == 0:
        raise ValueError(f"class_sizes must be a non-empty 1-D sequence of counts, got {class_sizes!r}")
    if not np.issubdtype(sizes.dtype, np.integer) or (sizes < 0).any():
        raise ValueError(f"class_sizes must be non-negative integers, got {class_sizes!r}")
    k = check_k(k, int(sizes.sum()), n_name="the number of samples")
    rng = as_generator(random_state)
    counts = np.zeros(len(sizes), dtype=np.int64)
    remaining = k
    order = np.argsort(sizes, kind="stable")  # smallest classes first: they may be exhausted
    for pos, c in enumerate(order):
        left = len(sizes) - pos
        share = remaining // left
        if sizes[c] <= share:  # a small class: take all of it and share the rest among the others
            counts[c] = sizes[c]
            remaining -= int(sizes[c])
            continue
        # every class from here on has more than `share` samples: equal shares, +1 for `extra` of them
        rest = order[pos:]
        counts[rest] = share
        extra = remaining - share * left
        counts[rng.choice(rest, size=extra, replace=False)] += 1
        break
    return counts


def stratified_subset(y, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """``k`` indices with classes of ``y`` as equally represented as possible (001 §3.1 item 2).

    Per-class counts differ by at most one where every class has enough samples; a class too small for
    its share is taken whole and the remainder goes to the other classes (:func:`stratified_counts`).
    Within a class the samples are drawn at random. The indices are returned sorted.
    """
    y = check_class_labels(y, min_classes=1)
    k = check_k(k, len(y), n_name="len(y)")
    rng = as_generator(random_state)
    labels, inverse, sizes = np.unique(y, return_inverse=True, return_counts=True)
    counts = stratified_counts(sizes, k, random_state=rng)
    picks = [rng.choice(np.flatnonzero(inverse == c), size=int(counts[c]), replace=False)
             for c in range(len(labels))]
    return np.sort(np.concatenate(picks)).astype(np.intp)


def top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest ``scores``, highest first; ties go to the lower index.

    O(n) selection (``argpartition``) and a sort of the ``k`` winners only. NaN scores are refused: they
    would silently sort as the largest values (which is how the document's code picks them). This is the
    kit's one top-k: :func:`labkit.active.query_top_k` and every scored query use it.
    """
    s = np.asarray(scores)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"scores must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64, copy=False)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError(f"scores contain NaN (first at index {int(np.flatnonzero(np.isnan(s))[0])})")
    k = check_k(k, len(s), n_name="len(scores)")
    if k == 0:
        return np.empty(0, dtype=np.intp)
    threshold = s[np.argpartition(s, len(s) - k)[len(s) - k]]  # the k-th largest value
    above = np.flatnonzero(s > threshold)
    ties = np.flatnonzero(s == threshold)[: k - len(above)]  # lowest indices among the ties
    chosen = np.concatenate([above, ties])
    return chosen[np.lexsort((chosen, -s[chosen]))].astype(np.intp)


def top_entropy(probs, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``probs`` with the highest entropy, most uncertain first (001 §4.1).

    Vectorised and zero-safe: rows with zero probabilities have a finite entropy (0·log 0 = 0), unlike
    the document's loop (:func:`labkit.errata.document_sample_by_entropy`), whose NaNs sort last and are
    therefore picked first.
    """
    probs = check_probability_rows(probs)
    k = check_k(k, len(probs), n_name="len(probs)")
    return top_k(entropy(probs), k)


# ---------------------------------------------------------------------------------------------------------
# weighting


def entropy_weights(probs, *, fallback: str = "uniform") -> np.ndarray:
    """Per-row weights proportional to predictive entropy, summing to 1 (001 §4.2), never NaN.

    When every row has zero entropy (all predictions one-hot) the proportional weights are 0/0: with
    ``fallback="uniform"`` (default) this warns (:class:`DegenerateWeightsWarning`) and returns uniform
    weights 1/n — "no row is more uncertain than another"; with ``fallback="raise"`` it raises ValueError.
    Note that rows with zero entropy get weight 0 (they drop out of a weighted fit).
    """
    check_choice(fallback, "fallback", ("uniform", "raise"))
    probs = check_probability_rows(probs)
    h = entropy(probs)
    total = h.sum()
    if total > 0:
        return h / total
    if fallback == "raise":
        raise ValueError(
            f"probs: all {len(probs)} rows are one-hot (zero entropy), so entropy weights are 0/0"
        )
    warnings.warn(
        f"all {len(probs)} rows of probs have zero entropy (one-hot predictions): entropy weights are "
        "undefined (0/0); returning uniform weights 1/n instead",
        DegenerateWeightsWarning,
        stacklevel=2,
    )
    return np.full(len(probs), 1.0 / len(probs))


def class_weights(y) -> dict:
    """Balanced class weights ``n / (n_classes · n_c)``, as scikit-learn's ``class_weight='balanced'``.

    A dict ``{label: weight}`` (usable as an estimator's ``class_weight``); every class then carries the
    same total weight. :func:`sample_weights` turns it into one weight per sample.
    """
    y = check_class_labels(y, min_classes=1)
    labels, counts = np.unique(y, return_counts=True)
    w = len(y) / (len(labels) * counts)
    return {label.item() if hasattr(label, "item") else label: float(v) for label, v in zip(labels, w, strict=True)}


def _check_y_probs(y, probs):
    """Labels and/or probability rows, each optional, of one length when both are given."""
    if y is not None:
        y = check_class_labels(y, min_classes=1)
    if probs is not None:
        probs = check_probability_rows(probs)
    if y is not None and probs is not None and len(y) != len(probs):
        raise ValueError(f"y has {len(y)} entries but probs has {len(probs)} rows")
    return y, probs


def sample_weights(scheme: str, *, y=None, probs=None) -> np.ndarray:
    """One weight per sample with mean 1, ready for ``fit(..., sample_weight=...)``.

    ``scheme``: ``"none"`` (all ones), ``"class"`` (balanced class weights, needs ``y``) or ``"entropy"``
    (:func:`entropy_weights` scaled by n, needs ``probs``). Why mean 1 and not sum 1: most estimators
    multiply each sample's loss by its weight, so weights summing to 1 shrink the data term n-fold against
    the regulariser (for LogisticRegression it is the same as dividing ``C`` by n).
    """
    check_choice(scheme, "scheme", WEIGHTINGS)
    y, probs = _check_y_probs(y, probs)
    if scheme == "class":
        if y is None:
            raise ValueError("scheme='class' needs y")
        cw = class_weights(y)
        labels, inverse = np.unique(y, return_inverse=True)
        per_label = np.array([cw[label.item() if hasattr(label, "item") else label] for label in labels])
        return per_label[inverse]
    if scheme == "entropy":
        if probs is None:
            raise ValueError("scheme='entropy' needs probs")
        return entropy_weights(probs) * len(probs)
    n = len(y) if y is not None else len(probs) if probs is not None else None
    if n is None:
        raise ValueError("scheme='none' needs y or probs (to know how many samples there are)")
    return np.ones(n)


def select(strategy: str, k: int, *, y=None, probs=None, random_state: RandomState = None) -> np.ndarray:
    """Dispatch to :func:`random_subset`, :func:`stratified_subset` (needs ``y``) or :func:`top_entropy`
    (needs ``probs``); the pool size is taken from whichever of ``y``/``probs`` is given."""
    check_choice(strategy, "strategy", STRATEGIES)
    y, probs = _check_y_probs(y, probs)
    if strategy == "stratified":
        if y is None:
            raise ValueError("strategy='stratified' needs y")
        return stratified_subset(y, k, random_state=random_state)
    if strategy == "top_entropy":
        if probs is None:
            raise ValueError("strategy='top_entropy' needs probs")
        return top_entropy(probs, k)
    source = y if y is not None else probs
    if source is None:
        raise ValueError("strategy='random' needs y or probs (to know the pool size)")
    return random_subset(len(source), k, random_state=random_state)


# ---------------------------------------------------------------------------------------------------------
# the experiment: seed model -> score the pool -> select -> retrain


def _small_fit_threads():
    """Limit BLAS to one thread: these fits are small, and on a busy 2-core machine BLAS threads spin
    against each other (measured: LogisticRegression on 500 × 8 took 0.18 s with 2 threads, 0.02 s with 1)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def default_estimator():
    """Multinomial logistic regression: fast, convex, and its ``predict_proba`` is what gets scored."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300)


def _train_and_test(X_train, y_train, X_test, y_test, *, names=("X_train", "y_train", "X_test", "y_test")):
    """Finite 2-D features (float dtype kept) with one label each; train has two classes or more and the
    test features have as many columns as the training features."""
    nx, ny, nxt, nyt = names
    X_train = check_samples(X_train, nx, dtype=None)
    y_train = check_class_labels(y_train, ny, n=len(X_train), n_name=nx)
    X_test = check_samples(X_test, nxt, dtype=None)
    y_test = check_class_labels(y_test, nyt, n=len(X_test), n_name=nxt, min_classes=1)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"{nxt} has {X_test.shape[1]} features but {nx} has {X_train.shape[1]}; they must match")
    return X_train, y_train, X_test, y_test


def fit_and_score(estimator, X_train, y_train, X_test, y_test, *, sample_weight=None,
                  labels: Sequence | None = None) -> dict:
    """Fit a clone of ``estimator`` and report test accuracy, balanced accuracy, per-class recall
    (``recall_<label>``) and the fit time. Returns the fitted model under ``"model"``."""
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score

    check_estimator(estimator, methods=("fit", "predict"))
    X_train, y_train, X_test, y_test = _train_and_test(X_train, y_train, X_test, y_test)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
        if sample_weight.dtype.kind not in "biuf" or sample_weight.ndim != 1:
            raise ValueError(f"sample_weight must be a 1-D array of numbers, got {sample_weight.dtype} "
                             f"of shape {sample_weight.shape}")
        check_same_length("y_train", y_train, "sample_weight", sample_weight)
        if not np.isfinite(sample_weight).all() or (sample_weight < 0).any() or not sample_weight.sum() > 0:
            raise ValueError("sample_weight must be finite and non-negative with a positive sum")
    if labels is not None:
        labels = check_class_labels(labels, "labels", min_classes=1)
    model = clone(estimator)
    with _small_fit_threads():
        start = time.perf_counter()
        if sample_weight is None:
            model.fit(X_train, y_train)
        else:
            model.fit(X_train, y_train, sample_weight=sample_weight)
        seconds = time.perf_counter() - start
        pred = model.predict(X_test)
    labels = np.unique(y_test) if labels is None else np.asarray(labels)
    recalls = recall_score(y_test, pred, labels=labels, average=None, zero_division=0)
    row = {"accuracy": accuracy_score(y_test, pred), "balanced_accuracy": balanced_accuracy_score(y_test, pred),
           "fit_seconds": seconds, "n_train": len(y_train)}
    row.update({f"recall_{label}": float(r) for label, r in zip(labels, recalls, strict=True)})
    row["model"] = model
    return row


def seed_model(X, y, seed_idx, *, estimator=None, cv: int = 5, random_state: RandomState = None):
    """Fit ``estimator`` on the seed rows and return ``(model, seed_probs)`` where ``seed_probs`` are
    cross-validated probabilities of the seed rows themselves (so entropy weights for seed rows come from
    a model that did not see them). ``cv`` folds, capped at the smallest class size (at least 2)."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    X = check_samples(X, dtype=None)
    y = check_class_labels(y, n=len(X))
    seed_idx = check_indices(seed_idx, len(X), "seed_idx", n_name="len(X)", unique=True)
    cv = check_int(cv, "cv", low=2)
    estimator = default_estimator() if estimator is None else check_estimator(
        estimator, methods=("fit", "predict_proba"))
    seed = as_seed(random_state)
    X_seed, y_seed = X[seed_idx], y[seed_idx]
    smallest = int(np.unique(y_seed, return_counts=True)[1].min()) if len(y_seed) else 0
    folds = min(cv, smallest)
    if folds < 2 or len(np.unique(y_seed)) < 2:
        raise ValueError(f"seed_idx must hold at least 2 samples of every class (and 2 classes), the smallest "
                         f"has {smallest}")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with _small_fit_threads():
        model = clone(estimator).fit(X_seed, y_seed)
        seed_probs = cross_val_predict(clone(estimator), X_seed, y_seed, cv=splitter, method="predict_proba")
    return model, seed_probs


def evaluate_selection(X, y, X_test, y_test, *, seed_idx, pool_idx, pool_probs, seed_probs,
                       strategy: str, k: int, weighting: str = "none", estimator=None,
                       random_state: RandomState = None) -> dict:
    """Select ``k`` pool samples with ``strategy``, retrain on seed + selection with ``weighting``
    (``"none"``, ``"class"``, ``"entropy"``, or ``"resample"`` = 001 §4.3 resampling to equal class counts
    with the same total), and score on the test set.

    Returns a dict: the metrics of :func:`fit_and_score` (model included), ``selected`` (indices into
    ``pool_idx``), ``count_<label>`` (selected samples per class), ``mean_entropy`` (of the selection under
    the seed model) and ``select_seconds``.
    """
    from labkit.balance import balance_per_class

    check_choice(weighting, "weighting", TRAINING_SCHEMES)
    check_choice(strategy, "strategy", STRATEGIES)
    X, y, X_test, y_test = _train_and_test(X, y, X_test, y_test, names=("X", "y", "X_test", "y_test"))
    estimator = default_estimator() if estimator is None else check_estimator(estimator, methods=("fit", "predict"))
    seed_idx = check_indices(seed_idx, len(X), "seed_idx", n_name="len(X)", unique=True)
    pool_idx = check_indices(pool_idx, len(X), "pool_idx", n_name="len(X)", unique=True)
    pool_probs = check_probability_rows(pool_probs, "pool_probs")
    if len(pool_probs) != len(pool_idx):
        raise ValueError(f"pool_probs has {len(pool_probs)} rows but pool_idx has {len(pool_idx)} entries")
    seed_probs = check_probability_rows(seed_probs, "seed_probs")
    if seed_probs.shape != (len(seed_idx), pool_probs.shape[1]):
        raise ValueError(f"seed_probs must have shape (len(seed_idx), n_classes) = "
                         f"({len(seed_idx)}, {pool_probs.shape[1]}), got {seed_probs.shape}")
    k = check_k(k, len(pool_idx), n_name="len(pool_idx)")
    rng = as_generator(random_state)
    start = time.perf_counter()
    chosen = select(strategy, k, y=y[pool_idx], probs=pool_probs, random_state=rng)
    select_seconds = time.perf_counter() - start
    train_idx = np.concatenate([seed_idx, pool_idx[chosen]])
    X_train, y_train = X[train_idx], y[train_idx]
    weights = None
    if weighting == "resample":
        n_per_class = max(1, round(len(train_idx) / len(np.unique(y_train))))
        X_train, y_train = balance_per_class(X_train, y_train, n_per_class, random_state=rng)
    elif weighting != "none":
        train_probs = np.concatenate([seed_probs, pool_probs[chosen]])
        weights = sample_weights(weighting, y=y_train, probs=train_probs)
    labels = np.unique(y)
    row = fit_and_score(estimator, X_train, y_train, X_test, y_test, sample_weight=weights, labels=labels)
    counts = np.array([(y[pool_idx[chosen]] == label).sum() for label in labels])
    row.update({f"count_{label}": int(c) for label, c in zip(labels, counts, strict=True)})
    row["mean_entropy"] = float(entropy(pool_probs[chosen]).mean()) if k else float("nan")
    row["select_seconds"] = select_seconds
    row["selected"] = chosen
    return row


def compare_strategies(X, y, X_test, y_test, *, ks: Sequence[int], strategies: Sequence[str] = STRATEGIES,
                       weightings: Sequence[str] = ("none",), n_seed: int = 100, n_repeats: int = 5,
                       estimator=None, full_pool: bool = True, random_state: RandomState = 0,
                       progress: Callable | None = None) -> pd.DataFrame:
    """The notebook's experiment, repeated ``n_repeats`` times with fresh seeds.

    Repeat r draws from its own generator (seeded from ``random_state`` and r), so the repeats are
    independent jobs; they run where :mod:`labkit.parallel` says (``$LABKIT_CLUSTER``; else serially).

    Each repeat draws a stratified seed set of ``n_seed`` rows from ``(X, y)``, the rest is the pool; a
    model fit on the seed set scores the pool; for every strategy, ``k`` and weighting a model is
    retrained on seed + selection and scored on ``(X_test, y_test)``. Within a repeat all strategies share
    the seed model, so differences are paired. One row per (strategy, weighting, k, repeat); rows with
    strategy ``"seed only"`` (k = 0) and, if ``full_pool``, one ``"full pool"`` row (all of ``X``, fit once:
    it is the same data in every repeat) are references.
    """
    X, y, X_test, y_test = _train_and_test(X, y, X_test, y_test, names=("X", "y", "X_test", "y_test"))
    X = X.astype(np.float64, copy=False)  # as before: the experiment runs on float64 features
    X_test = X_test.astype(np.float64, copy=False)
    strategies = [strategies] if isinstance(strategies, str) else list(strategies)
    weightings = [weightings] if isinstance(weightings, str) else list(weightings)
    if not strategies:
        raise ValueError("strategies must not be empty")
    if not weightings:
        raise ValueError("weightings must not be empty")
    for s in strategies:
        if s not in STRATEGIES:
            raise ValueError(f"strategies must be drawn from {STRATEGIES}, got {s!r}")
    for w in weightings:
        if w not in TRAINING_SCHEMES:
            raise ValueError(f"weightings must be drawn from {TRAINING_SCHEMES}, got {w!r}")
    n_seed = check_int(n_seed, "n_seed", low=1)
    n_classes = len(np.unique(y))
    if n_seed < 2 * n_classes:
        raise ValueError(f"n_seed={n_seed} is too small: need at least 2 per class ({2 * n_classes})")
    check_k(n_seed, len(y), name="n_seed", n_name="len(y)")
    ks = [ks] if isinstance(ks, numbers.Integral) and not isinstance(ks, bool) else list(ks)
    if not ks:
        raise ValueError("ks must not be empty")
    for k in ks:
        check_int(k, "ks")
        try:
            check_k(k, len(y) - n_seed, n_name="the pool size (len(y) - n_seed)")
        except ValueError as err:
            raise ValueError(f"ks: {err}") from None
    check_int(n_repeats, "n_repeats", low=1)
    check_bool(full_pool, "full_pool")
    check_callable(progress, "progress", optional=True)
    estimator = default_estimator() if estimator is None else check_estimator(estimator, methods=("fit", "predict_proba"))
    labels = np.unique(y)
    rng = as_generator(random_state)
    rows = []
    if full_pool:  # the same data in every repeat (and a deterministic estimator): fit it once
        full = fit_and_score(estimator, X, y, X_test, y_test, labels=labels)
        rows.append({"strategy": "full pool", "weighting": "none", "k": len(y) - n_seed, "repeat": 0, **full})
    from labkit.parallel import iter_jobs

    # one seed per repeat, drawn up front: the repeats are independent jobs (see labkit.parallel)
    seeds = [(repeat, int(seed)) for repeat, seed in enumerate(rng.integers(0, 2**31 - 1, size=n_repeats))]

    def one_repeat(repeat, seed):
        rng, rows = as_generator(seed), []
        seed_idx = stratified_subset(y, n_seed, random_state=rng)
        pool_idx = np.setdiff1d(np.arange(len(y)), seed_idx)
        model, seed_probs = seed_model(X, y, seed_idx, estimator=estimator, random_state=rng)
        pool_probs = model.predict_proba(X[pool_idx])
        base = fit_and_score(estimator, X[seed_idx], y[seed_idx], X_test, y_test, labels=labels)
        rows.append({"strategy": "seed only", "weighting": "none", "k": 0, "repeat": repeat, **base})
        for strategy in strategies:
            for k in ks:
                for weighting in weightings:
                    row = evaluate_selection(X, y, X_test, y_test, seed_idx=seed_idx, pool_idx=pool_idx,
                                             pool_probs=pool_probs, seed_probs=seed_probs,
                                             strategy=strategy, k=k, weighting=weighting,
                                             estimator=estimator, random_state=rng)
                    rows.append({"strategy": strategy, "weighting": weighting, "k": k, "repeat": repeat, **row})
        return rows

    for repeat, repeat_rows in enumerate(iter_jobs(one_repeat, seeds, desc="selection repeats",
                                                   progress=progress is None)):
        rows += repeat_rows
        if progress is not None:
            progress(repeat)
    df = pd.DataFrame(rows).drop(columns=["model", "selected"], errors="ignore")
    return df


def skewed_subset(y, k: int, skew: float, *, target=0, random_state: RandomState = None) -> np.ndarray:
    """``k`` indices drawn with class shares ``(1 - skew)/C + skew·[class == target]``.

    ``skew=0`` is balanced in expectation, ``skew=1`` takes only ``target``: a deliberately biased subset.
    """
    y = check_class_labels(y, min_classes=1)
    k = check_k(k, len(y), n_name="len(y)")
    skew = check_number(skew, "skew", low=0.0, high=1.0)
    classes = np.unique(y)
    try:
        known = bool(np.isin(target, classes).all()) and np.ndim(target) == 0
    except TypeError:
        known = False
    if not known or isinstance(target, bool):
        raise ValueError(f"target must be one of the classes {classes.tolist()}, got {target!r}")
    rng = as_generator(random_state)
    share = (1 - skew) / len(classes) + skew * (classes == target)
    counts = rng.multinomial(k, share / share.sum())
    picks = []
    for c, n_c in zip(classes, counts, strict=True):
        members = np.flatnonzero(y == c)
        if n_c > len(members):
            raise ValueError(f"class {c} has {len(members)} samples but the skewed subset needs {n_c}; "
                             "lower k or skew")
        picks.append(rng.choice(members, size=n_c, replace=False))
    return np.concatenate(picks)


def redundant_subset(n: int, k: int, *, copies: int = 5, random_state: RandomState = None) -> np.ndarray:
    """``k // copies`` distinct random indices, each repeated ``copies`` times: a subset full of duplicates."""
    n = check_int(n, "n", low=0)
    copies = check_int(copies, "copies", low=1)
    k = check_int(k, "k")
    if k < copies:
        raise ValueError(f"k must be at least copies={copies}, got k={k!r}")
    if k // copies > n:
        raise ValueError(f"k={k} needs k // copies = {k // copies} distinct indices but n={n}; lower k")
    return np.tile(random_subset(n, k // copies, random_state=random_state), copies)


def kcenter_subset(X, k: int, *, random_state: RandomState = None) -> np.ndarray:
    """``k`` indices by greedy k-center (farthest-first) from a random start point: the most spread-out subset.

    Uses :func:`labkit.active.query_kcenter` (the one k-center of the kit) with the start point as the
    already-chosen set; the start point is included.
    """
    from labkit.active import query_kcenter

    X = check_samples(X, dtype=None)
    k = check_k(k, len(X), n_name="len(X)", minimum=1)
    start = int(as_generator(random_state).integers(len(X)))
    if k == 1:
        return np.array([start])
    rest = np.delete(np.arange(len(X)), start)
    return np.concatenate([[start], rest[query_kcenter(X[rest], X[[start]], k - 1)]])
