"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""


# --- notebook 04: diversity and KL ---


class DiversityExplorer:
    """Sliders for subset size and class skew; a metrics table and a 2-D map that update live.

    Widgets, each with a ``description`` (for readers and for browser tests):
    ``size`` (``IntSlider`` "subset size"), ``skew`` (``FloatSlider`` "skew", 0 = balanced, 1 = one class),
    ``seed`` (``IntSlider`` "seed"); everything they produce goes to ``out`` (an ``ipywidgets.Output``):
    a status line starting ``"subset size="``, the metrics table, and the map. ``widget`` is the ``VBox``
    to display (displaying the explorer itself shows it too).

    ``update(size=, skew=, seed=)`` runs the same callback as moving a slider (once, however many values
    change) and returns the table, so a notebook or a test can drive it without a browser.
    ``draw(size, skew, seed) -> indices`` picks a subset; ``score(indices) -> dict`` measures it.
    """

    def __init__(self, draw, score, background, coords, labels, *, sizes: tuple[int, int, int] = (20, 1000, 10),
                 size: int = 200, skew: float = 0.5, seeds: int = 10, class_names=None):
        import ipywidgets as w
        import numpy as np

        if not callable(draw) or not callable(score):
            raise TypeError(f"draw and score must be callables, got {draw!r} and {score!r}")
        lo, hi, step = sizes
        if not 2 <= lo <= hi or step < 1:
            raise ValueError(f"sizes must be (min >= 2, max >= min, step >= 1), got {sizes!r}")
        self._draw, self._score = draw, score
        self._background = np.asarray(background)
        self._coords = np.asarray(coords)
        self._labels = np.asarray(labels)
        if len(self._coords) != len(self._labels):
            raise ValueError(f"coords has {len(self._coords)} rows but labels has {len(self._labels)}")
        self._class_names = class_names
        style = {"description_width": "initial"}
        self.size = w.IntSlider(value=size, min=lo, max=hi, step=step, description="subset size",
                                continuous_update=False, style=style)
        self.skew = w.FloatSlider(value=skew, min=0.0, max=1.0, step=0.05, description="skew",
                                  continuous_update=False, readout_format=".2f", style=style)
        self.seed = w.IntSlider(value=0, min=0, max=max(seeds - 1, 0), description="seed",
                                continuous_update=False, style=style)
        self.out = w.Output()
        self.widget = w.VBox([w.HBox([self.size, self.skew, self.seed]), self.out])
        self.table = None
        self.n_updates = 0
        self._holding = False
        for slider in (self.size, self.skew, self.seed):
            slider.observe(self._on_change, names="value")
        self.refresh()

    def _on_change(self, change) -> None:
        if not self._holding:
            self.refresh()

    def update(self, *, size: int | None = None, skew: float | None = None, seed: int | None = None):
        """Set any of the sliders, recompute once, and return the metrics table."""
        checks = ((size, self.size, "size"), (skew, self.skew, "skew"), (seed, self.seed, "seed"))
        for value, slider, name in checks:
            if value is not None and not slider.min <= value <= slider.max:
                raise ValueError(f"{name} must be in [{slider.min}, {slider.max}], got {value!r}")
        self._holding = True
        try:
            for value, slider, _ in checks:
                if value is not None:
                    slider.value = value
        finally:
            self._holding = False
        return self.refresh()

    def refresh(self):
        """Draw the subset for the current slider values, measure it, and redraw the output."""
        import base64
        import io

        import pandas as pd
        from matplotlib.figure import Figure

        from labkit import plots

        size, skew, seed = int(self.size.value), float(self.skew.value), int(self.seed.value)
        picks = {f"skew {skew:.2f}": self._draw(size, skew, seed), "skew 0 (baseline)": self._draw(size, 0.0, seed)}
        table = pd.DataFrame([{"subset": name, **self._score(idx)} for name, idx in picks.items()])
        self.table = table.set_index("subset")
        first = self.table.iloc[0]
        status = (f"subset size={size}, skew={skew:.2f}, seed={seed}: "
                  + ", ".join(f"{k}={v:.3g}" for k, v in first.items() if k != "n"))
        fig = Figure(figsize=(8, 3.6))  # not pyplot: nothing is registered globally or shown twice
        n_classes = len(self._class_names) if self._class_names is not None else 10
        for ax, (name, idx) in zip(fig.subplots(1, 2), picks.items(), strict=True):
            plots.subset_map(ax, self._background, self._coords[idx], self._labels[idx],
                             title=f"{name} (n={len(idx)})", n_classes=n_classes)
        fig.tight_layout()
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=80)
        shown = self.table.round(3)
        # Replace the Output's content in one assignment rather than capturing with `with self.out:`: the
        # result is the same in JupyterLab, and headless runners (nbclient) do not have to echo captured
        # output back to the kernel, which can stall them (jupyter/nbclient#312).
        self.out.outputs = (
            {"output_type": "stream", "name": "stdout", "text": status + "\n"},
            {"output_type": "display_data", "metadata": {},
             "data": {"text/html": shown.to_html(), "text/plain": shown.to_string()}},
            {"output_type": "display_data", "metadata": {},
             "data": {"image/png": base64.b64encode(png.getvalue()).decode("ascii"),
                      "text/plain": f"<map of {len(picks)} subsets>"}},
        )
        self.n_updates += 1
        return self.table

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def diversity_explorer(draw, score, background, coords, labels, **kwargs) -> DiversityExplorer:
    """Build the notebook-04 explorer (see :class:`DiversityExplorer`); display the returned object."""
    return DiversityExplorer(draw, score, background, coords, labels, **kwargs)
