"""The course notebooks stay readable: at most 40 cells each, no output longer than 5 000 characters."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CELLS, MAX_OUTPUT = 40, 5000


def output_text(output: dict) -> str:
    data = output.get("data", {})
    text = output.get("text") or data.get("text/markdown") or data.get("text/plain") or ""
    return "".join(text) if isinstance(text, list) else text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_course_notebook_has_at_most_40_cells_and_short_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    assert len(cells) <= MAX_CELLS, f"{path.name}: {len(cells)} cells (at most {MAX_CELLS})"
    long = [(i, len(output_text(o))) for i, c in enumerate(cells) for o in c.get("outputs", [])
            if len(output_text(o)) > MAX_OUTPUT]
    assert not long, f"{path.name}: outputs longer than {MAX_OUTPUT} characters (cell, length): {long}"


def test_the_limits_see_a_long_output():
    assert len(output_text({"output_type": "stream", "text": ["x" * 3000, "y" * 3000]})) == 6000
    assert output_text({"data": {"text/plain": "short"}}) == "short"
