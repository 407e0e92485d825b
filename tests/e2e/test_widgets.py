"""Each notebook's widget, moved in JupyterLab in a real browser, must redraw its output.

A notebook's entry in ``WIDGET_CASES`` names the widget (by the description of one of its controls) and the
steps a learner takes; after every step the widget's ``Output`` must show a different figure and a different
table (or whatever ``parts`` lists). Adding a notebook = adding one ``WidgetCase``, e.g. for a widget with
a ``SelectionSlider`` "labels/class" and a printed line + table in its Output::

    WidgetCase("05_transfer_learning.ipynb", anchor="labels/class",
               steps=(Slide("labels/class", "ArrowRight", 1),), parts=("text", "tables"))

``Slide`` works for every noUiSlider-based ipywidgets slider (Int/Float/FloatLog/Selection); ``Select`` for
a ``Dropdown``. Values in ``readout``/``expect`` are those of the smoke profile (the server's kernels run it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from labkit import notebook

from . import labdriver
from .labdriver import Click, Select, Slide


@dataclass(frozen=True)
class WidgetCase:
    """One notebook's widget test.

    notebook: file name in notebooks/. anchor: the description of one control of the widget (locates the
    widget's box and its Output). steps: ``Slide``/``Select`` actions, applied in order. parts: what must
    change after every step — "images" (the figures' PNG data) and/or "tables" (the tables' text).
    expect: for each step, text the Output must contain afterwards (None: no check). bad_output: a pattern
    the Output's printed text must never match (the widget's own error message).
    """

    notebook: str
    anchor: str
    steps: tuple
    parts: tuple[str, ...] = ("images", "tables")
    expect: tuple[str | None, ...] = ()
    bad_output: str = r"Traceback|Error|Cannot run"


WIDGET_CASES = [
    WidgetCase(
        "01_imbalanced_svm.ipynb",
        anchor="minority share",
        # minority share 0.050 -> 0.100 (three steps of 0.1 in log10), then method under -> over
        steps=(Slide("minority share", "ArrowRight", 3, readout="0.100"), Select("method", "over")),
        expect=(None, "over"),
    ),
    WidgetCase(
        "02_active_learning.ipynb",
        anchor="budget",
        # the explorer redraws when its run button is pressed: change the strategy, run; again.
        # In the smoke profile no strategy reaches the target, so the table may stay the same: the learning
        # curves must change, and the table must name the new strategy.
        steps=(Click("run", setup=(Select("strategy", "margin"),)),
               Click("run", setup=(Select("strategy", "least_confident"),))),
        parts=("images",),
        expect=("margin", "least_confident"),
    ),
    WidgetCase(
        "03_selection_and_weighting.ipynb",
        anchor="strategy",
        # smoke profile: k 150 -> 100 (step 50), then strategy top_entropy (set by the notebook) -> stratified;
        # the Output prints one line per run and draws the class histogram of the selection (no table)
        steps=(Slide("k", "ArrowLeft", 1, readout="100"), Select("strategy", "stratified")),
        parts=("images", "text"),
        expect=("k=100", "strategy=stratified"),
    ),
]

WIDGET_CASES.append(
    WidgetCase(
        "04_diversity_and_kl.ipynb",
        anchor="subset size",
        # each move redraws the status line, the metrics table and the two subset maps
        # (the notebook starts the skew high, 0.95 in the smoke profile, so move it down)
        steps=(Slide("skew", "ArrowLeft", 1), Slide("subset size", "ArrowLeft", 1)),
        parts=("images", "tables"),
    )
)
WIDGET_CASES.append(
    WidgetCase(
        "05_transfer_learning.ipynb",
        anchor="labels/class",
        # each setting fine-tunes once and adds a row to the results table (and a line of text)
        # labels/class starts at "all" (its last option) and unfreeze at 1 of [0, 1, 2, "all"]
        steps=(Slide("labels/class", "ArrowLeft", 1), Slide("unfreeze", "ArrowRight", 1)),
        parts=("text", "tables"),
    )
)

WIDGET_CASES.append(
    WidgetCase(
        "06_distillation.ipynb",
        anchor="temperature T",
        # each move looks up the cached T × alpha sweep and redraws the status line and both panels; the smoke
        # sweep has T in {1, 4} and one alpha, and the notebook leaves T at 1: move it to 4 and back
        steps=(Slide("temperature T", "ArrowRight", 1, readout="4.0"), Slide("temperature T", "ArrowLeft", 1)),
        parts=("images", "text"),
    )
)

CASE_IDS = [case.notebook.split("_")[0] for case in WIDGET_CASES]


def test_every_notebook_has_a_widget_case():
    """A notebook without an entry here would have its widget go untested in the browser."""
    missing = sorted({p.name for p in notebook.list_notebooks()} - {c.notebook for c in WIDGET_CASES})
    assert not missing, f"add a WidgetCase to tests/e2e/test_widgets.py for: {missing}"


@pytest.mark.parametrize("case", WIDGET_CASES, ids=CASE_IDS)
def test_widget_redraws_in_jupyterlab(case, jupyterlab, browser_context, tmp_path):
    if not (jupyterlab.root / case.notebook).is_file():
        pytest.skip(f"{case.notebook} is not in notebooks/ yet")
    page = browser_context.new_page()
    stem = case.notebook.removesuffix(".ipynb")
    clock = labdriver.Clock()
    try:
        labdriver.open_notebook(page, jupyterlab, case.notebook)
        clock.lap("open + kernel start")
        labdriver.run_all_cells(page, jupyterlab, case.notebook)
        clock.lap("Run All Cells")
        errors = labdriver.error_outputs(page)
        assert not errors, f"{case.notebook}: error output after Run All Cells:\n" + "\n---\n".join(errors)

        box = labdriver.widget_box(page, case.anchor)
        box.scroll_into_view_if_needed()
        state = labdriver.output_state(box)
        for part in case.parts:
            assert state[part], f"the widget shows no {part} after Run All Cells: {labdriver._summary(state)}"
        assert state["loaded"], "a figure of the widget did not load (naturalWidth 0)"
        shot = box.screenshot(path=tmp_path / f"{stem}-0-initial.png")
        page.screenshot(path=tmp_path / f"{stem}-0-initial-page.png")

        for i, step in enumerate(case.steps, start=1):
            before, before_shot = state, shot
            step.apply(box)
            labdriver.wait_output_changed(box, before, case.parts, bad=case.bad_output)
            # the step may have queued more than one redraw (one per key press): let them all finish
            state = labdriver.wait_settled(page, jupyterlab, case.notebook, box)
            labdriver.wait_output_changed(box, before, case.parts, bad=case.bad_output, timeout_s=0)
            slug = re.sub(r"[^A-Za-z0-9]+", "-", step.label).strip("-")
            shot = box.screenshot(path=tmp_path / f"{stem}-{i}-{slug}.png")
            assert shot != before_shot, f"step {step.label!r}: the widget looks the same on screen"
            assert not re.search(case.bad_output, state["text"]), \
                f"step {step.label!r}: the widget printed an error: {state['text'][:1000]}"
            want = case.expect[i - 1] if i - 1 < len(case.expect) else None
            if want is not None:
                assert any(want in t for t in state["tables"]) or want in state["text"], \
                    f"step {step.label!r}: expected {want!r} in the output, got {labdriver._summary(state)}"
            errors = labdriver.error_outputs(page)
            assert not errors, f"step {step.label!r}: error output on the page:\n" + "\n---\n".join(errors)
            clock.lap(step.label)
        print(f"{case.notebook}: {clock}; screenshots in {tmp_path}")
    finally:
        page.close()
        jupyterlab.shutdown_kernels()
