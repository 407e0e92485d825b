"""Shared input checks: every public function fails loudly, naming the parameter and the bad value."""

from __future__ import annotations

import numbers

import numpy as np

RandomState = int | np.random.Generator | None


def as_generator(random_state: RandomState, name: str = "random_state") -> np.random.Generator:
    """A NumPy ``Generator`` from an int seed, a ``Generator`` or ``None`` (fresh entropy)."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(f"{name} must be an int, a numpy.random.Generator or None, got {random_state!r}")
    if random_state < 0:
        raise ValueError(f"{name} must be non-negative, got {random_state!r}")
    return np.random.default_rng(int(random_state))


def as_seed(random_state: RandomState, name: str = "random_state") -> int | None:
    """An int seed for libraries that want one (scikit-learn, imbalanced-learn); draws it from a Generator."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    as_generator(random_state, name)  # validates type and sign
    return int(random_state)


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """An int >= ``minimum`` (kept for existing callers; new code uses ``check_int``)."""
    return check_int(value, name, low=minimum)


def check_features(X, name: str = "X", dtype=np.float64) -> np.ndarray:
    """A 2-D float array (``dtype``) with no NaN or infinity."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or infinity (first at row {bad[0]}, column {bad[1]})")
    return arr


def check_labels(y, n: int | None = None, name: str = "y") -> np.ndarray:
    """A 1-D label array, with ``n`` entries when ``n`` is given."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but X has {n} rows")
    return arr


def check_probabilities(p, name: str = "probs", *, axis: int = -1, atol: float = 1e-6) -> np.ndarray:
    """Finite, non-negative values that sum to 1 along ``axis`` (within ``atol``)."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar {p!r}")
    if arr.shape[axis] == 0:
        raise ValueError(f"{name} has no classes along axis {axis} (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, got a minimum of {arr.min()!r}")
    sums = arr.sum(axis=axis)
    off = np.abs(sums - 1.0)
    if (off > atol).any():
        worst = np.unravel_index(np.argmax(off), off.shape)
        raise ValueError(
            f"{name} must sum to 1 along axis {axis}; entry {tuple(int(i) for i in worst)} sums to "
            f"{float(sums[worst])!r}"
        )
    return arr


# --- the shared vocabulary: numbers, flags, choices, arrays ------------------------------------------------
# Every public function checks its arguments with these, so a learner's mistake names the parameter, the
# value and what was expected, in one wording across the package.


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An int (not a bool) in ``[low, high]``; either bound may be ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return int(value)


def check_number(value, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """A real number (not a bool), finite unless ``finite=False``, within the given (open or closed) bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if np.isnan(value) or (finite and not np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    """A real ``bool`` (or numpy bool): ``'no'``, ``0`` or ``None`` are refused rather than read as truthy/falsy."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_choice(value, name: str, choices) -> object:
    """One of ``choices`` (compared with ``==``; strings are not case-folded)."""
    choices = tuple(choices)
    try:
        ok = value in choices
    except (TypeError, ValueError):  # unhashable, incomparable or array values
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_same_length(name_a: str, a, name_b: str, b) -> int:
    """``len(a) == len(b)``; returns the length."""
    if len(a) != len(b):
        raise ValueError(f"{name_b} has {len(b)} entries but {name_a} has {len(a)}; they must match")
    return len(a)


def check_classes(y, name: str = "y", *, min_classes: int = 2, n_classes: int | None = None) -> np.ndarray:
    """Integer-like class labels (1-D, finite) with at least ``min_classes`` distinct values and, when
    ``n_classes`` is given, every label in ``[0, n_classes)``."""
    arr = check_labels(y, name=name)
    if arr.size and arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity")
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{name} must hold class labels (integers), got non-integer values such as "
                             f"{arr[arr != np.round(arr)][0]!r}")
    if arr.dtype.kind not in "iufbUSO":
        raise TypeError(f"{name} must hold class labels, got dtype {arr.dtype}")
    if n_classes is not None:
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be integers in [0, {n_classes}), got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            bad = arr[(arr < 0) | (arr >= n_classes)][0]
            raise ValueError(f"{name} must be in [0, {n_classes}) (num_classes={n_classes}), got {bad!r}")
    found = len(np.unique(arr)) if arr.size else 0
    if found < min_classes:
        raise ValueError(f"{name} must contain at least {min_classes} classes, got {found} "
                         f"({np.unique(arr).tolist()[:5]})")
    return arr


# --- core -------------------------------------------------------------------------------------------------
# Checks shared by select, active, balance and metrics: how many to choose, samples and their labels, indices,
# estimators, rows of probabilities.


def check_k(k, n: int, *, name: str = "k", n_name: str = "n", minimum: int = 0) -> int:
    """How many items to choose out of ``n``: an int in ``[minimum, n]`` (the one ``k`` rule of select and active)."""
    k = check_int(k, name, low=minimum)
    if k > n:
        raise ValueError(f"{name}={k!r} exceeds {n_name}={n}: {name} must be <= {n_name} = {n}, got {k!r} "
                         "(cannot choose more samples than there are)")
    return k


def check_samples(X, name: str = "X", *, min_rows: int = 1, dtype=np.float64) -> np.ndarray:
    """:func:`check_features` (2-D, numeric, finite) with at least ``min_rows`` rows.

    ``dtype=None`` keeps a floating dtype (a float32 pool stays float32, no copy) and turns anything else
    into float64.
    """
    arr = np.asarray(X)
    if dtype is None:
        dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    arr = check_features(arr, name, dtype=dtype)
    if len(arr) < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s), got shape {arr.shape}")
    return arr


def check_class_labels(y, name: str = "y", *, n: int | None = None, n_name: str = "X",
                       min_classes: int = 2) -> np.ndarray:
    """Non-empty class labels (:func:`check_classes`: 1-D, finite, integers or strings) with at least
    ``min_classes`` classes and, when ``n`` is given, one label per row of ``n_name``."""
    arr = check_labels(y, name=name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: it must hold at least one label")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but {n_name} has {n} rows; they must match")
    return check_classes(arr, name, min_classes=min_classes)


def check_indices(indices, n: int, name: str, *, n_name: str = "n", unique: bool = False) -> np.ndarray:
    """Integer positions into a sequence of length ``n``: 1-D, in ``[0, n)``, distinct if ``unique``."""
    arr = np.asarray(indices)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of indices, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.intp)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n:
        bad = arr[(arr < 0) | (arr >= n)][0]
        raise ValueError(f"{name} must lie in [0, {n_name}) = [0, {n}), got {bad!r}")
    if unique and len(np.unique(arr)) != len(arr):
        raise ValueError(f"{name} must not repeat an index")
    return arr.astype(np.intp, copy=False)


def check_estimator(estimator, name: str = "estimator", *, methods=("fit",)):
    """An object with the given (scikit-learn) methods, e.g. ``fit`` and ``predict_proba``."""
    missing = [m for m in methods if not callable(getattr(estimator, m, None))]
    if missing or isinstance(estimator, type):
        raise TypeError(f"{name} must be a scikit-learn estimator instance with {', '.join(methods)}, got "
                        f"{estimator!r}")
    return estimator


def check_callable(value, name: str, *, optional: bool = False):
    """A callable (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable{' or None' if optional else ''}, got {value!r}")
    return value


def check_probability_rows(probs, name: str = "probs", *, atol: float = 1e-6) -> np.ndarray:
    """A 2-D ``(n_samples, n_classes)`` float64 array of probability rows, at least one row and one class.

    One cheap pass (minimum and row sums, block by block) on the usual, valid input; anything it flags goes
    through :func:`check_probabilities` for the exact message.
    """
    arr = np.asarray(probs)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_classes), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows (shape {arr.shape})")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric probabilities, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.shape[1] == 0 or not _rows_look_like_probabilities(arr, atol):
        check_probabilities(arr, name, atol=atol)
    return arr


def _rows_look_like_probabilities(arr: np.ndarray, atol: float, block: int = 8192) -> bool:
    """True when every entry is >= 0 (NaN fails) and every row sums to 1 within ``atol`` (inf fails)."""
    ones = np.ones(arr.shape[1])
    for start in range(0, len(arr), block):
        b = arr[start:start + block]
        if not b.min() >= 0 or not np.abs(b @ ones - 1.0).max() <= atol:
            return False
    return True


def check_vector(values, name: str, *, finite: bool = True, min_len: int = 1) -> np.ndarray:
    """A 1-D float64 array of numbers with at least ``min_len`` entries; NaN is refused, and so is
    infinity unless ``finite=False``."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 1 or len(arr) < min_len:
        raise ValueError(f"{name} must be a 1-D array with at least {min_len} entries, got shape {arr.shape}")
    bad = np.isnan(arr) if not finite else ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains {'NaN' if not finite else 'NaN or infinity'} "
                         f"(first at index {int(np.flatnonzero(bad)[0])})")
    return arr
