"""docs/OVERVIEW.md's cost and score tables are what scripts/overview_tables.py computes from results/."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("overview_tables", REPO / "scripts" / "overview_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_overview_tables_match_the_results():
    assert _script().main(["--check"]) == 0


def test_an_edited_number_in_the_overview_is_caught(tmp_path):
    script = _script()
    text = script.OVERVIEW.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| HAN | `han/main` | standard | 5 |"))
    mean = pd.read_csv(REPO / "results" / "09_main.csv").query("name == 'han/main' and profile == 'quick'")[
        "segment/Type@AV"].mean()
    assert f"| {mean:.1f} ± " in row  # the row quotes the mean of the records' rows, by hand
    edited = text.replace(row, row.replace(f"| {mean:.1f} ± ", f"| {mean + 1:.1f} ± "))
    assert script.render(edited, REPO / "results", REPO / "data" / "paper_results.csv") == text
