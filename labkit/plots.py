"""Plots shared by the notebooks (matplotlib; no global rcParams changes)."""


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
