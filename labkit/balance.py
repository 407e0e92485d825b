"""Class balancing: resampling (imbalanced-learn underneath), per-class resampling, and an honest comparison.

Document 000 §3.2 wants per-class counts N'(c) with |N'(c) − mean_k N(k)| minimal for every class c;
random under-/over-sampling get there by deleting or duplicating, SMOTE/ADASYN by interpolating.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from labkit._validation import (
    RandomState,
    as_generator,
    as_seed,
    check_bool,
    check_choice,
    check_class_labels,
    check_estimator,
    check_int,
    check_number,
    check_samples,
)

METHODS = ("none", "under", "over", "smote", "adasyn")
COMPARE_METHODS = (*METHODS, "class_weight")
METRICS = ("balanced_accuracy", "minority_precision", "minority_recall", "minority_f1", "pr_auc")


def make_sampler(method: str, *, random_state: RandomState = None, **params):
    """The imbalanced-learn sampler for ``method``; it composes in an ``imblearn.pipeline.Pipeline``.

    ``"none"`` gives an identity ``FunctionSampler``, so a pipeline can switch balancing off.
    """
    from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    check_choice(method, "method", METHODS)
    seed = as_seed(random_state)
    if method == "none":
        from imblearn import FunctionSampler

        if params:
            raise TypeError(f"method='none' takes no parameters, got {sorted(params)}")
        return FunctionSampler(func=None, validate=False)
    cls = {"under": RandomUnderSampler, "over": RandomOverSampler, "smote": SMOTE, "adasyn": ADASYN}[method]
    try:
        return cls(random_state=seed, **params)
    except TypeError as err:
        raise TypeError(f"unknown parameter for method={method!r}: {err}") from err


def _check_neighbours(method: str, y: np.ndarray, params: dict) -> None:
    """SMOTE/ADASYN need more samples in each class they grow than they have neighbours."""
    key = {"smote": "k_neighbors", "adasyn": "n_neighbors"}.get(method)
    if key is None:
        return
    k = params.get(key, 5)
    if not isinstance(k, (int, np.integer)):
        return  # a NearestNeighbors object: imbalanced-learn checks it
    labels, counts = np.unique(y, return_counts=True)
    grown = counts < counts.max()
    if grown.any() and counts[grown].min() <= k:
        c = labels[grown][np.argmin(counts[grown])]
        raise ValueError(
            f"{key}={k} needs more than {k} samples in each minority class for method={method!r}, but class "
            f"{c} has {counts[labels == c][0]}; lower {key} or use method='over'"
        )


def resample(X, y, method: str, *, random_state: RandomState = None, **params):
    """Resample ``(X, y)`` with ``method`` in ``"none"``, ``"under"``, ``"over"``, ``"smote"``, ``"adasyn"``.

    Extra ``params`` go to the imbalanced-learn sampler (e.g. ``k_neighbors`` for SMOTE).
    """
    X = check_samples(X)
    y = check_class_labels(y, n=len(X), min_classes=1)
    sampler = make_sampler(method, random_state=random_state, **params)
    if method == "none":
        return X.copy(), y.copy()
    if len(np.unique(y)) < 2:
        raise ValueError(f"y must hold at least two classes to balance, got only {np.unique(y)!r}")
    _check_neighbours(method, y, params)
    try:
        return sampler.fit_resample(X, y)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"method={method!r} could not resample this data: {err}") from err


def balance_per_class(X, y, n_per_class: int, *, random_state: RandomState = None, replace="auto"):
    """Resample every class to exactly ``n_per_class`` samples (document 001 §4.3).

    ``replace="auto"`` draws without replacement from classes that have enough samples and with
    replacement only where a class is too small; the document's ``replace=True`` duplicates samples even
    in large classes. Pass ``replace=True`` to reproduce it.
    """
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"X must have one row per sample (at least 2-D), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must be numeric, got dtype {X.dtype}")
    y = check_class_labels(y, n=len(X), min_classes=1)
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity")
    check_int(n_per_class, "n_per_class", low=1)
    if not (replace == "auto" if isinstance(replace, str) else isinstance(replace, bool | np.bool_)):
        raise ValueError(f"replace must be 'auto', True or False, got {replace!r}")
    rng = as_generator(random_state)
    picks = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        with_replacement = replace is True or (replace == "auto" and len(idx) < n_per_class)
        if not with_replacement and len(idx) < n_per_class:
            raise ValueError(
                f"n_per_class={n_per_class} exceeds the {len(idx)} samples of class {label} "
                "with replace=False"
            )
        picks.append(rng.choice(idx, size=n_per_class, replace=with_replacement))
    order = np.concatenate(picks)
    return X[order], y[order]


def _minority_label(y: np.ndarray):
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) != 2:
        raise ValueError(f"compare needs a binary y (minority vs the rest), got classes {labels.tolist()}")
    return labels[np.argmin(counts)]


def _scores(estimator, X, minority_col: int) -> np.ndarray | None:
    if hasattr(estimator, "decision_function"):
        s = np.asarray(estimator.decision_function(X))
        return s if s.ndim == 1 and minority_col == 1 else (-s if s.ndim == 1 else s[:, minority_col])
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)[:, minority_col]
    return None


def evaluate_minority(estimator, X_test, y_test, minority) -> dict:
    """Balanced accuracy, the minority class's precision/recall/F1, and PR-AUC (average precision)."""
    from sklearn.metrics import (
        average_precision_score,
        balanced_accuracy_score,
        precision_recall_fscore_support,
    )

    check_estimator(estimator, methods=("predict",))
    X_test = check_samples(X_test, "X_test", dtype=None)
    y_test = check_class_labels(y_test, "y_test", n=len(X_test), n_name="X_test", min_classes=1)
    present = np.unique(y_test)
    try:
        known = np.ndim(minority) == 0 and not isinstance(minority, bool) and bool(np.isin(minority, present))
    except TypeError:
        known = False
    if not known:
        raise ValueError(f"minority must be one of the classes in y_test {present.tolist()}, got {minority!r}")
    pred = estimator.predict(X_test)
    p, r, f, _ = precision_recall_fscore_support(
        y_test, pred, labels=[minority], average=None, zero_division=0
    )
    classes = list(getattr(estimator, "classes_", np.unique(y_test)))
    scores = _scores(estimator, X_test, classes.index(minority)) if minority in classes else None
    pr_auc = float("nan") if scores is None else average_precision_score(y_test == minority, scores)
    return {
        "balanced_accuracy": balanced_accuracy_score(y_test, pred),
        "minority_precision": float(p[0]),
        "minority_recall": float(r[0]),
        "minority_f1": float(f[0]),
        "pr_auc": float(pr_auc),
    }


def _fit(estimator, X, y, method: str, seed: int | None, params: dict | None = None):
    from sklearn.base import clone

    model = clone(estimator)
    if method == "class_weight":
        model.set_params(class_weight="balanced")
        X_fit, y_fit = X, y
    else:
        X_fit, y_fit = resample(X, y, method, random_state=seed, **(params or {}))
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return model.fit(X_fit, y_fit), y_fit


def fit_balanced(X, y, method: str, *, estimator=None, random_state: RandomState = None):
    """Fit ``estimator`` (default ``SVC()``) after balancing with ``method`` (any of :data:`COMPARE_METHODS`)."""
    from sklearn.svm import SVC

    check_choice(method, "method", COMPARE_METHODS)
    X = check_samples(X)
    y = check_class_labels(y, n=len(X))
    estimator = SVC() if estimator is None else check_estimator(estimator, methods=("fit", "predict"))
    if method == "class_weight" and "class_weight" not in estimator.get_params():
        raise ValueError(f"method 'class_weight' needs an estimator with a class_weight parameter, "
                         f"got {type(estimator).__name__}")
    return _fit(estimator, X, y, method, as_seed(random_state))[0]


def compare(X, y, methods: Sequence[str] = COMPARE_METHODS, *, estimator=None, n_repeats: int = 20,
            test_size: float = 0.5, random_state: RandomState = 0,
            sampler_params: dict[str, dict] | None = None, standardize: bool = False,
            errors: str = "raise") -> pd.DataFrame:
    """Fit ``estimator`` (default ``SVC()``, as in 000 §4) after each balancing method, on ``n_repeats``
    stratified train/test splits; one row per (method, repeat) with the metrics of :data:`METRICS`.

    ``"class_weight"`` refits with ``class_weight='balanced'`` instead of resampling. Every method sees
    the same splits in the same repeat, so differences between methods are paired.
    ``sampler_params`` maps a method to its sampler's parameters, e.g. ``{"smote": {"k_neighbors": 3}}``.
    ``standardize=True`` scales every feature to mean 0 and variance 1 inside each split, fitted on the
    training part only (before resampling, so SMOTE/ADASYN measure distances on that scale): an RBF SVC
    needs features on one scale, which ``make_classification``'s already are and a user's table rarely is.
    ``errors="record"``: a method that cannot resample a split (e.g. ADASYN when no minority sample has a
    majority neighbour — well-separated classes) gives that (method, repeat) row NaN metrics and the
    reason in an ``error`` column, instead of stopping the whole comparison (``"raise"``, the default).
    The column is there only when some fit failed.
    The (method, split) fits run where :mod:`labkit.parallel` says (``$LABKIT_CLUSTER``; else serially).
    """
    from sklearn.model_selection import StratifiedShuffleSplit
    from sklearn.svm import SVC

    X = check_samples(X)
    y = check_class_labels(y, n=len(X))
    if isinstance(methods, str):
        methods = [methods]
    methods = list(methods)
    if not methods:
        raise ValueError(f"methods must not be empty: choose from {COMPARE_METHODS}")
    for m in methods:
        if m not in COMPARE_METHODS:
            raise ValueError(f"methods must be drawn from {COMPARE_METHODS}, got {m!r}")
    check_int(n_repeats, "n_repeats", low=1)
    if sampler_params is not None and not isinstance(sampler_params, dict):
        raise TypeError(f"sampler_params must be a dict {{method: {{parameter: value}}}}, got {sampler_params!r}")
    sampler_params = dict(sampler_params or {})
    for m, params in sampler_params.items():
        if m not in METHODS or m == "none":
            raise ValueError(f"sampler_params keys must be resampling methods {METHODS[1:]}, got {m!r}")
        if not isinstance(params, dict):
            raise TypeError(f"sampler_params[{m!r}] must be a dict of parameters, got {params!r}")
    check_number(test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True)
    standardize = check_bool(standardize, "standardize")
    check_choice(errors, "errors", ("raise", "record"))
    estimator = SVC() if estimator is None else check_estimator(estimator, methods=("fit", "predict"))
    if "class_weight" in methods and "class_weight" not in estimator.get_params():
        raise ValueError(f"method 'class_weight' needs an estimator with a class_weight parameter, "
                         f"got {type(estimator).__name__}")
    minority = _minority_label(y)
    rng = as_generator(random_state)
    splitter = StratifiedShuffleSplit(n_splits=n_repeats, test_size=test_size,
                                      random_state=int(rng.integers(2**31 - 1)))
    from labkit.parallel import run_jobs

    def one(repeat, train, test, seed, method):
        start = time.perf_counter()
        X_train, X_test = X[train], X[test]
        if standardize:
            from sklearn.preprocessing import StandardScaler

            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        try:
            model, y_fit = _fit(estimator, X_train, y[train], method, seed, sampler_params.get(method))
        except ValueError as err:
            if errors == "raise":
                raise
            return {"method": method, "repeat": repeat, "n_train": np.nan, "n_train_minority": np.nan,
                    "fit_seconds": time.perf_counter() - start, **dict.fromkeys(METRICS, np.nan),
                    "error": str(err)}
        row = {"method": method, "repeat": repeat, "n_train": len(y_fit),
               "n_train_minority": int((y_fit == minority).sum()),
               "fit_seconds": time.perf_counter() - start}
        row.update(evaluate_minority(model, X_test, y[test], minority))
        return row

    jobs = []
    for repeat, (train, test) in enumerate(splitter.split(X, y)):
        seed = int(rng.integers(2**31 - 1))
        jobs += [(repeat, train, test, seed, method) for method in methods]
    return pd.DataFrame(run_jobs(one, jobs, desc="balancing method × split"))


# --- any labelled data as the binary question the comparison answers ------------------------------------


class MinorityTask(NamedTuple):
    """The binary problem :func:`compare` answers on any labelled data: the minority class against the rest."""

    X: np.ndarray  # features, float64 [N, D]
    y: np.ndarray  # 1 = the minority class, 0 = every other class
    minority: str  # the minority class's name
    counts: dict  # class name -> samples, in label order (before any subset)
    note: str  # how the minority class was chosen and what was kept, in words


def minority_task(X, y, *, class_names: Sequence[str] | None = None, max_samples: int | None = None,
                  random_state: RandomState = 0) -> MinorityTask:
    """The least frequent class of ``y`` (a tie goes to the first in label order, and the note says so)
    against all other classes together, as 0/1 labels (1 = minority), on at most ``max_samples`` rows.

    A multi-class set is compared this way so that every metric of :data:`METRICS` keeps its meaning
    (the minority class's precision, recall, F1 and PR-AUC; balanced accuracy over minority vs rest).
    ``class_names[k]`` names label ``k`` (labels ``0..K-1``, as :mod:`labkit.data`'s loaders return them);
    without it a label is its own name. A larger set is cut to a stratified random ``max_samples`` rows
    (the minority share kept), and the note says so.
    """
    from sklearn.model_selection import train_test_split

    X = check_samples(X)
    y = check_class_labels(y, n=len(X), min_classes=2)
    labels, counts = np.unique(y, return_counts=True)
    if class_names is None:
        names = [str(label) for label in labels]
    else:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence | np.ndarray):
            raise TypeError(f"class_names must be a sequence of names (label k -> class_names[k]), "
                            f"got {class_names!r}")
        class_names = [str(c) for c in class_names]
        if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= len(class_names):
            raise ValueError(f"class_names has {len(class_names)} names, but y holds labels {labels.tolist()}: "
                             f"with class_names, y must hold labels 0..{len(class_names) - 1}")
        names = [class_names[int(label)] for label in labels]
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", low=4)
    seed = as_seed(random_state)
    pick = int(np.argmin(counts))  # np.argmin takes the first of tied minima: the first in label order
    minority, n_min = names[pick], int(counts[pick])
    if n_min < 2:
        raise ValueError(f"the least frequent class {minority!r} has {n_min} sample; comparing methods over "
                         f"stratified splits needs at least 2 in every class")
    tied = [n for n, c in zip(names, counts, strict=True) if c == n_min and n != minority]
    y_bin = (y == labels[pick]).astype(np.int64)
    n = len(y)
    note = f"minority class: {minority!r} ({n_min} of {n} samples, {n_min / n:.1%})"
    if len(labels) == 2:
        note += f", against the other class {names[1 - pick]!r}"
    else:
        note += (f", the least frequent of {len(labels)} classes, against the other {len(labels) - 1} "
                 f"together ({n - n_min} samples)")
    if tied:
        note += (f"; {', '.join(map(repr, tied))} {'has' if len(tied) == 1 else 'have'} as many samples, a tie "
                 f"broken by label order (the first class is taken)")
    if max_samples is not None and n > max_samples:
        keep, _ = train_test_split(np.arange(n), train_size=max_samples, stratify=y_bin,
                                   random_state=seed)
        keep = np.sort(keep)
        X, y_bin = X[keep], y_bin[keep]
        note += (f"; capped at a stratified random {max_samples} of the {n} samples "
                 f"(max_samples={max_samples}), {int(y_bin.sum())} of them minority")
    elif max_samples is not None:
        note += f"; all {n} samples used (within max_samples={max_samples})"
    return MinorityTask(X, y_bin, minority, dict(zip(names, map(int, counts), strict=True)), note)


# --- verdicts of every method against a baseline, in words and as a grid ------------------------------------

_VERDICT_COLUMNS = ("a", "b", "metric", "diff", "ci", "n", "verdict")
_WORDS = ("better", "worse", "no detectable difference")


def _verdict_rows(verdicts, baseline: str, metrics) -> pd.DataFrame:
    if not isinstance(verdicts, pd.DataFrame):
        raise TypeError(f"verdicts must be a lesson.verdict_table DataFrame, got {type(verdicts).__name__}")
    missing = [c for c in _VERDICT_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"verdicts lacks columns {missing}: pass a lesson.verdict_table (it has "
                         f"{list(verdicts.columns)})")
    if not isinstance(baseline, str):
        raise TypeError(f"baseline must be a method name (str), got {baseline!r}")
    rows = verdicts[verdicts["b"] == baseline]
    if rows.empty:
        raise ValueError(f"baseline={baseline!r} is not the b of any row of verdicts (b: "
                         f"{sorted(map(str, verdicts['b'].unique()))})")
    known = list(dict.fromkeys(rows["metric"]))
    for m in metrics:
        if m not in known:
            raise ValueError(f"metric {m!r} has no row against {baseline!r} in verdicts (metrics: {known})")
    return rows


def verdict_sentence(verdicts: pd.DataFrame, metric: str, *, baseline: str = "none") -> str:
    """One sentence from the ``(method, baseline)`` rows of a :func:`labkit.lesson.verdict_table` on
    ``metric``: which methods the one verdict rule calls better than the baseline, which worse, and which
    show no detectable difference — with ``n`` and, below 5 pairs, the word "indicative". Print it with
    :func:`labkit.lesson.claim`; the intervals are in the table it came from (:func:`verdict_grid`).
    """
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str naming a metric of verdicts, got {metric!r}")
    rows = _verdict_rows(verdicts, baseline, [metric])
    rows = rows[rows["metric"] == metric]
    ns = sorted({int(n) for n in rows["n"]})
    n_text = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}–{ns[-1]}"
    parts = []
    for word in _WORDS:
        names = [str(a) for a, w in zip(rows["a"], rows["verdict"], strict=True) if w == word]
        if not names:
            continue
        where = {"better": f"better than {baseline}", "worse": f"worse than {baseline}",
                 "no detectable difference": f"no detectable difference from {baseline} at {n_text}"}[word]
        parts.append(f"{where}: {', '.join(names)}")
    small = "; indicative: n < 5" if ns[0] < 5 else ""
    return (f"On {metric}, each method against {baseline} (paired over splits, 95 % CI, {n_text}{small}) — "
            + "; ".join(parts) + ".")


def verdict_grid(verdicts: pd.DataFrame, metrics: Sequence[str], *, baseline: str = "none") -> pd.DataFrame:
    """A display table of the ``(method, baseline)`` rows of a :func:`labkit.lesson.verdict_table`: one row
    per method, one column per metric, each cell ``"better, +0.456 ± 0.080 (n = 20)"`` (the verdict and the
    paired difference method − baseline with its 95 % CI; fewer than 5 pairs say "indicative")."""
    from labkit.stats import ci_text

    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, Sequence) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise ValueError(f"metrics must be a non-empty list of metric names, got {metrics!r}")
    rows = _verdict_rows(verdicts, baseline, metrics)
    rows = rows[rows["metric"].isin(metrics)]
    cells = [f"{w}, {ci_text(d, c, int(n), signed=True)}"
             for w, d, c, n in zip(rows["verdict"], rows["diff"], rows["ci"], rows["n"], strict=True)]
    grid = rows.assign(cell=cells).pivot(index="a", columns="metric", values="cell")
    order = list(dict.fromkeys(rows["a"]))
    grid = grid.loc[order, list(metrics)]
    grid.index.name = f"method vs {baseline}"
    grid.columns.name = None
    return grid
