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


# --- files -----------------------------------------------------------------------------------------------
# Paths a learner passes in (a data folder, a CSV, an archive): the parameter, the path and what was expected.


class PathNotFoundError(FileNotFoundError, ValueError):
    """A path that should exist does not; both a ``FileNotFoundError`` and a ``ValueError`` (bad input)."""


def check_path(value, name: str, *, kind: str = "any", suffixes=None, must_exist: bool = True):
    """A ``str`` or ``os.PathLike`` as an expanded :class:`pathlib.Path`.

    ``kind``: ``"file"``, ``"dir"`` or ``"any"``; ``suffixes``: allowed endings (case-insensitive, e.g.
    ``(".csv", ".parquet")``); ``must_exist=False`` only checks the type (and the suffix).
    """
    import os
    from pathlib import Path

    check_choice(kind, "kind", ("any", "file", "dir"))
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r} ({type(value).__name__})")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must be a path, got an empty string")
    path = Path(value).expanduser()
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if not path.name.lower().endswith(allowed):
            raise ValueError(f"{name} must be a file ending in {' or '.join(allowed)}, got {str(path)!r}")
    if not must_exist:
        return path
    if not path.exists():
        raise PathNotFoundError(f"{name}: no such {'folder' if kind == 'dir' else 'file'} {str(path)!r}")
    if kind == "file" and not path.is_file():
        raise ValueError(f"{name} must be a file, got the folder {str(path)!r}")
    if kind == "dir" and not path.is_dir():
        raise ValueError(f"{name} must be a folder, got the file {str(path)!r}")
    return path


# --- tensors and modules -----------------------------------------------------------------------------------
# torch is imported inside these functions: ``import labkit`` (and this module) must not import torch.


def _what(value) -> str:
    """A short description of a bad value for a message: the value itself when small, else its type."""
    if value is None or isinstance(value, (str, bool, numbers.Number)):
        return f"{value!r} ({type(value).__name__})"
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else type(value).__name__


def check_module(value, name: str = "model"):
    """A ``torch.nn.Module`` (``None``, a string or a class are refused with a ``TypeError``)."""
    from torch import nn

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {_what(value)}")
    return value


def check_tensor(value, name: str):
    """A torch tensor; a numpy array is wrapped without a copy."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        try:
            return torch.from_numpy(value)
        except TypeError as err:
            raise TypeError(f"{name} must be a numeric array, got dtype {value.dtype}") from err
    raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {_what(value)}")


def check_finite_tensor(value, name: str, *, ndim: int | None = None):
    """A floating-point tensor without NaN or infinity (``ndim`` dimensions when given), e.g. logits."""
    import torch

    value = check_tensor(value, name)
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.numel() and not bool(torch.isfinite(value).all()):
        bad = torch.nonzero(~torch.isfinite(value))[0].tolist()
        raise ValueError(f"{name} contains NaN or infinity (first at index {bad})")
    return value


def input_channels(model) -> int | None:
    """The number of image channels ``model`` takes: its ``labkit.models.Normalize`` layer's, else its first
    ``Conv2d``'s ``in_channels``; ``None`` when neither is there (a head on feature vectors)."""
    from torch import nn

    from labkit.models import Normalize

    first_conv = None
    for module in model.modules():
        if isinstance(module, Normalize):
            return int(module.mean.shape[1])
        if first_conv is None and isinstance(module, nn.Conv2d):
            first_conv = module.in_channels
    return first_conv


def check_images(X, name: str = "X", *, caller: str | None = None, channels: int | None = None,
                 min_rows: int = 1):
    """Inputs for a network: a tensor (or array) ``[N, ...]`` with ``N >= min_rows``, uint8 (0..255) or float.

    Float values must be finite, and float images ``[N, C, H, W]`` within [0, 1] — 0..255 values in a float
    tensor are the classic silent mistake, so the message suggests ``/ 255``. (2-D float inputs are feature
    vectors, e.g. for a linear head: only finiteness is checked.) ``channels``: the channel count the model
    expects (see :func:`input_channels`). ``caller`` names the function in the message.
    """
    import torch

    where = f"{caller}: " if caller else ""
    X = check_tensor(X, name)
    if X.ndim < 2:
        raise ValueError(f"{where}{name} must have shape [N, ...] (images [N, C, H, W]), got {tuple(X.shape)}")
    if X.dtype != torch.uint8 and not X.is_floating_point():
        raise TypeError(f"{where}{name} must be uint8 (0..255) or float (0..1) images, got dtype {X.dtype}")
    if X.shape[0] < min_rows:
        raise ValueError(f"{where}{name} must have at least {min_rows} row(s), got shape {tuple(X.shape)}")
    if channels is not None and X.ndim != 4:
        raise ValueError(f"{where}{name} must be images [N, {channels}, H, W] for this model, got shape "
                         f"{tuple(X.shape)}")
    if channels is not None and X.ndim == 4 and X.shape[1] != channels:
        raise ValueError(f"{where}{name} has {X.shape[1]} channel(s) (shape {tuple(X.shape)}) but the model "
                         f"takes {channels}-channel images [N, {channels}, H, W]")
    if X.is_floating_point() and X.numel():
        lo, hi = (float(v) for v in torch.aminmax(X.detach()))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            bad = torch.nonzero(~torch.isfinite(X.detach()))[0].tolist()
            raise ValueError(f"{where}{name} contains NaN or infinity (first at index {bad})")
        if X.ndim == 4 and hi > 1.0:
            raise ValueError(f"{where}{name} holds float images with values up to {hi:g}, but float images "
                             f"must be in [0, 1]: divide 0..255 images by 255 ({name} / 255) or pass them as "
                             "uint8")
        if X.ndim == 4 and lo < 0.0:
            raise ValueError(f"{where}{name} holds float images with values down to {lo:g}, but float images "
                             "must be in [0, 1] (models normalise their inputs themselves)")
    return X


def check_targets(y, name: str = "y", *, num_classes: int | None = None):
    """Class labels for a classifier: a 1-D integer tensor (or array), in ``[0, num_classes)`` when given."""
    import torch

    y = check_tensor(y, name)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class labels (int64), got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels, got shape {tuple(y.shape)}")
    if num_classes is not None and y.numel():
        lo, hi = (int(v) for v in torch.aminmax(y))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{name} must hold class labels in [0, {num_classes}) for a model with "
                             f"{num_classes} outputs, got {lo if lo < 0 else hi}")
    return y


def check_device(device, name: str = "device"):
    """A torch device that exists here: ``None`` is ``labkit.get_device()``; a name (``"cpu"``, ``"cuda:0"``)
    or ``torch.device`` that is not available raises ``ValueError`` naming ``name``."""
    import torch

    from labkit.core import get_device

    if device is None:
        return get_device()
    if isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError as err:
            raise ValueError(f"{name} is not a device name: {device!r}") from err
    elif isinstance(device, torch.device):
        dev = device
    else:
        raise TypeError(f"{name} must be None, a device name or a torch.device, got {_what(device)}")
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (dev.index is not None and dev.index >= count):
            raise ValueError(f"{name}={device!r} asks for a CUDA device, but this machine has "
                             f"{count} CUDA device(s)")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if not (mps and mps.is_available()):
            raise ValueError(f"{name}={device!r} asks for mps, which is not available here")
    elif dev.type != "cpu":
        raise ValueError(f"{name}={device!r} asks for {dev.type}, which labkit does not train on")
    return dev


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


# --- tables and notebooks ------------------------------------------------------------------------------------


def check_frame(df, name: str = "df"):
    """A ``pandas.DataFrame`` (a string, a dict or an array is refused with a ``TypeError``)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {_what(df)}")
    return df


def check_columns(df, columns, name: str, *, df_name: str = "df") -> list:
    """``columns`` (one name or a non-empty sequence, the parameter ``name``) all in ``df``; returns the list."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise ValueError(f"{name} must name at least one column of {df_name}, got {columns!r}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name}={columns!r}: columns not in {df_name}: {missing} "
                         f"({df_name} has {list(df.columns)})")
    return cols


def check_notebook(nb, name: str = "nb"):
    """A notebook object (``nbformat.NotebookNode`` or a dict with ``cells``), not a path or a string."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"{name} must be a notebook (nbformat.read(...)), got {_what(nb)}")
    return nb


def read_notebook(nb, name: str = "nb"):
    """A notebook object as is, or the notebook read from a path (``.ipynb``, which must exist)."""
    import os

    if isinstance(nb, str | os.PathLike):
        import nbformat

        path = check_path(nb, name, kind="file", suffixes=(".ipynb",))
        try:
            return nbformat.read(path, as_version=4)
        except Exception as err:  # noqa: BLE001 - any reader error is a bad file
            raise ValueError(f"{name}: {str(path)!r} is not a readable notebook ({type(err).__name__}: {err})") from err
    return check_notebook(nb, name)


def output_classes(model) -> int | None:
    """The ``out_features`` of ``model``'s last ``nn.Linear`` (its class count when that is the head), else
    ``None``."""
    from torch import nn

    last = None
    for module in model.modules():
        if isinstance(module, nn.Linear):
            last = module.out_features
    return last
