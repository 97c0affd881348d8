"""The registry, the runner and the per-run records (issue: experiments as data).

The five faults found against the old CSV bookkeeping each have a test here or in ``test_results.py``:
(1) a truncated CSV line, (2) a report that skipped unreadable tables, (3) an all-digit hash read as a number,
(4) concurrent writers losing rows, (5) checkpoints and rows re-used across data roots.
"""
from __future__ import annotations

import json
import multiprocessing

import pandas as pd
import pytest

from avvp_lib import experiments as X
from avvp_lib.experiments import derived as tables, executors, records
from avvp_lib.experiments.fingerprint import data_fingerprint
from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.train import TrainConfig


def fake_record(name="han/main", seed=0, value=50.0, fingerprint="f" * 12, config_hash="abc123", engine="sequential",
                timestamp="2026-01-01T00:00:00"):
    exp = X.get(name)
    return records.make_record(name=name, method=exp.method, variant=exp.variant, features=exp.features,
                               engine=engine, seed=seed, profile="quick", data="synthetic",
                               data_fingerprint=fingerprint, config_hash=config_hash, config={"x": 1},
                               code_version="0" * 12, metrics={k: value for k in METRIC_KEYS}, train_seconds=1.0,
                               device="cpu", timestamp=timestamp,
                               extra={"params": 1000, "epochs": 2, "best_epoch": 1, "inference_seconds": 0.1,
                                      "test_videos": 30, "threads": 1})


# ------------------------------------------------------------------------------------ registry
def test_list_names_every_configuration_with_its_paper_row(capsys):
    from avvp_lib.experiments.__main__ import main

    main(["--list"])
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert len(lines) == len(listed) == len(X.names())  # every registered name once (the count follows the registry)
    assert {n for t in X.tables(course_only=True).values() for n in t.experiments} <= set(listed)
    assert {"han/main", "han/unimodal", "coleaf/full", "coleaf/no_evt", "coleaf/han_unimodal", "uwav/soft+reweight", "uwav/uwav",
            "uwav/alpha=1.5", "uwav/W=0.5", "link/T+S+P", "link/TSAM-only", "valor/main",
            "pseudo-labels/uwav"} <= set(listed)
    assert listed["coleaf/no_evt"][1:] == ["standard", "CoLeaF Table 2: CoLeaF, -"]
    assert listed["link/T+S+P"][1] == "clip_clap" and listed["coleaf/evt_weight_1"][2] == "- (not a paper row)"
    assert listed["valor/main"][1] == "standard" and "VALOR++" in listed["valor+/main@clip_clap"][2]
    assert "UWAV Table 1: VALOR" in listed["valor/main"][2] and listed["valor/main@clip_clap"][2] == "- (not a paper row)"
    assert listed["link/T+S+P@standard"][1] == "standard" and listed["han/main@clip_clap"][1] == "clip_clap"


def test_tables_are_lists_of_names_and_unknown_names_are_errors():
    grid = X.table("09_main").experiments
    assert len(grid) == 14 and {X.get(n).features for n in grid} == {"standard", "clip_clap"}
    for base in {n.split("@")[0] for n in grid}:  # every method of the grid on both feature sets
        assert sorted(X.get(n).features for n in grid if n.split("@")[0] == base) == ["clip_clap", "standard"]
    assert len(X.table("04_coleaf_ablations").experiments) == 11
    assert X.table("04_coleaf_ablations_ensemble").engine == "seed-ensemble"
    with pytest.raises(KeyError, match="coleaf/full"):
        X.get("coleaf/fulll")
    with pytest.raises(KeyError, match="unknown table"):
        X.table("99_nothing")
    with pytest.raises(ValueError, match="family/variant"):
        X.Experiment("nofamily", "HAN", "x", "standard", None, None, None)


def test_every_paper_row_of_the_registry_is_in_the_transcription():
    from avvp_lib.paper import paper_results_all

    paper = paper_results_all()
    for name in X.names():
        for row in X.get(name).paper_rows:
            hit = paper[(paper.paper_key == row.paper) & (paper.table == row.table) & (paper.method == row.method)
                        & (paper.setting == row.setting)]
            if row.table.startswith("Table ") or row.paper == "LINK":
                hit = hit if len(hit) else paper[(paper.paper_key == row.paper) & (paper.table_key == row.table)
                                                 & (paper.method == row.method) & (paper.setting == row.setting)]
            assert len(hit), f"{name}: {row} is not in data/paper_results*.csv"


# ------------------------------------------------------------------------------------- records
def test_record_round_trip_is_immutable_and_checked(tmp_path):
    record = fake_record()
    path = records.write_record(record, tmp_path)
    assert records.read_record(path) == record
    assert path.name == "han--main__quick__seed0__ffffffffffff__abc123.json"
    with pytest.raises(records.RecordExists):
        records.write_record(fake_record(value=60.0), tmp_path)
    assert records.read_record(path)["metrics"]["segment/A"] == 50.0  # the first one stands
    records.write_record(fake_record(value=60.0), tmp_path, replace=True)
    assert records.read_record(path)["metrics"]["segment/A"] == 60.0
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_a_damaged_record_is_an_error_naming_the_file(tmp_path):
    path = records.write_record(fake_record(), tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated
    with pytest.raises(records.RecordError, match=f"{path.name}: damaged record, not readable JSON"):
        records.RecordStore(tmp_path)  # opening the store reads every record: nothing is skipped
    edited = json.loads(text)
    edited["metrics"]["segment/A"] = 99.0  # hand-edited
    path.write_text(json.dumps(edited))
    with pytest.raises(records.RecordError, match="checksum mismatch"):
        records.read_record(path)
    with pytest.raises(records.RecordError, match="must be strings"):
        records.make_record(**{**{k: v for k, v in fake_record().items() if k not in ("schema", "checksum")},
                               "config_hash": 234287435})


def test_tables_keep_the_newest_record_per_run_and_separate_engines(tmp_path):
    store = records.RecordStore(tmp_path)
    store.write(fake_record(value=50.0, config_hash="old", timestamp="2026-01-01T00:00:00"))
    store.write(fake_record(value=55.0, config_hash="new", timestamp="2026-01-02T00:00:00"))
    store.write(fake_record("coleaf/full", value=60.0))
    store.write(fake_record("coleaf/full", value=61.0, engine="seed-ensemble", config_hash="ens"))
    frames = tables.derive(store)
    main = frames["09_main"]
    assert main[["name", "segment/A"]].values.tolist() == [["han/main", 55.0], ["coleaf/full", 60.0]]
    assert frames["04_coleaf_ablations"]["segment/A"].tolist() == [60.0]
    assert frames["04_coleaf_ablations_ensemble"]["segment/A"].tolist() == [61.0]
    assert frames["09_compute"]["method"].tolist() == ["HAN", "CoLeaF"]


def _write_many(folder, worker, count):
    import avvp_lib  # noqa: F401

    from avvp_lib.experiments import records as R

    names = ("han/main", "coleaf/full", "uwav/uwav", "valor/main", "link/T+S+P")
    for i in range(count):
        R.write_record(fake_record(names[i % 5], seed=worker * 100 + i, value=float(i)), folder)


def test_concurrent_writers_lose_nothing(tmp_path):
    """Fault 4: two processes appending to one CSV kept 61 of 95 rows. K processes write records of the same
    table at once; the derived table has every one."""
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(tmp_path, w, 12)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    frame = tables.derive(records.RecordStore(tmp_path))["09_main"]
    assert len(frame) == 48 and frame["seed"].nunique() == 48


def test_report_exits_non_zero_on_an_unreadable_table_or_record(tmp_path, capsys):
    """Fault 2: the report skipped a CSV it could not parse, said "no results yet" and exited 0."""
    from avvp_lib import report

    res = tmp_path / "results"
    store = records.RecordStore(res / "records")
    store.write(fake_record())
    assert report.main(["--results-dir", str(res), "--figures-dir", str(tmp_path / "fig"), "--n-boot", "10"]) == 0
    assert (res / "09_main.csv").is_file()
    frame = pd.read_csv(res / "09_main.csv").drop(columns=["seed"])
    frame.to_csv(res / "09_main.csv", index=False)  # a dropped column
    assert report.main(["--results-dir", str(res), "--no-derive", "--figures-dir", str(tmp_path / "fig")]) == 1
    assert "09_main.csv: results file lacks columns ['seed']" in capsys.readouterr().err
    (res / "09_main.csv").write_text("")
    assert report.main(["--results-dir", str(res), "--no-derive", "--figures-dir", str(tmp_path / "fig")]) == 1
    assert "09_main.csv: empty results file" in capsys.readouterr().err
    before = (res / "09_main.csv").read_text()
    damaged = store.paths[0]
    damaged.write_text(damaged.read_text()[:-40])
    assert report.main(["--results-dir", str(res), "--figures-dir", str(tmp_path / "fig")]) == 1
    assert damaged.name in capsys.readouterr().err
    assert (res / "09_main.csv").read_text() == before  # nothing derived from an incomplete set of records


# ------------------------------------------------------------------------------ data fingerprint
def test_data_fingerprint_sees_the_data_not_the_timing(tiny_root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_root, copy)
    assert data_fingerprint(copy) == data_fingerprint(tiny_root)
    meta = json.loads((copy / "synth_meta.json").read_text())
    (copy / "synth_meta.json").write_text(json.dumps({**meta, "seconds": 999.0}))
    assert data_fingerprint(copy) == data_fingerprint(tiny_root)  # a re-generation takes another time
    (copy / "synth_meta.json").write_text(json.dumps({**meta, "seed": 1}))
    assert data_fingerprint(copy) != data_fingerprint(tiny_root)
    (copy / "synth_meta.json").write_text(json.dumps(meta))
    next((copy / "vggish").iterdir()).unlink()  # one feature file fewer
    assert data_fingerprint(copy) != data_fingerprint(tiny_root)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        data_fingerprint(tmp_path / "nowhere")


# ----------------------------------------------------------------------------------- the runner
@pytest.fixture
def tiny_recipes(monkeypatch):
    """One-epoch recipes and narrow models, so that real runs take seconds."""
    from avvp_lib.methods import coleaf, link, mmil

    one = lambda profile="quick", seed=0, device="auto": TrainConfig(  # noqa: E731
        epochs=1, batch_size=16, lr=1e-3, select_metric="segment/Type@AV", seed=seed, device=device)
    for module in (mmil, coleaf, link):
        monkeypatch.setattr(module, "train_config", one)
    monkeypatch.setitem(coleaf.MODEL_SIZES, "quick", {"d_model": 32, "ffn_dim": 32})
    monkeypatch.setitem(link.MODEL_SIZES, "quick", dict(d_model=32, nhead=2, ffn_dim=32, num_layers=1))


def test_run_writes_a_record_skips_it_next_time_and_force_reevaluates(tiny_root, tmp_path, tiny_recipes):
    store = records.RecordStore(tmp_path / "records")
    kw = dict(store=store, runs_dir=tmp_path / "runs", predictions_dir=tmp_path / "pred", verbose=False)
    first = X.run("coleaf/han", 0, "quick", tiny_root, "cpu", **kw)
    assert (first["name"], first["method"], first["variant"], first["seed"]) == ("coleaf/han", "HAN", "han", 0)
    assert first["data_fingerprint"] == data_fingerprint(tiny_root) and isinstance(first["config_hash"], str)
    assert len(store.paths) == 1 and records.read_record(store.paths[0]) == first
    again = X.run("coleaf/han", 0, "quick", tiny_root, "cpu", **kw)
    assert again["timestamp"] == first["timestamp"]  # the record was returned, nothing ran
    forced = X.run("coleaf/han", 0, "quick", tiny_root, "cpu", force=True, **kw)  # re-uses the checkpoint
    assert forced["metrics"] == first["metrics"] and len(store.paths) == 1
    other_seed = X.run("coleaf/han", 1, "quick", tiny_root, "cpu", **kw)
    assert other_seed["metrics"] != first["metrics"] and len(store.paths) == 2


def test_another_data_root_never_reuses_rows_or_checkpoints(tiny_root, tmp_path, tiny_recipes):
    """Fault 5: after a run on a 48-video root, a forced sweep on the quick root re-used its checkpoint."""
    from avvp_lib.data.synth import generate
    from avvp_lib.experiments.runner import context, run_dir

    other = tmp_path / "root40"
    generate(other, profile="quick", seed=0, max_videos=40, progress=False)
    store = records.RecordStore(tmp_path / "records")
    kw = dict(store=store, runs_dir=tmp_path / "runs", predictions_dir=tmp_path / "pred", verbose=False)
    a = X.run("han/main", 0, "quick", tiny_root, "cpu", **kw)
    b = X.run("han/main", 0, "quick", other, "cpu", force=True, **kw)
    assert a["data_fingerprint"] != b["data_fingerprint"] and a["metrics"] != b["metrics"]
    assert a["config_hash"] == b["config_hash"] and len(store.paths) == 2  # same recipe, other data
    dirs = {run_dir("han/main", 0, context("quick", r, "cpu"), a["config_hash"], tmp_path / "runs")
            for r in (tiny_root, other)}
    assert len(dirs) == 2 and all((d / "result.pt").is_file() for d in dirs)
    assert b["extra"]["test_videos"] == 40 and a["extra"]["test_videos"] == 48


def test_one_configuration_under_two_names_is_trained_once(tiny_root, tmp_path, tiny_recipes):
    store = records.RecordStore(tmp_path / "records")
    kw = dict(store=store, runs_dir=tmp_path / "runs", predictions_dir=tmp_path / "pred", verbose=False)
    valor = X.run("valor+/main@clip_clap", 0, "quick", tiny_root, "cpu", **kw)
    assert valor["extra"]["predictions"].endswith(
        f"valor+--main_clip_clap_quick_{valor['data_fingerprint']}_{valor['config_hash']}_seed0.npz")
    link = X.run("link/baseline", 0, "quick", tiny_root, "cpu", **kw)
    assert link["extra"]["copied_from"] == "valor+/main@clip_clap" and link["metrics"] == valor["metrics"]
    assert (link["method"], link["variant"]) == ("LINK", "baseline") and len(store.paths) == 2


# --------------------------------------------------------------------------------- executors
def _tasks(root, records_dir):
    return [executors.Task(name, 0, "quick", str(root), "cpu", str(records_dir))
            for name in ("pseudo-labels/zero-shot", "pseudo-labels/valor-style")]


def test_submitit_local_executor_runs_a_job_array(tiny_root, tmp_path):
    """The SLURM path for real, on submitit's local executor: two runs in two subprocesses."""
    done = executors.submit(_tasks(tiny_root, tmp_path / "records"), tmp_path / "submitit", cluster="local",
                            wait=True, timeout_min=10, cpus_per_task=1)
    store = records.RecordStore(tmp_path / "records")
    assert sorted(done) == sorted(p.name for p in store.paths) and len(done) == 2
    assert {r["name"] for r in store.records} == {"pseudo-labels/zero-shot", "pseudo-labels/valor-style"}
    assert executors.pending(_tasks(tiny_root, tmp_path / "records")) == []  # re-submitting runs nothing


def test_local_worker_processes_and_pending(tiny_root, tmp_path):
    tasks = _tasks(tiny_root, tmp_path / "records")
    assert executors.pending(tasks) == tasks
    done = executors.run_local(tasks, jobs=2)
    assert len(done) == 2 and len(records.RecordStore(tmp_path / "records").paths) == 2
    assert executors.pending(tasks) == [] and executors.pending(tasks, force=True) == tasks


def test_rows_current_knows_the_recipe_the_root_and_old_tables(tiny_root, tmp_path, tiny_recipes):
    store = records.RecordStore(tmp_path / "records")
    X.run("coleaf/han", 0, "quick", tiny_root, "cpu", store=store, runs_dir=tmp_path / "runs", verbose=False)
    frame = tables.derive(store)["04_coleaf_ablations"]
    assert X.rows_current(frame, "04_coleaf_ablations", "quick", tiny_root, "cpu").tolist() == [True]
    edited = frame.assign(config_hash="0123456789")  # written with another recipe
    assert X.rows_current(edited, "04_coleaf_ablations", "quick", tiny_root, "cpu").tolist() == [False]
    other = frame.assign(data_fingerprint="0" * 12)  # trained on other data
    assert X.rows_current(other, "04_coleaf_ablations", "quick", tiny_root, "cpu").tolist() == [False]
    old = frame.drop(columns=["name", "data_fingerprint"])  # a table from before the registry
    assert X.rows_current(old, "04_coleaf_ablations", "quick", tiny_root, "cpu").tolist() == [False]


def test_feature_view_swaps_the_audio_and_frame_streams_only():
    import torch

    from avvp_lib.data.dataset import AVVPData
    from avvp_lib.experiments.roots import feature_view

    t = {k: torch.randn(2, 10, d) for k, d in (("audio", 128), ("visual_2d", 2048), ("visual_3d", 512), ("clap", 512),
                                               ("clip", 768))}
    t |= {"labels": torch.zeros(2, 25), "index": torch.arange(2)}
    split = AVVPData("test", ["a", "b"], ["a", "b"], t, None, None)
    assert feature_view(split, "standard") is split
    view = feature_view(split, "clip_clap").tensors
    assert view["audio"] is t["clap"] and view["visual_2d"] is t["clip"] and view["visual_3d"] is t["visual_3d"]
    assert "clap" not in view and len(feature_view(split, "clip_clap")) == 2
    with pytest.raises(ValueError, match="lacks the streams"):
        feature_view(AVVPData("x", ["a"], ["a"], {"audio": t["audio"][:1]}, None, None), "clip_clap")
