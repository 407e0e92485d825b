"""Every link and file reference in the notebooks and their pages resolves inside the project."""

import re
from pathlib import Path

import nbformat
import pytest

from labkit import notebook

NOTEBOOKS_DIR = notebook.default_notebooks_dir()
PAGES = sorted(NOTEBOOKS_DIR.glob("*.md"))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FILE_MENTION = re.compile(r"(?<![\w/.-])([\w./-]+\.(?:md|ipynb|txt|py))\b")


def slug(heading: str) -> str:
    """GitHub/JupyterLab-style anchor of a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lstrip("#").strip()).lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def anchors(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    found = {slug(line) for line in text.splitlines() if line.startswith("#")}
    return found | set(re.findall(r'<a id="([^"]+)"', text))


def documents():
    for path in notebook.list_notebooks(NOTEBOOKS_DIR):
        nb = nbformat.read(path, as_version=4)
        yield path, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        # code cells may print file references too (e.g. "see ERRATA.md")
        yield path, "\n".join(re.findall(r"[\"']([^\"']*\.md[^\"']*)[\"']",
                                         "\n".join(c.source for c in nb.cells if c.cell_type == "code")))
    for page in PAGES:
        yield page, page.read_text(encoding="utf-8")


def test_the_pages_exist():
    names = {p.name for p in PAGES}
    assert {"ERRATA.md", "GLOSSARY.md", "SOURCES.md"} <= names


@pytest.mark.parametrize("path,text", list(documents()), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_links_resolve(path, text):
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):   # http(s), mailto: outside the project, not checked here
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
        elif anchor and dest.suffix in (".md", ".ipynb") and anchor not in anchors(dest):
            broken.append(f"{target} (no anchor #{anchor} in {dest.name})")
    for name in FILE_MENTION.findall(LINK.sub("", text)):
        if name.startswith("labkit.") or name.count(".") > 1 and not name.startswith("."):
            continue   # a module path such as labkit.data.py is not a file mention
        if not (path.parent / name).exists() and not (NOTEBOOKS_DIR.parent / name).exists():
            broken.append(f"mentions {name}, which is not in the project")
    assert not broken, f"{path.name}: {broken}"
