"""End-to-end tests: JupyterLab and the HTML report in headless system Chromium (``pytest -m e2e``)."""
