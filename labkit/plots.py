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

# --- notebook 03: selection and weighting ---


def plot_accuracy_vs_k(summary, *, metric: str = "accuracy", by: str = "strategy", references=None,
                       ax=None, title: str | None = None):
    """Mean ``metric`` against ``k``, one line per ``by`` group, with its 95 % CI as a band.

    ``summary`` is a :func:`labkit.stats.summarize` table with columns ``k``, ``by``, ``metric`` and
    ``<metric>_ci``; ``references`` maps a label to ``(mean, ci)`` drawn as a horizontal line and band
    (e.g. the seed-only and full-pool models). The k axis is logarithmic.
    """
    import matplotlib.pyplot as plt

    for col in ("k", by, metric, f"{metric}_ci"):
        if col not in summary.columns:
            raise ValueError(f"summary has no column {col!r} (columns: {list(summary.columns)})")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for name, group in summary.groupby(by, sort=False):
        group = group.sort_values("k")
        line, = ax.plot(group["k"], group[metric], marker="o", label=str(name))
        ax.fill_between(group["k"], group[metric] - group[f"{metric}_ci"], group[metric] + group[f"{metric}_ci"],
                        color=line.get_color(), alpha=0.2)
    for i, (name, (mean, ci)) in enumerate((references or {}).items()):
        color = f"C{7 + i % 3}"
        ax.axhline(mean, color=color, linestyle="--", linewidth=1, label=str(name))
        if ci == ci:  # not NaN
            ax.axhspan(mean - ci, mean + ci, color=color, alpha=0.1)
    ax.set_xscale("log")
    ks = sorted(summary["k"].unique())
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("k (samples selected from the pool)")
    ax.set_ylabel(f"test {metric.replace('_', ' ')} (mean, 95 % CI)")
    ax.set_title(title or f"{metric.replace('_', ' ')} vs k")
    ax.legend(fontsize="small")
    return ax


def plot_class_counts(counts, *, class_names=None, ax=None, title: str | None = None):
    """Grouped bars: how many samples of each class every strategy selected.

    ``counts`` is a DataFrame with one row per strategy (the index) and one column per class.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    n_groups, n_classes = counts.shape
    width = 0.8 / max(n_groups, 1)
    x = np.arange(n_classes)
    for i, (name, row) in enumerate(counts.iterrows()):
        ax.bar(x + (i - (n_groups - 1) / 2) * width, row.to_numpy(dtype=float), width, label=str(name))
    names = class_names if class_names is not None else [str(c) for c in counts.columns]
    if len(names) != n_classes:
        raise ValueError(f"class_names has {len(names)} entries but counts has {n_classes} columns")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("samples selected")
    ax.set_title(title or "class histogram of each selection")
    if n_groups > 1:
        ax.legend(fontsize="small")
    return ax


# --- notebook 02: active learning ---


def active_learning_curves(results, *, target: float | None = None, ax=None, title: str | None = None,
                           strategies=None):
    """Mean test accuracy against labels bought, with 95 % CI bands over repeats, one line per strategy.

    ``results`` is :func:`labkit.active.compare`'s tidy output; ``target`` draws a dashed horizontal line.
    """
    import matplotlib.pyplot as plt

    from labkit import stats

    summary = stats.summarize(results, ["strategy", "n_labeled"], ["accuracy"])
    order = list(dict.fromkeys(results["strategy"])) if strategies is None else list(strategies)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for strategy in order:
        s = summary[summary["strategy"] == strategy].sort_values("n_labeled")
        line, = ax.plot(s["n_labeled"], s["accuracy"], label=f"{strategy} (n={int(s['n'].min())})",
                        lw=2.2 if strategy == "random" else 1.5, ls="--" if strategy == "random" else "-")
        ci = s["accuracy_ci"].fillna(0.0)
        ax.fill_between(s["n_labeled"], s["accuracy"] - ci, s["accuracy"] + ci, color=line.get_color(),
                        alpha=0.15, lw=0)
    if target is not None:
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.annotate(f"target {target:.0%}", (ax.get_xlim()[0], target), textcoords="offset points",
                    xytext=(4, 3), fontsize=8, color="grey")
    ax.set(xlabel="labelled samples (initial seed set included)", ylabel="test accuracy",
           title=title or "active learning curves (mean, 95 % CI band)")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def queried_class_histogram(labeled, y_pool, *, n_initial: int, class_names=None, ax=None,
                            title: str | None = None):
    """Share of each class among the samples each strategy *queried* (seed set excluded), all repeats pooled.

    ``labeled`` is the second output of ``compare(..., return_labeled=True)``. The dashed outline is the
    class share of the whole pool, what random sampling draws on average.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    y_pool = np.asarray(y_pool)
    bought = labeled[labeled["order"] >= n_initial]
    classes = np.unique(y_pool)
    names = [str(c) for c in classes] if class_names is None else [class_names[int(c)] for c in classes]
    shares = pd.DataFrame({
        strategy: pd.Series(y_pool[group["pool_index"].to_numpy()]).value_counts(normalize=True)
        .reindex(classes, fill_value=0.0).to_numpy()
        for strategy, group in bought.groupby("strategy", sort=False)
    }, index=names)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    width = 0.8 / shares.shape[1]
    x = np.arange(len(classes))
    for j, strategy in enumerate(shares.columns):
        ax.bar(x + (j - (shares.shape[1] - 1) / 2) * width, shares[strategy], width, label=strategy)
    pool_share = pd.Series(y_pool).value_counts(normalize=True).reindex(classes).to_numpy()
    ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[pool_share, pool_share[-1]], where="post", color="k",
            ls="--", lw=1, label="pool")
    ax.set_xticks(x, names, rotation=30 if max(len(n) for n in names) > 3 else 0)
    ax.set(ylabel="share of queried samples", title=title or "which classes each strategy asked about")
    ax.legend(fontsize=7, ncols=4)
    return shares


def queried_thumbnails(images, rows, *, labels=None, class_names=None, n: int = 10,
                       title: str | None = None):
    """The first ``n`` queried images per strategy, one row each: ``rows`` maps a strategy to pool indices.

    Each row is one mosaic image (fast to draw); the true label is written above every thumbnail.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    images = np.asarray(images)
    h, w = images.shape[-2:]
    fig, axes = plt.subplots(len(rows), 1, figsize=(0.75 * n, 0.9 * len(rows) + 0.5), squeeze=False)
    for ax, (strategy, indices) in zip(axes[:, 0], rows.items(), strict=True):
        indices = [int(i) for i in indices[:n]]
        mosaic = np.full((h, n * (w + 1)), np.nan)
        for c, i in enumerate(indices):
            mosaic[:, c * (w + 1):c * (w + 1) + w] = images[i].reshape(h, w)
            if labels is not None:
                lab = int(labels[i])
                ax.text(c * (w + 1) + w / 2 - 0.5, -0.8, class_names[lab] if class_names is not None else str(lab),
                        ha="center", va="bottom", fontsize=7)
        ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(strategy, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title or f"the first {n} images each strategy asked about (true label above)", fontsize=10)
    fig.tight_layout()
    return fig



# --- notebook 05: transfer learning ---


def plot_accuracy_vs_labels(summary, *, metric: str = "accuracy", by: str = "method", x: str = "per_class",
                            tick_labels: str | None = "labels_per_class", ax=None, title: str | None = None):
    """Mean ``metric`` ± its 95 % CI (``<metric>_ci``) against labelled samples per class, one line per
    ``by`` group, on a log axis; ``tick_labels`` names a column whose values label the ticks (e.g. "all")."""
    import matplotlib.pyplot as plt
    import numpy as np

    missing = [c for c in (metric, f"{metric}_ci", by, x) if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks columns {missing} (has {list(summary.columns)})")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for name, group in summary.groupby(by, sort=False):
        group = group.sort_values(x)
        ci = np.nan_to_num(group[f"{metric}_ci"].to_numpy(dtype=float))
        ax.errorbar(group[x], group[metric], yerr=ci, marker="o", capsize=3, label=str(name))
    ax.set_xscale("log")
    ticks = summary.drop_duplicates(x).sort_values(x)
    ax.set_xticks(ticks[x])
    labels = ticks[tick_labels] if tick_labels in summary.columns else ticks[x]
    ax.set_xticklabels([f"all\n({v:g})" if str(t) == "all" else str(t)
                        for t, v in zip(labels, ticks[x], strict=True)])
    ax.minorticks_off()
    ax.set_xlabel("labelled target samples per class")
    ax.set_ylabel(f"test {metric} (mean ± 95 % CI)")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_reconstructions(X, X_hat, *, n: int = 8, title: str | None = None):
    """Originals (top row) and an autoencoder's reconstructions (bottom row) of the first ``n`` images."""
    import matplotlib.pyplot as plt
    import numpy as np

    X, X_hat = np.asarray(X), np.asarray(X_hat)
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape, got {X.shape} and {X_hat.shape}")
    n = min(n, len(X))
    if n < 1:
        raise ValueError("X holds no images")
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6), squeeze=False)
    for i in range(n):
        for row, images in enumerate((X, X_hat)):
            img = images[i]
            img = img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))
            axes[row, i].imshow(img, cmap="gray")
            axes[row, i].axis("off")
    axes[0, 0].set_title("input", loc="left", fontsize=9)
    axes[1, 0].set_title("reconstruction", loc="left", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig



# --- notebook 04: diversity and KL ---


def subset_map(ax, background, points, labels, *, title: str | None = None, n_classes: int = 10,
               point_size: float = 10.0):
    """Draw a subset (``points``, coloured by class ``labels``) over the full set (``background``, grey).

    ``background`` and ``points`` are 2-D coordinates (e.g. the first two principal components).
    """
    import numpy as np

    background = np.asarray(background)
    points = np.asarray(points)
    if background.ndim != 2 or background.shape[1] != 2:
        raise ValueError(f"background must have shape (n, 2), got {background.shape}")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    if len(labels) != len(points):
        raise ValueError(f"labels has {len(labels)} entries but points has {len(points)} rows")
    ax.scatter(background[:, 0], background[:, 1], s=2, c="0.85", linewidths=0, rasterized=True)
    ax.scatter(points[:, 0], points[:, 1], s=point_size, c=np.asarray(labels), cmap="tab10",
               vmin=-0.5, vmax=n_classes - 0.5, linewidths=0.3, edgecolors="k")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def subset_maps(background, subsets, *, class_names=None, ncols: int = 3):
    """One :func:`subset_map` panel per entry of ``subsets`` (``name -> (points, labels)``), one legend."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D

    if not subsets:
        raise ValueError("subsets is empty: nothing to draw")
    names = list(subsets)
    ncols = min(ncols, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.1 * nrows), squeeze=False)
    n_classes = len(class_names) if class_names is not None else 10
    for ax, name in zip(axes.flat, names, strict=False):
        points, labels = subsets[name]
        subset_map(ax, background, points, labels, title=f"{name} (n={len(points)})", n_classes=n_classes)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    if class_names is not None:
        cmap = plt.get_cmap("tab10")
        handles = [Line2D([], [], marker="o", ls="", color=cmap(i % 10), label=str(c))
                   for i, c in enumerate(class_names)]
        fig.legend(handles=handles, loc="lower center", ncol=min(5, len(handles)), fontsize=8,
                   frameon=False, bbox_to_anchor=(0.5, -0.02 - 0.03 * np.ceil(len(handles) / 5)))
    fig.tight_layout()
    return fig


def smoothing_curves(eps, curves, *, title: str = "", ylabel: str = "nats"):
    """Divergences against the smoothing ``eps`` (log x-axis): ``curves`` maps a label to one value per eps."""
    import matplotlib.pyplot as plt
    import numpy as np

    eps = np.asarray(eps, dtype=float)
    if eps.ndim != 1 or (eps <= 0).any():
        raise ValueError(f"eps must be a 1-D array of positive values for a log axis, got {eps!r}")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.shape != eps.shape:
            raise ValueError(f"curve {label!r} has {values.shape} values but eps has {eps.shape}")
        ax.plot(eps, values, marker="o", ms=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("smoothing eps (added to every probability, then renormalised)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig



# --- notebook 06: distillation ---


def soft_targets(ax, logits, temperatures, *, class_names=None, title: str | None = None):
    """Bars of ``softmax(logits / T)`` for each temperature: how T spreads the teacher's probability.

    ``logits``: one row of teacher logits (length = number of classes); ``temperatures``: positive numbers.
    """
    import numpy as np
    from scipy.special import softmax

    z = np.asarray(logits, dtype=float)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"logits must be one row of at least 2 class scores, got shape {z.shape}")
    temps = [float(t) for t in np.atleast_1d(temperatures)]
    if not temps or any(not np.isfinite(t) or t <= 0 for t in temps):
        raise ValueError(f"temperatures must be positive numbers, got {temperatures!r}")
    k = z.size
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries but logits has {k} classes")
    width = 0.8 / len(temps)
    x = np.arange(k)
    for i, t in enumerate(temps):
        ax.bar(x + (i - (len(temps) - 1) / 2) * width, softmax(z / t), width, label=f"T = {t:g}")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("teacher probability")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def kd_grid(ax, sweep, *, value: str = "accuracy", highlight=None, baseline: float | None = None,
            title: str | None = None):
    """Heat map of ``value`` over a temperature × alpha sweep (columns ``temperature``, ``alpha``, value).

    Repeated cells are averaged. ``highlight=(T, alpha)`` outlines one cell; ``baseline`` (e.g. the
    student trained alone) is written in the title so each cell reads as a gain or a loss.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    missing = [c for c in ("temperature", "alpha", value) if c not in sweep.columns]
    if missing:
        raise ValueError(f"sweep lacks columns {missing} (has {list(sweep.columns)})")
    table = sweep.pivot_table(index="alpha", columns="temperature", values=value, aggfunc="mean")
    data = table.to_numpy()
    vmin, vmax = np.nanmin(data), np.nanmax(data)
    if baseline is not None:
        vmin = min(vmin, baseline)
    im = ax.imshow(data, cmap="viridis", origin="lower", aspect="auto", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(table.shape[1]))
    ax.set_xticklabels([f"{t:g}" for t in table.columns])
    ax.set_yticks(range(table.shape[0]))
    ax.set_yticklabels([f"{a:g}" for a in table.index])
    ax.set_xlabel("temperature T")
    ax.set_ylabel("alpha (weight of the soft term)")
    mid = (vmin + vmax) / 2
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            ax.text(j, i, f"{data[i, j]:.3f}", ha="center", va="center", fontsize=8,
                    color="white" if data[i, j] < mid else "black")
    if highlight is not None:
        t, a = highlight
        if t not in table.columns or a not in table.index:
            raise ValueError(f"highlight {highlight!r} is not a cell of the sweep")
        j, i = list(table.columns).index(t), list(table.index).index(a)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    label = title or f"student {value}"
    if baseline is not None:
        label += f" (alone: {baseline:.3f})"
    ax.set_title(label, fontsize=10)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax


def methods_with_ci(ax, summary, *, by: str = "method", metric: str = "accuracy", references=None,
                    title: str | None = None):
    """Mean ``metric`` per row of a :func:`labkit.stats.summarize` table as points with 95 % CI bars.

    Points, not bars, because the axis does not start at zero. ``references`` (``{"teacher": 0.86}``)
    are drawn as labelled vertical lines.
    """
    import numpy as np

    for col in (by, metric, f"{metric}_ci"):
        if col not in summary.columns:
            raise ValueError(f"summary lacks column {col!r} (has {list(summary.columns)})")
    references = dict(references or {})
    y = np.arange(len(summary))
    means = summary[metric].to_numpy(dtype=float)
    ci = np.nan_to_num(summary[f"{metric}_ci"].to_numpy(dtype=float))
    ax.errorbar(means, y, xerr=ci, fmt="o", capsize=4, color="tab:blue")
    for i, m in enumerate(means):
        ax.annotate(f"{m:.3f}", (m, i), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    for k, (name, value) in enumerate(references.items()):
        ax.axvline(value, color=f"C{k + 1}", ls="--", lw=1, label=f"{name} {value:.3f}")
    ax.set_yticks(y)
    ax.set_yticklabels(summary[by])
    ax.set_ylim(len(summary) - 0.4, -0.6)
    values = [*(means - ci), *(means + ci), *references.values()]
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max(0.01, 0.08 * (hi - lo))
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(f"test {metric} (mean ± 95 % CI)")
    ax.grid(axis="x", alpha=0.3)
    if references:
        ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
