"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""


# --- notebook 05: transfer learning ---


class TransferExplorer:
    """Controls for the labelled samples per class and how many blocks of the pretrained model to unfreeze.

    ``run(labels_per_class, unfreeze) -> dict`` fine-tunes and returns at least ``accuracy``, and may hold
    ``trainable_params``, ``seconds_per_epoch`` and ``scratch_accuracy`` (the same labels, no
    pretraining). Results are cached per setting, so moving back to a setting costs nothing; every
    result so far is shown as a table. :meth:`update` drives it from code (the notebook runs it once).
    """

    def __init__(self, run, *, labels_options, unfreeze_options, labels=None, unfreeze=None):
        import ipywidgets as widgets

        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        labels_options, unfreeze_options = list(labels_options), list(unfreeze_options)
        if not labels_options or not unfreeze_options:
            raise ValueError("labels_options and unfreeze_options must not be empty")
        labels = labels_options[0] if labels is None else labels
        unfreeze = unfreeze_options[-1] if unfreeze is None else unfreeze
        self._check(labels, unfreeze, labels_options, unfreeze_options)
        self.run = run
        self.cache: dict = {}
        self.labels = widgets.SelectionSlider(options=labels_options, value=labels,
                                              description="labels/class", continuous_update=False)
        self.unfreeze = widgets.SelectionSlider(options=unfreeze_options, value=unfreeze,
                                                description="unfreeze", continuous_update=False)
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.labels, self.unfreeze]), self.output])
        self._updating = False
        for control in (self.labels, self.unfreeze):
            control.observe(self._on_change, names="value")

    @staticmethod
    def _check(labels, unfreeze, labels_options, unfreeze_options) -> None:
        if labels not in labels_options:
            raise ValueError(f"labels must be one of {labels_options}, got {labels!r}")
        if unfreeze not in unfreeze_options:
            raise ValueError(f"unfreeze must be one of {unfreeze_options}, got {unfreeze!r}")

    def _on_change(self, _change=None) -> None:
        if not self._updating:
            self._run_and_show()

    def update(self, labels=None, unfreeze=None) -> dict:
        """Set the controls (validated, nothing clipped), fine-tune once (or reuse the cache), show, return."""
        labels = self.labels.value if labels is None else labels
        unfreeze = self.unfreeze.value if unfreeze is None else unfreeze
        self._check(labels, unfreeze, list(self.labels.options), list(self.unfreeze.options))
        self._updating = True
        try:
            self.labels.value, self.unfreeze.value = labels, unfreeze
        finally:
            self._updating = False
        return self._run_and_show()

    def table(self):
        """Every result computed so far, one row per (labels per class, unfreeze)."""
        import pandas as pd

        return pd.DataFrame([{"labels_per_class": k[0], "unfreeze": k[1], **v} for k, v in self.cache.items()])

    def describe(self, result: dict) -> str:
        text = (f"{self.labels.value} labels/class, unfreeze {self.unfreeze.value}: "
                f"test accuracy {result['accuracy']:.3f}")
        if "scratch_accuracy" in result:
            text += f" (from scratch: {result['scratch_accuracy']:.3f})"
        if "trainable_params" in result:
            text += f"; {result['trainable_params']:,} trainable parameters"
        if "seconds_per_epoch" in result:
            text += f", {1000 * result['seconds_per_epoch']:.0f} ms per epoch"
        return text

    def _run_and_show(self) -> dict:
        from IPython.display import display

        key = (self.labels.value, self.unfreeze.value)
        if key not in self.cache:
            self.cache[key] = dict(self.run(*key))
        result = self.cache[key]
        with self.output:
            self.output.clear_output(wait=True)
            print(self.describe(result))
            display(self.table().round(3))
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def transfer_explorer(run, **kwargs) -> TransferExplorer:
    """Build a :class:`TransferExplorer` (notebook 05: labels per class, blocks to unfreeze)."""
    return TransferExplorer(run, **kwargs)
