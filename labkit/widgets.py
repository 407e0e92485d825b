"""ipywidgets front-ends: one explorer per notebook knob, all built on :class:`Explorer`.

An explorer is a set of named controls, one ``Output`` and one callback (:meth:`Explorer.render`): moving a
control, pressing its button or calling ``update(**values)`` from code runs the callback and redraws the
output. Displaying an explorer shows its controls and output.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from labkit._validation import (
    check_bool,
    check_choice,
    check_classes,
    check_estimator,
    check_features,
    check_int,
    check_number,
    check_same_length,
)


def _check_xy(X, y, x_name: str, y_name: str, *, min_classes: int = 2):
    """Features ``X`` (2-D, finite, at least one row) and their class labels ``y`` (same length); returned
    unchanged."""
    arr = np.asarray(X)
    check_features(arr, x_name, dtype=arr.dtype if arr.dtype.kind == "f" else np.float64)
    if len(arr) == 0:
        raise ValueError(f"{x_name} has no rows")
    check_same_length(x_name, arr, y_name, check_classes(y, y_name, min_classes=min_classes))
    return X, y  # as given: what is validated is what the explorer uses, unconverted


def _check_names(class_names, n_classes: int, name: str = "class_names") -> list:
    """A non-empty sequence of at least ``n_classes`` names (one per class index)."""
    if isinstance(class_names, str) or not hasattr(class_names, "__len__") or len(class_names) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of names, got {class_names!r}")
    if len(class_names) < n_classes:
        raise ValueError(f"{name} has {len(class_names)} names but there are {n_classes} classes")
    return list(class_names)

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


def _error_text(err: Exception) -> str:
    """A one-line reason: the message of a ValueError/TypeError, else the exception's kind and message."""
    if isinstance(err, ValueError | TypeError) and str(err):
        return str(err)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _describe(setting: str, result: Mapping, extras: Mapping[str, Callable[[object], str]]) -> str:
    """"<setting>: test accuracy 0.812", then ``extras[key](result[key])`` for each key the result holds."""
    return (f"{setting}: test accuracy {result['accuracy']:.3f}"
            + "".join(text(result[key]) for key, text in extras.items() if key in result))


class Explorer:
    """Named controls, one output, one callback: the base of every explorer in this module.

    ``controls`` maps a name to an ipywidget with a ``value`` (slider, dropdown, ...); each is also an
    attribute (``explorer.k``). ``rows`` lays them out, one ``HBox`` per row of names (or other widgets,
    such as buttons); by default one row of all controls. ``widget`` is the ``VBox`` of the rows and
    ``output`` (an ``ipywidgets.Output``, also called ``out``), what displaying the explorer shows.

    A subclass implements :meth:`render`: compute from the control values (passed as keywords), put the
    result on screen with :meth:`show`, return it. The base runs it

    - when a control changes (``live=True``; otherwise only on :meth:`update`, :meth:`refresh` or a button);
    - once for several changes: inside ``with explorer.hold():`` nothing runs, at the end it runs once;
    - on ``update(**values)``: each value is checked against its control first (an unknown name, a value
      outside a slider's range or not among a dropdown's options → ``ValueError`` naming the control, and
      nothing changes), then the controls are set under a hold and the callback runs once.

    The last return value is ``last_result``; a subclass with a table keeps it in ``last_table``. An
    error inside the callback is shown in the output as "Cannot run this setting (...): reason" and kept
    in ``last_error`` (``None`` after a run that worked); ``update`` raises it to its caller too, a moved
    control or a pressed button does not (there is no caller to tell). ``n_updates`` counts the runs that
    worked.
    """

    def __init__(self, controls: Mapping[str, object], *, rows: Sequence[Sequence] | None = None,
                 live: bool = True):
        import ipywidgets as widgets

        self.controls = dict(controls)
        for name, control in self.controls.items():
            if not hasattr(control, "value"):
                raise TypeError(f"control {name!r} must be a widget with a value, got {type(control).__name__}")
        rows = [list(self.controls)] if rows is None else rows
        self.output = widgets.Output()
        self.widget = widgets.VBox([*(widgets.HBox([self.controls[c] if isinstance(c, str) else c for c in row])
                                      for row in rows if row), self.output])
        self.live = check_bool(live, "live")
        self.last_result = self.last_table = self.last_error = None
        self.n_updates = 0
        self._muted_depth = 0
        self._n_changes = 0
        if live:
            for control in self.controls.values():
                control.observe(self._on_change, names="value")

    def __getattr__(self, name: str):
        controls = self.__dict__.get("controls", {})
        if name in controls:
            return controls[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute or control {name!r}")

    @property
    def out(self):
        """The same ``ipywidgets.Output`` as ``output``."""
        return self.output

    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self, **values):
        """Compute from the control ``values``, :meth:`show` the result and return it (subclasses)."""
        raise NotImplementedError

    def show(self, *items) -> None:
        """Replace what the output shows (see :func:`show`)."""
        show(self.output, *items)

    def check(self, values: Mapping) -> dict:
        """``values`` checked against the controls (see the class docs), as the controls will hold them."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no control {', '.join(map(repr, unknown))}; "
                             f"its controls are {list(self.controls)}")
        return {name: self._check_value(name, value) for name, value in values.items()}

    def _check_value(self, name: str, value):
        control = self.controls[name]
        options = getattr(control, "_options_values", None)
        if options is not None:  # Dropdown, SelectionSlider, ...
            options = list(options)
            return options[options.index(check_choice(value, name, options))]  # the option itself (4 -> 4.0)
        if not hasattr(control, "min") or not hasattr(control, "max"):
            return value  # e.g. a Text or Checkbox: the widget validates its own value
        lo, hi = control.min, control.max
        if hasattr(control, "base"):  # FloatLogSlider: min and max are exponents
            lo, hi = control.base ** lo, control.base ** hi
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")
        if not lo - 1e-9 * abs(lo) <= value <= hi + 1e-9 * abs(hi):
            raise ValueError(f"{name}={value!r} is outside the slider's range: {name} must be in [{lo:g}, {hi:g}]")
        if isinstance(control.value, numbers.Integral):
            if value != int(value):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            return int(value)
        return float(value)

    @contextmanager
    def _muted(self):
        self._muted_depth += 1
        try:
            yield
        finally:
            self._muted_depth -= 1

    @contextmanager
    def hold(self):
        """Change several controls inside ``with explorer.hold():``; the callback runs once at the end
        (if any value changed and the explorer is live)."""
        before = self._n_changes
        with self._muted():
            yield self
        if not self._muted_depth and self._n_changes != before and self.live:
            self.refresh()

    def _on_change(self, _change=None) -> None:
        self._n_changes += 1
        if not self._muted_depth:
            self.refresh()

    def update(self, **values):
        """Set any controls by name (checked first, never clipped), run the callback once, return its result."""
        values = self.check(values)
        with self._muted():
            for name, value in values.items():
                self.controls[name].value = value
        return self._run(raise_errors=True)

    def refresh(self):
        """Run the callback for the current values and redraw; returns its result, or ``None`` after an error
        (the reason is shown and kept in ``last_error``)."""
        return self._run(raise_errors=False)

    def _run(self, *, raise_errors: bool, action: Callable[[], object] | None = None):
        """``action()`` (a state change, e.g. a click) then :meth:`render`; an error in either is shown."""
        try:
            if action is not None:
                action()
            result = self.render(**self.values())
        except Exception as err:
            self.last_error = _error_text(err)
            self.last_result = self.last_table = None
            setting = ", ".join(f"{name}={value!r}" for name, value in self.values().items())
            self.show(f"Cannot run this setting{f' ({setting})' if setting else ''}: {self.last_error}")
            if raise_errors:
                raise
            return None
        self.last_error = None
        self.last_result = result
        self.n_updates += 1
        return result

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# --- notebook 01: imbalanced SVM ---

METHOD_CHOICES = ("none", "under", "over", "smote", "adasyn", "class_weight")


class ImbalanceExplorer(Explorer):
    """The minority share (0.5 → 0.001), balancing method, n_samples and flip_y of a 2-D imbalanced set;
    every change redraws the SVC decision boundary and a metrics table (method vs no balancing, over
    ``n_repeats`` splits), kept in ``last_table``. A setting that cannot run (e.g. too few minority
    samples for SMOTE) says why in the output and in ``last_error``.
    """

    def __init__(self, *, n_repeats: int = 5, random_state: int = 0, minority_share: float = 0.05,
                 method: str = "under", n_samples: int = 1000, flip_y: float = 0.01):
        import ipywidgets as w

        n_repeats = check_int(n_repeats, "n_repeats", low=1)
        random_state = check_int(random_state, "random_state", low=0)
        minority_share = check_number(minority_share, "minority_share", low=0.001, high=0.5)
        check_choice(method, "method", METHOD_CHOICES)
        n_samples = check_int(n_samples, "n_samples", low=200, high=5000)
        flip_y = check_number(flip_y, "flip_y", low=0, high=0.1)

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
        super().__init__(controls, rows=[["minority_share", "method"], ["n_samples", "flip_y"]])
        self.n_repeats, self.random_state = n_repeats, random_state
        self.refresh()

    def render(self, *, minority_share, method, n_samples, flip_y):
        import matplotlib.pyplot as plt

        from labkit import balance, data, plots, stats

        share = float(minority_share)
        X, y = data.make_imbalanced(int(n_samples), (1 - share, share), n_features=2, n_informative=2,
                                    n_redundant=0, flip_y=float(flip_y), random_state=self.random_state)
        df = balance.compare(X, y, ["none", method] if method != "none" else ["none"],
                             n_repeats=self.n_repeats, random_state=self.random_state)
        model = balance.fit_balanced(X, y, method, random_state=self.random_state)
        fig, ax = plt.subplots(figsize=(5, 4.5))
        plots.decision_boundary(model, X, y, ax=ax, title=f"SVC after '{method}' — minority share {share:.3f}")
        table = stats.format_ci(stats.summarize(df, "method", balance.METRICS), balance.METRICS)
        self.last_table = table
        self.show(fig, table.set_index("method"))
        return table


def imbalance_explorer(**kwargs) -> ImbalanceExplorer:
    """Build an :class:`ImbalanceExplorer` (notebook 01: minority share, method, n_samples, flip_y)."""
    return ImbalanceExplorer(**kwargs)

# --- notebook 03: selection and weighting ---


class SelectionExplorer(Explorer):
    """Controls for k, selection strategy and weighting scheme; every change retrains and shows the result.

    ``run(k, strategy, weighting) -> dict`` does the work (in notebook 03, a partial of
    :func:`labkit.select.evaluate_selection`); the dict needs ``accuracy`` and may hold
    ``balanced_accuracy``, ``n_train``, ``fit_seconds`` and ``count_<label>`` entries (plotted as the
    class histogram of the selection). ``update(k=, strategy=, weighting=)`` drives it from code.

    Controls (each with a ``description``): ``k`` (IntSlider), ``strategy`` (Dropdown), ``weighting``
    (Dropdown); results go to ``output``; the last result is ``last_result``.
    """

    def __init__(self, run, *, k_min: int, k_max: int, k_step: int = 1, k: int | None = None,
                 strategies=("random", "stratified", "top_entropy"), weightings=("none", "class", "entropy"),
                 class_names=None):
        import ipywidgets as widgets

        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        k_min = check_int(k_min, "k_min", low=0)
        k_max = check_int(k_max, "k_max", low=0)
        k_step = check_int(k_step, "k_step", low=1)
        if k is not None:
            k = check_int(k, "k", low=0)
        if not 0 <= k_min <= k_max:
            raise ValueError(f"need 0 <= k_min <= k_max, got k_min={k_min!r}, k_max={k_max!r}")
        k = k_min if k is None else k
        if not k_min <= k <= k_max:
            raise ValueError(f"k={k!r} is outside [k_min, k_max] = [{k_min}, {k_max}]")
        self.run = run
        self.class_names = class_names
        super().__init__({
            "k": widgets.IntSlider(value=k, min=k_min, max=k_max, step=k_step, description="k",
                                   continuous_update=False),
            "strategy": widgets.Dropdown(options=list(strategies), value=strategies[0], description="strategy"),
            "weighting": widgets.Dropdown(options=list(weightings), value=weightings[0], description="weighting"),
        })

    def describe(self, result: dict) -> str:
        """One line saying what was trained and how well it did."""
        return _describe(f"k={self.k.value}, strategy={self.strategy.value}, weighting={self.weighting.value}",
                         result, {"balanced_accuracy": lambda v: f", balanced accuracy {v:.3f}",
                                  "n_train": lambda v: f"; trained on {v} samples",
                                  "fit_seconds": lambda v: f" in {1000 * v:.0f} ms"})

    def render(self, *, k, strategy, weighting) -> dict:
        import matplotlib.pyplot as plt
        import pandas as pd

        from labkit.plots import plot_class_counts

        result = self.run(k, strategy, weighting)
        counts = {key[len("count_"):]: v for key, v in result.items() if key.startswith("count_")}
        items = [self.describe(result)]
        if counts:
            fig, ax = plt.subplots(figsize=(7, 3))
            plot_class_counts(pd.DataFrame([counts], index=[strategy]), class_names=self.class_names, ax=ax,
                              title=f"classes of the {k} selected samples")
            fig.tight_layout()
            items.append(fig)
        self.show(*items)
        return result


def selection_explorer(run, **kwargs) -> SelectionExplorer:
    """Build a :class:`SelectionExplorer` (notebook 03: k, strategy and weighting scheme)."""
    return SelectionExplorer(run, **kwargs)


# --- notebook 02: active learning ---


class ActiveExplorer(Explorer):
    """Budget, batch size, strategy and β for pool-based active learning, compared with random sampling.

    Controls (each with a ``description``): ``budget`` (IntSlider), ``batch_size`` ("batch size",
    IntSlider), ``strategy`` (Dropdown of :data:`labkit.active.STRATEGIES`), ``beta`` ("β", SelectionSlider;
    used by "boltzmann"), and a ``run`` Button. Each run costs seconds, so moving a control runs nothing:
    pressing ``run`` (or calling ``update``) runs the chosen strategy and random sampling ``n_repeats``
    times each with :func:`labkit.active.compare` and shows, in ``output``, the learning curves and how
    many labels each needed to reach ``target``; ``last_table`` holds that label-efficiency table.
    """

    BETAS = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, float("inf"))

    def __init__(self, estimator, X_pool, y_pool, X_test, y_test, *, n_initial: int = 20,
                 budget: int = 300, batch_size: int = 10, strategy: str = "entropy", beta: float = 10.0,
                 target: float = 0.9, n_repeats: int = 3, random_state: int = 0, max_budget: int | None = None):
        import ipywidgets as widgets

        from labkit import active

        check_estimator(estimator, "estimator")
        X_pool, y_pool = _check_xy(X_pool, y_pool, "X_pool", "y_pool")
        X_test, y_test = _check_xy(X_test, y_test, "X_test", "y_test")
        n_initial = check_int(n_initial, "n_initial", low=1)
        budget = check_int(budget, "budget", low=1)
        batch_size = check_int(batch_size, "batch_size", low=1, high=100)
        beta = check_number(beta, "beta", low=0, finite=False)
        target = check_number(target, "target", low=0, high=1)
        n_repeats = check_int(n_repeats, "n_repeats", low=1)
        random_state = check_int(random_state, "random_state", low=0)
        if max_budget is not None:
            max_budget = check_int(max_budget, "max_budget", low=1)
        self.estimator, self.X_pool, self.y_pool = estimator, X_pool, y_pool
        self.X_test, self.y_test = X_test, y_test
        self.n_initial, self.target, self.n_repeats, self.random_state = n_initial, target, n_repeats, random_state
        max_budget = len(X_pool) if max_budget is None else max_budget
        if not n_initial < budget <= max_budget <= len(X_pool):
            raise ValueError(f"need n_initial < budget <= max_budget <= pool size, got n_initial={n_initial}, "
                             f"budget={budget}, max_budget={max_budget}, pool size={len(X_pool)}")
        check_choice(strategy, "strategy", active.STRATEGIES)
        check_choice(beta, "beta", self.BETAS)
        self.button = widgets.Button(description="run", button_style="primary",
                                     tooltip="run the strategy and random sampling, then plot both")
        super().__init__({
            "budget": widgets.IntSlider(value=budget, min=n_initial + 1, max=max_budget, step=10,
                                        description="budget", continuous_update=False),
            "batch_size": widgets.IntSlider(value=batch_size, min=1, max=100, description="batch size",
                                            continuous_update=False),
            "strategy": widgets.Dropdown(options=list(active.STRATEGIES), value=strategy, description="strategy"),
            "beta": widgets.SelectionSlider(options=[(f"{b:g}", b) for b in self.BETAS], value=beta,
                                            description="β", continuous_update=False),
        }, rows=[["budget", "batch_size"], ["strategy", "beta", self.button]], live=False)
        self.button.on_click(lambda _button: self.refresh())

    def render(self, *, budget, batch_size, strategy, beta):
        import matplotlib.pyplot as plt

        from labkit import active, plots

        label = f"boltzmann (β={beta:g})" if strategy == "boltzmann" else strategy
        strategies = {"random": "random"} | ({label: strategy} if strategy != "random" else {})
        self.show(f"running {label} and random, {self.n_repeats} repeats each: budget {budget}, "
                  f"batch size {batch_size} ...")
        results = active.compare(self.estimator, self.X_pool, self.y_pool, self.X_test, self.y_test,
                                 strategies=strategies, n_repeats=self.n_repeats, n_initial=self.n_initial,
                                 batch_size=batch_size, budget=budget, beta=beta, random_state=self.random_state)
        table = active.label_efficiency(results, self.target)
        self.last_table = table
        fig, ax = plt.subplots(figsize=(7, 3.5))
        plots.active_learning_curves(results, target=self.target, ax=ax,
                                     title=f"{label} vs random ({self.n_repeats} repeats, 95 % CI)")
        fig.tight_layout()
        self.show(fig, f"labels needed to reach {self.target:.0%} test accuracy (median over repeats):",
                  table[["strategy", "reached", "repeats", "median_labels", "ratio"]])
        return table


def active_explorer(estimator, X_pool, y_pool, X_test, y_test, **kwargs) -> ActiveExplorer:
    """Build an :class:`ActiveExplorer` (notebook 02: budget, batch size, strategy, β)."""
    return ActiveExplorer(estimator, X_pool, y_pool, X_test, y_test, **kwargs)


class OracleGame(Explorer):
    """"Be the oracle": the model queries images, the learner labels them by clicking, the model retrains.

    Class labels are indices ``0..len(class_names)-1`` (as in ``labkit.data``'s image sets).
    One class button per class (``buttons``; ``description`` = the class name) labels the image on show;
    after ``batch_size`` answers the model is refitted on every label so far
    (:class:`labkit.active.ActiveLearner`) and the test accuracy is updated. The seed set of ``n_initial``
    images is labelled with the data set's labels. ``output`` shows the image, the model's current top
    guesses, the accuracy history and how many of your labels agree with the data set's. :meth:`answer`
    does what a click does, so code (and tests) can play. The game has buttons but no value controls.
    """

    def __init__(self, estimator, X_pool, y_pool, images, X_test, y_test, *, class_names, strategy: str = "entropy",
                 n_initial: int = 20, batch_size: int = 5, random_state: int = 0, scale: int = 16):
        import ipywidgets as widgets

        from labkit import active

        X_pool, y_pool = _check_xy(X_pool, y_pool, "X_pool", "y_pool")
        X_test, y_test = _check_xy(X_test, y_test, "X_test", "y_test")
        class_names = _check_names(class_names, int(max(np.max(y_pool), np.max(y_test))) + 1)
        n_initial = check_int(n_initial, "n_initial", low=1)
        batch_size = check_int(batch_size, "batch_size", low=1)
        scale = check_int(scale, "scale", low=1, high=64)
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
            button.on_click(lambda _button, label=label: self._run(raise_errors=False,
                                                                   action=lambda: self._record(label)))
        super().__init__({}, rows=[self.buttons])
        self.refresh()

    @property
    def current(self) -> int:
        """Pool index of the image on show."""
        return int(self.queue[0])

    def answer(self, label: int) -> None:
        """Label the image on show with class ``label`` (an index into ``class_names``), as a click does."""
        if not isinstance(label, numbers.Integral) or not 0 <= label < len(self.class_names):
            raise ValueError(f"label must be a class index in [0, {len(self.class_names)}), got {label!r}")
        self._run(raise_errors=True, action=lambda: self._record(int(label)))

    def _record(self, label: int) -> None:
        """Take the answer; after a full batch, retrain, score and query the next batch."""
        self.pending.append((self.queue.pop(0), label))
        if not self.queue:
            idx = [i for i, _ in self.pending]
            self.learner.teach(idx, [lab for _, lab in self.pending])
            self.answers.extend(self.pending)
            self.pending = []
            self.history.append((self.learner.n_labeled, self.learner.score(self.X_test, self.y_test)))
            n_left = len(self.learner.unlabeled())
            if n_left:
                self.queue = list(self.learner.query(min(self.batch_size, n_left)))

    @property
    def agreement(self) -> tuple[int, int]:
        """(how many of your labels match the data set's label, how many you gave)."""
        given = self.answers + self.pending
        return sum(int(self.y_pool[i] == lab) for i, lab in given), len(given)

    def render(self) -> None:
        import io

        import matplotlib.image
        import matplotlib.pyplot as plt

        n, acc = self.history[-1]
        agree, given = self.agreement
        items = [f"{n} labels so far; test accuracy {acc:.3f}. Your labels agree with the data set's on "
                 f"{agree} of {given}."]
        if not self.queue:
            self.show(*items, "The pool is fully labelled.")
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
        self.show(*items)


def oracle_game(estimator, X_pool, y_pool, images, X_test, y_test, **kwargs) -> OracleGame:
    """Build an :class:`OracleGame` (notebook 02: you label the images the model asks about)."""
    return OracleGame(estimator, X_pool, y_pool, images, X_test, y_test, **kwargs)



# --- notebook 05: transfer learning ---


class TransferExplorer(Explorer):
    """Controls for the labelled samples per class and how many blocks of the pretrained model to unfreeze.

    ``run(labels_per_class, unfreeze) -> dict`` fine-tunes and returns at least ``accuracy``, and may hold
    ``trainable_params``, ``seconds_per_epoch`` and ``scratch_accuracy`` (the same labels, no
    pretraining). Results are cached per setting, so moving back to a setting costs nothing; every
    result so far is shown as a table (``last_table``). Controls: ``labels`` ("labels/class") and
    ``unfreeze``, both SelectionSliders; ``update(labels=, unfreeze=)`` drives it from code.
    """

    def __init__(self, run, *, labels_options, unfreeze_options, labels=None, unfreeze=None):
        import ipywidgets as widgets

        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        labels_options, unfreeze_options = list(labels_options), list(unfreeze_options)
        if not labels_options or not unfreeze_options:
            raise ValueError("labels_options and unfreeze_options must not be empty")
        for v in labels_options:
            if v != "all":
                check_int(v, "labels_options", low=1)
        for v in unfreeze_options:
            if v != "all":
                check_int(v, "unfreeze_options", low=0)
        for value, name in ((labels, "labels"), (unfreeze, "unfreeze")):
            if isinstance(value, bool):
                raise TypeError(f"{name} must be one of the options, got {value!r} (bool)")
        labels = check_choice(labels_options[0] if labels is None else labels, "labels", labels_options)
        unfreeze = check_choice(unfreeze_options[-1] if unfreeze is None else unfreeze, "unfreeze", unfreeze_options)
        self.run = run
        self.cache: dict = {}
        super().__init__({
            "labels": widgets.SelectionSlider(options=labels_options, value=labels, description="labels/class",
                                              continuous_update=False),
            "unfreeze": widgets.SelectionSlider(options=unfreeze_options, value=unfreeze, description="unfreeze",
                                                continuous_update=False),
        })

    def table(self):
        """Every result computed so far, one row per (labels per class, unfreeze)."""
        import pandas as pd

        return pd.DataFrame([{"labels_per_class": k[0], "unfreeze": k[1], **v} for k, v in self.cache.items()])

    def describe(self, result: dict) -> str:
        """One line saying what was fine-tuned and how well it did."""
        return _describe(f"{self.labels.value} labels/class, unfreeze {self.unfreeze.value}",
                         result, {"scratch_accuracy": lambda v: f" (from scratch: {v:.3f})",
                                  "trainable_params": lambda v: f"; {v:,} trainable parameters",
                                  "seconds_per_epoch": lambda v: f", {1000 * v:.0f} ms per epoch"})

    def render(self, *, labels, unfreeze) -> dict:
        key = (labels, unfreeze)
        if key not in self.cache:
            self.cache[key] = dict(self.run(*key))
        result = self.cache[key]
        self.last_table = self.table()
        self.show(self.describe(result), self.last_table.round(3))
        return result


def transfer_explorer(run, **kwargs) -> TransferExplorer:
    """Build a :class:`TransferExplorer` (notebook 05: labels per class, blocks to unfreeze)."""
    return TransferExplorer(run, **kwargs)



# --- notebook 04: diversity and KL ---


class DiversityExplorer(Explorer):
    """Sliders for subset size and class skew; a metrics table and a 2-D map that update live.

    Controls, each with a ``description`` (for readers and for browser tests): ``size`` (``IntSlider``
    "subset size"), ``skew`` (``FloatSlider`` "skew", 0 = balanced, 1 = one class), ``seed`` (``IntSlider``
    "seed"); everything they produce goes to ``output`` (also ``out``): a status line starting
    ``"subset size="``, the metrics table (``last_table``, also what ``update`` returns), and the map.
    ``draw(size, skew, seed) -> indices`` picks a subset; ``score(indices) -> dict`` measures it.
    """

    def __init__(self, draw, score, background, coords, labels, *, sizes: tuple[int, int, int] = (20, 1000, 10),
                 size: int = 200, skew: float = 0.5, seeds: int = 10, class_names=None):
        import ipywidgets as w

        if not callable(draw) or not callable(score):
            raise TypeError(f"draw and score must be callables, got {draw!r} and {score!r}")
        if len(sizes) != 3:
            raise ValueError(f"sizes must be (min, max, step), got {sizes!r}")
        lo, hi, step = (check_int(v, "sizes") for v in sizes)
        if not 2 <= lo <= hi or step < 1:
            raise ValueError(f"sizes must be (min >= 2, max >= min, step >= 1), got {sizes!r}")
        size = check_int(size, "size", low=lo, high=hi)
        skew = check_number(skew, "skew", low=0, high=1)
        seeds = check_int(seeds, "seeds", low=1)
        background = check_features(background, "background")
        if background.shape[1] != 2 or len(background) == 0:
            raise ValueError(f"background must have shape (n, 2) with n >= 1, got {background.shape}")
        coords = check_features(coords, "coords")
        labels = check_classes(labels, "labels", min_classes=2)
        if class_names is not None:
            _check_names(class_names, int(labels.max()) + 1)
        self._draw, self._score = draw, score
        self._background = background
        self._coords = coords
        self._labels = labels
        if len(self._coords) != len(self._labels):
            raise ValueError(f"coords has {len(self._coords)} rows but labels has {len(self._labels)}")
        self._class_names = class_names
        style = {"description_width": "initial"}
        super().__init__({
            "size": w.IntSlider(value=size, min=lo, max=hi, step=step, description="subset size",
                                continuous_update=False, style=style),
            "skew": w.FloatSlider(value=skew, min=0.0, max=1.0, step=0.05, description="skew",
                                  continuous_update=False, readout_format=".2f", style=style),
            "seed": w.IntSlider(value=0, min=0, max=max(seeds - 1, 0), description="seed",
                                continuous_update=False, style=style),
        })
        self.refresh()

    def render(self, *, size, skew, seed):
        """Draw the subset for the slider values, measure it, and redraw the output."""
        import pandas as pd
        from matplotlib.figure import Figure

        from labkit import plots

        size, skew, seed = int(size), float(skew), int(seed)
        picks = {f"skew {skew:.2f}": self._draw(size, skew, seed), "skew 0 (baseline)": self._draw(size, 0.0, seed)}
        table = pd.DataFrame([{"subset": name, **self._score(idx)} for name, idx in picks.items()]).set_index("subset")
        first = table.iloc[0]
        status = (f"subset size={size}, skew={skew:.2f}, seed={seed}: "
                  + ", ".join(f"{k}={v:.3g}" for k, v in first.items() if k != "n"))
        fig = Figure(figsize=(8, 3.6))  # not pyplot: nothing is registered globally or shown twice
        n_classes = len(self._class_names) if self._class_names is not None else 10
        for ax, (name, idx) in zip(fig.subplots(1, 2), picks.items(), strict=True):
            plots.subset_map(self._background, self._coords[idx], self._labels[idx], ax=ax,
                             title=f"{name} (n={len(idx)})", n_classes=n_classes)
        fig.tight_layout()
        self.last_table = table
        self.show(status, table.round(3), fig)
        return table


def diversity_explorer(draw, score, background, coords, labels, **kwargs) -> DiversityExplorer:
    """Build the notebook-04 explorer (see :class:`DiversityExplorer`); display the returned object."""
    return DiversityExplorer(draw, score, background, coords, labels, **kwargs)



# --- notebook 06: distillation ---


class KDExplorer(Explorer):
    """Sliders for the distillation temperature T and weight alpha over a precomputed (cached) sweep.

    ``sweep``: a DataFrame with columns ``temperature``, ``alpha`` and ``accuracy`` (one row per trained
    student; repeats are averaged). Moving a slider trains nothing — it looks the cell up — so it responds
    at once. ``example_logits``: a teacher's logits for a few images; the left panel shows
    ``softmax(logits / T)`` for the first one at the chosen T, the right panel the sweep with the chosen
    cell outlined. ``baseline`` (the student trained alone) and ``teacher`` accuracies go in the status.

    Controls: ``temperature`` (``SelectionSlider`` "temperature T"), ``alpha`` (``SelectionSlider``
    "alpha"); ``output`` (also ``out``) shows a status line starting ``"T="``, then the figure.
    ``update(temperature=, alpha=)`` returns the status as a dict (also kept as ``status``).
    """

    def __init__(self, sweep, example_logits, *, baseline: float | None = None, teacher: float | None = None,
                 class_names=None, temperature=None, alpha=None):
        import ipywidgets as w

        missing = [c for c in ("temperature", "alpha", "accuracy") if c not in getattr(sweep, "columns", [])]
        if missing:
            raise ValueError(f"sweep must be a DataFrame with columns temperature, alpha, accuracy; "
                             f"missing {missing}")
        if len(sweep) == 0:
            raise ValueError("sweep is empty: run the T × alpha sweep first")
        logits = np.asarray(example_logits, dtype=float)
        if logits.ndim == 1:
            logits = logits[None]
        if logits.ndim != 2 or logits.shape[1] < 2 or len(logits) == 0:
            raise ValueError(f"example_logits must be (images, classes), got shape {logits.shape}")
        if not np.isfinite(logits).all():
            raise ValueError("example_logits contains NaN or infinity")
        if baseline is not None:
            baseline = check_number(baseline, "baseline", low=0, high=1)
        if teacher is not None:
            teacher = check_number(teacher, "teacher", low=0, high=1)
        if class_names is not None:
            class_names = _check_names(class_names, logits.shape[1])
        sweep = sweep.astype({"temperature": float, "alpha": float})
        self.sweep = sweep
        self._table = sweep.groupby(["temperature", "alpha"])["accuracy"].mean()
        self._logits = logits
        self._baseline, self._teacher, self._class_names = baseline, teacher, class_names
        temps = sorted(float(t) for t in sweep["temperature"].unique())
        alphas = sorted(float(a) for a in sweep["alpha"].unique())
        temperature = check_choice(temps[len(temps) // 2] if temperature is None else float(temperature),
                                   "temperature", temps)
        alpha = check_choice(alphas[-1] if alpha is None else float(alpha), "alpha", alphas)
        style = {"description_width": "initial"}
        super().__init__({
            "temperature": w.SelectionSlider(options=temps, value=temperature, description="temperature T",
                                             continuous_update=True, style=style),
            "alpha": w.SelectionSlider(options=alphas, value=alpha, description="alpha",
                                       continuous_update=True, style=style),
        })
        self.refresh()

    @property
    def status(self) -> dict | None:
        """The last status dict (T, alpha, accuracy, gain over the student alone, soft-target entropy)."""
        return self.last_result

    def render(self, *, temperature, alpha) -> dict:
        """Look up the current cell, print its status and redraw both panels."""
        import matplotlib.pyplot as plt

        from labkit import metrics, plots

        t, a = float(temperature), float(alpha)
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
        plots.soft_targets(self._logits[0], [1.0, t] if t != 1.0 else [1.0], ax=axes[0],
                           class_names=self._class_names, title="teacher's soft target, one image")
        plots.kd_grid(self.sweep, ax=axes[1], highlight=(t, a), baseline=self._baseline)
        fig.tight_layout()
        self.show(line, fig)
        return status


def kd_explorer(sweep, example_logits, **kwargs) -> KDExplorer:
    """Build the notebook-06 T × alpha explorer (see :class:`KDExplorer`); display the returned object."""
    return KDExplorer(sweep, example_logits, **kwargs)
