"""``avvp_lib.paths``: where the library reads its shipped files and where it writes (the home folder)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from avvp_lib import paths

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_switches(monkeypatch):
    for name in (paths.HOME_VARIABLE, "AVVP_SMOKE", "AVVP_NUMERICS"):
        monkeypatch.delenv(name, raising=False)


def test_a_checkout_is_its_own_home_and_reads_its_data_folder(no_switches):
    assert paths.checkout_root() == REPO_ROOT
    assert paths.home() == REPO_ROOT
    assert paths.shipped_data_dir() == REPO_ROOT / "data"
    assert paths.annotations_dir() == REPO_ROOT / "data" / "annotations"
    assert paths.paper_results_file() == REPO_ROOT / "data" / "paper_results.csv"
    assert paths.synthetic_dir() == REPO_ROOT / "data" / "synthetic"
    assert paths.records_dir() == REPO_ROOT / "results" / "records"
    assert paths.write_predictions_dir() == REPO_ROOT / "results" / "predictions"
    assert paths.REPO_ROOT == REPO_ROOT and paths.RESULTS_DIR == REPO_ROOT / "results"


def test_avvp_home_moves_every_write_but_no_shipped_file(no_switches, monkeypatch, tmp_path):
    monkeypatch.setenv(paths.HOME_VARIABLE, str(tmp_path))
    assert paths.home() == tmp_path.resolve()
    assert paths.synthetic_dir() == tmp_path / "data" / "synthetic"
    assert paths.runs_dir() == tmp_path / "runs"
    assert paths.records_dir() == tmp_path / "results" / "records"
    assert paths.levels_dir() == tmp_path / "results" / "controlled"
    assert paths.figures_dir() == tmp_path / "figures"
    assert paths.shipped_data_dir() == REPO_ROOT / "data"  # read-only files stay where the library has them
    monkeypatch.setenv("AVVP_SMOKE", "1")
    assert paths.records_dir() == tmp_path / "runs" / "smoke" / "results" / "records"


def test_an_installed_package_writes_into_the_working_directory(no_switches, monkeypatch, tmp_path):
    """No checkout above the package: home is the working directory; shipped files come from the package."""
    package = tmp_path / "site-packages" / "avvp_lib"
    (package / "_shipped" / "annotations").mkdir(parents=True)
    monkeypatch.setattr(paths, "SOURCE_ROOT", package.parent)
    monkeypatch.setattr(paths, "PACKAGED_DATA_DIR", package / "_shipped")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert paths.checkout_root() is None
    assert paths.home() == work.resolve()
    assert paths.shipped_data_dir() == package / "_shipped"
    assert paths.runs_dir() == work / "runs"
    monkeypatch.setattr(paths, "PACKAGED_DATA_DIR", package / "missing")
    with pytest.raises(FileNotFoundError, match="missing"):
        paths.shipped_data_dir()


def test_a_relative_avvp_home_is_taken_from_the_working_directory(no_switches, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.HOME_VARIABLE, "here")
    assert paths.home() == tmp_path.resolve() / "here"


def test_records_store_paths_relative_to_home_and_absolute_outside(no_switches, monkeypatch, tmp_path):
    home, outside = tmp_path / "home", tmp_path / "elsewhere" / "p.npz"
    monkeypatch.setenv(paths.HOME_VARIABLE, str(home))
    inside = home / "results" / "predictions" / "p.npz"
    assert paths.to_record(inside) == os.path.join("results", "predictions", "p.npz")
    assert paths.from_record(paths.to_record(inside)) == inside
    assert paths.to_record(outside) == str(outside)
    assert paths.from_record(paths.to_record(outside)) == outside
    assert paths.shown(inside) == "results/predictions/p.npz" and paths.shown(outside) == str(outside)


def test_predictions_and_tables_go_beside_a_records_folder(no_switches, tmp_path):
    records = tmp_path / "mine" / "records"
    assert paths.predictions_beside(records) == tmp_path / "mine" / "predictions"
    assert paths.tables_beside(records) == tmp_path / "mine"
    assert paths.is_default_records_dir(REPO_ROOT / "results" / "records")
    assert not paths.is_default_records_dir(records)


def test_a_run_recorded_elsewhere_keeps_its_predictions_beside_its_records(no_switches, tmp_path):
    """The runner's rule: a non-default records folder takes the predictions with it, whatever the root."""
    from avvp_lib.experiments.runner import _prediction_path

    class Exp:
        name = "han/main"

    class Ctx:
        profile, fingerprint, course_root = "quick", "f" * 12, True

    beside = _prediction_path(Exp, Ctx, 0, None, tmp_path / "mine" / "records")
    assert beside.parent == tmp_path / "mine" / "predictions"
    assert _prediction_path(Exp, Ctx, 0, None, paths.records_dir()).parent == REPO_ROOT / "results" / "predictions"
    Ctx.course_root = False
    assert _prediction_path(Exp, Ctx, 0, None, None).parent == REPO_ROOT / "runs" / "predictions" / ("f" * 12)
    assert _prediction_path(Exp, Ctx, 0, tmp_path / "given", tmp_path / "mine" / "records").parent == tmp_path / "given"
