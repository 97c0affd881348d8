"""Main tables, paper blocks, prediction files and the no-training regeneration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from avvp_lib import paper as paper_module
from avvp_lib import report, results
from avvp_lib import predictions as P
from avvp_lib.metrics import METRIC_KEYS, evaluate


def fake_rows(method, values, variant="main", data="synthetic", profile="quick"):
    return [results.make_row(method, variant, seed, data, profile, {k: v for k in METRIC_KEYS}, 10.0, {"m": method})
            for seed, v in enumerate(values)]


def test_main_table_mean_std_bold_and_source():
    frame = pd.DataFrame(fake_rows("HAN", [50, 51, 52]) + fake_rows("CoLeaF", [60, 60, 60]))
    table = report.main_table(frame, "coleaf6")
    assert list(table.index) == ["HAN", "CoLeaF"]
    assert table.loc["HAN", ("segment", "Ao")] == "51.0 ± 1.0"
    assert table.loc["CoLeaF", ("event", "Event@AVo")] == "**60.0 ± 0.0**"  # best mean in bold
    assert table.loc["HAN", ("", "source")] == "ours: synthetic, quick, 3 seeds"
    assert [c for c in table.columns.get_level_values(1) if c != "source"][:9] == list(results.TABLE6_COLUMNS)
    t1 = report.main_table(frame, "table1")
    assert sorted(set(t1.columns.get_level_values(1)) - {"source"}) == sorted(report.TABLE1_COLUMNS)
    with pytest.raises(ValueError, match="layout"):
        report.main_table(frame, "table9")


def test_bold_is_per_data_source():
    frame = pd.DataFrame(fake_rows("HAN", [50, 50]) + fake_rows("HAN", [70, 70], profile="full"))
    table = report.main_table(frame, "table1")
    assert not table.map(lambda c: "**" in str(c)).any().any()  # one row per source: nothing to compare


def test_paper_blocks_come_from_the_paper_files():
    paper = paper_module.paper_results_all()
    assert {"paper_key", "table_key"} <= set(paper.columns)
    block = report.paper_table("coleaf6", paper)
    han = block.loc[[i for i in block.index if i.startswith("HAN (")][0]]
    ref = paper[(paper.paper_key == "CoLeaF") & (paper.table_key == "6") & (paper.method == "HAN")
                & (paper.metric == "segment/Ao")].value.iloc[0]
    assert han[("segment", "Ao")] == f"{ref:.1f}"
    assert han[("", "source")].startswith("paper: CoLeaF Table 6")


def test_markdown_table():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x|y", None]}, index=pd.Index(["r1", "r2"], name="row"))
    md = report.to_markdown(frame)
    assert md.splitlines()[:3] == ["| row | a | b |", "|---|---|---|", "| r1 | 1 | x\\|y |"]


def test_predictions_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    arrays = [(rng.random((7, 10, 25)) < 0.3).astype(np.int64) for _ in range(4)]
    path = P.save_predictions(tmp_path / "p.npz", *arrays, [f"v{i}" for i in range(7)], {"method": "HAN"})
    back = P.load_predictions(path)
    for key, a in zip(("pred_a", "pred_v", "gt_a", "gt_v"), arrays):
        assert np.array_equal(back[key], a)
    assert back["filenames"] == [f"v{i}" for i in range(7)] and back["meta"] == {"method": "HAN"}
    assert path.stat().st_size < 10_000
    assert P.prediction_path("coleaf/full@clip_clap", "quick", "fp1", 2, tmp_path).name == \
        "coleaf--full_clip_clap_quick_fp1_seed2.npz"


def test_regenerate_from_csvs_and_predictions_alone(tmp_path):
    """Two grid cells x 3 seeds of fake predictions -> rows, compute, tables, intervals and figures, no training."""
    res, fig = tmp_path / "results", tmp_path / "figures"
    pred_dir = res / "predictions"
    rng = np.random.default_rng(1)
    gt_a, gt_v = ((rng.random((30, 10, 25)) < 0.2).astype(np.int64) for _ in range(2))
    rows, compute = [], []
    for name, method, variant, noise in (("coleaf/han", "HAN", "han", 0.3), ("coleaf/full", "CoLeaF", "full", 0.05)):
        for seed in range(3):
            flip = lambda g: np.where(rng.random(g.shape) < noise, 1 - g, g)  # noqa: E731
            pa, pv = flip(gt_a), flip(gt_v)
            row = results.make_row(method, variant, seed, "synthetic", "quick", evaluate(pa, pv, gt_a, gt_v), 5.0,
                                   {"m": method})
            row.update(name=name, features="standard", data_fingerprint="fp0")
            rows.append(row)
            meta = {k: row[k] for k in ("name", "method", "variant", "features", "seed", "data", "profile",
                                        "data_fingerprint", "config_hash", "code_version")}
            P.save_predictions(P.prediction_path(name, "quick", "fp0", seed, pred_dir), pa, pv, gt_a,
                                    gt_v, [f"v{i}" for i in range(30)], meta)
            compute.append({"method": method, "variant": "main", "seed": seed, "data": "synthetic", "profile": "quick",
                            "params": 1000, "epochs": 2, "train_seconds": 5.0, "train_seconds_per_epoch": 2.5,
                            "inference_seconds": 0.1, "test_videos": 30, "device": "cpu"})
    results.write_csv_atomic(pd.DataFrame(rows, columns=results.RESULT_COLUMNS + ["name", "features", "data_fingerprint"]),
                             res / "09_main.csv")
    pd.DataFrame(compute).to_csv(res / "09_compute.csv", index=False)
    pd.DataFrame(compute).assign(threads=1, code_version="x", config_hash="y", timestamp="t").to_csv(
        res / "09_compute.csv", index=False)
    made = report.regenerate(res, None, fig, n_boot=200, verbose=False)
    tag = "synthetic_quick"
    for name in (f"main_coleaf6_{tag}", f"main_table1_{tag}", "paper_coleaf6", "paper_table1", f"compute_{tag}",
                 f"intervals_{tag}", f"per_class_f1_{tag}", "stale", f"09_main_{tag}"):
        assert name in made and (res / "tables" / f"{name}.md").is_file() and (res / "tables" / f"{name}.csv").is_file()
    assert "**" in made[f"main_coleaf6_{tag}"].loc["CoLeaF", ("segment", "A")]  # the less noisy one wins
    intervals = made[f"intervals_{tag}"]
    assert intervals["comparison"].unique().tolist() == ["CoLeaF - HAN (standard)"]  # the only pair with rows
    assert (intervals["diff"] > 0).all() and (intervals["ci_low"] > 0).all() and (intervals["verdict"] == "agrees").all()
    comp = made[f"compute_{tag}"]
    assert sum(s.startswith("paper: UWAV Table A5") for s in comp["source"]) == 2 and comp.shape[0] == 4
    for name in ("09_main_bars", "09_old_vs_new", "09_per_class_f1", "09_intervals"):
        assert (fig / f"{name}.png").is_file()


def test_the_per_file_summary_keeps_feature_sets_apart(tmp_path):
    """results/tables/09_main_*: one row per method, variant and feature set (50 and 70 are never averaged to 60)."""
    res = tmp_path / "results"
    rows = []
    for features, value in (("standard", 50.0), ("clip_clap", 70.0)):
        for row in fake_rows("HAN", [value, value + 2]):
            row.update(name="han/main", features=features, data_fingerprint="fp0")
            rows.append(row)
    results.write_csv_atomic(pd.DataFrame(rows, columns=results.RESULT_COLUMNS + ["name", "features", "data_fingerprint"]),
                             res / "09_shrink.csv")
    table = report.regenerate(res, None, tmp_path / "figures", n_boot=50, verbose=False)["09_shrink_synthetic_quick"]
    assert table[["features", "seeds", "segment/A"]].values.tolist() == [["standard", 2, "51.0 ± 1.4"],
                                                                          ["clip_clap", 2, "71.0 ± 1.4"]]
    gap = report.old_vs_new_gap(pd.DataFrame(rows))
    assert gap[["features", "segment/A"]].values.tolist() == [["standard", 51.0], ["clip_clap", 71.0]]


def test_metric_disagreements_by_hand():
    # CoLeaF's own example (Table 6, segment level): HAN A 60.1 / Ao 33.1, MA A 60.3 / Ao 43.5
    t = pd.DataFrame({"name": ["HAN", "MA", "Z"], "A": [60.1, 60.3, 70.0], "Ao": [33.1, 43.5, 30.0]})
    pairs = report.metric_disagreements(t, "A", "Ao", tol=1.0)
    assert len(pairs) == 3 and pairs["Ao x - y"].abs().is_monotonic_decreasing
    ma_han = pairs[(pairs.x == "MA") & (pairs.y == "HAN")].iloc[0]  # oriented: MA is better on Ao
    assert ma_han["A x - y"] == 0.2 and ma_han["Ao x - y"] == 10.4 and not ma_han.flip
    flips = pairs[pairs.flip]  # Z is best on A but worst on Ao: it flips against both
    assert sorted(map(tuple, flips[["x", "y"]].values)) == [("HAN", "Z"), ("MA", "Z")]


def test_main_table_labels_stale_rows():
    frame = results.flag_stale(pd.DataFrame(fake_rows("HAN", [50, 51])))
    frame.loc[0, "code_version"] = "000000000000"
    frame = results.flag_stale(frame)
    assert report.main_table(frame).loc["HAN", ("", "source")] == "ours: synthetic, quick, 2 seeds, 1 stale"


def test_engine_agreement_means_differences_and_welch():
    seq = pd.DataFrame(fake_rows("CoLeaF", [50, 51, 52], "full") + fake_rows("HAN", [40, 41, 42], "han")
                       + fake_rows("HAN", [30, 30, 30], "only_sequential"))
    ens = pd.DataFrame(fake_rows("CoLeaF", [50, 51, 52], "full") + fake_rows("HAN", [50, 51, 52], "han"))
    table = report.engine_agreement(seq, ens, metrics=["segment/Ao"])
    assert table.variant.tolist() == ["full", "han"]  # only_sequential has no ensemble rows
    full, han = table.iloc[0], table.iloc[1]
    assert (full.sequential, full.ensemble, full["diff"], full.p, full.distinguishable) == (
        "51.0 ± 1.0", "51.0 ± 1.0", 0.0, 1.0, False)
    assert han["diff"] == 10.0 and han.p < 0.001 and han.distinguishable and han.seeds == "3/3"
    mixed = pd.concat([seq, pd.DataFrame(fake_rows("HAN", [1, 2], "han", profile="full"))])
    with pytest.raises(ValueError, match="sequential rows mix"):
        report.engine_agreement(mixed, ens)


def test_engine_check_files_are_not_pooled_with_the_tables_they_repeat():
    seq = results.flag_stale(pd.DataFrame(fake_rows("CoLeaF", [50, 51], "full")))
    ens = seq.assign(config_hash="another-engine")
    both = report.everything_frame({"04_coleaf_ablations": seq, "04_coleaf_ablations_ensemble": ens},
                                   "synthetic", "quick")
    assert len(both) == 2 and set(both.config_hash) == set(seq.config_hash)


def test_a_failed_regeneration_leaves_every_table_and_figure_as_it_was(tmp_path, monkeypatch):
    """The tables and figures are built aside and moved into place only when the whole derivation succeeded."""
    from avvp_lib import paths

    monkeypatch.setattr(paths, "runs_dir", lambda: tmp_path / "runs")
    res, figures = tmp_path / "results", tmp_path / "figures"
    rows = []
    for row in fake_rows("HAN", [50.0, 52.0]):
        row.update(name="han/main", features="standard", data_fingerprint="fp0")
        rows.append(row)
    results.write_csv_atomic(pd.DataFrame(rows, columns=results.RESULT_COLUMNS + ["name", "features", "data_fingerprint"]),
                             res / "09_shrink.csv")
    report.regenerate(res, None, figures, n_boot=50, verbose=False)
    before = {p.relative_to(tmp_path): p.read_bytes() for p in (res / "tables").iterdir()}
    assert before and not list((tmp_path / "runs").iterdir())  # the staging folder is gone after a success
    rows[0]["segment/A"] = 10.0  # a changed row, then a failure late in the derivation
    results.write_csv_atomic(pd.DataFrame(rows, columns=results.RESULT_COLUMNS + ["name", "features", "data_fingerprint"]),
                             res / "09_shrink.csv")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "paper_table", broken)
    with pytest.raises(OSError, match="No space left"):
        report.regenerate(res, None, figures, n_boot=50, verbose=False)
    assert {p.relative_to(tmp_path): p.read_bytes() for p in (res / "tables").iterdir()} == before
    assert not list((tmp_path / "runs").iterdir())


def test_derived_tables_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    from avvp_lib.experiments import derived

    frames = {"09_main": pd.DataFrame({"a": [1.0]}), "09_compute": pd.DataFrame({"b": [2.0]})}
    monkeypatch.setattr(derived, "derive", lambda store, levels=(): frames)

    class Store:
        records = [1, 2]
    (tmp_path / "09_main.csv").write_text("old main\n")
    (tmp_path / "09_compute.csv").write_text("old compute\n")
    calls = {"n": 0}
    real = pd.DataFrame.to_csv

    def full_disk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OSError):
        derived.write_tables(Store(), tmp_path, verbose=False)
    assert (tmp_path / "09_main.csv").read_text() == "old main\n" and (tmp_path / "09_compute.csv").read_text() == "old compute\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["09_compute.csv", "09_main.csv"]
    monkeypatch.setattr(pd.DataFrame, "to_csv", real)
    derived.write_tables(Store(), tmp_path, verbose=False)
    assert (tmp_path / "09_main.csv").read_text() == "a\n1.0000\n"


def test_report_arguments_are_checked_before_anything_is_read_or_created(tmp_path, capsys):
    for argv, message in ((["--results-dir", str(tmp_path / "typo")], "no such folder"),
                          (["--results-dir", str(tmp_path), "--n-boot", "0"], "--n-boot 0: expected a positive number"),
                          (["--results-dir", str(tmp_path), "--records-dir", str(tmp_path / "nope")], "no such folder")):
        with pytest.raises(SystemExit) as stop:
            report.main(argv)
        assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "typo").exists() and list(tmp_path.iterdir()) == []
