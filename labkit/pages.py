"""Static pages of executed notebooks: offline notebook pages and the report's dashboard index.

A page works with the network cut: formulas are typeset by a copy of MathJax placed beside the report
(``_static/mathjax``, from the ``jupyter-server-mathjax`` package), nothing is loaded from another host
(no require.js, widget or mermaid scripts from a CDN), and widgets are drawn in their last state — the
controls' values and the figures and tables their ``Output`` held — from the widget state stored in the
executed notebook, with a line saying where they are live.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from labkit._validation import check_choice, check_int, check_notebook

STATIC_DIR = "_static"
MATHJAX_DIR = f"{STATIC_DIR}/mathjax"
# HTML-CSS output with MathJax's own STIX web fonts (shipped in the copy): fonts installed on the reader's
# machine are ignored, so every machine shows the same typesetting and nothing is looked for elsewhere.
_MATHJAX_LOCAL_CONFIG = """\
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                                 imageFont: null}});
MathJax.Ajax.loadComplete("[MathJax]/config/local/labkit.js");
"""
_MATHJAX_SKIP = ("localization", "jax/output/SVG", "extensions/a11y")  # not used by this configuration
MATHJAX_QUERY = "config=TeX-AMS-MML_HTMLorMML-full,Safe,local/labkit"

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_CSS = """
.labkit-widget{border-left:3px solid #1976d2;background:#f5f9ff;padding:.4em .8em;margin:.2em 0}
.labkit-widget-note{margin:0 0 .4em;font-size:90%;color:#333}
.labkit-control{display:flex;align-items:center;gap:.6em;margin:.15em 0;font-size:var(--jp-ui-font-size1,13px)}
.labkit-control-label{min-width:9em;text-align:right}
.labkit-control-value{font-family:var(--jp-code-font-family,monospace)}
.labkit-control input[type=range]{width:14em}
"""

# The lab template without anything loaded from another host; MathJax comes from the local copy.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock html_head_js_requirejs %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block extra_css %}<style type="text/css">""" + _CSS + """</style>{% endblock extra_css %}
"""


# ------------------------------------------------------------------------------------------------ MathJax


def mathjax_source() -> Path:
    """The MathJax 2 folder shipped by ``jupyter-server-mathjax`` (a labkit dependency)."""
    try:
        import jupyter_server_mathjax
    except ImportError as err:
        raise RuntimeError("offline pages need MathJax: pip install jupyter-server-mathjax "
                           "(a labkit dependency; reinstall labkit)") from err
    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_mathjax(out_dir: str | os.PathLike) -> Path:
    """Copy MathJax (what the pages use of it) to ``out_dir/_static/mathjax``; return that folder.

    Skipped when the copy is already there and complete.
    """
    target = Path(out_dir) / MATHJAX_DIR
    local = target / "config" / "local" / "labkit.js"
    if (target / "MathJax.js").is_file() and local.is_file() and local.read_text() == _MATHJAX_LOCAL_CONFIG:
        return target
    source = mathjax_source()

    def ignore(folder, names):
        rel = Path(folder).relative_to(source).as_posix()
        return [n for n in names if (f"{rel}/{n}" if rel != "." else n) in _MATHJAX_SKIP]

    shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(_MATHJAX_LOCAL_CONFIG)
    return target


# ------------------------------------------------------------------------------------------------ widgets


def _fmt(value, fmt: str | None) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return " – ".join(_fmt(v, fmt) for v in value)
    if isinstance(value, (int, float)) and fmt:
        try:
            return format(value, fmt)
        except (ValueError, TypeError):
            pass
    return "—" if value is None else str(value)


def _control_html(model: str, s: dict) -> str:
    """One control (slider, dropdown, checkbox, button, text, label …) in its last state, as inert HTML."""
    kind = model.removesuffix("Model")
    desc = html.escape(str(s.get("description") or ""))
    if kind == "Button" or kind == "ToggleButton" and "value" not in s:
        return f'<div class="labkit-control"><button disabled>{desc}</button></div>'
    if kind in ("HTML", "HTMLMath"):
        return f'<div class="labkit-control">{s.get("value", "")}</div>'
    if kind == "Label":
        return f'<div class="labkit-control">{html.escape(str(s.get("value", "")))}</div>'
    visual = ""
    if "_options_labels" in s:
        labels = s["_options_labels"]
        index = s.get("index")
        indices = index if isinstance(index, (list, tuple)) else [index]
        chosen = [labels[i] for i in indices if isinstance(i, int) and 0 <= i < len(labels)]
        text = ", ".join(chosen) if chosen else "—"
    elif "value" in s:
        value = s["value"]
        text = _fmt(value, s.get("readout_format"))
        if kind.endswith("Slider") and isinstance(value, (int, float)) and "min" in s and "max" in s:
            pos = value
            if kind == "FloatLogSlider" and value > 0:
                import math

                pos = math.log(value, s.get("base", 10.0))
            visual = (f'<input type="range" disabled min="{s["min"]}" max="{s["max"]}" '
                      f'step="any" value="{pos}" aria-label="{desc}">')
    else:
        return ""
    return (f'<div class="labkit-control"><span class="labkit-control-label">{desc}</span>{visual}'
            f'<span class="labkit-control-value">{html.escape(text)}</span></div>')


def _walk(model_id: str, state: dict, controls: list[str], outputs: list[dict], seen: set) -> None:
    if model_id in seen or model_id not in state:
        return
    seen.add(model_id)
    model = state[model_id]
    name, s = model.get("model_name", ""), model.get("state", {})
    if name == "OutputModel":
        outputs.extend(copy.deepcopy(list(s.get("outputs", []))))
    elif "children" in s:
        for child in s["children"]:
            _walk(str(child).removeprefix("IPY_MODEL_"), state, controls, outputs, seen)
    elif not (name.endswith("StyleModel") or name == "LayoutModel"):
        controls.append(_control_html(name, s))


def static_widgets(nb, *, note: str):
    """A copy of ``nb`` whose widget views are replaced by their last state: a block with ``note`` and the
    controls' values, followed by the outputs (figures, tables, text) each ``Output`` widget held.

    The widget state comes from ``nb.metadata.widgets`` (stored by the executor); a view whose state was not
    stored becomes the note alone. The copy has no widget metadata, so no widget script is put in the page.
    """
    check_notebook(nb, "nb")
    import nbformat

    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(_WIDGET_VIEW) if "data" in out else None
            if view is None:
                new.append(out)
                continue
            controls: list[str] = []
            held: list[dict] = []
            _walk(str(view.get("model_id", "")), state, controls, held, set())
            block = (f'<div class="labkit-widget"><p class="labkit-widget-note">{note}</p>'
                     f'{"".join(c for c in controls if c)}</div>')
            new.append(nbformat.v4.new_output("display_data", data={"text/html": block}))
            new.extend(nbformat.from_dict(o) for o in held)
        cell.outputs = new
    nb.metadata.pop("widgets", None)
    return nb


def widget_note(stem: str) -> str:
    """The line shown above a widget's last state on a static page."""
    number = stem[:2] if stem[:2].isdigit() else stem
    return ("<b>Interactive widget</b>, shown here in its last state: its controls are live in JupyterLab "
            f"and in the app (<code>labkit app {html.escape(number)}</code>).")


# ------------------------------------------------------------------------------------------------ pages


def to_html(nb, *, stem: str = "notebook", static_url: str = STATIC_DIR) -> str:
    """Static HTML of an executed notebook that loads nothing from another host.

    Figures are embedded as data URIs; MathJax is loaded from ``static_url/mathjax`` (see ``copy_mathjax``);
    widgets are drawn in their last state (``static_widgets``).
    """
    check_notebook(nb, "nb")
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"labkit_offline.html.j2": _TEMPLATE})],
        template_file="labkit_offline.html.j2",
        mathjax_url=f"{static_url}/mathjax/MathJax.js?{MATHJAX_QUERY}",
    )
    body, _ = exporter.from_notebook_node(static_widgets(nb, note=widget_note(stem)))
    return body


def write_page(nb, path: str | os.PathLike, *, stem: str | None = None) -> Path:
    """Write the static page of ``nb`` to ``path`` and MathJax beside it (``<folder>/_static/mathjax``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_mathjax(path.parent)
    path.write_text(to_html(nb, stem=stem or path.stem), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- notebook contents


def title(nb) -> str | None:
    """The first markdown heading of the notebook, without its ``#``."""
    check_notebook(nb, "nb")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return None


_QUESTION = re.compile(r"^\s*\*\*Question[.:]?\*\*[.:]?\s*", re.IGNORECASE)


def question(nb) -> str | None:
    """The question a notebook answers: the paragraph of its first markdown cell that starts with
    ``**Question.**`` (markdown text, the label removed); None when there is none."""
    check_notebook(nb, "nb")
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for paragraph in re.split(r"\n\s*\n", cell.source):
            if _QUESTION.match(paragraph):
                return " ".join(line.strip() for line in _QUESTION.sub("", paragraph).splitlines()).strip()
        return None
    return None


def _inline_markdown(text: str) -> str:
    """Escape ``text`` and render markdown's inline ``**bold**``, ``*emphasis*`` and ```code```."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)


def main_figure(nb) -> bytes | None:
    """The notebook's main figure as PNG bytes: the first PNG output of a cell tagged ``main-figure``, else
    the first PNG output of the notebook (outputs held by widgets included); None when it has none."""
    check_notebook(nb, "nb")
    import base64

    def pngs(cells):
        for cell in cells:
            for out in cell.get("outputs", []) if cell.cell_type == "code" else ():
                data = out.get("data", {}).get("image/png")
                if data:
                    yield base64.b64decode(data if isinstance(data, str) else "".join(data))

    expanded = static_widgets(nb, note="").cells  # widget views replaced by what their Output held
    tagged = [c for c in expanded if "main-figure" in c.get("metadata", {}).get("tags", [])]
    for cells in (tagged, expanded):
        for png in pngs(cells):
            return png
    return None


def write_thumbnail(nb, path: str | os.PathLike, *, size: tuple[int, int] = (480, 320)) -> Path | None:
    """Write the main figure, scaled down to fit ``size``, as a PNG at ``path``; None without a figure."""
    import io

    from PIL import Image

    check_notebook(nb, "nb")
    if isinstance(size, str) or len(size) != 2:
        raise ValueError(f"size must be (width, height) in pixels, got {size!r}")
    size = tuple(check_int(v, "size", low=1) for v in size)
    png = main_figure(nb)
    if png is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(png)) as img:
        img = img.convert("RGBA") if img.mode in ("P", "LA") else img
        img.thumbnail(size, Image.LANCZOS)
        img.save(path, format="PNG", optimize=True)
    return path


# ------------------------------------------------------------------------------------------------ dashboard


@dataclass
class Entry:
    """One notebook on the dashboard (paths relative to the report folder)."""

    stem: str
    title: str
    page: str
    question: str | None = None
    headlines: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    tables: list[str] = field(default_factory=list)
    seconds: float | None = None
    status: str = "not run"
    error: str | None = None
    device: str | None = None
    profile: str | None = None


def read_entry(out_dir: str | os.PathLike, notebook: str | os.PathLike) -> Entry:
    """The dashboard entry of ``notebook`` (its source ``.ipynb``) from what its run left in ``out_dir``:
    ``<stem>/run.json``, ``<stem>/*.csv``, ``<stem>/thumb.png`` and ``<stem>.html``."""
    import nbformat

    out, source = Path(out_dir), Path(notebook)
    stem = source.stem
    nb = nbformat.read(source, as_version=4)
    record = {}
    run_json = out / stem / "run.json"
    if run_json.is_file():
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            record = {}
    headlines = record.get("headlines") or []
    seconds = record.get("runner_seconds", record.get("wall_seconds"))
    return Entry(
        stem=stem,
        title=title(nb) or stem,
        page=f"{stem}.html",
        question=question(nb),
        headlines=[str(h) for h in headlines] if isinstance(headlines, list) else [str(headlines)],
        thumbnail=f"{stem}/thumb.png" if (out / stem / "thumb.png").is_file() else None,
        tables=[f"{stem}/{p.name}" for p in sorted((out / stem).glob("*.csv"))],
        seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
        status=str(record.get("status", "not run")),
        error=record.get("error"),
        device=str(record["device"]) if record.get("device") else None,
        profile=record.get("profile"),
    )


_DASHBOARD_CSS = """
body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
.provenance{color:#444}
.card{display:grid;grid-template-columns:1fr 260px;gap:1em;border:1px solid #ddd;border-radius:6px;
      padding:1em;margin:1em 0}
.card h2{margin:0 0 .4em;font-size:1.2em}
.question{margin:.2em 0 .6em}
.headlines{margin:.3em 0;padding-left:1.2em}
.headline{font-weight:600}
.no-headline{color:#777;font-style:italic}
.meta{color:#555;font-size:90%}
.status-ok{color:#1b5e20}.status-failed{color:#b71c1c;font-weight:600}
.thumb img{max-width:260px;height:auto;border:1px solid #eee}
.tables a{margin-right:.8em}
"""


def _card(e: Entry) -> str:
    esc = html.escape
    if e.headlines:
        heads = '<ul class="headlines">' + "".join(
            f'<li class="headline">{_inline_markdown(h)}</li>' for h in e.headlines) + "</ul>"
    else:
        heads = '<p class="no-headline">no headline recorded</p>'
    status = ('<span class="status status-ok">ok</span>' if e.status == "ok" else
              f'<span class="status status-failed">{esc(e.status.upper())}'
              f'{": " + esc(str(e.error)) if e.error else ""}</span>')
    seconds = f"{e.seconds:.1f} s" if e.seconds is not None else "–"
    tables = (" ".join(f'<a class="table-link" href="{esc(t)}">{esc(Path(t).name)}</a>' for t in e.tables)
              if e.tables else '<span class="no-tables">none kept</span>')
    thumb = (f'<a class="thumb-link" href="{esc(e.page)}"><img class="thumbnail" src="{esc(e.thumbnail)}" '
             f'alt="main figure of {esc(e.stem)}"></a>' if e.thumbnail else '<p class="no-figure">no figure</p>')
    question = (f'<p class="question"><b>Question.</b> {_inline_markdown(e.question)}</p>'
                if e.question else "")
    return (
        f'<section class="card" id="{esc(e.stem)}" data-notebook="{esc(e.stem)}"><div>'
        f'<h2><a class="page-link" href="{esc(e.page)}">{esc(e.title)}</a></h2>{question}{heads}'
        f'<p class="meta">{status} · <span class="seconds">{seconds}</span> · tables: '
        f'<span class="tables">{tables}</span></p></div><div class="thumb">{thumb}</div></section>'
    )


def write_index(out_dir: str | os.PathLike, entries: list[Entry], *, profile: str,
                device: str | None = None) -> Path:
    """Write ``out_dir/index.html``: one card per notebook (question, headline numbers, thumbnail, time,
    status, links to its page and tables) under a line naming the profile and device that produced them."""
    from labkit.core import PROFILES

    check_choice(profile, "profile", PROFILES)
    esc = html.escape
    devices = sorted({e.device for e in entries if e.device} or ({device} if device else set()))
    where = ", ".join(devices) if devices else "unknown device"
    n_ok = sum(e.status == "ok" for e in entries)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>labkit report</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_DASHBOARD_CSS}</style>'
        "</head><body><h1>labkit report</h1>"
        f'<p class="provenance">Produced in the <b class="profile">{esc(profile)}</b> profile on '
        f'<b class="device">{esc(where)}</b>; {n_ok} of {len(entries)} notebooks ran without error. '
        "Each card links the notebook's executed page and the tables it kept (CSV).</p>"
        + "".join(_card(e) for e in entries)
        + "</body></html>"
    )
    index = Path(out_dir) / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(body, encoding="utf-8")
    return index
