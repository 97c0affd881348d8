"""HTML export whose math renders offline: MathJax beside the pages, no CDN address for it in them."""
from __future__ import annotations

import re
from pathlib import Path

from avvp_lib import html_export

REPO = Path(__file__).resolve().parents[1]


def test_a_page_loads_mathjax_from_beside_it_and_the_configuration_exists(tmp_path):
    notebook = sorted((REPO / "notebooks").glob("02_*.ipynb"))[0]
    [page] = html_export.export([notebook], tmp_path)
    html = page.read_text(encoding="utf-8")
    sources = re.findall(r'<script[^>]+src="([^"]*MathJax[^"]*)"', html)
    assert sources == [html_export.MATHJAX_URL]
    assert "cdnjs" not in " ".join(sources) and "$" in html  # the page has math to render
    script, _, query = sources[0].partition("?config=")
    assert (tmp_path / script).is_file()
    for config in query.split(","):  # every configuration MathJax is told to load is there
        assert (tmp_path / html_export.MATHJAX_FOLDER / "config" / f"{config}.js").is_file()
    assert (tmp_path / "index.html").read_text().count('href="02_') == 1
