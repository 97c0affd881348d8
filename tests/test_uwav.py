"""Tests of UWAV: UnAV-100 labels and streams, generators, Eq. 9-20 on hand-checkable tensors, thresholds."""
from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict

import numpy as np
import pytest
import torch

from avvp_lib.data import synth
from avvp_lib.data import unav as U
from avvp_lib.data.annotations import LLP_CLASSES
from avvp_lib.losses import uwav as L
from avvp_lib.methods import uwav as M
from avvp_lib.models.uwav import EncoderBlock, PseudoLabelGenerator, TemporalTransformer
from avvp_lib import pseudo_labels as PL


# ------------------------------------------------------------------------------------------ UnAV labels
def test_quantize_duration_rounds_up_and_keeps_integers():
    assert U.quantize_duration(47.68) == 48
    assert U.quantize_duration(39) == 39
    assert U.quantize_duration(10.0) == 10
    with pytest.raises(U.UnAVError, match="positive"):
        U.quantize_duration(0)


def test_quantize_event_is_the_shortest_covering_span():
    # [13.01, 15.78316] touches seconds 13, 14 and 15 -> half-open (13, 16)
    assert U.quantize_event(13.01, 15.78316) == (13, 16)
    assert U.quantize_event(0, 39) == (0, 39)
    y = U.per_second_labels([(2, 1.5, 2.2), (0, 0.0, 1.0)], seconds=4, num_classes=3)
    # class 2 covers seconds 1 and 2; class 0 covers second 0 only
    assert y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]]


def _tiny_json(tmp_path):
    db = {
        "aaaaaaaaaaa": {"duration": 3.5, "subset": "train", "annotations": [
            {"segment": [0.2, 1.1], "label": "dog barking", "label_id": 12},
            {"segment": [3.0, 2.0], "label": "dog barking", "label_id": 12},  # inverted: dropped
            {"segment": [2.5, 9.0], "label": "helicopter", "label_id": 88}]},  # ends after the video: clipped
        "bbbbbbbbbbb": {"duration": 2, "subset": "train", "annotations": [
            {"segment": [0, 1], "label": "man speaking", "label_id": 1}]},  # id of 'woman speaking'
        "ccccccccccc": {"duration": 12, "subset": "validation", "annotations": []},
    }
    path = tmp_path / "unav.json"
    path.write_text(json.dumps({"database": db}))
    return path


def test_load_unav_pads_masks_and_reports_quirks(tmp_path):
    ann = U.load_unav(_tiny_json(tmp_path), subsets=("train", "validation"))
    train = ann.split("train")
    assert train.labels.shape == (2, 4, 100)  # padded to ceil(3.5) = 4 seconds
    assert train.durations.tolist() == [4, 2]
    assert train.mask.tolist() == [[True] * 4, [True, True, False, False]]
    # dog barking: [0.2, 1.1] -> seconds 0, 1; helicopter [2.5, 9] -> seconds 2, 3 (clipped at 4)
    assert train.labels[0, :, 12].tolist() == [1, 1, 0, 0]
    assert train.labels[0, :, 88].tolist() == [0, 0, 1, 1]
    kinds = sorted(q.kind for q in ann.quirks)
    assert kinds == ["end_after_duration", "inverted", "label_id_mismatch", "no_annotations"]
    checks, stats = U.validation_report(ann)
    assert dict(zip(checks["check"], checks["count"]))["inverted"] == 1
    assert stats.set_index("subset").loc["validation", "labelled_seconds_%"] == 0.0


def test_load_unav_errors_name_the_problem(tmp_path):
    with pytest.raises(U.UnAVError, match="not found"):
        U.load_unav(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"database": {"x": {"duration": 3}}}))
    with pytest.raises(U.UnAVError, match="lacks"):
        U.load_unav(bad)
    with pytest.raises(U.UnAVError, match="unknown subset"):
        U.load_unav(_tiny_json(tmp_path), subsets=("dev",))


def test_real_unav_file_is_clean_and_complete():
    ann = U.load_unav(subsets=("validation",))
    checks, stats = U.validation_report(ann)
    assert checks["count"].sum() == 0
    row = stats.iloc[0]
    assert (row["videos"], row["classes_present"], row["max_duration_s"]) == (2134, 100, 60)


# ------------------------------------------------------------------------------------------ semantic space
def test_unav_prompts_share_llp_concepts():
    knobs = synth.SynthKnobs()
    for stream in ("clip", "clap"):
        text, protos = U.unav_embeddings(stream, knobs, seed=0)
        llp = synth.prompt_embeddings(stream, knobs, 0, [synth.LLP_CONCEPTS[c] for c in LLP_CLASSES])
        dog, cello = U.UNAV_CLASSES.index("dog barking"), U.UNAV_CLASSES.index("playing cello")
        assert np.array_equal(text[dog], llp[LLP_CLASSES.index("Dog")])
        assert np.array_equal(text[cello], llp[LLP_CLASSES.index("Cello")])
        # partial share 0.5: cosine with Speech about sqrt(0.5) (the own part is nearly orthogonal)
        man = U.UNAV_CLASSES.index("man speaking")
        assert float(text[man] @ llp[LLP_CLASSES.index("Speech")]) == pytest.approx(math.sqrt(0.5), abs=0.1)
        sea = U.UNAV_CLASSES.index("sea waves")
        assert float(np.abs(text[sea] @ llp.T).max()) < 0.2
        assert np.allclose(np.linalg.norm(text, axis=1), 1, atol=1e-5)
        # a segment prototype leans toward its own prompt by the alignment knob
        assert float(protos[dog] @ text[dog]) == pytest.approx(knobs.alignment, abs=1e-4)


def _tiny_root(tmp_path, monkeypatch):
    (tmp_path / "synth_meta.json").write_text(json.dumps({"seed": 0, "knobs": asdict(synth.SynthKnobs())}))
    monkeypatch.setitem(U.UNAV_PROFILES, "quick", {"train": 3, "validation": 2})
    return tmp_path


def test_generate_unav_layout_shapes_and_determinism(tmp_path, monkeypatch):
    root = _tiny_root(tmp_path, monkeypatch)
    meta = U.ensure_unav(root, "quick", seed=0)
    assert meta["counts"] == {"train": 3, "validation": 2}
    data = U.load_unav_split(root, "train")
    t = data.mask.sum(1)
    assert data.clip.shape[0] == 3 and data.clip.shape[2] == 768 and data.clap.shape[2] == 512
    real = data.clip[data.mask]
    assert torch.allclose(real.norm(dim=-1), torch.ones(len(real)), atol=2e-3)  # float16 on disk
    assert (data.clip[~data.mask] == 0).all()
    first = np.load(root / "unav100/feats_CLIP/segment_feats" / f"{data.video_ids[0]}.npy")
    assert first.shape == (int(t[0]), 768)
    prompts = U.load_unav_prompts(root)
    assert prompts["clip_text"].shape == (100, 768)
    stamp = (root / "unav100" / "unav_meta.json").stat().st_mtime_ns
    U.ensure_unav(root, "quick", seed=0)
    assert (root / "unav100" / "unav_meta.json").stat().st_mtime_ns == stamp  # reused, not regenerated
    U.generate_unav(root, "quick", seed=0)
    assert np.array_equal(np.load(root / "unav100/feats_CLIP/segment_feats" / f"{data.video_ids[0]}.npy"), first)


def test_unav_loader_errors_name_file_and_shape(tmp_path, monkeypatch):
    root = _tiny_root(tmp_path, monkeypatch)
    U.ensure_unav(root, "quick", seed=0)
    vid = U.load_unav_split(root, "validation").video_ids[0]
    path = root / "unav100/feats_CLAP/segment_feats" / f"{vid}.npy"
    np.save(path, np.zeros((3, 512), dtype=np.float16))
    with pytest.raises(U.UnAVError, match=r"expected shape \(\d+, 512\).*got \(3, 512\)"):
        U.load_unav_split(root, "validation")
    path.unlink()
    with pytest.raises(U.UnAVError, match="missing feature file"):
        U.load_unav_split(root, "validation")
    with pytest.raises(U.UnAVError, match="synth_meta.json"):
        U.ensure_unav(tmp_path / "nowhere")



def test_a_real_unav_folder_beside_real_llp_features_is_used_as_it_is(tmp_path, monkeypatch):
    (tmp_path / "synthetic").mkdir()
    synthetic = _tiny_root(tmp_path / "synthetic", monkeypatch)
    U.ensure_unav(synthetic, "quick", seed=0)
    real = tmp_path / "real"  # no synth_meta.json: a root of real LLP features, with UnAV-100 features extracted
    shutil.copytree(synthetic / "unav100", real / "unav100")
    (real / "unav100" / "unav_meta.json").unlink()  # the real release has no generator metadata
    before = sorted(p.relative_to(real) for p in real.rglob("*"))
    meta = U.ensure_unav(real, "full", seed=3)
    assert meta["data"] == "unav100" and meta["counts"] == {"train": 3, "validation": 2, "test": 0}
    assert sorted(p.relative_to(real) for p in real.rglob("*")) == before  # nothing generated or written
    assert U.load_unav_split(real, "train").clip.shape[0] == 3
    generator_dir = PL.generator_run_dir(real, "full")[0]
    # the features are part of its description: re-extracted features give another fingerprint and generator
    vid = U.load_unav_split(real, "validation").video_ids[0]
    path = real / "unav100/feats_CLIP/segment_feats" / f"{vid}.npy"
    np.save(path, np.load(path) * np.float16(0.5))
    assert U.ensure_unav(real, "full")["fingerprint"] != meta["fingerprint"]
    assert PL.generator_run_dir(real, "full")[0] != generator_dir
    shutil.rmtree(real / "unav100")
    with pytest.raises(U.UnAVError, match=r"no .*unav100/unav100_annotations.json.*real UnAV-100"):
        U.ensure_unav(real)

# ------------------------------------------------------------------------------------------ generators
def test_padding_does_not_change_logits():
    torch.manual_seed(0)
    net = TemporalTransformer(8, d_model=16, nhead=2, ffn_dim=32, num_layers=5, dropout=0.0).eval()
    text = torch.randn(3, 8)
    x = torch.randn(1, 4, 8)
    padded = torch.cat([x, torch.randn(1, 2, 8)], dim=1)
    mask = torch.tensor([[True] * 4 + [False] * 2])
    with torch.no_grad():
        alone = net(x, text)
        with_pad = net(padded, text, mask)
    assert torch.allclose(alone, with_pad[:, :4], atol=1e-5)


def test_generator_shapes_and_errors():
    gen = PseudoLabelGenerator(clip_dim=6, clap_dim=4, d_model=8, nhead=2, ffn_dim=16, num_layers=5, dropout=0.0,
                               projection="linear")
    z_a, z_v = gen(torch.randn(2, 5, 6), torch.randn(2, 5, 4), torch.randn(7, 6), torch.randn(7, 4))
    assert z_a.shape == z_v.shape == (2, 5, 7)
    assert len(gen.visual.blocks) == 5
    with pytest.raises(ValueError, match=r"expected features \(B, T, 6\)"):
        gen.visual(torch.randn(2, 5, 5), torch.randn(7, 6))
    with pytest.raises(ValueError, match="projection"):
        TemporalTransformer(4, projection="conv")
    block = EncoderBlock(8, 2, 16, 0.0)
    assert block(torch.randn(1, 3, 8)).shape == (1, 3, 8)


# ------------------------------------------------------------------------------------------ Eq. 9-20
def test_av_pretraining_loss_eq9_by_hand():
    # sigmoid(0) * sigmoid(0) = 0.25; BCE(0.25, 1) = -ln 0.25 = 1.386294; second 2 is padding
    z_a = torch.zeros(1, 2, 1)
    z_v = torch.tensor([[[0.0], [100.0]]])
    y = torch.tensor([[[1.0], [0.0]]])
    mask = torch.tensor([[True, False]])
    assert L.av_pretraining_loss(z_a, z_v, y, mask).item() == pytest.approx(math.log(4), rel=1e-5)
    # present_weight multiplies classes present somewhere in the video: 5 x 1.386294
    assert L.av_pretraining_loss(z_a, z_v, y, mask, present_weight=5).item() == pytest.approx(5 * math.log(4), rel=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        L.av_pretraining_loss(z_a, z_v[:, :1], y, mask)


def test_hard_pseudo_labels_eq10_by_hand():
    # theta = [0.2, 0]; class 1 is not in the video (y = 0) so it is zeroed
    z = torch.tensor([[[0.3, 1.0], [0.1, 0.1]]])
    theta = torch.tensor([0.2, 0.0])
    y = torch.tensor([[1.0, 0.0]])
    assert L.hard_pseudo_labels(z, theta, y).tolist() == [[[1.0, 0.0], [0.0, 0.0]]]


def test_soft_pseudo_labels_eq12_by_hand():
    # z - theta = ln 3 -> sigmoid = 3/4; z = theta -> 1/2; temperature 2: sigmoid(ln 3 / 2) = sqrt3/(1+sqrt3)
    theta = torch.tensor([0.2, 0.2, 0.2])
    z = torch.tensor([[[0.2 + math.log(3), 0.2, 5.0]]])
    y = torch.tensor([[1.0, 1.0, 0.0]])
    assert L.soft_pseudo_labels(z, theta, y)[0, 0].tolist() == pytest.approx([0.75, 0.5, 0.0], abs=1e-6)
    t2 = L.soft_pseudo_labels(z, theta, y, temperature=2.0)[0, 0, 0].item()
    assert t2 == pytest.approx(math.sqrt(3) / (1 + math.sqrt(3)), abs=1e-6)
    # an infinite threshold (class never positive on val) gives 0, never NaN
    assert L.soft_pseudo_labels(z, torch.tensor([math.inf] * 3), y).sum().item() == 0.0


def test_class_balance_weights_eq18_19_by_hand():
    # 1 positive among N*T*C = 1*2*2 = 4 entries: mean(y_hat) = 0.25
    # w_pos = W * (1 - 0.25) = 0.5 * 0.75 = 0.375; w_neg = 0.25; official scale multiplies by C = 2
    hard = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    assert L.class_balance_weights(hard, W=0.5) == pytest.approx((0.375, 0.25))
    assert L.class_balance_weights(hard, W=0.5, scale="official") == pytest.approx((0.75, 0.5))
    with pytest.raises(ValueError, match="scale"):
        L.class_balance_weights(hard, scale="other")


def test_class_balanced_bce_eq17_by_hand():
    # logits 0 -> BCE = ln 2 whatever the target; weights per class [w_pos, w_neg] = [0.375, 0.25]
    # mean over the 2 entries: (0.375 + 0.25) / 2 * ln 2 = 0.216608
    logits = torch.zeros(1, 1, 2)
    targets = torch.tensor([[[0.8, 0.0]]])
    y = torch.tensor([[1.0, 0.0]])
    got = L.class_balanced_bce(logits, targets, y, 0.375, 0.25).item()
    assert got == pytest.approx(0.3125 * math.log(2), rel=1e-6)


def test_mixup_eq14_15_by_hand():
    # lambda = 0.25, partners swapped: f0 = 0.25*[1,0] + 0.75*[0,1] = [0.25, 0.75]
    # p0 = 0.25*[1,0] + 0.75*[0,0.5] = [0.25, 0.375]; f1 = [0.75, 0.25]; p1 = [0.75, 0.125]
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = torch.tensor([[1.0, 0.0], [0.0, 0.5]])
    mf, mp = L.mixup_segments(f, p, 0.25, torch.tensor([1, 0]))
    assert mf.tolist() == [[0.25, 0.75], [0.75, 0.25]]
    assert mp.tolist() == [[0.25, 0.375], [0.75, 0.125]]
    with pytest.raises(ValueError, match="first dimension"):
        L.mixup_segments(f, p[:1], 0.5, torch.tensor([1, 0]))


def test_sample_mixup_is_seeded_and_valid():
    torch.manual_seed(3)
    lam1, perm1 = L.sample_mixup(6, 1.7)
    torch.manual_seed(3)
    lam2, perm2 = L.sample_mixup(6, 1.7)
    assert lam1 == lam2 and perm1.tolist() == perm2.tolist()
    assert 0 < lam1 < 1 and sorted(perm1.tolist()) == list(range(6))
    with pytest.raises(ValueError, match="alpha"):
        L.sample_mixup(3, 0.0)


def test_total_loss_eq20_is_the_sum():
    assert L.uwav_total_loss(torch.tensor(1.5), torch.tensor(0.25), torch.tensor(2.0)).item() == 3.75
    # L_video: BCE(0.5, 1) = ln 2 (video probabilities above 1 are clamped below 1)
    assert L.video_bce(torch.tensor([[0.5, 3.0]]), torch.tensor([[1.0, 1.0]]))[()].item() == pytest.approx(
        (math.log(2) - math.log(1 - 1e-7)) / 2, rel=1e-4)


# ------------------------------------------------------------------------------------------ thresholds
def test_best_f1_threshold_by_hand():
    # sorted scores 0.9 0.8 0.3 0.1, targets 1 0 1 0 (2 positives)
    # top-k F1: k=1 2/3, k=2 2/4, k=3 4/5, k=4 4/6 -> k=3, theta = (0.3 + 0.1) / 2 = 0.2
    theta, f1 = PL.best_f1_threshold(torch.tensor([0.3, 0.9, 0.1, 0.8]), torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert theta == pytest.approx(0.2) and f1 == pytest.approx(0.8)
    assert PL.best_f1_threshold(torch.tensor([0.3, 0.2]), torch.tensor([0.0, 0.0]))[0] == math.inf


def test_best_f1_thresholds_respect_video_labels():
    # class 0 is labelled only in video 0; the high score of video 1 cannot be predicted
    logits = torch.tensor([[[0.9], [0.2]], [[5.0], [0.1]]])
    gt = torch.tensor([[[1.0], [0.0]], [[0.0], [0.0]]])
    labels = torch.tensor([[1.0], [0.0]])
    theta = PL.best_f1_thresholds(logits, gt, labels)
    assert theta.tolist() == pytest.approx([(0.9 + 0.2) / 2])
    with pytest.raises(ValueError, match="unknown threshold rule"):
        PL.choose_thresholds("median")
    assert PL.choose_thresholds("fixed", num_classes=3)[0].tolist() == [0.0, 0.0, 0.0]


def test_valor_pseudo_labels_by_hand():
    # similarity of segment [1, 0] with prompts [1, 0], [0, 1] is [1, 0]; theta 0.5 keeps class 0 only
    clip = torch.tensor([[[1.0, 0.0]]])
    clap = torch.tensor([[[0.0, 1.0]]])
    text = torch.eye(2)
    labels = torch.tensor([[1.0, 1.0]])
    pl_a, pl_v = PL.valor_pseudo_labels(clip, clap, text, text, labels, torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]))
    assert pl_v.tolist() == [[[1.0, 0.0]]] and pl_a.tolist() == [[[0.0, 1.0]]]


# ------------------------------------------------------------------------------------------ method
def _tiny_batch(b=2, t=3, c=25):
    torch.manual_seed(0)
    soft = torch.rand(b, t, c)
    return {"audio": torch.randn(b, t, 128), "visual_2d": torch.randn(b, t, 2048), "visual_3d": torch.randn(b, t, 512),
            "labels": (torch.rand(b, c) < 0.3).float(), "uwav_target_a": soft, "uwav_target_v": soft.flip(1),
            "uwav_mix_a": soft, "uwav_mix_v": soft}


@pytest.mark.parametrize("variant", list(M.ABLATIONS))
def test_every_table4_row_trains(variant):
    config = M.ABLATIONS[variant]
    weights = {"a": (0.48, 0.04), "v": (0.47, 0.05)}
    method = M.UWAVMethod(config, weights, d_model=32, ffn_dim=32)
    batch = _tiny_batch()
    torch.manual_seed(1)
    loss, logs = method.training_loss(batch, 0)
    loss.backward()
    assert torch.isfinite(loss) and (logs["mix"] > 0) == config.mixup
    torch.manual_seed(1)
    again, _ = method.training_loss(batch, 0)
    assert again.item() == pytest.approx(loss.item())  # same seed, same mixup draw, same loss
    assert method.predict(batch).segment.shape == (2, 3, 2, 25)


def test_ablation_table_matches_the_paper_rows():
    rows = {k: (v.labels, v.reweight, v.mixup) for k, v in M.ABLATIONS.items()}
    assert rows == {"binary": ("hard", False, False), "soft": ("soft", False, False),
                    "soft+reweight": ("soft", True, False), "soft+mixup": ("soft", False, True),
                    "uwav": ("soft", True, True)}
    assert M.UWAVConfig().W == 0.5 and M.UWAVConfig().alpha == 1.7
    sens = M.sensitivity_configs()
    assert all(not c.reweight and c.mixup for k, c in sens.items() if k.startswith("alpha"))
    assert all(c.reweight and not c.mixup for k, c in sens.items() if k.startswith("W="))


def test_method_config_errors():
    with pytest.raises(ValueError, match="class-balance weights"):
        M.UWAVMethod(M.UWAVConfig(reweight=True), None)
    with pytest.raises(ValueError, match="labels must be"):
        M.UWAVConfig(labels="fuzzy")
    with pytest.raises(ValueError, match="unknown UWAV variant"):
        M.variant_config("uwav++")
    with pytest.raises(ValueError, match="unknown profile"):
        M.train_config("medium")


def test_han_knob_changes_do_not_regenerate_unav(tmp_path, monkeypatch):
    root = _tiny_root(tmp_path, monkeypatch)
    U.ensure_unav(root, "quick", seed=0)
    stamp = (root / "unav100" / "unav_meta.json").stat().st_mtime_ns
    meta = json.loads((root / "synth_meta.json").read_text())
    meta["knobs"]["amplitude"]["audio"] = 7.0  # a VGGish knob: the CLIP/CLAP streams do not depend on it
    (root / "synth_meta.json").write_text(json.dumps(meta))
    U.ensure_unav(root, "quick", seed=0)
    assert (root / "unav100" / "unav_meta.json").stat().st_mtime_ns == stamp  # not rewritten
    meta["knobs"]["alignment"] = 0.9  # a CLIP/CLAP knob: regenerate
    (root / "synth_meta.json").write_text(json.dumps(meta))
    assert U.ensure_unav(root, "quick", seed=0)["knobs"]["alignment"] == 0.9


def test_training_loss_matches_han_forward():
    # in eval mode (no dropout) the loss's video term is L_video of HAN's own forward pass
    method = M.UWAVMethod(M.ABLATIONS["soft"], None, d_model=32, ffn_dim=32).eval()
    batch = _tiny_batch()
    _, logs = method.training_loss(batch, 0)
    assert logs["video"] == pytest.approx(L.video_bce(method(batch).video, batch["labels"]).item(), rel=1e-6)
    # with all-zero targets the segment term is the mean BCE of HAN's segment probabilities against 0
    zero = {**batch, "uwav_target_a": torch.zeros_like(batch["uwav_target_a"]),
            "uwav_target_v": torch.zeros_like(batch["uwav_target_v"])}
    seg = method(zero).segment.clamp(1e-7, 1 - 1e-7)
    expected = -torch.log(1 - seg[:, :, 0]).mean() - torch.log(1 - seg[:, :, 1]).mean()
    assert method.training_loss(zero, 0)[1]["seg"] == pytest.approx(expected.item(), rel=1e-4)


# ------------------------------------------------------------------ the released recipe (issue: faithful UWAV)
def test_released_logit_scales_multiply_eq8():
    """Eq. (8) times the released constants: visual 4.6, audio 3.3 (the paper's scale 1 as an option)."""
    torch.manual_seed(0)
    one = PseudoLabelGenerator(**PL.generator_kwargs("quick", "paper"))
    released = PseudoLabelGenerator(**PL.generator_kwargs("quick"))
    released.load_state_dict(one.state_dict())
    clip, clap = torch.randn(2, 4, 768), torch.randn(2, 4, 512)
    text = {"clip_text": torch.randn(25, 768), "clap_text": torch.randn(25, 512)}
    z_a1, z_v1 = one(clip, clap, text["clip_text"], text["clap_text"])
    z_a, z_v = released(clip, clap, text["clip_text"], text["clap_text"])
    assert torch.allclose(z_v, 4.6 * z_v1, rtol=1e-5, atol=1e-3) and torch.allclose(z_a, 3.3 * z_a1, rtol=1e-5, atol=1e-3)


def test_released_optimiser_betas_and_clip():
    assert PL.generator_betas() == (0.5, 0.999) and PL.generator_betas("paper") == (0.9, 0.999)
    assert PL.pretrain_config("quick").grad_clip == 2.0 and PL.pretrain_config("full", recipe="paper").grad_clip == 1.0
    with pytest.raises(ValueError, match="unknown generator recipe"):
        PL.generator_kwargs("quick", "code")


def test_reweighting_defaults_to_the_code_scale():
    """W = 0.5 on Eq. (18)-(19) x C by default (the scale the authors tuned W on); the printed scale is an option."""
    assert M.UWAVConfig().reweight_scale == "official"
    hard = torch.zeros(4, 10, 25)
    hard[:, :2, 0] = 1  # 8 of 40 segments of class 0 positive, no other class
    code = L.class_balance_weights(hard, 0.5, "official")
    printed = L.class_balance_weights(hard, 0.5, "paper")
    assert code[0] == pytest.approx(25 * printed[0]) and code[1] == pytest.approx(25 * printed[1])
    sens = M.sensitivity_configs()
    assert sens["W=0.5"].reweight_scale == "official" and sens["W=0.5 (printed scale)"].reweight_scale == "paper"


def test_stacked_han_is_han_with_one_parallel_layer_and_updates_audio_first():
    from avvp_lib.models.han import HAN
    from avvp_lib.models.uwav import StackedHAN

    kw = dict(num_classes=5, audio_dim=6, visual_2d_dim=7, visual_3d_dim=3, d_model=8, ffn_dim=8, nhead=2, dropout=0.0)
    torch.manual_seed(0)
    han = HAN(**kw).eval()
    one = StackedHAN(num_layers=1, sequential=False, **kw).eval()
    one.load_state_dict(han.state_dict())
    a, v = torch.randn(2, 10, 8), torch.randn(2, 10, 8)
    assert all(torch.equal(x, y) for x, y in zip(han.hybrid_attention(a, v), one.hybrid_attention(a, v)))
    seq = StackedHAN(num_layers=1, sequential=True, **kw).eval()
    seq.load_state_dict(han.state_dict())
    hat_a, hat_v = seq.hybrid_attention(a, v)
    layer = han.hat_layer
    expect_a = layer(a, v)[0]
    assert torch.equal(hat_a, expect_a) and torch.equal(hat_v, layer(v, expect_a)[0])  # visual sees updated audio
    assert not torch.allclose(hat_v, han.hybrid_attention(a, v)[1])
    five = StackedHAN(num_layers=5, nhead=16, d_model=32, ffn_dim=32)
    assert len(five.extra_layers) == 4 and five.config["num_layers"] == 5
    assert M.stage2_han("full").config["nhead"] == 16 and type(M.stage2_han("quick")) is HAN
