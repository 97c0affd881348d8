"""Notebook 10's controlled experiments: hypotheses, level roots, measured properties, level files."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from avvp_lib.experiments import controlled as C
from avvp_lib.experiments.registry import get


def test_every_hypothesis_names_registered_runs_and_keeps_the_frozen_level():
    for h in C.HYPOTHESES:
        assert len(h.levels) >= 4 and C.frozen_value(h.knob) in h.levels
        for name in h.experiments:
            get(name)
        for effect in h.effects:
            assert {effect.experiment, effect.anchor} <= set(h.experiments)
            assert set(effect.expected.values()) <= {-1, +1}


def test_level_roots_frozen_is_the_default_root():
    from avvp_lib import paths

    assert C.level_root("quick", "alignment", 0.3) == paths.synthetic_dir() / "quick"
    other = C.level_root("quick", "alignment", 0.45)
    assert other.name == "quick-alignment=0.45" and other.parent.name == "controlled"


def test_plan_runs_shared_levels_once():
    tasks, levels = C.plan(seeds=(0,))
    keys = [(t.data_root, t.name) for t in tasks]
    assert len(keys) == len(set(keys))  # the frozen root is every hypothesis's frozen level: each run listed once
    assert len(levels) == len(set(levels)) == 12
    # valor/main: 4 noise levels (H2) + 4 alignment levels (H3), the frozen root shared
    assert sum(t.name == "valor/main" for t in tasks) == 7


def test_a_level_can_set_several_knobs_that_share_a_frozen_value():
    assert C.knob_overrides("noise.clip+noise.clap", 3.5) == {"noise.clip": 3.5, "noise.clap": 3.5}
    assert C.frozen_value("noise.clip+noise.clap") == 2.0 and C.frozen_value("alignment") == 0.3
    with pytest.raises(ValueError, match="different frozen values"):
        C.frozen_value("noise.audio+noise.clip")  # 1.0 and 2.0: no single level sets both
    with pytest.raises(ValueError, match="per stream"):
        C.frozen_value("noise")


def test_segment_auc_by_hand():
    # positives 0.9, 0.4; negatives 0.5, 0.1, 0.4: pairs won 3 + 1.5 (a tie) of 6
    assert C.segment_auc(np.array([0.9, 0.4, 0.5, 0.1, 0.4]), np.array([1, 1, 0, 0, 0])) == pytest.approx(4.5 / 6)
    assert C.segment_auc(np.array([[3.0, 2.0], [1.0, 0.0]]), np.array([[1, 1], [0, 0]])) == 1.0
    with pytest.raises(ValueError, match="positive and negative"):
        C.segment_auc(np.ones(3), np.zeros(3))


def test_level_file_round_trip_and_damage(tiny_root, tmp_path, monkeypatch):
    monkeypatch.setattr(C, "level_root", lambda profile, knob, value: tiny_root)
    body = C.write_level("quick", "alignment", 0.3, folder=tmp_path)
    m = body["measured"]
    assert 0.5 < m["zero_shot_auc"] < 1 and 0 <= m["train_unaligned_share"] <= 1 and body["frozen"]
    assert C.read_level("quick", "alignment", 0.3, folder=tmp_path) == body
    path = tmp_path / "quick-alignment=0.3.json"
    edited = json.loads(path.read_text())
    edited["measured"]["zero_shot_auc"] = 0.99
    path.write_text(json.dumps(edited))
    with pytest.raises(ValueError, match=r"quick-alignment=0.3.json: checksum mismatch"):
        C.read_level("quick", "alignment", 0.3, folder=tmp_path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(ValueError, match="not valid JSON"):
        C.read_level("quick", "alignment", 0.3, folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="no level file"):
        C.read_level("quick", "alignment", 0.45, folder=tmp_path)


def test_runs_whose_inputs_a_knob_leaves_alone_are_reused_only_when_byte_identical(tmp_path, monkeypatch):
    """H3's HAN reads the standard streams, which `alignment` does not touch: its frozen-level record is re-used at a
    level whose standard streams are byte-identical, and not at one whose audio stream differs."""
    from avvp_lib.data import synth
    from avvp_lib.experiments import records
    from avvp_lib.experiments.fingerprint import data_fingerprint
    from avvp_lib.metrics import METRIC_KEYS

    roots = {0.3: tmp_path / "frozen", 0.45: tmp_path / "aligned", 0.2: tmp_path / "other-audio"}
    synth.generate(roots[0.3], max_videos=4, progress=False)
    synth.generate(roots[0.45], max_videos=4, progress=False, knobs=synth.knobs_with({"alignment": 0.45}))
    synth.generate(roots[0.2], max_videos=4, progress=False, knobs=synth.knobs_with({"alignment": 0.2, "noise.audio": 1.5}))
    monkeypatch.setattr("avvp_lib.experiments.controlled_runs.level_root", lambda profile, knob, value: roots[value])
    h = C.Hypothesis("HX", "claim", "source", "alignment", (0.2, 0.3, 0.45), ("han/main",), (), "zero_shot_auc",
                     "x", unchanged={"han/main": C.STANDARD_FOLDERS})
    store = records.RecordStore(tmp_path / "records")
    exp = get("han/main")
    store.write(records.make_record(
        name="han/main", method=exp.method, variant=exp.variant, features=exp.features, engine="sequential", seed=0,
        profile="quick", data="synthetic", data_fingerprint=data_fingerprint(roots[0.3]), config_hash="c0ffee",
        config={}, code_version="0" * 12, metrics={k: 50.0 for k in METRIC_KEYS}, train_seconds=1.0, device="cpu",
        timestamp="2026-01-01T00:00:00", extra={}))
    assert C.reuse_unchanged(h, "quick", [0], store, verbose=False) == 1
    copied = store.find("c0ffee", data_fingerprint(roots[0.45]), 0)
    assert len(copied) == 1 and copied[0]["extra"]["reused_from"]["data_fingerprint"] == data_fingerprint(roots[0.3])
    assert copied[0]["metrics"]["segment/A"] == 50.0
    assert not store.find("c0ffee", data_fingerprint(roots[0.2]), 0)  # its audio stream differs: trained instead
    assert C.reuse_unchanged(h, "quick", [0], store, verbose=False) == 0  # idempotent


def test_registry_tables_leave_out_the_controlled_levels(tmp_path):
    """A record on a non-frozen level's data root never lands in results/0*.csv (it would be an extra seed there)."""
    from avvp_lib.experiments import derived, levels, records
    from avvp_lib.metrics import METRIC_KEYS

    store = records.RecordStore(tmp_path / "records")
    exp = get("han/main")
    for fp in ("a" * 12, "b" * 12):
        store.write(records.make_record(
            name="han/main", method=exp.method, variant=exp.variant, features=exp.features, engine="sequential",
            seed=0, profile="quick", data="synthetic", data_fingerprint=fp, config_hash="c0ffee", config={},
            code_version="0" * 12, metrics={k: 50.0 for k in METRIC_KEYS}, train_seconds=1.0, device="cpu",
            timestamp="2026-01-01T00:00:00", extra={"epochs": 1}))
    levels.write_level_file({"profile": "quick", "knob": "alignment", "value": 0.45, "frozen": False,
                             "root": "x", "data_fingerprint": "b" * 12, "measured": {}}, tmp_path / "controlled")
    derived.write_tables(store, tmp_path, verbose=False)
    main = pd.read_csv(tmp_path / "09_main.csv", dtype={"data_fingerprint": str})
    assert main["data_fingerprint"].tolist() == ["a" * 12]
