"""Where the project reads and writes: one place for the folders every module uses.

Reads: ``results/`` (the committed tables and run records), ``data/`` (label files, papers' numbers).
Writes: ``runs/`` (checkpoints, figures of ``make course``, predictions of other roots) and, for runs on
the course's own data roots, ``results/records`` and ``results/predictions``.

Two switches move every write aside, so that a check never mixes with real work:

* ``AVVP_SMOKE=1`` (``avvp_lib.smoke``): runs, records, predictions and derived tables all go under
  ``runs/smoke/``;
* ``AVVP_NUMERICS=perturbed`` (``avvp_lib.numerics``): checkpoints go under ``runs/perturbed/``, so a
  perturbed check never reloads an unperturbed run's weights (and the reverse).
"""
from __future__ import annotations

import os
from pathlib import Path

from avvp_lib import smoke

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
#: the committed results: tables, records, predictions (read by notebooks and the report)
RESULTS_DIR = REPO_ROOT / "results"
COMMITTED_FIGURE_DIR = REPO_ROOT / "figures"


def runs_dir() -> Path:
    """Checkpoints, caches and scratch outputs (git-ignored): ``runs/``, ``runs/smoke/`` under ``AVVP_SMOKE=1``,
    ``runs/perturbed/`` under ``AVVP_NUMERICS=perturbed``. Read from the environment at each call, so a switch
    set after import (a test, a notebook cell) still moves what a training writes."""
    base = REPO_ROOT / "runs"
    if smoke.active():
        return base / "smoke"
    if os.environ.get("AVVP_NUMERICS", "").strip().lower() == "perturbed":
        return base / "perturbed"
    return base


def write_results_dir() -> Path:
    """Where new records, predictions and derived tables go: ``results/``, or ``runs/smoke/results``."""
    return runs_dir() / "results" if smoke.active() else RESULTS_DIR


def records_dir() -> Path:
    return write_results_dir() / "records"


def write_predictions_dir() -> Path:
    """Where a new run of a course root saves its predictions: ``results/predictions``, or aside under smoke."""
    return write_results_dir() / "predictions"


#: the folders as they were when the library was imported (figures, notebooks' outputs, reads)
RUNS_DIR = runs_dir()
RECORDS_DIR = records_dir()
#: saved test predictions of the committed rows (read by the interval rule)
PREDICTIONS_DIR = RESULTS_DIR / "predictions"
