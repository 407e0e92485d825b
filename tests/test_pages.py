"""Offline report pages (nothing from another host, local MathJax, widgets in their last state) and the
dashboard index built from what a run left (a fake run.json here: no kernel is started)."""

from __future__ import annotations

import base64
import io
import json
import re

import nbformat
import pytest

from labkit import pages


def _png(width=64, height=48, color=(200, 30, 30)) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _figure(png: str):
    return nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})


def _executed_notebook():
    """An 'executed' notebook: a formula, a figure, and a widget (slider, dropdown, Output with a figure
    and a table) whose state is stored in the metadata as nbclient stores it."""
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell("# 01 · Tiny\n\n**Question:** is $x^2 \\geq 0$?\n\nSo $$\\sum_i x_i$$.")
    plot = nbformat.v4.new_code_cell("plt.plot([1, 2])")
    plot.outputs = [_figure(_png())]
    widget = nbformat.v4.new_code_cell("display(explorer)")
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    widget.outputs = [nbformat.v4.new_output(
        "display_data", data={"application/vnd.jupyter.widget-view+json": view, "text/plain": "VBox(...)"})]
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_ctl", "IPY_MODEL_out"]}},
        "ctl": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_share", "IPY_MODEL_method"]}},
        "share": {"model_name": "FloatLogSliderModel", "state": {
            "description": "minority share", "value": 0.05, "min": -3.0, "max": -0.3, "base": 10.0,
            "readout_format": ".3f", "layout": "IPY_MODEL_lay"}},
        "method": {"model_name": "DropdownModel", "state": {
            "description": "method", "index": 1, "_options_labels": ["none", "under", "over"]}},
        "lay": {"model_name": "LayoutModel", "state": {}},
        "out": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "display_data", "metadata": {},
             "data": {"image/png": _png(color=(30, 30, 200)), "text/plain": "<Figure>"}},
            {"output_type": "display_data", "metadata": {},
             "data": {"text/html": "<table class='dataframe'><tr><td>0.91</td></tr></table>"}},
        ]}},
    }
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json":
                              {"state": state, "version_major": 2, "version_minor": 0}}
    nb.cells = [md, plot, widget]
    return nb


OUTSIDE = re.compile(r"""<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*["']?"""
                     r"""(?:https?:)?//""", re.IGNORECASE)


def test_page_loads_nothing_from_another_host_and_uses_local_mathjax(tmp_path):
    page = pages.write_page(_executed_notebook(), tmp_path / "out" / "01_tiny.html")
    text = page.read_text()
    assert not OUTSIDE.findall(text), OUTSIDE.findall(text)
    assert not re.search(r"@import\s+url\(\s*['\"]?(?:https?:)?//", text)
    assert not re.search(r"import\(\s*['\"]https?://", text)  # no ES-module import from a CDN (mermaid)
    for cdn in ("cdnjs", "unpkg", "jsdelivr", "require.min.js", "embed-amd"):
        assert cdn not in text, cdn
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", text)
    assert scripts == ["_static/mathjax/MathJax.js?" + pages.MATHJAX_QUERY]
    mathjax = tmp_path / "out" / "_static" / "mathjax"
    for part in ("MathJax.js", "config/TeX-AMS-MML_HTMLorMML-full.js", "config/Safe.js",
                 "config/local/labkit.js", "jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js",
                 "fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_Main-Regular.woff"):
        assert (mathjax / part).is_file(), part
    assert 'webFont: "STIX-Web"' in (mathjax / "config/local/labkit.js").read_text()
    assert "$x^2 \\geq 0$" in text  # the TeX is in the page for MathJax to typeset


def test_widgets_show_their_last_state_and_where_they_are_live(tmp_path):
    text = pages.to_html(_executed_notebook(), stem="01_tiny")
    assert "labkit app 01" in text and "JupyterLab" in text
    assert "minority share" in text and ">0.050<" in text and ">under<" in text
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', text)) == 2  # the cell's figure and the one the Output widget held
    assert "0.91" in text  # the table the Output widget held
    assert "widget-state+json" not in text and "widget-view+json" not in text
    nb = _executed_notebook()
    pages.static_widgets(nb, note="x")
    assert "widgets" in nb.metadata  # the input is not changed


def test_question_title_and_main_figure():
    nb = _executed_notebook()
    assert pages.title(nb) == "01 · Tiny"
    assert pages.question(nb) == "is $x^2 \\geq 0$?"
    nb.cells[0].source = "# T\n\n**Question.** Labels are *expensive*;\nhow many\ndo we need?\n\nMore."
    assert pages.question(nb) == "Labels are *expensive*; how many do we need?"
    nb.cells[0].source = "# T\n\nNo question here."
    assert pages.question(nb) is None
    assert pages.main_figure(nb) == base64.b64decode(nb.cells[1].outputs[0].data["image/png"])
    nb.cells[2].metadata["tags"] = ["main-figure"]  # a tagged cell wins, also for a widget's figure
    held = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]["out"]
    assert pages.main_figure(nb) == base64.b64decode(held["state"]["outputs"][0]["data"]["image/png"])
    nb.cells = nb.cells[:1]
    assert pages.main_figure(nb) is None


def test_thumbnail_is_scaled_down(tmp_path):
    nb = _executed_notebook()
    nb.cells[1].outputs = [_figure(_png(1200, 800))]
    from PIL import Image

    path = pages.write_thumbnail(nb, tmp_path / "s" / "thumb.png")
    with Image.open(path) as img:
        assert img.size == (480, 320)


def _fake_run(out, source_dir, stem, record, tables=(), thumb=True):
    nb = _executed_notebook()
    nb.cells[0].source = f"# {stem[:2]} · Notebook {stem}\n\n**Question.** Does *{stem}* help?\n"
    nbformat.write(nb, source_dir / f"{stem}.ipynb")
    (out / stem).mkdir(parents=True)
    (out / f"{stem}.html").write_text("<html></html>")
    if record is not None:
        (out / stem / "run.json").write_text(json.dumps(record))
    for table in tables:
        (out / stem / f"{table}.csv").write_text("a,b\n1,2\n")
    if thumb:
        pages.write_thumbnail(nb, out / stem / "thumb.png")
    return source_dir / f"{stem}.ipynb"


def test_dashboard_shows_question_headlines_thumbnail_tables_time_status_and_provenance(tmp_path):
    out, src = tmp_path / "out", tmp_path / "nbs"
    src.mkdir()
    one = _fake_run(out, src, "01_one", {
        "status": "ok", "error": None, "runner_seconds": 12.34, "profile": "smoke", "device": "cpu",
        "headlines": ["entropy needs 0.53× random's labels to reach 95 %", "**SMOTE** helps"]},
        tables=["comparison", "curves"])
    two = _fake_run(out, src, "02_two", {"status": "failed", "error": "ValueError: boom",
                                         "runner_seconds": 3.0, "device": "cpu"}, thumb=False)
    three = _fake_run(out, src, "03_three", None, thumb=False)
    entries = [pages.read_entry(out, p) for p in (one, two, three)]
    assert entries[0].headlines[0].startswith("entropy needs 0.53×")
    assert entries[0].tables == ["01_one/comparison.csv", "01_one/curves.csv"]
    assert entries[2].status == "not run" and entries[2].seconds is None
    index = pages.write_index(out, entries, profile="smoke")
    text = index.read_text()
    cards = re.split(r'<section class="card"', text)[1:]
    assert len(cards) == 3
    assert 'class="profile">smoke<' in text and 'class="device">cpu<' in text
    assert "Does <em>01_one</em> help?" in cards[0]
    assert cards[0].count('class="headline"') == 2 and "0.53× random's labels" in cards[0]
    assert "<b>SMOTE</b> helps" in cards[0] and "no headline recorded" not in cards[0]
    assert 'src="01_one/thumb.png"' in cards[0] and 'href="01_one.html"' in cards[0]
    assert 'href="01_one/comparison.csv"' in cards[0] and 'href="01_one/curves.csv"' in cards[0]
    assert "12.3 s" in cards[0] and "status-ok" in cards[0]
    assert "no headline recorded" in cards[1] and "FAILED: ValueError: boom" in cards[1]
    assert "no figure" in cards[1] and "none kept" in cards[1]
    assert "NOT RUN" in cards[2]
    assert not OUTSIDE.findall(text)


def test_dashboard_device_falls_back_to_the_runners():
    text_entries = [pages.Entry(stem="01_a", title="A", page="01_a.html", status="ok")]
    assert "unknown device" in _index_text(text_entries, device=None)
    assert 'class="device">cuda<' in _index_text(text_entries, device="cuda")


def _index_text(entries, device):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return pages.write_index(Path(tmp), entries, profile="quick", device=device).read_text()


@pytest.mark.parametrize("text, html_text", [
    ("a `b` **c** *d*", "a <code>b</code> <b>c</b> <em>d</em>"),
    ("2 * 3 * 4 <x>", "2 * 3 * 4 &lt;x&gt;"),
])
def test_inline_markdown(text, html_text):
    assert pages._inline_markdown(text) == html_text
