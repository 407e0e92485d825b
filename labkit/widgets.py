"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""


# --- notebook 06: distillation ---


class KDExplorer:
    """Sliders for the distillation temperature T and weight alpha over a precomputed (cached) sweep.

    ``sweep``: a DataFrame with columns ``temperature``, ``alpha`` and ``accuracy`` (one row per trained
    student; repeats are averaged). Moving a slider trains nothing — it looks the cell up — so it responds
    at once. ``example_logits``: a teacher's logits for a few images; the left panel shows
    ``softmax(logits / T)`` for the first one at the chosen T, the right panel the sweep with the chosen
    cell outlined. ``baseline`` (the student trained alone) and ``teacher`` accuracies go in the status.

    Widgets: ``temperature`` (``SelectionSlider`` "temperature T"), ``alpha`` (``SelectionSlider``
    "alpha"), ``out`` (an ``ipywidgets.Output``: a status line starting ``"T="``, then the figure);
    ``widget`` is the ``VBox`` to display (displaying the explorer shows it too). ``update(temperature=,
    alpha=)`` runs the same callback as the sliders and returns the status as a dict, so the notebook (and
    a test) can drive it without a browser.
    """

    def __init__(self, sweep, example_logits, *, baseline: float | None = None, teacher: float | None = None,
                 class_names=None, temperature=None, alpha=None):
        import ipywidgets as w
        import numpy as np

        missing = [c for c in ("temperature", "alpha", "accuracy") if c not in getattr(sweep, "columns", [])]
        if missing:
            raise ValueError(f"sweep must be a DataFrame with columns temperature, alpha, accuracy; "
                             f"missing {missing}")
        if len(sweep) == 0:
            raise ValueError("sweep is empty: run the T × alpha sweep first")
        logits = np.asarray(example_logits, dtype=float)
        if logits.ndim == 1:
            logits = logits[None]
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(f"example_logits must be (images, classes), got shape {logits.shape}")
        sweep = sweep.astype({"temperature": float, "alpha": float})
        self.sweep = sweep
        self._table = sweep.groupby(["temperature", "alpha"])["accuracy"].mean()
        self._logits = logits
        self._baseline, self._teacher, self._class_names = baseline, teacher, class_names
        temps = sorted(float(t) for t in sweep["temperature"].unique())
        alphas = sorted(float(a) for a in sweep["alpha"].unique())
        temperature = temps[len(temps) // 2] if temperature is None else float(temperature)
        alpha = alphas[-1] if alpha is None else float(alpha)
        self._check(temperature, alpha, temps, alphas)
        self.temperature = w.SelectionSlider(options=temps, value=temperature, description="temperature T",
                                             continuous_update=True, style={"description_width": "initial"})
        self.alpha = w.SelectionSlider(options=alphas, value=alpha, description="alpha",
                                       continuous_update=True, style={"description_width": "initial"})
        self.out = w.Output()
        self.widget = w.VBox([w.HBox([self.temperature, self.alpha]), self.out])
        self.status: dict | None = None
        self.n_updates = 0
        self._holding = False
        for slider in (self.temperature, self.alpha):
            slider.observe(self._on_change, names="value")
        self.refresh()

    @staticmethod
    def _check(temperature, alpha, temps, alphas) -> None:
        if temperature not in temps:
            raise ValueError(f"temperature must be one of the sweep's {temps}, got {temperature!r}")
        if alpha not in alphas:
            raise ValueError(f"alpha must be one of the sweep's {alphas}, got {alpha!r}")

    def _on_change(self, change) -> None:
        if not self._holding:
            self.refresh()

    def update(self, *, temperature: float | None = None, alpha: float | None = None) -> dict:
        """Set either slider, redraw once, and return the status dict (T, alpha, accuracy, gain)."""
        temps, alphas = list(self.temperature.options), list(self.alpha.options)
        self._check(self.temperature.value if temperature is None else float(temperature),
                    self.alpha.value if alpha is None else float(alpha), temps, alphas)
        self._holding = True
        try:
            if temperature is not None:
                self.temperature.value = float(temperature)
            if alpha is not None:
                self.alpha.value = float(alpha)
        finally:
            self._holding = False
        return self.refresh()

    def refresh(self) -> dict:
        """Look up the current cell, print its status and redraw both panels."""
        import matplotlib.pyplot as plt
        import numpy as np
        from IPython.display import display

        from labkit import metrics, plots

        t, a = float(self.temperature.value), float(self.alpha.value)
        acc = float(self._table.get((t, a), np.nan))
        z = self._logits[0] / t
        probs = np.exp(z - z.max())
        probs /= probs.sum()
        status = {"temperature": t, "alpha": a, "accuracy": acc,
                  "gain_over_alone": acc - float(self._baseline) if self._baseline is not None else np.nan,
                  "soft_target_entropy": float(metrics.entropy(probs))}
        line = f"T={t:g}, alpha={a:g}: student accuracy {acc:.3f}"
        if self._baseline is not None:
            line += f" ({status['gain_over_alone']:+.3f} vs the student alone, {self._baseline:.3f})"
        if self._teacher is not None:
            line += f"; teacher {self._teacher:.3f}"
        line += f"; entropy of the example's soft target {status['soft_target_entropy']:.2f} nats"
        with self.out:
            self.out.clear_output(wait=True)
            print(line)
            fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
            plots.soft_targets(axes[0], self._logits[0], [1.0, t] if t != 1.0 else [1.0],
                               class_names=self._class_names, title="teacher's soft target, one image")
            plots.kd_grid(axes[1], self.sweep, highlight=(t, a), baseline=self._baseline)
            fig.tight_layout()
            display(fig)
            plt.close(fig)
        self.status = status
        self.n_updates += 1
        return status

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def kd_explorer(sweep, example_logits, **kwargs) -> KDExplorer:
    """Build the notebook-06 T × alpha explorer (see :class:`KDExplorer`); display the returned object."""
    return KDExplorer(sweep, example_logits, **kwargs)
