"""The main-results sweep on a tiny root: row + compute row + predictions per run, skip on rerun."""
from __future__ import annotations

import pandas as pd
import pytest

from avvp_lib import results, sweeps
from avvp_lib.metrics import METRIC_KEYS, evaluate
from avvp_lib.train import TrainConfig


def test_han_main_sweep(tiny_root, tmp_path, monkeypatch, capsys):
    from avvp_lib.methods import mmil

    monkeypatch.setattr(mmil, "train_config",
                        lambda profile="quick", seed=0, device="auto": TrainConfig(epochs=1, batch_size=16, seed=seed,
                                                                                   device=device))
    out = dict(out_csv=tmp_path / "main.csv", compute_csv=tmp_path / "compute.csv",
               predictions_dir=tmp_path / "pred", runs_dir=tmp_path / "runs")
    skipped = sweeps.run_main("quick", [0], ["han"], tiny_root, "cpu", **out)
    assert skipped == []
    rows = results.read_results(out["out_csv"])
    assert rows[["method", "variant", "seed", "data", "profile"]].values.tolist() == [["HAN", "main", 0, "synthetic", "quick"]]
    compute = pd.read_csv(out["compute_csv"])
    assert compute.loc[0, "epochs"] == 1 and compute.loc[0, "params"] > 1e6 and compute.loc[0, "inference_seconds"] > 0
    pred = sweeps.load_predictions(sweeps.prediction_path("HAN", "main", "quick", 0, out["predictions_dir"]))
    again = evaluate(pred["pred_a"], pred["pred_v"], pred["gt_a"], pred["gt_v"])
    for k in METRIC_KEYS:
        assert again[k] == pytest.approx(rows.loc[0, k], abs=1e-4)  # the CSV keeps 4 decimals
    assert pred["meta"]["config_hash"] == rows.loc[0, "config_hash"]
    index = sweeps.saved_predictions(folder=out["predictions_dir"])
    assert index[["method", "seed"]].values.tolist() == [["HAN", 0]]
    capsys.readouterr()
    sweeps.run_main("quick", [0], ["han"], tiny_root, "cpu", **out)  # present with the same hash: skipped
    assert "row present" in capsys.readouterr().out


def test_missing_module_is_skipped_with_a_message(tiny_root, tmp_path, monkeypatch, capsys):
    def absent(ctx, seed):
        raise sweeps.Unavailable("avvp_lib.methods.nothing has no public train_variant")

    monkeypatch.setitem(sweeps.PLANS, "coleaf", absent)
    skipped = sweeps.run_main("quick", [0, 1], ["coleaf"], tiny_root, "cpu", out_csv=tmp_path / "m.csv",
                              compute_csv=tmp_path / "c.csv", predictions_dir=tmp_path / "p")
    assert skipped == ["coleaf"] and "skip coleaf" in capsys.readouterr().out
    with pytest.raises(KeyError, match="unknown method"):
        sweeps.run_main("quick", [0], ["nope"], tiny_root, "cpu", out_csv=tmp_path / "m.csv")


def test_cli_rejects_unknown_methods():
    with pytest.raises(SystemExit):
        sweeps.main(["--only", "han,foo"])


def test_ablation_sweep_calls_each_module_once_and_uwav_table3(monkeypatch, tmp_path):
    """--ablations: one run_ablations per method module (VALOR and LINK share one), plus UWAV's Table 3."""
    import types

    from avvp_lib import pseudo_labels, sweeps

    calls = []

    def fake_module(name, needs):
        return types.SimpleNamespace(run_ablations=lambda profile, seeds, out_csv, **kw: calls.append((name, out_csv.name)))

    monkeypatch.setattr(sweeps, "_module", fake_module)
    monkeypatch.setattr(pseudo_labels, "run_pseudo_label_accuracy",
                        lambda profile, seeds, out_csv, data_root, device: calls.append(("table3", out_csv.name)))
    skipped = sweeps.run_all_ablations("quick", (0, 1), only=("coleaf", "uwav", "valor", "link"))
    assert skipped == []
    assert calls == [("avvp_lib.methods.coleaf", "04_coleaf_ablations.csv"), ("avvp_lib.methods.uwav", "06_uwav_ablations.csv"),
                     ("table3", "05_uwav_pseudolabels.csv"), ("avvp_lib.methods.link", "07_link_ablations.csv")]


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


def test_ensemble_engine_routes_only_coleaf(monkeypatch, tmp_path):
    """--engine ensemble: CoLeaF's table goes through the seed ensemble, UWAV/LINK stay sequential."""
    import types

    from avvp_lib import pseudo_labels

    calls = []
    monkeypatch.setattr(sweeps, "_module", lambda name, needs: types.SimpleNamespace(
        run_ablations=lambda profile, seeds, out_csv, **kw: calls.append((name, out_csv.name))))
    monkeypatch.setattr(pseudo_labels, "run_pseudo_label_accuracy", lambda *a: calls.append(("table3",)))
    monkeypatch.setattr(sweeps, "run_coleaf_ablations_ensemble",
                        lambda profile, seeds, out, **kw: calls.append(("ensemble", out.name, tuple(seeds))))
    sweeps.run_all_ablations("quick", (0, 1), only=("coleaf", "uwav", "link"), engine="ensemble",
                             ensemble_csv=tmp_path / "ens.csv")
    assert calls == [("ensemble", "ens.csv", (0, 1)), ("avvp_lib.methods.uwav", "06_uwav_ablations.csv"),
                     ("table3",), ("avvp_lib.methods.link", "07_link_ablations.csv")]


def test_coleaf_ablations_as_a_seed_ensemble(tiny_root, tmp_path, monkeypatch):
    """One row per (configuration, seed), hashed apart from sequential runs, skipped on rerun."""
    from avvp_lib import ensemble
    from avvp_lib.data.dataset import load_split
    from avvp_lib.methods import coleaf

    monkeypatch.setattr(coleaf, "train_config", lambda profile="quick", seed=0, device="auto":
                        TrainConfig(epochs=1, batch_size=16, lr=5e-4, select_metric="segment/Type@AVo", seed=seed,
                                    device=device))
    monkeypatch.setitem(coleaf.MODEL_SIZES, "quick", {"d_model": 32, "ffn_dim": 32})
    splits = {s: load_split(tiny_root, s) for s in ("train", "val", "test")}
    out = tmp_path / "ens.csv"
    frame = sweeps.run_coleaf_ablations_ensemble("quick", [0, 1], out, variants=["han", "full"], device="cpu",
                                                 splits=splits, verbose=False)
    assert frame[["method", "variant", "seed"]].values.tolist() == [
        ["HAN", "han", 0], ["HAN", "han", 1], ["CoLeaF", "full", 0], ["CoLeaF", "full", 1]]
    assert ((frame[list(METRIC_KEYS)] >= 0) & (frame[list(METRIC_KEYS)] <= 100)).all().all()
    full = frame[frame.variant == "full"]
    assert full["segment/Type@AV"].nunique() == 2  # two seeds, two different models
    sequential = coleaf.run_config("full", coleaf.train_config("quick", 0, "cpu"), "quick")
    ens = sweeps.ensemble_provenance(sequential, [0, 1])
    assert full.loc[full.seed == 0, "config_hash"].item() == results.config_hash(ens) != results.config_hash(sequential)
    assert results.config_hash(sweeps.ensemble_provenance(sequential, [0, 2])) != results.config_hash(ens)

    assert sweeps.coleaf_rows_current(frame, "quick", "cpu").all()  # the notebook keeps them
    edited = frame.copy()
    edited.loc[0, "config_hash"] = results.config_hash(coleaf.run_config("han", coleaf.train_config("quick", 0, "cpu"),
                                                                          "quick"))  # a sequential run: current too
    edited.loc[1, "config_hash"] = "0123456789ab"  # written by another configuration
    edited = pd.concat([edited, edited.iloc[[3]].assign(variant="not_an_ablation")], ignore_index=True)
    assert sweeps.coleaf_rows_current(edited, "quick", "cpu").tolist() == [True, False, True, True, False]

    def must_not_train(*args, **kwargs):
        raise AssertionError("a configuration with all its rows present was trained again")

    monkeypatch.setattr(ensemble, "fit_ensemble", must_not_train)
    again = sweeps.run_coleaf_ablations_ensemble("quick", [0, 1], out, variants=["han", "full"], device="cpu",
                                                 splits=splits, verbose=False)
    pd.testing.assert_frame_equal(again, frame)
    with pytest.raises(KeyError, match="unknown ablation"):
        sweeps.run_coleaf_ablations_ensemble("quick", [0], out, variants=["nope"], splits=splits)
