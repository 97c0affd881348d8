"""scripts/notebook_times.py: the per-notebook run-time table from papermill metadata or a course log."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "notebook_times.py"
spec = importlib.util.spec_from_file_location("notebook_times", SCRIPT)
notebook_times = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_times)


def write_notebook(path: Path, duration=None, cells=()):
    nb = {"metadata": {"papermill": {"duration": duration} if duration is not None else {}},
          "cells": [{"metadata": {"papermill": {"duration": d}}} for d in cells]}
    path.write_text(json.dumps(nb))


def test_notebook_duration_then_cell_sum_then_none(tmp_path):
    write_notebook(tmp_path / "01_a.ipynb", duration=61.5)
    write_notebook(tmp_path / "02_b.ipynb", cells=(1.0, 2.5, 30.0))
    write_notebook(tmp_path / "03_c.ipynb")
    assert notebook_times.from_notebooks(tmp_path) == {"01_a.ipynb": 61.5, "02_b.ipynb": 33.5, "03_c.ipynb": None}


def test_table_from_a_course_log(tmp_path, capsys):
    log = tmp_path / "course.log"
    log.write_text("[course] 1/2 01_dataset.ipynb (profile=quick) ...\n"
                   "[course] 01_dataset.ipynb done in 12 s -> runs/notebooks/quick/01_dataset.ipynb\n"
                   "[course] 02_han_mmil.ipynb done in 150 s -> runs/notebooks/quick/02_han_mmil.ipynb\n")
    assert notebook_times.main([str(log)]) == 0
    out = capsys.readouterr().out
    assert "| `01_dataset` | 12 | 0.2 |" in out
    assert "| `02_han_mmil` | 150 | 2.5 |" in out
    assert "| **all 2 timed** | **162** | **2.7** |" in out


def test_no_recorded_time_exits_1_and_says_why(tmp_path, capsys):
    write_notebook(tmp_path / "01_a.ipynb")
    assert notebook_times.main([str(tmp_path)]) == 1
    assert "strips papermill's timings" in capsys.readouterr().err


def test_a_log_without_course_lines_is_an_error_naming_the_file(tmp_path):
    log = tmp_path / "other.log"
    log.write_text("nothing here\n")
    with pytest.raises(SystemExit, match="other.log: no '\\[course\\] NN_name.ipynb done in N s' line"):
        notebook_times.main([str(log)])
