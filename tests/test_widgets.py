"""The Explorer base every notebook widget builds on: named controls, checked updates, holds, errors shown."""

import ipywidgets
import matplotlib
import pytest

from labkit import widgets

matplotlib.use("Agg")


class Counter(widgets.Explorer):
    """A tiny explorer: records every run; ``fail`` makes the next runs raise."""

    def __init__(self, *, live=True):
        super().__init__({"n": ipywidgets.IntSlider(value=1, min=0, max=10, description="n"),
                          "mode": ipywidgets.Dropdown(options=["a", "b"], value="a", description="mode"),
                          "scale": ipywidgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0, description="scale"),
                          "beta": ipywidgets.SelectionSlider(options=[("1", 1.0), ("4", 4.0)], value=1.0)},
                         rows=[["n", "mode"], ["scale", "beta"]], live=live)
        self.calls = []
        self.fail = None

    def render(self, *, n, mode, scale, beta):
        self.calls.append((n, mode, scale, beta))
        if self.fail is not None:
            raise self.fail
        self.show(f"n={n}, mode={mode}")
        return n * 10


def test_every_notebook_explorer_is_an_explorer():
    explorers = {widgets.ImbalanceExplorer, widgets.SelectionExplorer, widgets.ActiveExplorer, widgets.OracleGame,
                 widgets.TransferExplorer, widgets.DiversityExplorer, widgets.KDExplorer}
    assert all(issubclass(cls, widgets.Explorer) for cls in explorers)
    assert {cls for name, cls in vars(widgets).items()
            if isinstance(cls, type) and issubclass(cls, widgets.Explorer) and cls is not widgets.Explorer} == explorers


def test_controls_layout_and_display():
    ex = Counter()
    assert ex.n is ex.controls["n"] and ex.out is ex.output
    assert isinstance(ex.widget, ipywidgets.VBox) and ex.widget.children[-1] is ex.output
    assert [len(row.children) for row in ex.widget.children[:-1]] == [2, 2]
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()
    assert ex.values() == {"n": 1, "mode": "a", "scale": pytest.approx(0.1), "beta": 1.0}
    with pytest.raises(AttributeError, match="no attribute or control 'm'"):
        ex.m  # noqa: B018


def test_update_sets_several_controls_and_runs_once():
    ex = Counter()
    assert ex.update(n=3, mode="b", scale=0.01, beta=4) == 30
    assert ex.calls == [(3, "b", pytest.approx(0.01), 4.0)]
    assert isinstance(ex.beta.value, float), "the option itself is set (4 -> 4.0)"
    assert ex.last_result == 30 and ex.last_error is None and ex.n_updates == 1
    ex.update()  # nothing changed: still one run
    assert len(ex.calls) == 2
    assert ex.output.outputs[0]["text"] == "n=3, mode=b\n"


def test_update_rejects_unknown_controls_listing_them():
    ex = Counter()
    with pytest.raises(ValueError, match=r"no control 'size'.*\['n', 'mode', 'scale', 'beta'\]"):
        ex.update(size=3)
    assert ex.calls == []


@pytest.mark.parametrize(("values", "message"), [
    ({"n": 11}, r"n=11 is outside the slider's range: n must be in \[0, 10\]"),
    ({"n": 2.5}, "n must be a whole number"),
    ({"n": "3"}, "n must be a number"),
    ({"scale": 2.0}, "scale=2.0 is outside"),
    ({"mode": "c"}, r"mode must be one of \['a', 'b'\], got 'c'"),
    ({"beta": 2.0}, "beta must be one of"),
])
def test_update_rejects_invalid_values_naming_the_control_and_changes_nothing(values, message):
    ex = Counter()
    with pytest.raises(ValueError, match=message):
        ex.update(**{"n": 5, "mode": "b", **values})  # valid values beside the invalid one
    assert ex.values()["n"] == 1 and ex.values()["mode"] == "a", "a rejected update leaves every control as it was"
    assert ex.calls == []


def test_a_moved_control_runs_once_and_hold_batches_changes():
    ex = Counter()
    ex.n.value = 2
    assert ex.calls == [(2, "a", pytest.approx(0.1), 1.0)]
    with ex.hold():
        ex.n.value = 4
        ex.mode.value = "b"
        with ex.hold():  # nested holds: still one run, at the outermost end
            ex.beta.value = 4.0
        assert len(ex.calls) == 1
    assert ex.calls[-1] == (4, "b", pytest.approx(0.1), 4.0) and len(ex.calls) == 2
    with ex.hold():
        pass  # nothing changed: no run
    assert len(ex.calls) == 2


def test_a_non_live_explorer_runs_only_when_asked():
    ex = Counter(live=False)
    ex.n.value = 2
    with ex.hold():
        ex.mode.value = "b"
    assert ex.calls == []
    assert ex.refresh() == 20 and ex.calls == [(2, "b", pytest.approx(0.1), 1.0)]


def test_an_error_in_the_callback_is_shown_not_raised_from_a_control():
    ex = Counter()
    ex.fail = AssertionError("the effect did not appear here")
    ex.n.value = 7  # as a slider moved in the browser: no exception escapes the callback
    text = ex.output.outputs[0]["text"]
    assert text.startswith("Cannot run this setting (n=7, mode='a'")
    assert "AssertionError: the effect did not appear here" in text and "Traceback" not in text
    assert ex.last_error == "AssertionError: the effect did not appear here"
    assert ex.last_result is None and ex.last_table is None and ex.n_updates == 0
    ex.fail = ValueError("k_neighbors=5 is more than the minority class has")
    assert ex.refresh() is None
    assert ex.last_error == "k_neighbors=5 is more than the minority class has"
    ex.fail = None
    ex.n.value = 8  # a setting that works clears the error
    assert ex.last_error is None and ex.last_result == 80 and ex.n_updates == 1


def test_update_shows_the_error_and_raises_it_to_its_caller():
    ex = Counter()
    ex.fail = RuntimeError("out of memory")
    with pytest.raises(RuntimeError, match="out of memory"):
        ex.update(n=9)
    assert ex.last_error == "RuntimeError: out of memory"
    assert "Cannot run this setting (n=9" in ex.output.outputs[0]["text"]


def test_controls_must_have_values():
    with pytest.raises(TypeError, match="control 'go' must be a widget with a value"):
        widgets.Explorer({"go": ipywidgets.Button(description="go")})
    with pytest.raises(NotImplementedError):
        widgets.Explorer({}).update()
