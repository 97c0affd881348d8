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


def _runs_dir() -> Path:
    base = REPO_ROOT / "runs"
    if smoke.active():
        return base / "smoke"
    if os.environ.get("AVVP_NUMERICS", "").strip().lower() == "perturbed":
        return base / "perturbed"
    return base


#: checkpoints, caches and scratch outputs (git-ignored)
RUNS_DIR = _runs_dir()
#: where new records, predictions and derived tables are written: ``results/``, or ``runs/smoke/results``
WRITE_RESULTS_DIR = RUNS_DIR / "results" if smoke.active() else RESULTS_DIR
RECORDS_DIR = WRITE_RESULTS_DIR / "records"
#: saved test predictions of the committed rows (read by the interval rule)
PREDICTIONS_DIR = RESULTS_DIR / "predictions"
#: where a new run of a course root saves its predictions: ``results/predictions``, or aside under ``AVVP_SMOKE``
WRITE_PREDICTIONS_DIR = WRITE_RESULTS_DIR / "predictions"
