"""Faults of the store and its inputs: data changed behind the fingerprint, a synthetic root without its metadata,
full disks, arguments checked late, two sweeps racing on one run, derived tables that disagree with their records.

Every case builds what it breaks in ``tmp_path`` (hard-linked copies of the tiny root; a file is unlinked before it
is rewritten, so the shared root is never touched) and checks one error that names the file or argument, what was
expected and what was found - or, for the race, that the loser carries on.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from avvp_lib.data import synth
from avvp_lib.data.annotations import load_llp
from avvp_lib.data.dataset import DataRootError, data_source_of, load_split
from avvp_lib.experiments import fingerprint as F
from avvp_lib.experiments import records


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Digest caches of these tests go to their own folder, not runs/."""
    monkeypatch.setattr(F, "cache_dir", lambda: tmp_path / "fingerprint-cache")


from tests.test_bad_inputs import root  # noqa: E402,F401  (the private copy of the tiny root, a fixture)


def first_feature(root: Path, folder: str = "vggish") -> Path:
    return root / folder / f"{load_llp(root / 'annotations').val.video_ids[0]}.npy"


def rewrite_same_size(path: Path) -> None:
    """Replace a feature file by other values of the same shape and dtype (a re-extraction): same size."""
    array = np.load(path)
    size = path.stat().st_size
    path.unlink()
    np.save(path, (array + 1).astype(array.dtype))
    assert path.stat().st_size == size


def as_real_root(root: Path) -> Path:
    """A root of "real" features: the generator's files removed."""
    for name in ("synth_meta.json", F.MANIFEST):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / "diagnostics")
    return root


def old_synthetic_fingerprint(root: Path) -> str:
    """The data fingerprint as the code that keyed the committed records computed it (metadata, label files,
    names and sizes): a generated root must keep it."""
    digest = hashlib.sha256()
    meta = {k: v for k, v in json.loads((root / "synth_meta.json").read_text()).items() if k != "seconds"}
    digest.update(b"meta\0" + json.dumps(meta, sort_keys=True).encode())
    for path in sorted((root / "annotations").glob("*.csv")):
        digest.update(f"labels\0{path.name}\0".encode() + path.read_bytes())
    for folder in F.FEATURE_FOLDERS:
        if (root / folder).is_dir():
            listing = sorted((e.name, e.stat().st_size) for e in os.scandir(root / folder) if e.name.endswith(".npy"))
            digest.update(f"features\0{folder}\0".encode() + json.dumps(listing).encode())
    return digest.hexdigest()[:12]


# ------------------------------------------------------------------- A: data changed behind the fingerprint
def test_a_generated_root_keeps_the_fingerprint_the_committed_records_are_keyed_by(tiny_root):
    assert (tiny_root / F.MANIFEST).is_file()
    assert F.data_fingerprint(tiny_root) == old_synthetic_fingerprint(tiny_root)


def test_real_features_re_extracted_in_place_change_the_fingerprint(root):
    real = as_real_root(root)
    before = F.data_fingerprint(real)
    rewrite_same_size(first_feature(real))
    assert F.data_fingerprint(real) != before


def test_a_generated_root_edited_in_place_is_an_error_naming_the_file(root):
    assert F.data_fingerprint(root)  # clean: fine
    path = first_feature(root, "r2plus1d_18")
    rewrite_same_size(path)
    rel = f"r2plus1d_18/{path.name}"
    with pytest.raises(F.ContentError) as info:
        F.data_fingerprint(root)
    message = str(info.value)
    assert str(root) in message and rel in message and "same size" in message and "Regenerate the root" in message
    with pytest.raises(F.ContentError, match=rel):
        synth.ensure(root, "quick", 0, progress=False)  # never reused as the generated data


def test_ensure_names_a_missing_file_of_the_manifest(root):
    path = first_feature(root)
    path.unlink()
    with pytest.raises(F.ContentError, match=rf"1 missing: vggish/{path.name}"):
        synth.ensure(root, "quick", 0, progress=False)


def test_content_digests_are_computed_once(root, monkeypatch):
    real = as_real_root(root)
    calls = []
    digest = F.file_digest
    monkeypatch.setattr(F, "file_digest", lambda path: calls.append(path) or digest(path))
    first = F.data_fingerprint(real)
    n_files = sum(len(list((real / f).glob("*.npy"))) for f in F.FEATURE_FOLDERS if (real / f).is_dir())
    assert len(calls) == n_files > 200
    calls.clear()
    assert F.data_fingerprint(real) == first and calls == []  # cached by (path, size, mtime_ns)
    rewrite_same_size(first_feature(real))
    assert F.data_fingerprint(real) != first and len(calls) == 1  # only the changed file is read again


def test_a_root_generated_before_manifests_gets_one_with_a_note(root):
    (root / F.MANIFEST).unlink()
    fingerprint = F.data_fingerprint(root)
    body = json.loads((root / F.MANIFEST).read_text())
    assert "generated before content manifests" in body["note"]
    assert fingerprint == F.data_fingerprint(root) == old_synthetic_fingerprint(root)
    rewrite_same_size(first_feature(root))
    with pytest.raises(F.ContentError):
        F.data_fingerprint(root)


def test_the_manifest_is_the_same_for_the_same_data(tiny_root, tmp_path):
    again = tmp_path / "again"
    synth.generate(again, profile="quick", seed=0, max_videos=48, progress=False)
    assert (again / F.MANIFEST).read_bytes() == (tiny_root / F.MANIFEST).read_bytes()


# ----------------------------------------------------------------- B: a synthetic root without its metadata
def test_a_synthetic_copy_without_its_metadata_is_not_labelled_real_llp(root):
    (root / "synth_meta.json").unlink()
    with pytest.raises(DataRootError) as info:
        load_split(root, "val")
    message = str(info.value)
    assert str(root) in message and "no synth_meta.json" in message and "diagnostics/train_tracks.npz" in message
    assert "labelled as real LLP" in message
    as_real_root(root)  # no trace of the generator: real features
    assert data_source_of(root) == ("llp", {})


# ---------------------------------------------------------------------------------------- D: full disks
def _dies_half_way(path_arg: int):
    """A writer (``torch.save(obj, path)``: ``path_arg=1``; ``np.save(path, array)``: 0) that writes part of its
    output, then fails as a full disk does."""
    def dying(*args, **kwargs):
        target = args[path_arg]
        if hasattr(target, "write"):  # an open file (avvp_lib.atomic hands writers a handle)
            target.write(b"\0" * 4096)
        else:
            with open(target, "wb") as handle:
                handle.write(b"\0" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")
    return dying


def test_a_checkpoint_save_on_a_full_disk_leaves_no_partial_file(tmp_path, monkeypatch):
    from avvp_lib import train

    monkeypatch.setattr(train.torch, "save", _dies_half_way(1))
    target = tmp_path / "run" / "last.pt"
    with pytest.raises(OSError) as info:
        train.save_atomic({"model": {}}, target)
    assert info.value.errno == errno.ENOSPC and str(target) in str(info.value)
    assert list((tmp_path / "run").iterdir()) == []


def test_a_generator_write_on_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(synth.np, "save", _dies_half_way(0))
    target = tmp_path / "vggish" / "x.npy"
    target.parent.mkdir()
    with pytest.raises(OSError) as info:
        synth._save(target, np.zeros((10, 128), np.float32), np.float16)
    assert info.value.errno == errno.ENOSPC and str(target) in str(info.value) and "2560 bytes" in str(info.value)
    assert list(target.parent.iterdir()) == []
    with pytest.raises(OSError, match=r"could not write .*\.npy"):
        synth.generate(tmp_path / "root", max_videos=4, progress=False)
    assert list(tmp_path.iterdir()) == [target.parent]  # no scratch folder, no root


def test_a_record_write_on_a_full_disk_leaves_no_partial_file(tmp_path, monkeypatch):
    from tests.test_experiments import fake_record

    record = fake_record()
    from avvp_lib import atomic

    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space")))
    with pytest.raises(OSError, match=r"could not write the record .*han--main__quick__seed0"):
        records.write_record(record, tmp_path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------- E: arguments checked late
@pytest.mark.parametrize("knob,shown,allowed", [("alignment=2", "alignment=2.0", "[0, 1]"),
                                                ("alignment=nan", "alignment=nan", "[0, 1]"),
                                                ("confusability=1.5", "confusability=1.5", "[0, 1]"),
                                                ("noise.clip=-1", "noise.clip=-1.0", "[0, inf)"),
                                                ("unaligned_weight=0", "unaligned_weight=0.0", "(0, inf)")])
def test_a_knob_out_of_range_is_refused_before_anything_is_generated(tmp_path, capsys, knob, shown, allowed):
    with pytest.raises(SystemExit) as stop:
        synth.main(["--out", str(tmp_path / "r"), "--knob", knob])
    assert stop.value.code == 2
    assert f"knob {shown}: expected a finite number in {allowed}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="alignment"):
        synth.generate(tmp_path / "r", knobs=synth.SynthKnobs(alignment=1.5), max_videos=2, progress=False)


def test_every_knob_has_a_range_and_the_frozen_knobs_are_in_it():
    from dataclasses import asdict

    assert set(synth.KNOB_RANGES) == set(asdict(synth.SynthKnobs()))
    synth.check_knobs(synth.SynthKnobs())


@pytest.mark.parametrize("argv,message", [
    (["--seeds", "-1", "0"], "--seeds -1 0: seeds are non-negative integers"),
    (["--jobs", "0"], "--jobs 0 / --threads 1: expected integers of at least 1"),
    (["--jobs", "-2"], "--jobs -2"),
    (["--records-dir", "FILE"], "is a file; expected a folder of run records"),
    (["--data-root", ""], "--data-root '': no such folder")])
def test_sweep_arguments_are_checked_before_any_data_is_read(tmp_path, capsys, argv, message):
    from avvp_lib import sweeps

    (tmp_path / "FILE").write_text("not a folder\n")
    argv = [str(tmp_path / "FILE") if a == "FILE" else a for a in argv]
    with pytest.raises(SystemExit) as stop:
        sweeps.main(argv + ["--names", "han/main"])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_train_features_that_overflow_stop_at_the_training_step_naming_epoch_and_batch(tiny_root):
    import dataclasses

    from avvp_lib import train as T
    from avvp_lib.methods.mmil import HANMethod

    data = load_split(tiny_root, "train")
    huge = dataclasses.replace(data, tensors={k: v * 1e30 if v.is_floating_point() and k != "labels" else v
                                              for k, v in data.tensors.items()})
    config = T.TrainConfig(epochs=1, device="cpu")
    torch.manual_seed(0)
    with pytest.raises(FloatingPointError) as info:
        T.fit(HANMethod(d_model=16, ffn_dim=16), huge, load_split(tiny_root, "val"), config, run_dir="runs/x",
              resume=False)
    message = str(info.value)
    assert message.startswith("run runs/x: epoch 0, batch 0: the model's training outputs are not probabilities")
    assert "check the train features for extreme values" in message and "e+30" in message


# ----------------------------------------------------------------------------- F: two sweeps racing on one run
@pytest.fixture
def tiny_recipes(monkeypatch):
    from avvp_lib.methods import mmil
    from avvp_lib.train import TrainConfig

    monkeypatch.setattr(mmil, "train_config", lambda profile="quick", seed=0, device="auto": TrainConfig(
        epochs=1, batch_size=16, lr=1e-3, seed=seed, device=device))


def test_the_loser_of_a_race_keeps_the_winners_record_and_carries_on(tiny_root, tmp_path, tiny_recipes, capsys,
                                                                   monkeypatch):
    from avvp_lib import experiments as X

    folder = tmp_path / "records"
    kw = dict(predictions_dir=tmp_path / "pred", verbose=False)
    winner = X.run("han/main", 0, "quick", tiny_root, "cpu", store=records.RecordStore(tmp_path / "winner"),
                   runs_dir=tmp_path / "runs-winner", **kw)
    loser_store = records.RecordStore(folder)  # opened (and the run planned) before the winner wrote
    adapter = type(X.get("han/main").adapter)
    real_run, trained = adapter.run, []

    def run_then_winner_writes(self, *args, **kwargs):
        outcome = real_run(self, *args, **kwargs)
        trained.append(1)
        records.write_record(winner, folder)  # the other sweep finishes first
        return outcome

    monkeypatch.setattr(adapter, "run", run_then_winner_writes)
    kept = X.run("han/main", 0, "quick", tiny_root, "cpu", store=loser_store, runs_dir=tmp_path / "runs-loser", **kw)
    assert kept == winner and trained == [1] and len(list(folder.glob("*.json"))) == 1
    assert "another process wrote" in capsys.readouterr().out
    # the next run of the same sweep goes on; a third sweep that planned before the record appeared trains nothing
    late_store = records.RecordStore(tmp_path / "empty")
    shutil.copytree(folder, tmp_path / "empty", dirs_exist_ok=True)
    late_store.records, late_store.paths = [], []
    assert X.run("han/main", 0, "quick", tiny_root, "cpu", store=late_store, runs_dir=tmp_path / "r3", **kw) == winner
    assert trained == [1]


def test_a_different_record_under_the_same_name_is_still_an_error(tmp_path):
    from tests.test_experiments import fake_record

    store = records.RecordStore(tmp_path)
    store.write(fake_record(value=50.0))
    other = records.RecordStore(tmp_path)
    assert other.write_or_accept(fake_record(value=51.0))["metrics"]["segment/A"] == 50.0  # same key: kept
    changed = dict(fake_record(engine="seed-ensemble"))
    with pytest.raises(records.RecordExists):
        records.RecordStore(tmp_path).write_or_accept(changed)


# --------------------------------------------------------------------- G: derived tables and their records
@pytest.fixture
def results(tmp_path):
    from tests.test_experiments import fake_record

    res = tmp_path / "results"
    store = records.RecordStore(res / "records")
    for seed in (0, 1):
        store.write(fake_record(seed=seed, value=50.0 + seed))
    return res


def _report(res, tmp_path, *extra):
    from avvp_lib import report

    return report.main(["--results-dir", str(res), "--figures-dir", str(tmp_path / "fig"), "--n-boot", "10", *extra])


def test_no_derive_refuses_a_hand_edited_table(results, tmp_path, capsys):
    assert _report(results, tmp_path) == 0
    path = results / "09_main.csv"
    frame = pd.read_csv(path, dtype=str)
    frame.loc[1, "segment/Type@AV"] = "99.0000"
    frame.to_csv(path, index=False)
    assert _report(results, tmp_path, "--no-derive") == 1
    err = capsys.readouterr().err
    assert f"{path}, line 3: differs from what the 2 records" in err and "99.0000" in err
    assert _report(results, tmp_path) == 0 and "99.0000" not in path.read_text()  # re-derived


def test_a_table_whose_records_are_all_gone_is_not_shown(results, tmp_path, capsys):
    assert _report(results, tmp_path) == 0 and (results / "09_main.csv").is_file()
    for path in (results / "records").glob("*.json"):
        path.unlink()
    assert _report(results, tmp_path, "--no-derive") == 1
    assert "09_main.csv: no record of" in capsys.readouterr().err
    assert _report(results, tmp_path) == 0
    out = capsys.readouterr().out
    assert not (results / "09_main.csv").exists() and not (results / "09_compute.csv").exists()
    assert "removed" in out and "yet: run python -m avvp_lib.sweeps first" in out


# ------------------------------------------------------------- two data roots in one store: refused before writing
def test_a_store_with_two_roots_for_one_configuration_writes_no_table(tmp_path):
    """A run on another root of the same data label (a second synthetic root, a second version of the real features)
    recorded beside the default root's: deriving refuses, names both fingerprints, and leaves every table as it was."""
    from avvp_lib.experiments import derived
    from tests.test_experiments import fake_record

    store = records.RecordStore(tmp_path / "records")
    store.write(fake_record(fingerprint="a" * 12, value=50.0))
    derived.write_tables(store, tmp_path, verbose=False)
    before = (tmp_path / "09_main.csv").read_bytes()
    store = records.RecordStore(tmp_path / "records")
    store.write(fake_record(fingerprint="b" * 12, value=10.0))
    with pytest.raises(derived.DataSetsMixed) as info:
        derived.write_tables(records.RecordStore(tmp_path / "records"), tmp_path, verbose=False)
    message = str(info.value)
    assert "a" * 12 in message and "b" * 12 in message and "--records-dir" in message and "Nothing was written" in message
    assert (tmp_path / "09_main.csv").read_bytes() == before
