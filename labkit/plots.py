"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# --- shared ---


def metric_ci_plot(summary, metrics: Sequence[str], *, by: str = "method", ax=None, title: str | None = None):
    """Means with 95 % CI error bars, one group of points per metric, one colour per ``by`` value.

    ``summary`` is the output of :func:`labkit.stats.summarize` (columns ``m`` and ``m_ci``).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 * len(metrics) + 2, 3.5))
    groups = list(summary[by])
    width = 0.8 / max(len(groups), 1)
    x = np.arange(len(metrics))
    for i, (_, row) in enumerate(summary.iterrows()):
        means = [row[m] for m in metrics]
        cis = [row[f"{m}_ci"] for m in metrics]
        ax.errorbar(x + (i - (len(groups) - 1) / 2) * width, means, yerr=cis, fmt="o", capsize=3,
                    label=str(row[by]))
    ax.set_xticks(x, [m.replace("_", "\n") for m in metrics])
    ax.set_ylim(-0.02, 1.02)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title=by, fontsize="small", ncols=min(len(groups), 3))
    if title:
        ax.set_title(title)
    return ax


# --- notebook 01: imbalanced SVM ---


def decision_boundary(model, X, y, *, ax=None, title: str | None = None, resolution: int = 200):
    """Filled decision regions of a fitted 2-D classifier with the samples on top (minority emphasised)."""
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have exactly 2 features to draw a boundary, got shape {X.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    pad = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    zz = model.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    ax.contourf(gx, gy, zz, alpha=0.25, cmap="coolwarm", levels=[-0.5, 0.5, 1.5])
    labels, counts = np.unique(y, return_counts=True)
    minority = labels[np.argmin(counts)]
    major = y != minority
    ax.scatter(X[major, 0], X[major, 1], s=6, c="tab:blue", alpha=0.4, label=f"majority ({major.sum()})")
    ax.scatter(X[~major, 0], X[~major, 1], s=24, c="tab:red", edgecolor="k", linewidth=0.5,
               label=f"minority ({(~major).sum()})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower right", fontsize="x-small")
    if title:
        ax.set_title(title)
    return ax
