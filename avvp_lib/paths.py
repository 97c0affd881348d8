"""Where the project reads and writes: the one module that knows folders.

Two kinds of files:

* **shipped, read-only**: the LLP label files (``data/annotations/*.csv``), the UnAV-100 annotations
  (``data/unav100/unav100_annotations.json``) and the papers' numbers (``data/paper_results.csv``,
  ``data/paper_results_parts/*.csv``). :func:`shipped_data_dir` finds them: the checkout's ``data/`` when the
  library is imported from a checkout, else the copy installed inside the package (``avvp_lib/_shipped``).
* **written**: data roots (``data/synthetic/``), checkpoints and scratch (``runs/``), run records, saved
  predictions and derived tables (``results/``), figures (``figures/``). All of them live under :func:`home`:

  1. ``AVVP_HOME`` when set;
  2. else the checkout, when ``avvp_lib`` is imported from one (the folder above the package holds
     ``pyproject.toml`` and ``notebooks/``: a plain or editable checkout keeps its layout);
  3. else the current working directory (an installed package never writes inside itself).

Two switches move every write aside, so that a check never mixes with real work:

* ``AVVP_SMOKE=1`` (``avvp_lib.smoke``): runs, records, predictions and derived tables all go under
  ``runs/smoke/``;
* ``AVVP_NUMERICS=perturbed`` (``avvp_lib.numerics``): checkpoints go under ``runs/perturbed/``, so a
  perturbed check never reloads an unperturbed run's weights (and the reverse).

The functions read the environment at each call; the upper-case names are their values when the library was
imported (what notebooks and default arguments use).
"""
from __future__ import annotations

import os
from pathlib import Path

from avvp_lib import smoke

HOME_VARIABLE = "AVVP_HOME"
#: the folder that holds the imported ``avvp_lib`` package (a checkout, or an installation's site-packages)
SOURCE_ROOT = Path(__file__).resolve().parents[1]
#: the shipped files inside an installed package (``pyproject.toml`` maps the checkout's ``data/`` there)
PACKAGED_DATA_DIR = Path(__file__).resolve().parent / "_shipped"


def checkout_root() -> Path | None:
    """The source checkout this library was imported from, or ``None`` for an installed package."""
    if (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "notebooks").is_dir():
        return SOURCE_ROOT
    return None


def home() -> Path:
    """The folder everything written goes under: ``AVVP_HOME``, else the checkout, else the working directory."""
    value = os.environ.get(HOME_VARIABLE, "").strip()
    if value:
        return Path(value).expanduser().resolve()
    return checkout_root() or Path.cwd().resolve()


def shipped_data_dir() -> Path:
    """The read-only files that come with the library: the checkout's ``data/``, else the installed copy."""
    root = checkout_root()
    if root is not None and (root / "data" / "annotations").is_dir():
        return root / "data"
    if PACKAGED_DATA_DIR.is_dir():
        return PACKAGED_DATA_DIR
    raise FileNotFoundError(f"no shipped data: neither {SOURCE_ROOT / 'data'} (a checkout) nor {PACKAGED_DATA_DIR} "
                            f"(an installed package) exists; reinstall avvp_lib")


def annotations_dir() -> Path:
    """The LLP label files (``AVVP_*.csv``) shipped with the library."""
    return shipped_data_dir() / "annotations"


def unav_annotations_file() -> Path:
    """The UnAV-100 annotation file shipped with the library."""
    return shipped_data_dir() / "unav100" / "unav100_annotations.json"


def paper_results_file() -> Path:
    """The papers' numbers (``paper_results.csv``) shipped with the library."""
    return shipped_data_dir() / "paper_results.csv"


def paper_parts_dir() -> Path:
    """The per-paper completions of :func:`paper_results_file` (``paper_results_parts/*.csv``)."""
    return shipped_data_dir() / "paper_results_parts"


def synthetic_dir() -> Path:
    """Where the course generates its synthetic data roots: ``<home>/data/synthetic``."""
    return home() / "data" / "synthetic"


def results_dir() -> Path:
    """The results folder (committed tables, records, predictions in a checkout): ``<home>/results``."""
    return home() / "results"


def figures_dir() -> Path:
    """The figures ``make notebooks`` and ``make results`` refresh: ``<home>/figures``."""
    return home() / "figures"


def runs_dir() -> Path:
    """Checkpoints, caches and scratch outputs (git-ignored): ``runs/``, ``runs/smoke/`` under ``AVVP_SMOKE=1``,
    ``runs/perturbed/`` under ``AVVP_NUMERICS=perturbed``. Read from the environment at each call, so a switch
    set after import (a test, a notebook cell) still moves what a training writes."""
    base = home() / "runs"
    if smoke.active():
        return base / "smoke"
    if os.environ.get("AVVP_NUMERICS", "").strip().lower() == "perturbed":
        return base / "perturbed"
    return base


def write_results_dir() -> Path:
    """Where new records, predictions and derived tables go: ``results/``, or ``runs/smoke/results``."""
    return runs_dir() / "results" if smoke.active() else results_dir()


def records_dir() -> Path:
    return write_results_dir() / "records"


def write_predictions_dir() -> Path:
    """Where a new run of a course root saves its predictions: ``results/predictions``, or aside under smoke."""
    return write_results_dir() / "predictions"


def levels_dir() -> Path:
    """Notebook 10's level files: ``results/controlled`` (aside under smoke)."""
    return write_results_dir() / "controlled"


def predictions_beside(records: str | Path) -> Path:
    """The predictions folder that belongs to a records folder: ``<records>/../predictions``."""
    return Path(records).parent / "predictions"


def tables_beside(records: str | Path) -> Path:
    """The folder the tables derived from a records folder go to: its parent."""
    return Path(records).parent


def is_default_records_dir(folder: str | Path) -> bool:
    """Whether ``folder`` is :func:`records_dir` (read now)."""
    return Path(folder).resolve() == records_dir().resolve()


def to_record(path: str | Path) -> str:
    """A file path as a run record stores it: relative to :func:`home` when inside it, else absolute."""
    path, base = Path(path).resolve(), home()
    return os.path.relpath(path, base) if path.is_relative_to(base) else str(path)


def from_record(stored: str) -> Path:
    """The file a path stored by :func:`to_record` names (an absolute path stays as it is)."""
    return home() / stored


def shown(path: str | Path) -> str:
    """A path as log lines print it: relative to :func:`home` when inside it (``results/09_main.csv``), else
    absolute."""
    path, base = Path(path).resolve(), home()
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


#: the folders as they were when the library was imported (figures, notebooks' outputs, reads)
REPO_ROOT = home()
DATA_DIR = REPO_ROOT / "data"
#: the committed results: tables, records, predictions (read by notebooks and the report)
RESULTS_DIR = results_dir()
COMMITTED_FIGURE_DIR = figures_dir()
RUNS_DIR = runs_dir()
RECORDS_DIR = records_dir()
#: saved test predictions of the committed rows (read by the interval rule)
PREDICTIONS_DIR = RESULTS_DIR / "predictions"
