"""Sweeps as lists of registered names: what runs, the engines, a real tiny sweep and seed ensembles."""
from __future__ import annotations

import pandas as pd
import pytest

from avvp_lib import results, sweeps
from avvp_lib import experiments as X
from avvp_lib.experiments import records
from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.train import TrainConfig


def test_plan_is_the_main_table_plus_each_methods_ablation_tables():
    assert sweeps.plan(("han",)) == ["han/main", "han/main@clip_clap"]
    assert sweeps.plan() == list(X.table("09_main").experiments)
    coleaf = sweeps.plan(("coleaf",), main=False, ablations=True)
    assert coleaf == list(X.table("04_coleaf_ablations").experiments) and len(coleaf) == 11
    uwav = sweeps.plan(("uwav",), ablations=True)
    assert uwav[:2] == ["uwav/uwav", "uwav/uwav@clip_clap"] and "pseudo-labels/uwav" in uwav and "uwav/binary" in uwav
    assert len(uwav) == len(set(uwav)) == 2 + 5 + 10 - 1  # uwav/uwav is in 09 and in 06: listed once
    link = sweeps.plan(("link",), main=False, ablations=True)
    assert "valor/main" not in link and "link/baseline" in link and len(link) == 10
    assert sweeps.plan(("uwav",), main=False, tables=["06_uwav_sensitivity"]) == list(
        X.table("06_uwav_sensitivity").experiments)
    assert sweeps.plan(("han",), main=False, extra_names=["coleaf/no_evt"]) == ["coleaf/no_evt"]
    with pytest.raises(KeyError, match="unknown method"):
        sweeps.plan(("nope",))


def test_tasks_are_seed_major():
    tasks = sweeps.tasks_for(["a/x", "b/y"], [0, 1], "quick", None, "cpu")
    assert [(t.name, t.seed) for t in tasks] == [("a/x", 0), ("b/y", 0), ("a/x", 1), ("b/y", 1)]


def test_cli_rejects_unknown_methods():
    with pytest.raises(SystemExit):
        sweeps.main(["--only", "han,foo"])


def test_engine_auto_is_the_ensemble_on_a_gpu_only(monkeypatch):
    import torch

    from avvp_lib import train

    assert sweeps.resolve_engine("auto", "cpu") == "sequential"
    assert sweeps.resolve_engine("ensemble", "cpu") == "ensemble"
    assert sweeps.resolve_engine("sequential", "cpu") == "sequential"
    monkeypatch.setattr(train, "resolve_device", lambda device="auto": torch.device("cuda"))
    assert sweeps.resolve_engine("auto") == "ensemble"
    with pytest.raises(ValueError, match="engine='vmap'"):
        sweeps.resolve_engine("vmap")


def test_a_sweep_writes_records_then_derives_tables_beside_them(tiny_root, tmp_path, capsys):
    records_dir = tmp_path / "results" / "records"
    names = ["pseudo-labels/zero-shot", "pseudo-labels/valor-style"]
    done = sweeps.run_sweep(names, [0], "quick", tiny_root, "cpu", records_dir=records_dir)
    assert len(done) == 2
    frame = results.read_results(tmp_path / "results" / "05_uwav_pseudolabels.csv")
    assert frame["name"].tolist() == names and (frame["data"] == "synthetic").all()
    assert frame["data_fingerprint"].nunique() == 1
    capsys.readouterr()
    assert sweeps.run_sweep(names, [0], "quick", tiny_root, "cpu", records_dir=records_dir) == []
    assert "0 run(s) to do of 2" in capsys.readouterr().out


def test_coleaf_ablations_as_a_seed_ensemble(tiny_root, tmp_path, monkeypatch):
    """One record per (configuration, seed), hashed apart from sequential runs, skipped on rerun."""
    from avvp_lib.experiments import adapters
    from avvp_lib.experiments.runner import context, provenance
    from avvp_lib.methods import coleaf

    monkeypatch.setattr(coleaf, "train_config", lambda profile="quick", seed=0, device="auto":
                        TrainConfig(epochs=1, batch_size=16, lr=5e-4, select_metric="segment/Type@AVo", seed=seed,
                                    device=device))
    monkeypatch.setitem(coleaf.MODEL_SIZES, "quick", {"d_model": 32, "ffn_dim": 32})
    store = records.RecordStore(tmp_path / "records")
    made = []
    for name in ("coleaf/han", "coleaf/full"):
        made += X.run_ensemble(name, [0, 1], "quick", tiny_root, "cpu", store=store, verbose=False)
    frame = pd.DataFrame([{"method": r["method"], "variant": r["variant"], "seed": r["seed"], "engine": r["engine"],
                           **r["metrics"]} for r in made])
    assert frame[["method", "variant", "seed"]].values.tolist() == [
        ["HAN", "han", 0], ["HAN", "han", 1], ["CoLeaF", "full", 0], ["CoLeaF", "full", 1]]
    assert (frame.engine == "seed-ensemble").all()
    assert ((frame[list(METRIC_KEYS)] >= 0) & (frame[list(METRIC_KEYS)] <= 100)).all().all()
    assert frame[frame.variant == "full"]["segment/Type@AV"].nunique() == 2  # two seeds, two different models
    sequential = provenance("coleaf/full", 0, context("quick", tiny_root, "cpu"))
    ens = adapters.ensemble_provenance(sequential, [0, 1])
    assert made[2]["config_hash"] == results.config_hash(ens) != results.config_hash(sequential)
    assert results.config_hash(adapters.ensemble_provenance(sequential, [0, 2])) != results.config_hash(ens)

    def must_not_train(*args, **kwargs):
        raise AssertionError("a configuration with all its records present was trained again")

    monkeypatch.setattr(adapters.CoLeaFAdapter, "ensemble", must_not_train)
    again = X.run_ensemble("coleaf/full", [0, 1], "quick", tiny_root, "cpu", store=store, verbose=False)
    assert [r["timestamp"] for r in again] == [r["timestamp"] for r in made[2:]]
    with pytest.raises(ValueError, match="no seed-ensemble path"):
        X.run_ensemble("uwav/uwav", [0, 1], "quick", tiny_root, "cpu", store=store)


def test_dry_run_prints_the_plan_without_reading_data(capsys, monkeypatch):
    """``--dry-run`` lists every configuration with its recipe on the profile and counts the runs; it never sets up
    a data root (the full profile's may not exist)."""
    from avvp_lib.experiments import roots

    monkeypatch.setattr(roots, "Context", lambda *a, **k: pytest.fail("--dry-run must not load data"))
    sweeps.main(["--profile", "full", "--seeds", "0", "1", "2", "3", "4", "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "[sweeps] plan: 14 configuration(s) x 5 seed(s) = 70 run(s), profile full"
    han = next(line for line in out if line.startswith("han/main "))
    assert han.split()[1:] == ["standard", "40", "epochs,", "batch", "16"]  # HAN's official recipe on the full profile
    uwav = next(line for line in out if line.startswith("uwav/uwav@clip_clap"))
    assert "clip_clap" in uwav and "80 epochs, batch 64" in uwav


def test_a_run_prints_progress_lines_and_leaves_the_process_environment_as_it_was(monkeypatch):
    """Sweep runs print one line per epoch (AVVP_PROGRESS=lines while they execute), but the variable is
    restored afterwards: notebook kernels started later by the same process (nbval after the unit tests)
    must not inherit it, or their outputs change."""
    import os

    from avvp_lib.experiments import executors, runner

    seen = {}

    def fake_run(name, seed, *args, **kwargs):
        seen["progress"] = os.environ.get("AVVP_PROGRESS")
        return {"name": name, "seed": seed, "metrics": {"segment/Type@AV": 50.0}, "config_hash": "c" * 10,
                "data_fingerprint": "f" * 10, "profile": "quick"}

    monkeypatch.delenv("AVVP_PROGRESS", raising=False)
    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(executors, "RecordStore", lambda *a: None, raising=False)
    import avvp_lib.experiments.records as records

    monkeypatch.setattr(records, "RecordStore", lambda *a: None)
    monkeypatch.setattr(records, "record_filename", lambda r: "x.json")
    assert executors.execute(executors.Task("han/main", 0)) == "x.json"
    assert seen["progress"] == "lines" and "AVVP_PROGRESS" not in os.environ
    monkeypatch.setenv("AVVP_PROGRESS", "off")  # the user's choice wins and stays
    executors.execute(executors.Task("han/main", 0))
    assert seen["progress"] == "off" and os.environ["AVVP_PROGRESS"] == "off"
