"""The HTML report of ``labkit report --profile smoke``, opened in the browser: every linked page shows its
figures (rendered ``<img>`` with non-zero size) and no error output."""

from __future__ import annotations

import nbformat

from labkit import notebook

from . import labdriver


def _png_outputs(ipynb) -> int:
    """How many figures an executed notebook holds as cell outputs (PNG/JPEG/SVG)."""
    nb = nbformat.read(ipynb, as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if {"image/png", "image/jpeg", "image/svg+xml"} & set(o.get("data", {})))


def test_report_pages_show_their_figures(smoke_report, browser_context, tmp_path):
    index = smoke_report / "index.html"
    assert index.is_file(), f"labkit report wrote no {index}"
    page = browser_context.new_page()
    page.goto(index.as_uri())
    links = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    expected = [p.stem + ".html" for p in notebook.list_notebooks()]
    assert sorted(links) == sorted(expected), f"index links {links}, notebooks {expected}"
    page.screenshot(path=tmp_path / "index.png", full_page=True)

    for href in links:
        page.goto(index.as_uri())
        with page.expect_navigation():
            page.locator(f"a[href='{href}']").click()
        assert page.url.endswith(href)
        images = labdriver.page_images(page)
        figures = _png_outputs(smoke_report / href.replace(".html", ".ipynb"))
        assert figures > 0, f"{href}: the executed notebook has no figure outputs"
        assert len(images) >= figures, f"{href}: {len(images)} <img> on the page for {figures} figures"
        blank = [i for i in images if not (i["naturalWidth"] > 0 and i["width"] > 0 and i["height"] > 0)]
        assert not blank, f"{href}: images that did not render: {blank}"
        errors = labdriver.static_errors(page)
        assert not errors, f"{href}: error output:\n" + "\n---\n".join(errors)
        page.screenshot(path=tmp_path / href.replace(".html", ".png"), full_page=True)
        print(f"{href}: {len(images)} figures rendered")
    if browser_context.blocked:
        print("requests to other hosts, blocked:", sorted(set(browser_context.blocked)))
