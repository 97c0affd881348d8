"""The synthetic benchmark: official layouts, determinism, real label structure, informative streams."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from avvp_lib.data import synth
from avvp_lib.data.annotations import LLP_CLASSES, load_llp
from avvp_lib.data.dataset import load_split
from avvp_lib.data.features import load_prompt_embeddings


def test_layout_is_the_official_one(tiny_root):
    vid = load_llp(tiny_root / "annotations").val.video_ids[0]
    shapes = {"vggish": (10, 128), "res152": (80, 2048), "r2plus1d_18": (10, 512),
              "feats_CLIP/segment_feats": (10, 768), "feats_CLAP/segment_feats": (10, 512)}
    for folder, shape in shapes.items():
        assert np.load(tiny_root / folder / f"{vid}.npy").shape == shape
    assert np.load(tiny_root / "feats_CLIP/event_feats/all_event_feats.npy").shape == (25, 768)
    meta = json.loads((tiny_root / "synth_meta.json").read_text())
    assert meta["data"] == "synthetic" and meta["n_val"] == 48


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    for root, seed in ((a, 1), (b, 1), (c, 2)):
        synth.generate(root, seed=seed, max_videos=4, progress=False)
    vid = load_llp(a / "annotations").test.video_ids[0]
    x = [np.load(r / "vggish" / f"{vid}.npy") for r in (a, b, c)]
    assert np.array_equal(x[0], x[1]) and not np.array_equal(x[0], x[2])


def test_train_tracks_follow_the_video_labels(tiny_root):
    tracks = np.load(tiny_root / "diagnostics" / "train_tracks.npz")
    labels = load_llp(tiny_root / "annotations").train.labels.numpy()
    present = (tracks["audio"].max(1) | tracks["visual"].max(1)) > 0
    assert np.array_equal(present, labels > 0)  # every label has an event somewhere, no event without a label


def test_sample_train_tracks_copies_real_occurrences():
    rng = np.random.default_rng(0)
    donor_labels = np.zeros((2, 25)); donor_labels[:, 3] = 1
    gt_a = np.zeros((2, 10, 25)); gt_v = np.zeros((2, 10, 25))
    gt_a[0, 2:5, 3] = 1  # donor 0: audible-only [2, 5)
    gt_v[1, 0:10, 3] = 1  # donor 1: visible-only, whole clip
    labels = np.zeros((50, 25)); labels[:, 3] = 1
    a, v = synth.sample_train_tracks(labels, gt_a, gt_v, donor_labels, rng)
    from_0 = a[:, :, 3].sum(1) == 3
    from_1 = v[:, :, 3].sum(1) == 10
    assert np.all(from_0 ^ from_1) and 10 < from_0.sum() < 40  # each copies exactly one donor, both are used


def test_features_carry_the_events(tiny_root):
    data = load_split(tiny_root, "val", streams=("han", "clipclap"))
    protos = torch.from_numpy(synth.class_prototypes("audio", synth.SynthKnobs(), 0))
    score = torch.einsum("ntd,cd->ntc", data.tensors["audio"], protos)
    on, off = score[data.gt_audio > 0].mean(), score[data.gt_audio == 0].mean()
    assert on > off + 1.0
    prompts = load_prompt_embeddings(tiny_root)["clip_text"]
    cos = torch.einsum("ntd,cd->ntc", data.tensors["clip"], prompts)
    gap = cos[data.gt_visual > 0].mean() - cos[data.gt_visual == 0].mean()
    assert 0.05 < gap < 0.9  # informative, not perfect


def test_confusable_classes_share_prototype_directions():
    protos = synth.class_prototypes("audio", synth.SynthKnobs(), 0)
    unit = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    i, j, k = (LLP_CLASSES.index(c) for c in ("Violin_fiddle", "Cello", "Dog"))
    assert unit[i] @ unit[j] > 0.4 and abs(unit[i] @ unit[k]) < 0.3


def test_concept_vector_is_shared_across_datasets():
    assert np.array_equal(synth.concept_vector("dog", 16, 0), synth.concept_vector("dog", 16, 0))
    assert not np.array_equal(synth.concept_vector("dog", 16, 0), synth.concept_vector("cat", 16, 0))
    assert abs(np.linalg.norm(synth.concept_vector("dog", 16, 0)) - 1) < 1e-6


def test_knobs_with_changes_one_knob_and_names_bad_ones():
    knobs = synth.knobs_with({"alignment": "0.5", "noise.clip": 3})
    assert knobs.alignment == 0.5 and knobs.noise["clip"] == 3.0 and knobs.noise["clap"] == 2.0
    assert synth.SynthKnobs().alignment == 0.3  # the frozen knobs are untouched
    with pytest.raises(KeyError, match="unknown knob 'alinement'"):
        synth.knobs_with({"alinement": 0.5})
    with pytest.raises(KeyError, match="per stream: write noise.<stream>"):
        synth.knobs_with({"noise": 1})
    with pytest.raises(ValueError, match="expected a number"):
        synth.knobs_with({"alignment": "high"})
    with pytest.raises(ValueError, match="expected name=value"):
        synth.parse_knob("alignment")
    assert synth.parse_knob("noise.clip=3") == ("noise.clip", "3")


def test_frozen_metadata_lists_no_later_knob():
    """The frozen knobs' metadata is what it was before ``unaligned_weight`` existed (so the data fingerprint of
    the committed records holds); a changed later knob is listed."""
    assert "unaligned_weight" not in synth.knob_dict(synth.SynthKnobs())
    assert synth.knob_dict(synth.knobs_with({"unaligned_weight": 4}))["unaligned_weight"] == 4.0


def test_unaligned_share_by_hand():
    a = np.zeros((1, 4, 1)); v = np.zeros((1, 4, 1))
    a[0, 0:3, 0] = 1  # audio on segments 0-2
    v[0, 2:4, 0] = 1  # visual on segments 2-3: 0, 1 audible-only, 3 visible-only, 2 both
    assert synth.unaligned_share(a, v) == 0.75
    assert synth.unaligned_share(np.zeros((1, 4, 1)), np.zeros((1, 4, 1))) == 0.0


def test_unaligned_weight_moves_the_share_and_only_it():
    """Up-weighting unaligned donors raises the unaligned share of the sampled tracks (down-weighting lowers it),
    the weighted picks use their own generator, and the main generator is left exactly where the frozen draw
    leaves it (so everything generated after the tracks is the same at every level)."""
    donor_labels = np.zeros((2, 25)); donor_labels[:, 3] = 1
    gt_a = np.zeros((2, 10, 25)); gt_v = np.zeros((2, 10, 25))
    gt_a[0, :, 3] = 1; gt_v[0, :, 3] = 1  # donor 0: audible and visible, aligned (u = 0)
    gt_a[1, 0:4, 3] = 1  # donor 1: audible-only (u = 1)
    labels = np.zeros((400, 25)); labels[:, 3] = 1
    shares, states = {}, {}
    for w in (0.25, 1.0, 4.0):
        rng = np.random.default_rng(0)
        a, v = synth.sample_train_tracks(labels, gt_a, gt_v, donor_labels, rng, w, np.random.default_rng(1))
        shares[w] = (a[:, :, 3].sum(1) == 4).mean()  # the share of takers that copied the unaligned donor
        states[w] = rng.bit_generator.state["state"]["state"]
    # weights (1 - u) + w u: P(unaligned donor) = w / (1 + w) = 0.2, 0.5, 0.8
    assert abs(shares[0.25] - 0.2) < 0.06 and abs(shares[1.0] - 0.5) < 0.07 and abs(shares[4.0] - 0.8) < 0.06
    assert states[0.25] == states[1.0] == states[4.0]
    with pytest.raises(ValueError, match="needs weighted_rng"):
        synth.sample_train_tracks(labels, gt_a, gt_v, donor_labels, np.random.default_rng(0), 4.0)
    with pytest.raises(ValueError, match="expected a positive sampling weight"):
        synth.sample_train_tracks(labels, gt_a, gt_v, donor_labels, np.random.default_rng(0), 0.0,
                                  np.random.default_rng(1))


def test_cli_knob_errors_name_the_knobs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        synth.main(["--out", str(tmp_path / "r"), "--knob", "alinement=0.5"])
    assert "unknown knob 'alinement'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synth.main(["--out", str(tmp_path / "r"), "--knob", "alignment"])
    assert "expected name=value" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # nothing generated


def test_a_failed_regeneration_leaves_the_old_root_whole(tmp_path, monkeypatch):
    """Regenerating over an existing root with another knob, interrupted half-way: the old root keeps every file
    and its metadata byte for byte, and no scratch folder is left (the new root replaces it only when complete)."""
    from avvp_lib.data import synth as S

    root = tmp_path / "root"
    S.generate(root, profile="quick", seed=0, max_videos=6, progress=False)
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real_save = S._save

    def dying_save(path, x, dtype):
        calls["n"] += 1
        if calls["n"] > 20:
            raise KeyboardInterrupt("killed half-way")
        real_save(path, x, dtype)

    monkeypatch.setattr(S, "_save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        S.generate(root, profile="quick", seed=0, max_videos=6, progress=False,
                   knobs=S.knobs_with({"noise.audio": 3.0}))
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]
    monkeypatch.setattr(S, "_save", real_save)
    meta = S.generate(root, profile="quick", seed=0, max_videos=6, progress=False, knobs=S.knobs_with({"noise.audio": 3.0}))
    assert json.loads((root / "synth_meta.json").read_text())["knobs"] == meta["knobs"] != json.loads(before[Path("synth_meta.json")])["knobs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]
