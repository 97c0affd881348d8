"""The synthetic benchmark: official layouts, determinism, real label structure, informative streams."""
from __future__ import annotations

import json

import numpy as np
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
