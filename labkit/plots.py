"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""


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
