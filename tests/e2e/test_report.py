"""The HTML report of ``labkit report --profile smoke``, opened in the browser with requests to other hosts
blocked: no page attempts one; the dashboard shows every notebook's question, thumbnail, time and status
(and headline); every page typesets its formulas with the local MathJax, shows its figures, its widgets' last
state, and no error output."""

from __future__ import annotations

import nbformat

from labkit import notebook

from . import labdriver


def _png_outputs(ipynb) -> int:
    """How many figures an executed notebook holds as cell outputs (PNG/JPEG/SVG)."""
    nb = nbformat.read(ipynb, as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if {"image/png", "image/jpeg", "image/svg+xml"} & set(o.get("data", {})))


def _typeset(page) -> dict:
    """Wait until MathJax has typeset the page, then report: TeX snippets found, typeset elements, MathJax
    errors, markdown paragraphs whose visible text still shows raw ``$...$``, and the visible text of the
    paragraph holding the first formula."""
    page.wait_for_function("() => window.MathJax !== undefined && MathJax.isReady === true", timeout=60_000)
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(() => done(true)))")
    return page.evaluate(
        """() => {
            const tex = [...document.querySelectorAll('.jp-RenderedMarkdown script[type^="math/tex"]')];
            const blocks = [...document.querySelectorAll('.jp-RenderedMarkdown p, .jp-RenderedMarkdown li')];
            const first = tex.length ? tex[0].closest('p, li, td, div') : null;
            return {
                tex: tex.length,
                typeset: document.querySelectorAll('.jp-RenderedMarkdown .MathJax, .jp-RenderedMarkdown .MathJax_Display').length,
                errors: document.querySelectorAll('.MathJax_Error, .MathJax merror').length
                        + (document.body.innerText.includes('Math Processing Error') ? 1 : 0),
                raw: blocks.filter(b => b.querySelector('.MathJax') === null)
                           .map(b => b.innerText).filter(t => /\\$[^$\\s][^$]*\\$/.test(t)).map(t => t.slice(0, 200)),
                first: first ? {text: first.innerText.slice(0, 300), typeset: first.querySelector('.MathJax, .MathJax_Display') !== null} : null,
            };
        }"""
    )


def _cards(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('section.card')].map(c => {
            const img = c.querySelector('img.thumbnail');
            return {
                stem: c.dataset.notebook,
                page: c.querySelector('a.page-link')?.getAttribute('href'),
                question: c.querySelector('.question')?.innerText || '',
                headlines: [...c.querySelectorAll('.headline')].map(h => h.innerText),
                thumbnail: img ? {complete: img.complete, naturalWidth: img.naturalWidth} : null,
                status: c.querySelector('.status')?.innerText || '',
                seconds: c.querySelector('.seconds')?.innerText || '',
                tables: [...c.querySelectorAll('a.table-link')].map(a => a.getAttribute('href')),
            };
        })"""
    )


def _open_index(smoke_report, browser_context):
    index = smoke_report / "index.html"
    assert index.is_file(), f"labkit report wrote no {index}"
    page = browser_context.new_page()
    page.goto(index.as_uri())
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    return index, page


def test_report_pages_work_offline(smoke_report, browser_context, tmp_path):
    index, page = _open_index(smoke_report, browser_context)
    links = page.eval_on_selector_all("a.page-link", "els => els.map(a => a.getAttribute('href'))")
    expected = [p.stem + ".html" for p in notebook.list_notebooks()]
    assert sorted(links) == sorted(expected), f"index links {links}, notebooks {expected}"
    provenance = page.locator(".provenance").inner_text()
    assert "smoke" in page.locator(".provenance .profile").inner_text(), provenance
    assert page.locator(".provenance .device").inner_text().strip() not in ("", "unknown device"), provenance
    for card in _cards(page):
        assert card["question"].startswith("Question."), f"{card['stem']}: no question on the dashboard"
        assert card["thumbnail"] and card["thumbnail"]["naturalWidth"] > 0, f"{card['stem']}: no thumbnail"
        assert card["status"] == "ok" and card["seconds"].endswith(" s"), card
        for table in card["tables"]:
            assert (smoke_report / table).is_file(), f"{card['stem']}: broken table link {table}"
    page.screenshot(path=tmp_path / "index.png", full_page=True)

    formulas = 0
    for href in links:
        page.goto(index.as_uri())
        with page.expect_navigation():
            page.locator(f"a.page-link[href='{href}']").click()
        assert page.url.endswith(href)
        math = _typeset(page)
        assert not math["errors"], f"{href}: MathJax reported {math['errors']} error(s)"
        assert not math["raw"], f"{href}: formulas left as raw TeX: {math['raw']}"
        if math["tex"]:
            assert math["typeset"] >= 1 and math["first"]["typeset"], f"{href}: formulas not typeset: {math}"
            assert "$" not in math["first"]["text"], f"{href}: raw $ in {math['first']['text']!r}"
        formulas += math["tex"]
        images = labdriver.page_images(page)
        figures = _png_outputs(smoke_report / href.replace(".html", ".ipynb"))
        assert figures > 0, f"{href}: the executed notebook has no figure outputs"
        assert len(images) >= figures, f"{href}: {len(images)} <img> on the page for {figures} figures"
        blank = [i for i in images if not (i["naturalWidth"] > 0 and i["width"] > 0 and i["height"] > 0)]
        assert not blank, f"{href}: images that did not render: {blank}"
        notes = page.locator(".labkit-widget-note").all_inner_texts()
        assert notes and all("labkit app" in n for n in notes), f"{href}: no widget in its last state: {notes}"
        errors = labdriver.static_errors(page)
        assert not errors, f"{href}: error output:\n" + "\n---\n".join(errors)
        page.screenshot(path=tmp_path / href.replace(".html", ".png"), full_page=True)
        print(f"{href}: {len(images)} figures rendered, {math['tex']} formulas typeset, {len(notes)} widget(s)")
    assert formulas > 0, "no page had a formula to typeset"
    assert not browser_context.blocked, f"requests to other hosts were attempted: {sorted(set(browser_context.blocked))}"


def test_report_index_shows_each_headline(smoke_report, browser_context):
    _, page = _open_index(smoke_report, browser_context)
    missing = [c["stem"] for c in _cards(page) if not c["headlines"]]
    assert not missing, f"no headline recorded on the dashboard for {missing}"
