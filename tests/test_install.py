"""``pip install .`` (not editable) gives a library that works from any folder and never writes inside itself.

The wheel is built from a copy of the sources (pyproject.toml, setup.py, README.md, avvp_lib/, data/ without the
generated roots - plus a decoy root under data/synthetic that must stay out of the wheel), so building writes
nothing into the checkout. It is installed without dependencies into a fresh virtual environment whose other
packages come from this interpreter's site-packages (a ``.pth`` line; offline, nothing downloaded). From a
temporary working folder it then generates a tiny data root, runs one registered configuration and builds the
report - once with ``AVVP_HOME`` unset (everything under the working folder) and once with ``AVVP_HOME`` set and a
``--records-dir`` of its own (tables and predictions beside those records, nothing in the working folder).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: what a wheel is built from (everything else in the checkout is not part of the package)
SOURCES = ("pyproject.toml", "setup.py", "README.md")
SHIPPED = ("annotations/AVVP_train.csv", "annotations/AVVP_eval_audio.csv", "unav100/unav100_annotations.json",
           "paper_results.csv", "paper_results_parts/coleaf.csv")
TINY = 24  # videos per split of the generated root


def _run(python: Path, args: list[str], cwd: Path, **env_changes) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "AVVP_HOME", "AVVP_SMOKE", "AVVP_FIGURE_DIR", "PYTHONSAFEPATH")}
    env.update(env_changes)
    proc = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"{' '.join(args)} in {cwd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _runs_folder() -> str:
    """Where runs go under the home: ``runs``, or ``runs/perturbed`` when this test runs under
    ``AVVP_NUMERICS=perturbed`` (the subprocesses inherit it; avvp_lib.paths.runs_dir)."""
    return "runs/perturbed" if os.environ.get("AVVP_NUMERICS", "").strip().lower() == "perturbed" else "runs"


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (byte-code caches aside): relative path -> (size, mtime_ns)."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(python, site-packages)`` of a fresh environment holding the built wheel; also the wheel's file names."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy(REPO_ROOT / name, src / name)
    shutil.copytree(REPO_ROOT / "avvp_lib", src / "avvp_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "data", src / "data", ignore=shutil.ignore_patterns("synthetic"))
    decoy = src / "data" / "synthetic" / "quick" / "vggish" / "decoy.npy"
    decoy.parent.mkdir(parents=True)
    decoy.write_bytes(b"not for the wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(base / "wheel"),
                          str(src)], check=True, capture_output=True, timeout=300)
    [wheel] = (base / "wheel").glob("avvp_lib-*.whl")
    venv = base / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_avvp_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run(pip + ["--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    return python, site, zipfile.ZipFile(wheel).namelist()


def test_the_wheel_carries_the_shipped_files_and_no_generated_data(installed):
    _, _, names = installed
    for rel in SHIPPED:
        assert f"avvp_lib/_shipped/{rel}" in names
    assert not [n for n in names if "synthetic" in n or n.endswith(".npy")]
    packages = {p.parent.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "avvp_lib").rglob("__init__.py")}
    assert {p for p in packages if f"{p}/__init__.py" not in names} == set(), "a subpackage left out of the wheel"


def test_the_installed_library_works_from_any_folder_and_writes_only_under_its_home(installed, tmp_path):
    python, site, _ = installed
    before = _tree(site)
    work = tmp_path / "work"
    work.mkdir()
    where = _run(python, ["-c", "import avvp_lib, avvp_lib.paths as p; print(avvp_lib.__file__); print(p.home()); "
                                "print(p.shipped_data_dir())"], work).split("\n")
    assert where[:3] == [str(site / "avvp_lib" / "__init__.py"), str(work.resolve()),
                         str(site / "avvp_lib" / "_shipped")]

    # 1. AVVP_HOME unset: the working folder is the home
    _run(python, ["-c", f"from avvp_lib.data.synth import generate; generate('d', max_videos={TINY}, progress=False)"],
         work)
    _run(python, ["-m", "avvp_lib.experiments", "--run", "han/main", "--data-root", "d", "--device", "cpu"], work)
    [record_file] = (work / "results" / "records").glob("han--main__quick__seed0__*.json")
    record = json.loads(record_file.read_text())
    fingerprint = record["data_fingerprint"]
    runs = _runs_folder()
    predictions = f"{runs}/predictions/{fingerprint}/han--main_quick_{fingerprint}_{record['config_hash']}_seed0.npz"
    assert record["extra"]["predictions"] == predictions and (work / predictions).is_file()
    assert list((work / runs / "experiments" / "han--main").iterdir()), f"no checkpoint folder under {runs}/"
    out = _run(python, ["-m", "avvp_lib.report", "--n-boot", "10"], work)
    assert "[tables] results/09_main.csv: 1 rows from 1 records" in out
    assert "[results] results/tables/main_coleaf6_synthetic_quick.md" in out
    assert (work / "results" / "09_main.csv").is_file() and (work / "results" / "tables" / "paper_table1.md").is_file()
    assert (work / "figures" / "09_main_bars.png").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["d", "figures", "results", "runs"]

    # 2. AVVP_HOME set, a records folder of its own, run from a third folder: nothing lands in the working folder
    home, mine, elsewhere = tmp_path / "home", tmp_path / "mine", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _run(python, ["-m", "avvp_lib.sweeps", "--no-main", "--names", "han/main", "--seeds", "0", "--data-root",
                        str(work / "d"), "--device", "cpu", "--records-dir", str(mine / "records")], elsewhere,
               AVVP_HOME=str(home), AVVP_SMOKE="1")
    assert f"[tables] {mine / '09_main.csv'}: 1 rows from 1 records" in out
    [record_file] = (mine / "records").glob("han--main__quick__seed0__*.json")
    smoke_hash = json.loads(record_file.read_text())["config_hash"]
    beside = mine / "predictions" / f"han--main_quick_{fingerprint}_{smoke_hash}_seed0.npz"
    assert beside.is_file() and json.loads(record_file.read_text())["extra"]["predictions"] == str(beside)
    out = _run(python, ["-m", "avvp_lib.report", "--records-dir", str(mine / "records"), "--n-boot", "10"], elsewhere,
               AVVP_HOME=str(home), AVVP_SMOKE="1")
    assert f"[results] {mine / 'tables' / 'main_table1_synthetic_quick.md'}" in out
    assert (mine / "tables" / "stale.md").is_file() and (home / "figures" / "09_main_bars.png").is_file()
    assert list((home / "runs" / "smoke" / "experiments" / "han--main").iterdir()), "no checkpoint under AVVP_HOME"
    assert not (home / "results").exists(), "records or tables went to the home instead of the records folder"
    assert list(elsewhere.iterdir()) == []

    assert _tree(site) == before, "the installed package folder changed"
