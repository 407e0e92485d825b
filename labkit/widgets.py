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
