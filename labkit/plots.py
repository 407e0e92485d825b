"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""


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
