"""Means with confidence intervals over repeated runs: how every comparison in the kit is reported.

An interval from fewer than ``SMALL_N`` repeats is shown, but labelled *indicative*: with 2 or 3 runs the
t-interval is so wide (and so unstable from run to run) that it is a hint, not a result. Every CI string
this module prints carries its ``n`` next to it, so a reader (and ``labkit.lesson.unlabelled_small_n``)
can always tell how many runs stand behind it.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from labkit._validation import check_bool, check_choice, check_columns, check_frame, check_int, check_number

SMALL_N = 5  # fewer repeats than this: an interval is indicative only
NAN_POLICIES = ("raise", "omit")


def _nan_found(missing, nan_policy: str, what: str) -> None:
    """The one NaN rule: ``missing`` (a boolean mask) raises under ``nan_policy="raise"``, else is reported
    in a warning (the caller then drops those values)."""
    count, total = int(np.sum(missing)), len(missing)
    if nan_policy == "raise":
        raise ValueError(f"{what} contains {count} NaN of {total} values; a NaN is a failed or missing run — "
                         "fix it, or pass nan_policy='omit' to drop them (with a warning)")
    warnings.warn(f"{what}: dropped {count} NaN of {total} values (nan_policy='omit')", RuntimeWarning,
                  stacklevel=4)


def _drop_nan(arr: np.ndarray, nan_policy: str, what: str) -> np.ndarray:
    check_choice(nan_policy, "nan_policy", NAN_POLICIES)
    missing = np.isnan(arr)
    if missing.any():
        _nan_found(missing, nan_policy, what)
        arr = arr[~missing]
    return arr


def mean_ci(values, confidence: float = 0.95, *, nan_policy: str = "raise") -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (half-width NaN for fewer than 2 values).

    A NaN among ``values`` raises ``ValueError`` (``nan_policy="raise"``); ``nan_policy="omit"`` drops it and
    says how many were dropped in a ``RuntimeWarning`` — never silently.
    """
    from scipy import stats

    check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"values must be numbers, got dtype {arr.dtype}")
    arr = _drop_nan(arr.astype(float).ravel(), nan_policy, "values")
    if arr.size == 0:
        raise ValueError("values is empty: a mean needs at least one run")
    if arr.size < 2:
        return float(arr.mean()), float("nan")
    sem = arr.std(ddof=1) / np.sqrt(arr.size)
    return float(arr.mean()), float(sem * stats.t.ppf(0.5 + confidence / 2, arr.size - 1))


def summarize(df: pd.DataFrame, by: str | Sequence[str], metrics: Sequence[str],
              confidence: float = 0.95, *, nan_policy: str = "raise") -> pd.DataFrame:
    """One row per group: ``<metric>`` (mean) and ``<metric>_ci`` (CI half-width), plus ``n`` repeats.

    A NaN in a metric raises ``ValueError`` naming the metric and group; with ``nan_policy="omit"`` it is
    dropped (with a warning) and a ``<metric>_n`` column holds the repeats each mean is over.
    """
    check_choice(nan_policy, "nan_policy", NAN_POLICIES)
    check_frame(df, "df")
    by = check_columns(df, by, "by")
    metrics = check_columns(df, metrics, "metrics")
    check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    rows = []
    for key, group in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n"] = len(group)
        for m in metrics:
            values = group[m].to_numpy(dtype=float)
            label = f"column {m!r} in group {dict(zip(by, key, strict=True))}"
            values = _drop_nan(values, nan_policy, label)
            row[m], row[f"{m}_ci"] = mean_ci(values, confidence) if len(values) else (np.nan, np.nan)
            if nan_policy == "omit":
                row[f"{m}_n"] = len(values)
        rows.append(row)
    return pd.DataFrame(rows)


def ci_text(mean, ci, n, digits: int = 3, *, signed: bool = False) -> str:
    """``"0.640 ± 0.230 (n = 20)"``; from fewer than ``SMALL_N`` runs ``"0.640 ± 0.230 (indicative, n = 3)"``.

    The ``n`` is always printed next to the interval, so no interval from a handful of runs passes as a
    result. ``signed=True`` writes the sign of differences (``+0.040 ± ...``). A missing half-width (one run)
    prints ``"0.640 (no interval: n = 1)"``.
    """
    digits = check_int(digits, "digits", low=0, high=12)
    n = check_int(n, "n", low=0)
    signed = check_bool(signed, "signed")
    mean = check_number(mean, "mean", finite=False) if not _is_nan(mean) else float("nan")
    ci = float("nan") if _is_nan(ci) else check_number(ci, "ci", low=0.0, finite=False)
    if n == 0 or np.isnan(mean):
        return f"n/a (n = {n})"
    value = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    if np.isnan(ci):
        return f"{value} (no interval: n = {n})"
    label = f"indicative, n = {n}" if n < SMALL_N else f"n = {n}"
    return f"{value} ± {ci:.{digits}f} ({label})"


def _is_nan(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and bool(np.isnan(value))


def format_ci(summary: pd.DataFrame, metrics: Sequence[str], digits: int = 3) -> pd.DataFrame:
    """A display table with ``mean ± ci (n = N)`` strings (see :func:`ci_text`), one column per metric.

    ``summary`` is a :func:`summarize` table: its ``n`` (or ``<metric>_n``) column gives each cell's ``n``.
    """
    check_frame(summary, "summary")
    digits = check_int(digits, "digits", low=0, high=12)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric of summary, got []")
    missing = [c for m in metrics for c in (m, f"{m}_ci") if c not in summary.columns]
    if "n" not in summary.columns:
        missing.append("n")
    if missing:
        raise ValueError(f"summary lacks columns {missing} (metrics={metrics!r}); pass a stats.summarize table "
                         f"(it has {list(summary.columns)})")
    out = summary.drop(columns=[c for m in metrics for c in (m, f"{m}_ci", f"{m}_n") if c in summary.columns])
    out = out.copy()
    for m in metrics:
        ns = summary[f"{m}_n"] if f"{m}_n" in summary.columns else summary["n"]
        out[m] = [ci_text(v, c, int(k), digits)
                  for v, c, k in zip(summary[m], summary[f"{m}_ci"], ns, strict=True)]
    return out


def paired_differences(df: pd.DataFrame, a, b, *, by: str, pair: str | Sequence[str], value: str,
                       nan_policy: str = "raise") -> pd.Series:
    """``value(a) − value(b)`` for each run both share (same ``pair``: a seed, split or repeat), indexed by
    the pair. Runs only one side has are left out; rows repeated within a pair are averaged first.
    A NaN in ``value`` raises (``nan_policy="raise"``) or is dropped with a warning (``"omit"``).
    """
    check_choice(nan_policy, "nan_policy", NAN_POLICIES)
    check_frame(df, "df")
    if not isinstance(by, str):
        raise TypeError(f"by must be one column name, got {by!r}")
    check_columns(df, by, "by")
    pair_cols = check_columns(df, pair, "pair")
    if not isinstance(value, str):
        raise TypeError(f"value must be one column name, got {value!r}")
    check_columns(df, value, "value")
    rows = df[df[by].isin([a, b])]
    bad = rows[value].isna().to_numpy()
    if bad.any():
        _nan_found(bad, nan_policy, f"column {value!r} in the rows of {a!r} and {b!r}")
    wide = df.pivot_table(index=pair_cols, columns=by, values=value)
    for name, side in ((a, "a"), (b, "b")):
        if name not in wide.columns:
            raise ValueError(f"{side}={name!r} is not a value of column {by!r} (values: {list(wide.columns)})")
    return (wide[a] - wide[b]).dropna().rename(f"{value}: {a} − {b}")


def paired_difference(df: pd.DataFrame, a, b, *, by: str, pair: str | Sequence[str], value: str,
                      confidence: float = 0.95, nan_policy: str = "raise") -> tuple[float, float]:
    """Mean and CI half-width of ``value(a) − value(b)`` over the runs both share (same ``pair``: a seed,
    split or repeat). Pairing cancels the run-to-run noise both sides share, so the interval is tighter
    than comparing two separate means. Rows repeated within a pair are averaged first.
    """
    check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    diffs = paired_differences(df, a, b, by=by, pair=pair, value=value, nan_policy=nan_policy)
    if diffs.empty:
        raise ValueError(f"a={a!r} and b={b!r} share no {pair!r} in df: nothing to pair")
    return mean_ci(diffs, confidence)
