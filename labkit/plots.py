"""Plots shared by the notebooks (matplotlib; no global rcParams changes).

Conventions: every function that draws on one set of axes takes ``ax=None`` as a keyword (``None``: a new
figure) and returns the axes; the figure-level ones (:func:`queried_thumbnails`, :func:`plot_reconstructions`,
:func:`subset_maps`) lay out their own grid and return the ``Figure``. Every plot labels its axes, and a
title must be a ``str``. Means with confidence intervals all go through one function, :func:`ci_plot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from labkit._validation import (
    check_bool,
    check_classes,
    check_columns,
    check_estimator,
    check_features,
    check_frame,
    check_int,
    check_number,
    check_same_length,
    check_vector,
)

# --- shared ---


def _check_class_names(class_names, labels, name: str = "class_names", labels_name: str = "labels") -> None:
    """``class_names`` (when given) is a non-empty sequence with a name for every label in ``labels``."""
    if class_names is None:
        return
    if isinstance(class_names, str) or not hasattr(class_names, "__len__") or len(class_names) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of names, got {class_names!r}")
    labels = np.asarray(labels)
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(f"{name} has {len(class_names)} names, but {labels_name} holds labels up to "
                         f"{labels.max()!r}: one name per class 0 .. {labels.max()!r} is needed")


def _axes(ax, figsize):
    """``ax``, or the axes of a new pyplot figure of ``figsize``."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _title(target, title, **kwargs) -> None:
    """Title an Axes (or a Figure: its suptitle); only text is accepted, so a dict never lands on a plot."""
    if title is None:
        return
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}: {title!r}")
    (target.suptitle if hasattr(target, "suptitle") else target.set_title)(title, **kwargs)


def _is_numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _n_text(summary) -> str:
    """'(n = 8)', '(n = 3–10)' or '(indicative, n = 2)' from a summary's ``n`` column ('' without one)."""
    if "n" not in summary.columns or summary["n"].isna().all():
        return ""
    lo, hi = int(summary["n"].min()), int(summary["n"].max())
    n = f"n = {lo}" if lo == hi else f"n = {lo}–{hi}"
    return f" (indicative, {n})" if lo < 5 else f" ({n})"


def ci_plot(summary, *, x: str | None = None, y: str | Sequence[str], by: str | None = None, ax=None,
            kind: str | None = None, log_x: bool = False, tick_labels: str | None = None,
            references: Mapping | None = None, annotate: bool = False, lim: tuple[float, float] | None = None,
            marker: str | None = "o", styles: Mapping | None = None, xlabel: str | None = None,
            ylabel: str | None = None, title: str | None = None):
    """Means with their 95 % confidence intervals, one series per ``by`` group; returns the axes.

    ``summary`` is a :func:`labkit.stats.summarize` table: for a value column ``v`` it holds the mean ``v`` and
    the CI half-width ``v_ci`` (NaN: no interval drawn), and usually ``n`` (repeats per mean).

    Which column is the value: ``y`` — unless ``y`` holds text and ``x`` numbers, then ``x`` (a horizontal
    plot, one row per category, first on top). ``y`` may also be a list of value columns of a wide table
    (e.g. several metrics): each becomes a category on the x axis, and ``x`` must be ``None``.
    A numeric position column gives a numeric axis (``log_x`` for a log scale, ticks at the values; with
    ``tick_labels``, a column naming each tick, e.g. "all"); a text column gives one slot per category, the
    ``by`` groups side by side in it.

    kind: "band" (line and shaded CI; the default on a numeric axis), "errorbar" (line with CI bars) or
    "points" (points with CI bars, no line; the default for categories). ``references`` maps a label to a
    value or a ``(mean, ci)`` pair, drawn as a dashed line (and band) across the plot. ``annotate`` writes
    each mean beside its point. ``lim``: the value axis's limits (default: matplotlib's, which take in
    the intervals and references).
    ``styles`` maps a ``by`` group to extra line keywords (e.g. ``{"random": {"ls": "--"}}``).
    The value axis is labelled ``"<ylabel or the column>, mean ± 95 % CI (n = …)"``, so every plot states
    its n (and calls n < 5 indicative); the other axis is labelled ``xlabel`` or its column's name.
    """
    import pandas as pd

    check_frame(summary, "summary")
    log_x, annotate = check_bool(log_x, "log_x"), check_bool(annotate, "annotate")
    named = [f"{n}={c!r}" for n, c in (("x", x), ("by", by), ("tick_labels", tick_labels))
             if c is not None and c not in summary.columns]
    named += [f"y={y!r}"] if any(c not in summary.columns for c in ([y] if isinstance(y, str) else y)) else []
    if named:
        missing = [c for c in (x, by, tick_labels, *([y] if isinstance(y, str) else y))
                   if c is not None and c not in summary.columns]
        raise ValueError(f"summary lacks columns {missing} ({', '.join(named)}; has {list(summary.columns)})")
    if not isinstance(y, str):
        if x is not None:
            raise ValueError(f"with several value columns y={list(y)!r}, x must be None (the columns are the x axis)")
        value_cols = list(y)
        missing = [c for col in value_cols for c in (col, f"{col}_ci") if c not in summary.columns]
        missing += [by] if by is not None and by not in summary.columns else []
        if missing:
            raise ValueError(f"summary lacks columns {missing} (has {list(summary.columns)})")
        keep = [c for c in (by, "n") if c is not None and c in summary.columns]
        summary = pd.DataFrame([{**{c: row[c] for c in keep}, "metric": col, "value": row[col],
                                 "value_ci": row[f"{col}_ci"]}
                                for _, row in summary.iterrows() for col in value_cols])
        x, y, ylabel = "metric", "value", ylabel or "score"
        category_names = {col: col.replace("_", "\n") for col in value_cols}
    else:
        if x is None:
            raise ValueError(f"x is required with a single value column y={y!r}")
        category_names = None
    missing = [c for c in (x, y, by, tick_labels) if c is not None and c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks columns {missing} (has {list(summary.columns)})")
    horizontal = _is_numeric(summary[x]) and not _is_numeric(summary[y])
    pos_col, val_col = (y, x) if horizontal else (x, y)
    if f"{val_col}_ci" not in summary.columns:
        raise ValueError(f"summary lacks columns {[f'{val_col}_ci']} (has {list(summary.columns)})")
    if not _is_numeric(summary[val_col]):
        raise ValueError(f"neither x={x!r} nor y={y!r} holds numbers: nothing to plot as a mean")
    categorical = not _is_numeric(summary[pos_col])
    kind = kind or ("points" if categorical else "band")
    if kind not in ("band", "errorbar", "points"):
        raise ValueError(f"kind must be one of ['band', 'errorbar', 'points'], got {kind!r}")
    if log_x and (categorical or horizontal):
        raise ValueError(f"log_x needs a numeric x axis, but x={x!r} holds categories")

    categories = list(dict.fromkeys(summary[pos_col])) if categorical else []
    groups = list(dict.fromkeys(summary[by])) if by is not None else [None]
    if ax is None:
        figsize = ((7, 0.45 * len(categories) + 1.5) if horizontal else
                   (1.8 * len(categories) + 2, 3.5) if categorical else (6.5, 4))
    ax = _axes(ax, figsize if ax is None else None)
    width = 0.8 / len(groups)
    for i, group in enumerate(groups):
        rows = summary if group is None else summary[summary[by] == group]
        if categorical:
            pos = np.array([categories.index(c) for c in rows[pos_col]], dtype=float)
            pos += (i - (len(groups) - 1) / 2) * width
        else:
            rows = rows.sort_values(pos_col)
            pos = rows[pos_col].to_numpy(dtype=float)
        mean = rows[val_col].to_numpy(dtype=float)
        ci = rows[f"{val_col}_ci"].to_numpy(dtype=float)
        style = {"label": None if group is None else str(group), "marker": marker,
                 **dict((styles or {}).get(group, {}))}
        if kind == "band":
            line, = ax.plot(*((mean, pos) if horizontal else (pos, mean)), **style)
            band = (ax.fill_betweenx if horizontal else ax.fill_between)
            band(pos, mean - ci, mean + ci, color=line.get_color(), alpha=0.15, lw=0)
        else:
            bars = {"xerr" if horizontal else "yerr": np.nan_to_num(ci), "capsize": 3}
            if kind == "points":
                style["ls"] = style.pop("ls", "none")
            ax.errorbar(*((mean, pos) if horizontal else (pos, mean)), **bars, **style)
        if annotate:
            for p, m in zip(pos, mean, strict=True):
                ax.annotate(f"{m:.3f}", (m, p) if horizontal else (p, m), xytext=(0, 7), textcoords="offset points",
                            ha="center", fontsize=8)
    refs = {name: (v if isinstance(v, tuple) else (v, float("nan"))) for name, v in (references or {}).items()}
    for k, (name, (mean, ci)) in enumerate(refs.items()):
        color = f"C{(len(groups) + k) % 10}"
        (ax.axvline if horizontal else ax.axhline)(mean, color=color, ls="--", lw=1, label=f"{name}: {mean:.3f}")
        if ci == ci:  # not NaN
            (ax.axvspan if horizontal else ax.axhspan)(mean - ci, mean + ci, color=color, alpha=0.1)

    if lim is not None:
        (ax.set_xlim if horizontal else ax.set_ylim)(*lim)
    if categorical:
        names = [category_names.get(c, c) if category_names else str(c) for c in categories]
        if horizontal:
            ax.set_yticks(range(len(categories)), names)
            ax.set_ylim(len(categories) - 0.4, -0.6)
        else:
            ax.set_xticks(range(len(categories)), names)
    if log_x:
        ax.set_xscale("log")
        ticks = summary.drop_duplicates(pos_col).sort_values(pos_col)
        names = ticks[tick_labels] if tick_labels is not None else ticks[pos_col]
        ax.set_xticks(ticks[pos_col], [str(t) if str(t) == f"{v:g}" else f"{t}\n({v:g})"
                                       for t, v in zip(names, ticks[pos_col], strict=True)])
        ax.minorticks_off()
    value_label = f"{(ylabel if not horizontal else xlabel) or val_col.replace('_', ' ')}, mean ± 95 % CI"
    value_label += _n_text(summary)
    pos_label = (xlabel if not horizontal else ylabel) or pos_col.replace("_", " ")
    ax.set_xlabel(value_label if horizontal else pos_label)
    ax.set_ylabel(pos_label if horizontal else value_label)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    if by is not None or refs:
        ax.legend(title=by, fontsize="small", ncols=min(max(len(groups), 1), 3) if categorical else 1)
    _title(ax, title)
    return ax


# --- notebook 01: imbalanced SVM ---


def decision_boundary(model, X, y, *, ax=None, title: str | None = None, resolution: int = 200,
                      xlabel: str = "feature 1", ylabel: str = "feature 2"):
    """Filled decision regions of a fitted 2-D classifier with the samples on top (minority emphasised)."""
    check_estimator(model, "model", methods=("predict",))
    X = check_features(X, "X")
    if X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"X must have exactly 2 features and at least one row to draw a boundary, got shape "
                         f"{X.shape}")
    y = check_classes(y, "y", min_classes=1)
    check_same_length("X", X, "y", y)
    resolution = check_int(resolution, "resolution", low=2)
    ax = _axes(ax, (4, 4))
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
    ax.set_xlabel(xlabel, fontsize="small")
    ax.set_ylabel(ylabel, fontsize="small")
    ax.legend(loc="lower right", fontsize="x-small")
    _title(ax, title)
    return ax

# --- notebook 03: selection and weighting ---


def plot_class_counts(counts, *, class_names=None, ax=None, title: str | None = None):
    """Grouped bars: how many samples of each class every strategy selected.

    ``counts`` is a DataFrame with one row per strategy (the index) and one column per class.
    """
    check_frame(counts, "counts")
    n_groups, n_classes = counts.shape
    names = class_names if class_names is not None else [str(c) for c in counts.columns]
    if len(names) != n_classes:
        raise ValueError(f"class_names has {len(names)} entries but counts has {n_classes} columns")
    ax = _axes(ax, (8, 3.5))
    width = 0.8 / max(n_groups, 1)
    x = np.arange(n_classes)
    for i, (name, row) in enumerate(counts.iterrows()):
        ax.bar(x + (i - (n_groups - 1) / 2) * width, row.to_numpy(dtype=float), width, label=str(name))
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_xlabel("class")
    ax.set_ylabel("samples selected")
    _title(ax, title or "class histogram of each selection")
    if n_groups > 1:
        ax.legend(fontsize="small")
    return ax


# --- notebook 02: active learning ---


def active_learning_curves(results, *, target: float | None = None, ax=None, title: str | None = None,
                           strategies=None):
    """Mean test accuracy against labels bought, with 95 % CI bands over repeats, one line per strategy.

    ``results`` is :func:`labkit.active.compare`'s tidy output (one row per strategy, repeat and round);
    ``strategies`` picks and orders the lines; random sampling is drawn dashed, the baseline the others
    must beat; ``target`` draws a dotted horizontal line. A :func:`ci_plot` of the summarised curves.
    """
    from labkit import stats

    check_frame(results, "results")
    check_columns(results, ["strategy", "n_labeled", "accuracy"], "results", df_name="results")
    if target is not None:
        target = check_number(target, "target", low=0, high=1)
    order = list(dict.fromkeys(results["strategy"])) if strategies is None else list(strategies)
    unknown = sorted(set(order) - set(results["strategy"]))
    if unknown:
        raise ValueError(f"strategies {unknown} are not in results (has {sorted(set(results['strategy']))})")
    summary = stats.summarize(results[results["strategy"].isin(order)], ["strategy", "n_labeled"], ["accuracy"])
    summary = summary.sort_values("strategy", key=lambda s: s.map(order.index), kind="stable")
    names = {s: f"{s} (n={int(summary.loc[summary['strategy'] == s, 'n'].min())})" for s in order}
    summary["strategy"] = summary["strategy"].map(names)
    styles = {names[s]: {"lw": 2.2 if s == "random" else 1.5, "ls": "--" if s == "random" else "-"} for s in order}
    ax = ci_plot(summary, x="n_labeled", y="accuracy", by="strategy", ax=_axes(ax, (7, 4)), marker=None,
                 styles=styles, xlabel="labelled samples (initial seed set included)",
                 ylabel="test accuracy", title=title or "active learning curves (mean, 95 % CI band)")
    if target is not None:
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.annotate(f"target {target:.0%}", (ax.get_xlim()[0], target), textcoords="offset points",
                    xytext=(4, 3), fontsize=8, color="grey")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def queried_class_shares(labeled, y_pool, *, n_initial: int, class_names=None):
    """Share of each class (rows) among the samples each strategy (columns) *queried*, seed set excluded.

    ``labeled`` is the second output of ``compare(..., return_labeled=True)``; all repeats are pooled.
    """
    import pandas as pd

    check_frame(labeled, "labeled")
    check_columns(labeled, ["strategy", "order", "pool_index"], "labeled", df_name="labeled")
    y_pool = check_classes(y_pool, "y_pool", min_classes=1)
    n_initial = check_int(n_initial, "n_initial", low=0)
    if len(labeled) and labeled["pool_index"].max() >= len(y_pool):
        raise ValueError(f"labeled holds pool_index {labeled['pool_index'].max()} but y_pool has {len(y_pool)} "
                         "entries: pass the y_pool the run drew from")
    _check_class_names(class_names, y_pool, labels_name="y_pool")
    bought = labeled[labeled["order"] >= n_initial]
    classes = np.unique(y_pool)
    names = [str(c) for c in classes] if class_names is None else [class_names[int(c)] for c in classes]
    return pd.DataFrame({
        strategy: pd.Series(y_pool[group["pool_index"].to_numpy()]).value_counts(normalize=True)
        .reindex(classes, fill_value=0.0).to_numpy()
        for strategy, group in bought.groupby("strategy", sort=False)
    }, index=names)


def queried_class_histogram(labeled, y_pool, *, n_initial: int, class_names=None, ax=None,
                            title: str | None = None):
    """Bars of :func:`queried_class_shares`, one colour per strategy; returns the axes.

    The dashed outline is the class share of the whole pool, what random sampling draws on average.
    """
    import pandas as pd

    shares = queried_class_shares(labeled, y_pool, n_initial=n_initial, class_names=class_names)
    classes = np.unique(np.asarray(y_pool))
    names = list(shares.index)
    ax = _axes(ax, (9, 3.5))
    width = 0.8 / shares.shape[1]
    x = np.arange(len(classes))
    for j, strategy in enumerate(shares.columns):
        ax.bar(x + (j - (shares.shape[1] - 1) / 2) * width, shares[strategy], width, label=strategy)
    pool_share = pd.Series(np.asarray(y_pool)).value_counts(normalize=True).reindex(classes).to_numpy()
    ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[pool_share, pool_share[-1]], where="post", color="k",
            ls="--", lw=1, label="pool")
    ax.set_xticks(x, names, rotation=30 if max(len(n) for n in names) > 3 else 0)
    ax.set(xlabel="class", ylabel="share of queried samples")
    _title(ax, title or "which classes each strategy asked about")
    ax.legend(fontsize=7, ncols=4)
    return ax


def queried_thumbnails(images, rows, *, labels=None, class_names=None, n: int = 10,
                       title: str | None = None):
    """The first ``n`` queried images per strategy, one row each: ``rows`` maps a strategy to pool indices.

    Figure-level (returns the ``Figure``): each row is one mosaic image (fast to draw), labelled with its
    strategy; the true label is written above every thumbnail.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = check_int(n, "n", low=1)
    if images.ndim < 3:
        raise ValueError(f"images must be [N, H, W] or [N, C, H, W], got shape {images.shape}")
    if labels is not None:
        labels = check_classes(labels, "labels", min_classes=1)
        check_same_length("images", images, "labels", labels)
        _check_class_names(class_names, labels)
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
    _title(fig, title or f"the first {n} images each strategy asked about (true label above)", fontsize=10)
    fig.tight_layout()
    return fig



# --- notebook 05: transfer learning ---


def plot_reconstructions(X, X_hat, *, n: int = 8, title: str | None = None):
    """Originals (top row) and an autoencoder's reconstructions (bottom row) of the first ``n`` images.

    Figure-level (returns the ``Figure``); the rows are labelled "input" and "reconstruction".
    """
    import matplotlib.pyplot as plt

    X, X_hat = np.asarray(X), np.asarray(X_hat)
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape, got {X.shape} and {X_hat.shape}")
    n = min(check_int(n, "n", low=1), len(X))
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
    _title(fig, title)
    fig.tight_layout()
    return fig



# --- notebook 04: diversity and KL ---


def subset_map(background, points, labels, *, ax=None, title: str | None = None, n_classes: int = 10,
               point_size: float = 10.0, xlabel: str = "PC 1", ylabel: str = "PC 2"):
    """Draw a subset (``points``, coloured by class ``labels``) over the full set (``background``, grey).

    ``background`` and ``points`` are 2-D coordinates, by default labelled as the first two principal
    components (``xlabel``, ``ylabel`` say otherwise).
    """
    background = check_features(background, "background")
    points = check_features(points, "points")
    if background.shape[1] != 2 or len(background) == 0:
        raise ValueError(f"background must have shape (n, 2) with n >= 1, got {background.shape}")
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    n_classes = check_int(n_classes, "n_classes", low=1)
    labels = check_classes(labels, "labels", min_classes=0, n_classes=n_classes)
    if len(labels) != len(points):
        raise ValueError(f"labels has {len(labels)} entries but points has {len(points)} rows")
    point_size = check_number(point_size, "point_size", low=0, low_open=True)
    ax = _axes(ax, (3.5, 3.3))
    ax.scatter(background[:, 0], background[:, 1], s=2, c="0.85", linewidths=0, rasterized=True)
    ax.scatter(points[:, 0], points[:, 1], s=point_size, c=np.asarray(labels), cmap="tab10",
               vmin=-0.5, vmax=n_classes - 0.5, linewidths=0.3, edgecolors="k")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    _title(ax, title, fontsize=10)
    return ax


def subset_maps(background, subsets, *, class_names=None, ncols: int = 3):
    """One :func:`subset_map` panel per entry of ``subsets`` (``name -> (points, labels)``), one legend.

    Figure-level: returns the ``Figure``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not subsets:
        raise ValueError("subsets is empty: nothing to draw")
    background = check_features(background, "background")
    if background.shape[1] != 2 or len(background) == 0:
        raise ValueError(f"background must have shape (n, 2) with n >= 1, got {background.shape}")
    ncols = check_int(ncols, "ncols", low=1)
    for name, (_, labels) in subsets.items():
        _check_class_names(class_names, check_classes(labels, f"subsets[{name!r}] labels", min_classes=0))
    names = list(subsets)
    ncols = min(ncols, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.1 * nrows), squeeze=False)
    n_classes = len(class_names) if class_names is not None else 10
    for ax, name in zip(axes.flat, names, strict=False):
        points, labels = subsets[name]
        subset_map(background, points, labels, ax=ax, title=f"{name} (n={len(points)})", n_classes=n_classes)
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


def smoothing_curves(eps, curves, *, ax=None, title: str | None = None, ylabel: str = "nats"):
    """Divergences against the smoothing ``eps`` (log x-axis): ``curves`` maps a label to one value per eps."""
    eps = check_vector(eps, "eps")
    if (eps <= 0).any():
        raise ValueError(f"eps must be a 1-D array of positive values for a log axis, got {eps!r}")
    for label, values in curves.items():
        if np.shape(values) != eps.shape:
            raise ValueError(f"curve {label!r} has {np.shape(values)} values but eps has {eps.shape}")
    new_figure = ax is None
    ax = _axes(ax, (6, 3.6))
    for label, values in curves.items():
        ax.plot(eps, np.asarray(values, dtype=float), marker="o", ms=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("smoothing eps (added to every probability, then renormalised)")
    ax.set_ylabel(ylabel)
    _title(ax, title, fontsize=10)
    ax.legend(fontsize=8)
    if new_figure:
        ax.figure.tight_layout()
    return ax



# --- notebook 06: distillation ---


def soft_targets(logits, temperatures, *, ax=None, class_names=None, title: str | None = None):
    """Bars of ``softmax(logits / T)`` for each temperature: how T spreads the teacher's probability.

    ``logits``: one row of teacher logits (length = number of classes); ``temperatures``: positive numbers.
    """
    from scipy.special import softmax

    z = np.asarray(logits, dtype=float)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"logits must be one row of at least 2 class scores, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError(f"logits must be finite, got {z!r}")
    temps = [float(t) for t in np.atleast_1d(temperatures)]
    if not temps or any(not np.isfinite(t) or t <= 0 for t in temps):
        raise ValueError(f"temperatures must be positive numbers, got {temperatures!r}")
    k = z.size
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries but logits has {k} classes")
    ax = _axes(ax, (7, 3))
    width = 0.8 / len(temps)
    x = np.arange(k)
    for i, t in enumerate(temps):
        ax.bar(x + (i - (len(temps) - 1) / 2) * width, softmax(z / t), width, label=f"T = {t:g}")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("class")
    ax.set_ylabel("teacher probability")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    _title(ax, title, fontsize=10)
    return ax


def kd_grid(sweep, *, ax=None, value: str = "accuracy", highlight=None, baseline: float | None = None,
            title: str | None = None):
    """Heat map of ``value`` over a temperature × alpha sweep (columns ``temperature``, ``alpha``, value).

    Repeated cells are averaged. ``highlight=(T, alpha)`` outlines one cell; ``baseline`` (e.g. the
    student trained alone) is written in the title so each cell reads as a gain or a loss.
    """
    from matplotlib.patches import Rectangle

    check_frame(sweep, "sweep")
    check_columns(sweep, ["temperature", "alpha"], "sweep", df_name="sweep")
    check_columns(sweep, value, "value", df_name="sweep")
    if baseline is not None:
        baseline = check_number(baseline, "baseline", low=0)
    table = sweep.pivot_table(index="alpha", columns="temperature", values=value, aggfunc="mean")
    if highlight is not None:
        t, a = highlight
        if t not in table.columns or a not in table.index:
            raise ValueError(f"highlight {highlight!r} is not a cell of the sweep")
    ax = _axes(ax, (6, 3.2))
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
        j, i = list(table.columns).index(highlight[0]), list(table.index).index(highlight[1])
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    label = title or f"student {value}"
    if baseline is not None:
        label += f" (alone: {baseline:.3f})"
    _title(ax, label, fontsize=10)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label=value.replace("_", " "))
    return ax
