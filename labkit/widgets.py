"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""

from __future__ import annotations

import numpy as np

# --- shared ---


def _bundle(item) -> dict:
    import base64
    import io

    import pandas as pd

    if isinstance(item, str):
        return {"output_type": "stream", "name": "stdout", "text": item if item.endswith("\n") else item + "\n"}
    if isinstance(item, bytes):
        return {"output_type": "display_data", "metadata": {},
                "data": {"image/png": base64.b64encode(item).decode("ascii"), "text/plain": "<image>"}}
    if isinstance(item, pd.DataFrame):
        return {"output_type": "display_data", "metadata": {},
                "data": {"text/html": item.to_html(), "text/plain": item.to_string()}}
    if hasattr(item, "savefig"):  # a matplotlib Figure
        import matplotlib.pyplot as plt

        png = io.BytesIO()
        item.savefig(png, format="png", dpi=80, bbox_inches="tight")
        plt.close(item)  # a pyplot figure would otherwise be shown a second time below the cell
        return _bundle(png.getvalue())
    raise TypeError(f"show() takes str, bytes (PNG), DataFrame or matplotlib Figure items, got {type(item).__name__}")


def show(output, *items) -> None:
    """Replace what an ``ipywidgets.Output`` shows with ``items`` (text, PNG bytes, DataFrames, figures).

    One assignment to ``output.outputs`` instead of capturing with ``with output:``: JupyterLab renders
    the same, and headless runners (nbclient) cannot stall while echoing captured output back to the
    kernel (jupyter/nbclient#312), which hung notebook runs at random.
    """
    output.outputs = tuple(_bundle(item) for item in items)


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
        try:
            X, y = data.make_imbalanced(int(controls["n_samples"].value), (1 - share, share),
                                        n_features=2, n_informative=2, n_redundant=0,
                                        flip_y=float(controls["flip_y"].value), random_state=random_state)
            df = balance.compare(X, y, ["none", chosen] if chosen != "none" else ["none"],
                                 n_repeats=n_repeats, random_state=random_state)
            model = balance.fit_balanced(X, y, chosen, random_state=random_state)
        except ValueError as err:
            box.last_error, box.last_table = str(err), None
            show(output, f"Cannot run this setting: {err}")
            return
        box.last_error = None
        fig, ax = plt.subplots(figsize=(5, 4.5))
        plots.decision_boundary(model, X, y, ax=ax, title=f"SVC after '{chosen}' — minority share {share:.3f}")
        table = stats.format_ci(stats.summarize(df, "method", balance.METRICS), balance.METRICS)
        box.last_table = table
        show(output, fig, table.set_index("method"))

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

        from labkit.plots import plot_class_counts

        result = self.run(self.k.value, self.strategy.value, self.weighting.value)
        self.last_result = result
        counts = {key[len("count_"):]: v for key, v in result.items() if key.startswith("count_")}
        items = [self.describe(result)]
        if counts:
            fig, ax = plt.subplots(figsize=(7, 3))
            plot_class_counts(pd.DataFrame([counts], index=[self.strategy.value]),
                              class_names=self.class_names, ax=ax,
                              title=f"classes of the {self.k.value} selected samples")
            fig.tight_layout()
            items.append(fig)
        show(self.output, *items)
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)



# --- notebook 02: active learning ---


class ActiveExplorer:
    """Budget, batch size, strategy and β for pool-based active learning, compared with random sampling.

    Widgets (each with a ``description``): ``budget`` (IntSlider), ``batch size`` (IntSlider),
    ``strategy`` (Dropdown of :data:`labkit.active.STRATEGIES`), ``β`` (SelectionSlider; used by
    "boltzmann") and a ``run`` Button. Pressing ``run`` (or calling :meth:`update`) runs the chosen strategy
    and random sampling ``n_repeats`` times each with :func:`labkit.active.compare` and shows, in ``output``
    (an ``ipywidgets.Output``), the learning curves and how many labels each needed to reach ``target``.
    ``widget`` is the whole VBox; ``last_table`` holds the last label-efficiency table.
    """

    BETAS = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, float("inf"))

    def __init__(self, estimator, X_pool, y_pool, X_test, y_test, *, n_initial: int = 20,
                 budget: int = 300, batch_size: int = 10, strategy: str = "entropy", beta: float = 10.0,
                 target: float = 0.9, n_repeats: int = 3, random_state: int = 0, max_budget: int | None = None):
        import ipywidgets as widgets

        from labkit import active

        self.estimator, self.X_pool, self.y_pool = estimator, X_pool, y_pool
        self.X_test, self.y_test = X_test, y_test
        self.n_initial, self.target, self.n_repeats, self.random_state = n_initial, target, n_repeats, random_state
        max_budget = len(X_pool) if max_budget is None else max_budget
        if not n_initial < budget <= max_budget <= len(X_pool):
            raise ValueError(f"need n_initial < budget <= max_budget <= pool size, got n_initial={n_initial}, "
                             f"budget={budget}, max_budget={max_budget}, pool size={len(X_pool)}")
        if strategy not in active.STRATEGIES:
            raise ValueError(f"strategy must be one of {active.STRATEGIES}, got {strategy!r}")
        if beta not in self.BETAS:
            raise ValueError(f"beta must be one of {self.BETAS}, got {beta!r}")
        self.budget = widgets.IntSlider(value=budget, min=n_initial + 1, max=max_budget, step=10,
                                        description="budget", continuous_update=False)
        self.batch_size = widgets.IntSlider(value=batch_size, min=1, max=100, description="batch size",
                                            continuous_update=False)
        self.strategy = widgets.Dropdown(options=list(active.STRATEGIES), value=strategy, description="strategy")
        self.beta = widgets.SelectionSlider(options=[(f"{b:g}", b) for b in self.BETAS], value=beta,
                                            description="β", continuous_update=False)
        self.button = widgets.Button(description="run", button_style="primary",
                                     tooltip="run the strategy and random sampling, then plot both")
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.budget, self.batch_size]),
                                    widgets.HBox([self.strategy, self.beta, self.button]), self.output])
        self.last_table = None
        self.button.on_click(lambda _button: self.update())

    def update(self, *, budget: int | None = None, batch_size: int | None = None, strategy: str | None = None,
               beta: float | None = None):
        """Set any control (validated, never clipped), run once, show and return the efficiency table."""
        import matplotlib.pyplot as plt

        from labkit import active, plots

        for name, value, control in (("budget", budget, self.budget), ("batch_size", batch_size, self.batch_size)):
            if value is not None and not control.min <= value <= control.max:
                raise ValueError(f"{name}={value!r} is outside the slider's range [{control.min}, {control.max}]")
        if strategy is not None and strategy not in self.strategy.options:
            raise ValueError(f"strategy must be one of {tuple(self.strategy.options)}, got {strategy!r}")
        if beta is not None and beta not in self.BETAS:
            raise ValueError(f"beta must be one of {self.BETAS}, got {beta!r}")
        if budget is not None:
            self.budget.value = int(budget)
        if batch_size is not None:
            self.batch_size.value = int(batch_size)
        if strategy is not None:
            self.strategy.value = strategy
        if beta is not None:
            self.beta.value = beta
        chosen = self.strategy.value
        label = f"boltzmann (β={self.beta.value:g})" if chosen == "boltzmann" else chosen
        strategies = {"random": "random"} | ({label: chosen} if chosen != "random" else {})
        show(self.output, f"running {label} and random, {self.n_repeats} repeats each: budget "
                          f"{self.budget.value}, batch size {self.batch_size.value} ...")
        results = active.compare(self.estimator, self.X_pool, self.y_pool, self.X_test, self.y_test,
                                 strategies=strategies, n_repeats=self.n_repeats, n_initial=self.n_initial,
                                 batch_size=self.batch_size.value, budget=self.budget.value,
                                 beta=self.beta.value, random_state=self.random_state)
        table = active.label_efficiency(results, self.target)
        self.last_table = table
        fig, ax = plt.subplots(figsize=(7, 3.5))
        plots.active_learning_curves(results, target=self.target, ax=ax,
                                     title=f"{label} vs random ({self.n_repeats} repeats, 95 % CI)")
        fig.tight_layout()
        show(self.output, fig,
             f"labels needed to reach {self.target:.0%} test accuracy (median over repeats):",
             table[["strategy", "reached", "repeats", "median_labels", "ratio"]])
        return table

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def selection_explorer(run, **kwargs) -> SelectionExplorer:
    """Build a :class:`SelectionExplorer` (notebook 03: k, strategy and weighting scheme)."""
    return SelectionExplorer(run, **kwargs)


def active_explorer(estimator, X_pool, y_pool, X_test, y_test, **kwargs) -> ActiveExplorer:
    """Build an :class:`ActiveExplorer` (notebook 02: budget, batch size, strategy, β)."""
    return ActiveExplorer(estimator, X_pool, y_pool, X_test, y_test, **kwargs)


class OracleGame:
    """"Be the oracle": the model queries images, the learner labels them by clicking, the model retrains.

    Class labels are indices ``0..len(class_names)-1`` (as in ``labkit.data``'s image sets).
    One class button per class (``description`` = the class name) labels the image on show; after
    ``batch_size`` answers the model is refitted on every label so far (:class:`labkit.active.ActiveLearner`)
    and the test accuracy is updated. The seed set of ``n_initial`` images is labelled with the data set's
    labels. ``output`` (an ``ipywidgets.Output``) shows the image, the model's current top guesses, the
    accuracy history and how many of your labels agree with the data set's. :meth:`answer` does what a
    click does, so code (and tests) can play. ``widget`` is the whole VBox.
    """

    def __init__(self, estimator, X_pool, y_pool, images, X_test, y_test, *, class_names, strategy: str = "entropy",
                 n_initial: int = 20, batch_size: int = 5, random_state: int = 0, scale: int = 16):
        import ipywidgets as widgets
        import numpy as np

        from labkit import active

        images = np.asarray(images)
        if len(images) != len(X_pool):
            raise ValueError(f"images has {len(images)} entries but X_pool has {len(X_pool)} rows")
        self.y_pool, self.images = np.asarray(y_pool), images
        self.X_test, self.y_test = X_test, y_test
        self.class_names = list(class_names)
        self.batch_size, self.scale = batch_size, scale
        self.learner = active.ActiveLearner(estimator, X_pool, strategy=strategy, random_state=random_state)
        first = active.initial_indices(len(X_pool), n_initial, random_state=random_state)
        self.learner.teach(first, self.y_pool[first])
        self.history = [(self.learner.n_labeled, self.learner.score(X_test, y_test))]
        self.answers: list[tuple[int, object]] = []  # (pool index, the label clicked)
        self.pending: list[tuple[int, object]] = []
        self.queue = list(self.learner.query(batch_size))
        self.buttons = [widgets.Button(description=str(name), layout=widgets.Layout(width="auto"))
                        for name in self.class_names]
        for label, button in enumerate(self.buttons):
            button.on_click(lambda _button, label=label: self.answer(label))
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox(self.buttons), self.output])
        self._show()

    @property
    def current(self) -> int:
        """Pool index of the image on show."""
        return int(self.queue[0])

    def answer(self, label: int) -> None:
        """Label the image on show with class ``label`` (an index into ``class_names``), as a click does."""
        import numpy as np

        if not isinstance(label, (int, np.integer)) or not 0 <= label < len(self.class_names):
            raise ValueError(f"label must be a class index in [0, {len(self.class_names)}), got {label!r}")
        self.pending.append((self.queue.pop(0), int(label)))
        if not self.queue:
            idx = [i for i, _ in self.pending]
            self.learner.teach(idx, [lab for _, lab in self.pending])
            self.answers.extend(self.pending)
            self.pending = []
            self.history.append((self.learner.n_labeled, self.learner.score(self.X_test, self.y_test)))
            n_left = len(self.learner.unlabeled())
            if n_left:
                self.queue = list(self.learner.query(min(self.batch_size, n_left)))
        self._show()

    @property
    def agreement(self) -> tuple[int, int]:
        """(how many of your labels match the data set's label, how many you gave)."""
        given = self.answers + self.pending
        return sum(int(self.y_pool[i] == lab) for i, lab in given), len(given)

    def _show(self) -> None:
        import io

        import matplotlib.image
        import matplotlib.pyplot as plt
        import numpy as np

        n, acc = self.history[-1]
        agree, given = self.agreement
        items = [f"{n} labels so far; test accuracy {acc:.3f}. Your labels agree with the data set's on "
                 f"{agree} of {given}."]
        if not self.queue:
            show(self.output, *items, "The pool is fully labelled.")
            return
        i = self.current
        img = self.images[i].reshape(self.images[i].shape[-2:])
        buf = io.BytesIO()
        matplotlib.image.imsave(buf, np.kron(img, np.ones((self.scale, self.scale))), cmap="gray_r", format="png")
        items += [f"Which class is this? (image {len(self.pending) + 1} of {len(self.pending) + len(self.queue)} "
                  "in this batch; the model retrains after the batch)", buf.getvalue()]
        probs = self.learner.model.predict_proba(self.learner.X_pool[[i]])[0]
        top = np.argsort(-probs)[:3]
        guesses = ", ".join(f"{self.class_names[int(self.learner.model.classes_[t])]}: {probs[t]:.2f}"
                            for t in top)
        items.append(f"the model's guesses: {guesses}")
        if len(self.history) > 1:
            fig, ax = plt.subplots(figsize=(4, 2.5))
            ax.plot(*zip(*self.history, strict=True), marker="o")
            ax.set(xlabel="labels", ylabel="test accuracy", title="accuracy as you label")
            fig.tight_layout()
            items.append(fig)
        show(self.output, *items)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def oracle_game(estimator, X_pool, y_pool, images, X_test, y_test, **kwargs) -> OracleGame:
    """Build an :class:`OracleGame` (notebook 02: you label the images the model asks about)."""
    return OracleGame(estimator, X_pool, y_pool, images, X_test, y_test, **kwargs)



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

        key = (self.labels.value, self.unfreeze.value)
        if key not in self.cache:
            self.cache[key] = dict(self.run(*key))
        result = self.cache[key]
        show(self.output, self.describe(result), self.table().round(3))
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def transfer_explorer(run, **kwargs) -> TransferExplorer:
    """Build a :class:`TransferExplorer` (notebook 05: labels per class, blocks to unfreeze)."""
    return TransferExplorer(run, **kwargs)



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
        show(self.out, status, self.table.round(3), fig)
        self.n_updates += 1
        return self.table

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def diversity_explorer(draw, score, background, coords, labels, **kwargs) -> DiversityExplorer:
    """Build the notebook-04 explorer (see :class:`DiversityExplorer`); display the returned object."""
    return DiversityExplorer(draw, score, background, coords, labels, **kwargs)



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
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
        plots.soft_targets(axes[0], self._logits[0], [1.0, t] if t != 1.0 else [1.0],
                           class_names=self._class_names, title="teacher's soft target, one image")
        plots.kd_grid(axes[1], self.sweep, highlight=(t, a), baseline=self._baseline)
        fig.tight_layout()
        show(self.out, line, fig)
        self.status = status
        self.n_updates += 1
        return status

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def kd_explorer(sweep, example_logits, **kwargs) -> KDExplorer:
    """Build the notebook-06 T × alpha explorer (see :class:`KDExplorer`); display the returned object."""
    return KDExplorer(sweep, example_logits, **kwargs)
