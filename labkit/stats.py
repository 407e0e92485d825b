"""Means with confidence intervals over repeated runs: how every comparison in the kit is reported."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (half-width NaN for fewer than 2 values)."""
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return float("nan"), float("nan")
    if arr.size < 2:
        return float(arr.mean()), float("nan")
    sem = arr.std(ddof=1) / np.sqrt(arr.size)
    return float(arr.mean()), float(sem * stats.t.ppf(0.5 + confidence / 2, arr.size - 1))


def summarize(df: pd.DataFrame, by: str | Sequence[str], metrics: Sequence[str],
              confidence: float = 0.95) -> pd.DataFrame:
    """One row per group: ``<metric>`` (mean) and ``<metric>_ci`` (CI half-width), plus ``n`` repeats."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, *metrics] if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in df: {missing} (df has {list(df.columns)})")
    rows = []
    for key, group in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n"] = len(group)
        for m in metrics:
            row[m], row[f"{m}_ci"] = mean_ci(group[m], confidence)
        rows.append(row)
    return pd.DataFrame(rows)


def format_ci(summary: pd.DataFrame, metrics: Sequence[str], digits: int = 3) -> pd.DataFrame:
    """A display table with ``mean ± ci`` strings, one column per metric."""
    out = summary.drop(columns=[c for m in metrics for c in (m, f"{m}_ci")]).copy()
    for m in metrics:
        out[m] = [f"{v:.{digits}f} ± {c:.{digits}f}" for v, c in zip(summary[m], summary[f"{m}_ci"], strict=True)]
    return out


def paired_difference(df: pd.DataFrame, a, b, *, by: str, pair: str | Sequence[str], value: str,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Mean and CI half-width of ``value(a) − value(b)`` over the runs both share (same ``pair``: a seed,
    split or repeat). Pairing cancels the run-to-run noise both sides share, so the interval is tighter
    than comparing two separate means. Rows repeated within a pair are averaged first.
    """
    pair_cols = [pair] if isinstance(pair, str) else list(pair)
    missing = [c for c in [by, *pair_cols, value] if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in df: {missing} (df has {list(df.columns)})")
    wide = df.pivot_table(index=pair_cols, columns=by, values=value)
    for name, side in ((a, "a"), (b, "b")):
        if name not in wide.columns:
            raise ValueError(f"{side}={name!r} is not a value of column {by!r} (values: {list(wide.columns)})")
    return mean_ci((wide[a] - wide[b]).dropna(), confidence)
