"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""

from __future__ import annotations

import numpy as np

# --- notebook 01: imbalanced SVM ---

METHOD_CHOICES = ("none", "under", "over", "smote", "adasyn", "class_weight")


def imbalance_explorer(*, n_repeats: int = 5, random_state: int = 0, minority_share: float = 0.05,
                       method: str = "under", n_samples: int = 1000, flip_y: float = 0.01):
    """Sliders for the minority share (0.5 → 0.001), method, n_samples and flip_y; redraws the SVC
    decision boundary on a 2-D set and a metrics table (method vs no balancing, ``n_repeats`` splits).

    Returns a ``VBox`` with ``.controls`` (dict of widgets), ``.output`` and ``.refresh()``; the last
    table is kept in ``.last_table`` and any error message in ``.last_error``.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    from labkit import balance, data, plots, stats

    controls = {
        "minority_share": w.FloatLogSlider(value=minority_share, base=10, min=-3, max=np.log10(0.5),
                                           step=0.1, description="minority share", readout_format=".3f",
                                           continuous_update=False),
        "method": w.Dropdown(options=METHOD_CHOICES, value=method, description="method"),
        "n_samples": w.IntSlider(value=n_samples, min=200, max=5000, step=100, description="n_samples",
                                 continuous_update=False),
        "flip_y": w.FloatSlider(value=flip_y, min=0.0, max=0.1, step=0.005, description="flip_y",
                                readout_format=".3f", continuous_update=False),
    }
    output = w.Output()
    box = w.VBox([w.HBox([controls["minority_share"], controls["method"]]),
                  w.HBox([controls["n_samples"], controls["flip_y"]]), output])
    box.controls, box.output, box.last_table, box.last_error = controls, output, None, None

    def refresh(*_):
        share = float(controls["minority_share"].value)
        chosen = controls["method"].value
        with output:
            output.clear_output(wait=True)
            try:
                X, y = data.make_imbalanced(int(controls["n_samples"].value), (1 - share, share),
                                            n_features=2, n_informative=2, n_redundant=0,
                                            flip_y=float(controls["flip_y"].value), random_state=random_state)
                df = balance.compare(X, y, ["none", chosen] if chosen != "none" else ["none"],
                                     n_repeats=n_repeats, random_state=random_state)
                model = balance.fit_balanced(X, y, chosen, random_state=random_state)
            except ValueError as err:
                box.last_error, box.last_table = str(err), None
                print(f"Cannot run this setting: {err}")
                return
            box.last_error = None
            fig, ax = plt.subplots(figsize=(5, 4.5))
            plots.decision_boundary(model, X, y, ax=ax,
                                    title=f"SVC after '{chosen}' — minority share {share:.3f}")
            plt.show()
            table = stats.format_ci(stats.summarize(df, "method", balance.METRICS), balance.METRICS)
            box.last_table = table
            display(table.set_index("method"))

    for c in controls.values():
        c.observe(refresh, names="value")
    box.refresh = refresh
    refresh()
    return box

# --- notebook 03: selection and weighting ---


class SelectionExplorer:
    """Controls for k, selection strategy and weighting scheme; every change retrains and shows the result.

    ``run(k, strategy, weighting) -> dict`` does the work (in notebook 03, a partial of
    :func:`labkit.select.evaluate_selection`); the dict needs ``accuracy`` and may hold
    ``balanced_accuracy``, ``n_train``, ``fit_seconds`` and ``count_<label>`` entries (plotted as the
    class histogram of the selection). :meth:`update` drives it from code, as a test or the notebook does.

    Widgets (each with a ``description``): ``k`` (IntSlider), ``strategy`` (Dropdown), ``weighting``
    (Dropdown); results go to ``output`` (an ``ipywidgets.Output``). ``widget`` is the whole VBox.
    """

    def __init__(self, run, *, k_min: int, k_max: int, k_step: int = 1, k: int | None = None,
                 strategies=("random", "stratified", "top_entropy"), weightings=("none", "class", "entropy"),
                 class_names=None):
        import ipywidgets as widgets

        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        if not 0 <= k_min <= k_max:
            raise ValueError(f"need 0 <= k_min <= k_max, got k_min={k_min!r}, k_max={k_max!r}")
        k = k_min if k is None else k
        if not k_min <= k <= k_max:
            raise ValueError(f"k={k!r} is outside [k_min, k_max] = [{k_min}, {k_max}]")
        self.run = run
        self.class_names = class_names
        self.last_result: dict | None = None
        self.k = widgets.IntSlider(value=k, min=k_min, max=k_max, step=k_step, description="k",
                                   continuous_update=False)
        self.strategy = widgets.Dropdown(options=list(strategies), value=strategies[0], description="strategy")
        self.weighting = widgets.Dropdown(options=list(weightings), value=weightings[0], description="weighting")
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.k, self.strategy, self.weighting]), self.output])
        self._updating = False
        for control in (self.k, self.strategy, self.weighting):
            control.observe(self._on_change, names="value")

    def _on_change(self, _change=None) -> None:
        if not self._updating:
            self._run_and_show()

    def update(self, k: int | None = None, strategy: str | None = None, weighting: str | None = None) -> dict:
        """Set any of the controls (validated: nothing is clipped), retrain once, show and return the result."""
        if k is not None and not self.k.min <= k <= self.k.max:
            raise ValueError(f"k={k!r} is outside the slider's range [{self.k.min}, {self.k.max}]")
        if strategy is not None and strategy not in self.strategy.options:
            raise ValueError(f"strategy must be one of {tuple(self.strategy.options)}, got {strategy!r}")
        if weighting is not None and weighting not in self.weighting.options:
            raise ValueError(f"weighting must be one of {tuple(self.weighting.options)}, got {weighting!r}")
        self._updating = True
        try:
            if k is not None:
                self.k.value = int(k)
            if strategy is not None:
                self.strategy.value = strategy
            if weighting is not None:
                self.weighting.value = weighting
        finally:
            self._updating = False
        return self._run_and_show()

    def describe(self, result: dict) -> str:
        """One line saying what was trained and how well it did."""
        text = (f"k={self.k.value}, strategy={self.strategy.value}, weighting={self.weighting.value}: "
                f"test accuracy {result['accuracy']:.3f}")
        if "balanced_accuracy" in result:
            text += f", balanced accuracy {result['balanced_accuracy']:.3f}"
        if "n_train" in result:
            text += f"; trained on {result['n_train']} samples"
        if "fit_seconds" in result:
            text += f" in {1000 * result['fit_seconds']:.0f} ms"
        return text

    def _run_and_show(self) -> dict:
        import matplotlib.pyplot as plt
        import pandas as pd
        from IPython.display import display

        from labkit.plots import plot_class_counts

        result = self.run(self.k.value, self.strategy.value, self.weighting.value)
        self.last_result = result
        counts = {key[len("count_"):]: v for key, v in result.items() if key.startswith("count_")}
        with self.output:
            self.output.clear_output(wait=True)
            print(self.describe(result))
            if counts:
                fig, ax = plt.subplots(figsize=(7, 3))
                plot_class_counts(pd.DataFrame([counts], index=[self.strategy.value]),
                                  class_names=self.class_names, ax=ax,
                                  title=f"classes of the {self.k.value} selected samples")
                fig.tight_layout()
                display(fig)
                plt.close(fig)
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def selection_explorer(run, **kwargs) -> SelectionExplorer:
    """Build a :class:`SelectionExplorer` (notebook 03: k, strategy and weighting scheme)."""
    return SelectionExplorer(run, **kwargs)
