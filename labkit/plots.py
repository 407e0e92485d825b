"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""

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
