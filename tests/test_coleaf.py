"""CoLeaF: every equation on a tiny hand-checkable tensor, the stop-gradient choices, the branches,
the ablation registry and the sweep's skip logic (avvp_lib.losses.coleaf, models.coleaf, methods.coleaf)."""
from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from avvp_lib.analysis import event_type_rates
from avvp_lib.losses.coleaf import (
    anchor_video_loss,
    class_correlation,
    co_occurrence_loss,
    event_aware_contrastive_loss,
    event_aware_weights,
    event_type_counts,
    pseudo_label_bce_loss,
    pseudo_labels,
    reference_video_loss,
    segment_nce,
    self_modality_loss,
)
from avvp_lib.losses.mmil import mmil_video_loss
from avvp_lib.methods import coleaf as coleaf_method
from avvp_lib import paper as paper_module
from avvp_lib.methods.coleaf import ABLATIONS, CoLeaFConfig, CoLeaFMethod, ablation, build_method
from avvp_lib.models.coleaf import (
    CoLeaF,
    Reference,
    append_class_tokens,
    class_token_probabilities,
    temporal_pooling,
)
from avvp_lib.models.han import HAN

T = torch.tensor
TINY = dict(d_model=16, ffn_dim=16)


def _batch(b=3, t=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"audio": torch.randn(b, t, 128, generator=g), "visual_2d": torch.randn(b, t, 2048, generator=g),
            "visual_3d": torch.randn(b, t, 512, generator=g),
            "labels": (torch.rand(b, 25, generator=g) < 0.2).float()}


# ----------------------------------------------------------------------------- Eq. 9 / 12
def test_pseudo_labels_are_strictly_above_theta_and_detached():
    p = T([0.5, 0.51, 0.2], requires_grad=True)
    g = pseudo_labels(p, 0.5)
    assert g.tolist() == [0.0, 1.0, 0.0]  # 0.5 is not > 0.5
    assert not g.requires_grad
    with pytest.raises(ValueError, match="theta=1.5"):
        pseudo_labels(p, 1.5)


# ----------------------------------------------------------------------------- Eq. 10-11
def test_event_type_counts_and_weights_by_hand():
    # video 0: class0 audible-only, class1 both, class2 visible-only  -> N^a=1, N^v=1, N^av=1 -> 1/2, 1/2
    # video 1: three audible-only classes, nothing visible            -> N^a=3, N^av=0        -> 1, 0 (0/0)
    # video 2: no event at all                                        -> 0, 0
    # video 3: two audible-visible classes                            -> N^av=2               -> 0, 0
    # video 4: a: {0,1,2}, v: {2,3}: N^a=2, N^v=1, N^av=1              -> 2/3, 1/2
    g_a = T([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.float32)
    g_v = T([[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=torch.float32)
    n_a, n_v, n_av = event_type_counts(g_a, g_v)
    assert n_a.tolist() == [1, 3, 0, 0, 2] and n_v.tolist() == [1, 0, 0, 0, 1] and n_av.tolist() == [1, 0, 0, 2, 1]
    w_a, w_v = event_aware_weights(g_a, g_v)
    assert torch.allclose(w_a, T([0.5, 1.0, 0.0, 0.0, 2 / 3]))
    assert torch.allclose(w_v, T([0.5, 0.0, 0.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="shape"):
        event_type_counts(g_a, g_v[:, :3])


# ----------------------------------------------------------------------------- Eq. 8
def test_segment_nce_by_hand_paper_and_infonce_denominators():
    # T=2 orthonormal tokens, tau=1: sim = I. Paper (n != t): -log(e^1 / e^0) = -1 per segment.
    # InfoNCE (positive in the denominator): log(e + 1) - 1 = 0.31326.
    e = torch.eye(2).unsqueeze(0)
    assert torch.allclose(segment_nce(e, e, tau=1.0), T([-1.0]))
    assert torch.allclose(segment_nce(e, e, tau=1.0, include_positive=True), T([math.log(math.e + 1) - 1]))


def test_segment_nce_three_segments_unnormalised_by_hand():
    # q = [1,0],[0,1],[1,1]; k = [1,0],[0,1],[0,0]; tau = 1 -> sim rows [1,0,0], [0,1,0], [1,1,0]
    # t0: log(e^0 + e^0) - 1 = log2 - 1; t1: the same; t2: log(e^1 + e^1) - 0 = 1 + log2
    # mean = (3 log2 - 1) / 3 = log2 - 1/3 = 0.35981
    q = T([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    k = T([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    assert torch.allclose(segment_nce(q, k, tau=1.0, normalize=False), T([math.log(2) - 1 / 3]))
    # tau scales the similarities: tau = 0.5 doubles them -> t0: log2 - 2, t2: log(2 e^2) = 2 + log2
    assert torch.allclose(segment_nce(q, k, tau=0.5, normalize=False), T([math.log(2) - 2 / 3]))


def test_segment_nce_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(B, T, d\)"):
        segment_nce(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="at least 2 segments"):
        segment_nce(torch.zeros(2, 1, 4), torch.zeros(2, 1, 4))
    with pytest.raises(ValueError, match="tau"):
        segment_nce(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), tau=0.0)


def test_event_aware_contrastive_loss_weights_and_stop_gradient():
    # video 0: orthonormal tokens (paper NCE = -1 per modality); video 1: the same.
    # weights a = [1, 0], v = [0.5, 0.5]: mean over videos of (w_a * -1 + w_v * -1) = ((-1.5) + (-0.5)) / 2 = -1
    anchor = torch.eye(2).expand(2, 2, 2).clone().requires_grad_(True)
    reference = torch.eye(2).expand(2, 2, 2).clone().requires_grad_(True)
    loss = event_aware_contrastive_loss(anchor, anchor, reference, reference, T([1.0, 0.0]), T([0.5, 0.5]), tau=1.0)
    assert torch.allclose(loss, T(-1.0))
    loss2 = event_aware_contrastive_loss(anchor * 2, anchor, reference, reference * 3, T([1.0, 0.0]),
                                         T([0.5, 0.5]), tau=0.3)
    loss2.backward()
    assert anchor.grad is not None and anchor.grad.abs().sum() > 0  # the Anchor is the student
    assert reference.grad is None  # the Reference is the teacher (detached)
    with pytest.raises(ValueError, match="weights"):
        event_aware_contrastive_loss(anchor, anchor, reference, reference, T([1.0]), T([1.0]))


def test_zero_weights_switch_the_contrastive_term_off():
    g = torch.Generator().manual_seed(1)
    a, r = torch.randn(2, 4, 8, generator=g), torch.randn(2, 4, 8, generator=g)
    assert event_aware_contrastive_loss(a, a, r, r, torch.zeros(2), torch.zeros(2)).item() == 0.0


# ----------------------------------------------------------------------------- Table 2's L_BCE
def test_pseudo_label_bce_by_hand():
    # a: BCE(0.5 vs 1) = log 2; v: BCE(0.5 vs 0) = log 2; sum = 2 log 2 = 1.38629
    loss = pseudo_label_bce_loss(T([[0.5]]), T([[0.5]]), T([[1.0]]), T([[0.0]]))
    assert torch.allclose(loss, T(2 * math.log(2)))


# ----------------------------------------------------------------------------- Eq. 12
def test_self_modality_loss_by_hand_and_gradient_reaches_reference_only():
    # audio: Anchor [0.9, 0.4] > 0.5 -> G = [1, 0]; Reference [0.8, 0.2]: mean(-log .8, -log .8) = 0.22314
    # visual: Anchor [0.6, 0.7] -> G = [1, 1]; Reference [0.5, 0.5]: -log .5 = 0.69315; total 0.91629
    ref_a, ref_v = T([[0.8, 0.2]], requires_grad=True), T([[0.5, 0.5]], requires_grad=True)
    anc_a, anc_v = T([[0.9, 0.4]], requires_grad=True), T([[0.6, 0.7]], requires_grad=True)
    loss = self_modality_loss(ref_a, ref_v, anc_a, anc_v, theta=0.5)
    assert torch.allclose(loss, T(-math.log(0.8) - math.log(0.5)))
    loss.backward()
    assert ref_a.grad is not None and anc_a.grad is None and anc_v.grad is None


# ----------------------------------------------------------------------------- Eq. 13
def test_class_correlation_and_co_occurrence_by_hand():
    # Reference audio [0.5, 1.0] -> [[.25, .5], [.5, 1]]; Anchor audio [1, 0] -> [[1, 0], [0, 0]]
    # squared differences .5625, .25, .25, 1 -> MSE 2.0625 / 4 = 0.515625; visual identical -> 0
    ref_a, anc_a = T([[0.5, 1.0]]), T([[1.0, 0.0]], requires_grad=True)
    assert torch.allclose(class_correlation(ref_a), T([[[0.25, 0.5], [0.5, 1.0]]]))
    ref_v = T([[0.3, 0.6]], requires_grad=True)
    anc_v = T([[0.3, 0.6]], requires_grad=True)
    ref_a.requires_grad_(True)
    loss = co_occurrence_loss(ref_a, ref_v, anc_a, anc_v)
    assert torch.allclose(loss, T(0.515625))
    loss.backward()
    assert anc_a.grad is not None and ref_a.grad is None and ref_v.grad is None  # Anchor mimics Reference
    with pytest.raises(ValueError, match=r"\(B, C\)"):
        class_correlation(torch.zeros(2, 3, 4))


# ----------------------------------------------------------------------------- video-level losses
def test_reference_video_loss_by_hand():
    # BCE(0.5, 1) = log 2 for each of P^a, P^v, CLS^a, CLS^v -> 2 log 2 without tokens, 4 log 2 with
    y, half = T([[1.0]]), T([[0.5]])
    assert torch.allclose(reference_video_loss(half, half, y), T(2 * math.log(2)))
    assert torch.allclose(reference_video_loss(half, half, y, half, half), T(4 * math.log(2)))
    with pytest.raises(ValueError, match="both"):
        reference_video_loss(half, half, y, half, None)


def test_anchor_video_loss_modes():
    g = torch.Generator().manual_seed(0)
    video, audio, visual = (torch.rand(4, 25, generator=g) for _ in range(3))
    y = (torch.rand(4, 25, generator=g) < 0.3).float()
    assert torch.allclose(anchor_video_loss(video, audio, visual, y, "han"), mmil_video_loss(video, audio, visual, y))
    # video_only = BCE(Y, P) alone: check one entry by hand on a 1x1 case
    assert torch.allclose(anchor_video_loss(T([[0.25]]), T([[0.9]]), T([[0.9]]), T([[1.0]]), "video_only"),
                          T(-math.log(0.25)))
    with pytest.raises(ValueError, match="video_only"):
        anchor_video_loss(video, audio, visual, y, "nope")


# ----------------------------------------------------------------------------- Reference (Eq. 5-7)
def test_append_class_tokens_eq5():
    f = torch.zeros(2, 3, 4)
    c = torch.arange(8.0).reshape(2, 4)
    x = append_class_tokens(f, c)
    assert x.shape == (2, 5, 4) and torch.equal(x[1, 3:], c) and torch.equal(x[:, :3], f)
    assert append_class_tokens(f, None) is f
    with pytest.raises(ValueError, match="class_tokens"):
        append_class_tokens(f, torch.zeros(2, 5))


def test_temporal_pooling_eq7_and_class_token_head_by_hand():
    # weights softmax([0, ln 3]) = [0.25, 0.75]; 0.25 * 0.2 + 0.75 * 0.8 = 0.65
    p = T([[[0.2], [0.8]]])
    assert torch.allclose(temporal_pooling(p, T([[[0.0], [math.log(3)]]])), T([[0.65]]))
    # tokens averaging to 0 and to ln 3 -> sigmoid: 0.5 and 0.75
    tokens = T([[[1.0, -1.0], [math.log(3) - 1, math.log(3) + 1]]])
    assert torch.allclose(class_token_probabilities(tokens), T([[0.5, 0.75]]))
    with pytest.raises(ValueError, match="same"):
        temporal_pooling(p, torch.zeros(1, 3, 1))


@pytest.mark.parametrize("class_tokens", [True, False])
def test_reference_shapes_and_attention(class_tokens):
    torch.manual_seed(0)
    ref = Reference(class_tokens=class_tokens, **TINY).eval()
    b = _batch()
    out = ref(b["audio"], b["visual_2d"], b["visual_3d"], need_weights=True)
    assert out.audio.shape == out.visual.shape == (3, 25) and out.segment.shape == (3, 10, 2, 25)
    assert out.tokens_a.shape == (3, 10, 16)
    n = 10 + (25 if class_tokens else 0)
    assert out.attention["audio"].shape == (3, n, n)
    assert torch.allclose(out.attention["visual"].sum(-1), torch.ones(3, n), atol=1e-5)
    assert (out.cls_a is None) == (not class_tokens)
    assert ((0 <= out.audio) & (out.audio <= 1)).all()


def test_class_tokens_change_the_segment_outputs():
    torch.manual_seed(0)
    ref = Reference(class_tokens=True, **TINY).eval()
    with torch.no_grad():
        ref.audio_stream.class_tokens.normal_()
    b = _batch()
    with_tokens = ref(b["audio"], b["visual_2d"], b["visual_3d"]).tokens_a
    ref.audio_stream.class_tokens = None
    without = ref(b["audio"], b["visual_2d"], b["visual_3d"]).tokens_a
    assert not torch.allclose(with_tokens, without)  # segments attend to the class tokens (Eq. 6)


# ----------------------------------------------------------------------------- Anchor / wrapper
def test_coleaf_wraps_han_without_changing_it():
    torch.manual_seed(0)
    han = HAN(**TINY).eval()
    model = CoLeaF(han).eval()
    b = _batch()
    with torch.no_grad():
        plain = han(b["audio"], b["visual_2d"], b["visual_3d"])
        pred = model.predict(b["audio"], b["visual_2d"], b["visual_3d"])
        both = model(b["audio"], b["visual_2d"], b["visual_3d"])
        f_a, f_v = han.encode(b["audio"], b["visual_2d"], b["visual_3d"])
        hat_a, _ = han.hybrid_attention(f_a, f_v)
    for x, y in zip(plain, pred):
        assert torch.equal(x, y)
    for x, y in zip(plain, both.anchor):
        assert torch.allclose(x, y, atol=1e-6)
    assert torch.allclose(both.anchor_tokens_a, hat_a, atol=1e-6)
    assert sum(p.numel() for p in model.anchor.parameters()) == sum(p.numel() for p in han.parameters())
    assert model.reference.audio_stream.layer.self_attn.embed_dim == 16  # sizes follow the Anchor


def test_predict_never_runs_the_reference_and_costs_what_han_costs():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    han = HAN(**TINY).eval()
    model = CoLeaF(han).eval()
    calls = []
    model.reference.register_forward_hook(lambda *_: calls.append(1))
    b = _batch()
    with torch.no_grad():
        with FlopCounterMode(display=False) as han_flops:
            han(b["audio"], b["visual_2d"], b["visual_3d"])
        with FlopCounterMode(display=False) as pred_flops:
            model.predict(b["audio"], b["visual_2d"], b["visual_3d"])
        assert calls == []
        with FlopCounterMode(display=False) as train_flops:
            model(b["audio"], b["visual_2d"], b["visual_3d"])
    assert calls == [1]
    assert pred_flops.get_total_flops() == han_flops.get_total_flops() > 0
    assert train_flops.get_total_flops() > han_flops.get_total_flops()


def test_anchor_without_han_interface_is_refused():
    with pytest.raises(TypeError, match="hybrid_attention"):
        CoLeaF(torch.nn.Linear(3, 3))


def test_shared_encoder_reference_uses_anchor_tokens():
    torch.manual_seed(0)
    model = CoLeaF(HAN(**TINY), share_encoder=True)
    assert model.reference.encoder is None
    out = model(**{k: v for k, v in _batch().items() if k != "labels"})
    assert out.reference.tokens_a.shape == (3, 10, 16)


# ----------------------------------------------------------------------------- the method
def _tiny_method(config=CoLeaFConfig(), seed=0):
    torch.manual_seed(seed)
    return CoLeaFMethod(config, anchor=HAN(**TINY))


@pytest.mark.parametrize("name,present,absent", [
    ("full", {"contrastive", "self_modality", "co_occurrence", "theta_a"}, set()),
    ("evt_nce", {"contrastive", "theta_a"}, set()),
    ("evt_bce", {"contrastive"}, {"theta_a"}),
    ("no_evt", {"self_modality"}, {"contrastive"}),
    ("no_self_modality", {"contrastive"}, {"self_modality"}),
    ("no_co_occurrence", {"contrastive"}, {"co_occurrence"}),
    ("no_class_tokens", {"co_occurrence"}, set()),
    ("no_class_tokens_no_co_occurrence", {"contrastive"}, {"co_occurrence"}),
])
def test_each_ablation_switches_its_terms(name, present, absent):
    method = _tiny_method(ablation(name))
    b = _batch()
    terms = method.losses(method(b), b["labels"])
    assert present <= set(terms) and not (absent & set(terms))
    assert (method.model.reference.audio_stream.class_tokens is None) == (not ablation(name).class_tokens)
    if name == "evt_nce":
        assert terms["theta_a"].item() == terms["theta_v"].item() == 1.0
    loss, logs = method.training_loss(b, 0)
    assert torch.isfinite(loss) and "loss" in logs


def test_warmup_keeps_only_video_losses():
    method = _tiny_method(CoLeaFConfig(warmup_epochs=2))
    b = _batch()
    out = method(b)
    assert set(method.losses(out, b["labels"], epoch=1)) == {"video_anchor", "video_reference"}
    assert "contrastive" in method.losses(out, b["labels"], epoch=2)


def _grads(loss, params):
    return [g for g in torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True) if g is not None
            and g.abs().sum() > 0]


def test_stop_gradients_inside_the_full_method():
    method = _tiny_method()
    b = _batch()
    terms = method.losses(method(b), b["labels"])
    anchor = list(method.model.anchor.parameters())
    reference = list(method.model.reference.parameters())
    # L_Evt and L_CoCls teach the Anchor only; L_SelfMo teaches the Reference only
    for name in ("contrastive", "co_occurrence"):
        assert _grads(terms[name], anchor) and not _grads(terms[name], reference), name
    assert _grads(terms["self_modality"], reference) and not _grads(terms["self_modality"], anchor)
    assert not _grads(terms["video_reference"], anchor) and not _grads(terms["video_anchor"], reference)


def test_ablation_registry_covers_every_paper_row():
    from avvp_lib import experiments

    rows, keys = {}, paper_module.coleaf_paper_keys()
    assert set(keys) == set(ABLATIONS)  # every ablation is registered as coleaf/<name>
    for name, row_keys in keys.items():
        for table, _, _ in row_keys:
            rows.setdefault(table, []).append(name)
    assert {k: len(v) for k, v in rows.items()} == {"Table 1": 1, "Table 2": 4, "Table 3": 2, "Table 4": 4,
                                                    "Table 5": 2, "Table 6": 1}
    assert experiments.get("coleaf/evt_weight_1").paper_rows == ()
    paper = paper_module.coleaf_numbers()
    for name, row_keys in keys.items():  # every paper row we claim to reproduce is in the transcription
        for table, method, setting in row_keys:
            hit = paper[(paper["table"] == table) & (paper["method"] == method) & (paper["setting"] == setting)]
            assert len(hit) >= 6 if table != "Table 1" else len(hit) == 12, (name, table, setting)
    assert ablation("no_class_tokens") == CoLeaFConfig(class_tokens=False)
    assert ablation("han") is None
    with pytest.raises(KeyError, match="no_class_tokens"):
        ablation("no_tokens")
    with pytest.raises(ValueError, match="contrastive"):
        CoLeaFConfig(contrastive="infonce")


def test_build_method_is_seeded():
    a, b = build_method("full", seed=3, profile="quick"), build_method("full", seed=3, profile="quick")
    c = build_method("full", seed=4, profile="quick")
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert type(build_method("han", profile="quick")).__name__ == "HANMethod"


def test_train_config_profiles():
    full = coleaf_method.train_config("full", seed=1)
    assert (full.epochs, full.batch_size, full.lr, full.step_size, full.gamma) == (15, 128, 5e-4, 6, 0.25)
    with pytest.raises(ValueError, match="profile"):
        coleaf_method.train_config("medium")


# ----------------------------------------------------------------------------- Table 1 rates
def test_event_type_rates_by_hand():
    # one video, one class, four segments
    # gt a  = 1 1 0 0, gt v  = 0 1 1 0 -> Ao_gt = 1 0 0 0, Vo_gt = 0 0 1 0, AV_gt = 0 1 0 0
    # pred a = 1 1 1 0, pred v = 1 1 0 0 -> Ao_p = 0 0 1 0, Vo_p = 0 0 0 0, AV_p = 1 1 0 0
    # Ao: TP 0 FN 1 FP 1 TN 2 -> TP 0, FN 100, FP 33.3, TN 66.7
    # Vo: TP 0 FN 1 FP 0 TN 3 -> TP 0, FN 100, FP 0, TN 100
    # AV: TP 1 FN 0 FP 1 TN 2 -> TP 100, FN 0, FP 33.3, TN 66.7
    col = lambda xs: T(xs).reshape(1, 4, 1)  # noqa: E731
    rates = event_type_rates(col([1, 1, 1, 0]), col([1, 1, 0, 0]), col([1, 1, 0, 0]), col([0, 1, 1, 0]))
    expected = pd.DataFrame({"Ao": [0.0, 200 / 3, 100 / 3, 100.0], "Vo": [0.0, 100.0, 0.0, 100.0],
                             "AV": [100.0, 200 / 3, 100 / 3, 0.0]}, index=["TP", "TN", "FP", "FN"])
    pd.testing.assert_frame_equal(rates, expected)


def test_event_type_rates_errors_and_empty_types():
    z = torch.zeros(2, 3, 4)
    rates = event_type_rates(z, z, z, z)
    assert rates.loc["TN"].tolist() == [100.0, 100.0, 100.0] and rates.loc["TP"].isna().all()
    with pytest.raises(ValueError, match="gt_v has shape"):
        event_type_rates(z, z, z, torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="binary"):
        event_type_rates(z + 0.5, z, z, z)


def _saved_runs(folder, outcomes, seeds=(0, 1)):
    """Results rows + saved predictions of ``{variant: predict(gt_a, gt_v, rng) -> (pred_a, pred_v)}``."""
    import numpy as np

    from avvp_lib.predictions import prediction_path, save_predictions
    from avvp_lib.metrics import evaluate

    rng = np.random.default_rng(0)
    gt_a = (rng.random((30, 10, 25)) < 0.2).astype(np.int64)
    gt_v = (rng.random((30, 10, 25)) < 0.2).astype(np.int64)
    rows = []
    for variant, predict in outcomes.items():
        for seed in seeds:
            pa, pv = predict(gt_a, gt_v, rng)
            name = f"coleaf/{variant}"
            save_predictions(prediction_path(name, "quick", "fp", seed, folder), pa, pv, gt_a, gt_v,
                             [f"v{i}" for i in range(30)], {"config_hash": "h"})
            rows.append({"name": name, "variant": variant, "seed": seed, "profile": "quick", "data_fingerprint": "fp",
                         "config_hash": "h", **evaluate(pa, pv, gt_a, gt_v)})
    return pd.DataFrame(rows)


def test_component_effects_use_the_interval_rule_against_the_paper(tmp_path):
    # full predicts the truth, no_evt nothing: Ao differs by a lot on every video -> the interval excludes 0;
    # paper Table 2: L_Evt 49.3 - "-" 47.3 = +2.0 -> "agrees"
    metrics = ("segment/Ao",)
    exact = lambda ga, gv, rng: (ga, gv)  # noqa: E731
    silent = lambda ga, gv, rng: (0 * ga, 0 * gv)  # noqa: E731
    results = _saved_runs(tmp_path, {"full": exact, "no_evt": silent})
    eff = paper_module.component_effects(results, metrics, n_boot=300, folder=tmp_path).set_index(("component", ""))
    row = eff.loc["L_Evt vs no contrastive term (Table 2)"]
    diff = results[results.variant == "full"]["segment/Ao"].mean() - results[results.variant == "no_evt"]["segment/Ao"].mean()
    assert row[("segment/Ao", "ours")].startswith(f"{diff:+.1f} [") and row[("segment/Ao", "paper")] == 2.0
    assert row[("segment/Ao", "verdict")] == "agrees" and row[("seeds", "")] == "2"
    assert eff.loc["L_SelfMo (Table 3)", ("segment/Ao", "ours")] == "-"  # variant missing: no number
    # the same predictions on both sides: no direction can be claimed
    same = _saved_runs(tmp_path / "same", {"full": exact, "no_evt": exact})
    row = paper_module.component_effects(same, metrics, n_boot=300, folder=tmp_path / "same").iloc[0]
    assert row[("segment/Ao", "verdict")] == "inconclusive"
    results = pd.DataFrame({"variant": ["full", "full", "no_evt", "no_evt"], "seed": [0, 1, 1, 0],
                            "segment/Ao": [50.0, 52.0, 48.0, 47.0]})
    table = paper_module.compare_with_paper(results, "Table 2", metrics).set_index(("variant", ""))
    assert table.loc["full", ("segment/Ao", "paper")] == 49.3
    assert table.loc["full", ("segment/Ao", "ours")] == "51.0 ± 1.4"  # mean 51, std sqrt(2) = 1.414


def test_class_to_segment_attention_by_hand():
    from avvp_lib.models.coleaf import class_to_segment_attention

    # T = 2 segments, C = 1 class token: its row [0.2, 0.6, 0.2] -> segments [0.2, 0.6] -> renormalised [0.25, 0.75]
    att = T([[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.2, 0.6, 0.2]]])
    assert torch.allclose(class_to_segment_attention(att, 2), T([[[0.25, 0.75]]]))
    with pytest.raises(ValueError, match="T=3"):
        class_to_segment_attention(att, 3)
