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
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


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
