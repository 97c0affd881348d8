"""LINK (models/link.py, losses/link.py, methods/link.py) and VALOR pseudo-labels (models/valor.py).

Every equation is checked on a tiny tensor whose expected value is worked out by hand in a comment.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from avvp_lib.losses.link import (avss_loss, avss_weight, event_iou, label_loss, segment_cosine,
                                  segment_pseudo_label_loss, valor_loss, video_loss, video_pseudo_labels)
from avvp_lib.methods.link import ABLATIONS, THRESHOLD_KEYS, LinkMethod, spec_for, train_config
from avvp_lib.models.link import (CMIM, PLSIM, TSAM, LinkNet, LinkNetConfig, cross_modal_interaction, film_fusion,
                                  pseudo_label_semantics, spatial_attention, temporal_attention)
from avvp_lib.models.valor import calibrate_thresholds, segment_f1, segment_pseudo_labels, zero_shot_similarity

E = math.e


def sig(x):
    return 1 / (1 + math.exp(-x))


# ------------------------------------------------------------------------------ lambda(s), Eq. 11
@pytest.mark.parametrize("s, mu, expected", [
    (-1.0, 0.0, 1.0),  # s <= -0.2: 1
    (-0.2, 0.0, 1.0),  # the breakpoint itself belongs to the first case
    (-0.1, 0.0, E),  # -0.2 < s < 0: e^{|1-0|} = e
    (-0.1999, 0.0, E),
    (0.0, 0.0, E),  # s >= 0 at 0: e + (1-e)*0 = e
    (0.5, 0.0, (E + 1) / 2),  # e + (1-e)/2 = (e+1)/2
    (1.0, 0.0, 1.0),  # e + (1-e) = 1
    (-0.1, 3.0, math.exp(2.0)),  # |1-3| = 2
    (0.25, 1.0, 1.0),  # mu = 1: e^0 = 1 everywhere
])
def test_avss_weight_matches_eq11(s, mu, expected):
    got = avss_weight(torch.tensor([s]), torch.tensor(mu))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_avss_weight_gradient_reaches_mu_not_s():
    s = torch.tensor([-0.1, 0.5], requires_grad=True)
    mu = torch.tensor(0.0, requires_grad=True)
    avss_weight(s, mu).sum().backward()
    # d/dmu [e^{|1-mu|} + e^{|1-mu|} + (1 - e^{|1-mu|}) 0.5] at mu=0 = -(e) - 0.5 e = -1.5 e
    assert mu.grad.item() == pytest.approx(-1.5 * E, rel=1e-6)
    assert s.grad is None or torch.all(s.grad == 0)


def test_avss_loss_weighted_and_plain():
    s = torch.tensor([[[-0.1, 0.5]]])
    r = torch.tensor([[[0.0, 1.0]]])
    # squared errors 0.01 and 0.25; plain mean 0.13; weights e and (e+1)/2 -> (0.01e + 0.125(e+1)) / 2
    assert avss_loss(s, r).item() == pytest.approx(0.13)
    assert avss_loss(s, r, 0.0).item() == pytest.approx((0.01 * E + 0.125 * (E + 1)) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        avss_loss(s, r[..., :1])


def test_event_iou_and_cosine_hand_case():
    # audio segment 0 has {0,1}, segment 1 nothing; visual segment 0 has {1}, segment 1 has {1,2}
    pa = torch.tensor([[[1.0, 1, 0], [0, 0, 0]]])
    pv = torch.tensor([[[0.0, 1, 0], [0, 1, 1]]])
    # pairs (a0,v0): |{1}|/|{0,1}| = 1/2; (a0,v1): |{1}|/|{0,1,2}| = 1/3; a1 is empty -> 0
    assert torch.allclose(event_iou(pa, pv), torch.tensor([[[0.5, 1 / 3], [0.0, 0.0]]]))
    fa = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])
    fv = torch.tensor([[[3.0, 0.0], [1.0, 1.0]]])
    # cos(a0,v0)=1, cos(a0,v1)=1/sqrt2, cos(a1,v0)=0, cos(a1,v1)=1/sqrt2
    r2 = 1 / math.sqrt(2)
    assert torch.allclose(segment_cosine(fa, fv), torch.tensor([[[1.0, r2], [0.0, r2]]]))


# ------------------------------------------------------------------------------ Eq. 7-10 losses
def test_segment_pseudo_label_loss_sum_over_t():
    logits = torch.zeros(1, 2, 1)  # p = 0.5 everywhere: BCE = ln 2 per entry
    target = torch.tensor([[[1.0], [0.0]]])
    assert segment_pseudo_label_loss(logits, target).item() == pytest.approx(2 * math.log(2))  # sum over T=2
    assert segment_pseudo_label_loss(logits, target, "mean").item() == pytest.approx(math.log(2))  # VALOR code
    with pytest.raises(ValueError, match="reduction"):
        segment_pseudo_label_loss(logits, target, "sum")
    with pytest.raises(ValueError, match="same"):
        segment_pseudo_label_loss(logits, target[:, :1])


def test_valor_loss_is_sum_of_three_terms():
    video = torch.tensor([[0.5]])
    logits = torch.zeros(1, 2, 2, 1)
    total, parts = valor_loss(video, logits, torch.tensor([[1.0]]), torch.ones(1, 2, 1), torch.zeros(1, 2, 1))
    # ln2 (video) + 2 ln2 (audio, T=2) + 2 ln2 (visual) = 5 ln 2
    assert total.item() == pytest.approx(5 * math.log(2))
    assert parts["video"].item() == pytest.approx(math.log(2))


def test_label_loss_uses_video_level_pseudo_labels():
    pa = torch.tensor([[[0.0, 1.0], [0.0, 0.0]]])  # class 1 in segment 0 -> Y^a = [0, 1]
    pv = torch.zeros(1, 2, 2)  # Y^v = [0, 0]
    assert torch.equal(video_pseudo_labels(pa), torch.tensor([[0.0, 1.0]]))
    pa_prob = torch.tensor([[0.5, 0.5]])
    pv_prob = torch.tensor([[0.5, 0.5]])
    # each BCE averages ln2 over two classes -> ln2 + ln2
    assert label_loss(pa_prob, pv_prob, pa, pv).item() == pytest.approx(2 * math.log(2), rel=1e-5)
    # a perfect audio prediction [0,1] removes the audio term (up to the 1e-7 clamp)
    assert label_loss(torch.tensor([[0.0, 1.0]]), pv_prob, pa, pv).item() == pytest.approx(math.log(2), abs=1e-5)
    assert video_loss(torch.tensor([[0.5]]), torch.tensor([[1.0]])).item() == pytest.approx(math.log(2))


# ------------------------------------------------------------------------------------ TSAM, Eq. 1-3
def _identity_mlp(t):
    mlp = nn.Sequential(nn.Linear(t, t), nn.ReLU(), nn.Linear(t, t))
    with torch.no_grad():
        for layer in (mlp[0], mlp[2]):
            layer.weight.copy_(torch.eye(t))
            layer.bias.zero_()
    return mlp


def test_temporal_attention_hand_case():
    f = torch.tensor([[[1.0, 3.0], [-2.0, 0.0]]])  # T=2, D=2
    # avg over D: [2, -1]; max over D: [3, 0]; identity MLP with ReLU: [2, 0] + [3, 0] = [5, 0]
    w = temporal_attention(f, _identity_mlp(2))
    assert w.shape == (1, 2, 1)
    assert torch.allclose(w.squeeze(), torch.tensor([sig(5.0), 0.5]))


def test_spatial_attention_hand_case():
    g = torch.tensor([[[1.0, 3.0], [-2.0, 0.0]]])
    conv = nn.Conv1d(2, 1, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[1.0], [1.0]]]))  # avg + max
        conv.bias.zero_()
    # avg over T: [-0.5, 1.5]; max over T: [1, 3]; sum: [0.5, 4.5]
    s = spatial_attention(g, conv)
    assert s.shape == (1, 1, 2)
    assert torch.allclose(s.squeeze(), torch.tensor([sig(0.5), sig(4.5)]))


def test_tsam_eq3_hand_case_uses_own_modality():
    tsam = TSAM(num_segments=2, hidden=2, kernel_size=1)
    tsam.mlp = _identity_mlp(2)
    with torch.no_grad():
        tsam.conv.weight.copy_(torch.tensor([[[1.0], [1.0]]]))
        tsam.conv.bias.zero_()
    f = torch.tensor([[[1.0, 3.0], [-2.0, 0.0]]])
    out, w, s = tsam(f, return_weights=True)
    # g = W * f = [[s5, 3 s5], [-1, 0]] with s5 = sigmoid(5); S from avg/max over T of g:
    s5 = sig(5.0)
    g = torch.tensor([[s5, 3 * s5], [-1.0, 0.0]])
    avg, mx = g.mean(0), g.max(0).values
    expected = torch.sigmoid(avg + mx) * g  # S (x) (W (x) f^m): f^m, not the printed f^a
    assert torch.allclose(out[0], expected, atol=1e-6)
    assert torch.allclose(w[0], torch.tensor([s5, 0.5]))


def test_tsam_shapes_and_errors():
    tsam = TSAM(num_segments=10)
    out, w, s = tsam(torch.randn(3, 10, 16), return_weights=True)
    assert out.shape == (3, 10, 16) and w.shape == (3, 10) and s.shape == (3, 16)
    with pytest.raises(ValueError, match="T=10"):
        tsam(torch.randn(3, 8, 16))
    with pytest.raises(ValueError, match="odd"):
        TSAM(kernel_size=4)


def test_linknet_visual_tsam_does_not_read_audio():
    """Eq. 3 with f^m: the visual TSAM output is unchanged when only the audio features change."""
    torch.manual_seed(0)
    net = LinkNet(LinkNetConfig(tsam=True, d_model=8, nhead=2, ffn_dim=8, num_layers=1)).eval()
    a1, a2, v = torch.randn(2, 10, 512), torch.randn(2, 10, 512), torch.randn(2, 10, 768)
    fa1, fv1 = net.encode(a1, v)
    fa2, fv2 = net.encode(a2, v)
    assert torch.equal(net.tsam_v(fv1), net.tsam_v(fv2))
    assert not torch.allclose(net.tsam_a(fa1), net.tsam_a(fa2))


# ------------------------------------------------------------------------------------ CMIM, Eq. 4-6
def test_cmim_hand_case():
    fa = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    fv = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])
    alpha = torch.tensor([1.0, 0.5])  # (alpha_1, alpha_2)
    beta = torch.tensor([2.0, 1.0])  # (beta_1, beta_2)
    out_a, out_v = cross_modal_interaction(fa, fv, alpha, beta)
    # audio: logits fa fv^T = [[0, 2], [0, 0]]; softmax rows: [1/(1+e^2), e^2/(1+e^2)], [.5, .5]
    # attended visual (beta_2 = 1): row0 = p*[2,0] with p = e^2/(1+e^2); row1 = [1, 0]
    p = math.exp(2) / (1 + math.exp(2))
    f_ac = fa + 0.5 * torch.tensor([[[2 * p, 0.0], [1.0, 0.0]]])
    assert torch.allclose(out_a, fa + f_ac)  # Eq. 6: f^aout = f^a + f^ac
    # visual: logits fv fa^T = [[0, 0], [2, 0]]; row0 [.5,.5], row1 [p, 1-p]; beta_1 fa = [[2,0],[0,0]]
    f_vc = fv + 1.0 * torch.tensor([[[1.0, 0.0], [2 * p, 0.0]]])
    assert torch.allclose(out_v, fv + f_vc)


def test_cmim_module_parameters_and_shapes():
    cmim = CMIM()
    assert sum(p.numel() for p in cmim.parameters()) == 4  # alpha_1, alpha_2, beta_1, beta_2
    a, v = cmim(torch.randn(2, 10, 6), torch.randn(2, 10, 6))
    assert a.shape == v.shape == (2, 10, 6)
    with pytest.raises(ValueError, match="same shape"):
        cmim(torch.randn(2, 10, 6), torch.randn(2, 10, 5))


# ----------------------------------------------------------------------------------- PLSIM, Eq. 13-17
def test_pseudo_label_semantics_hand_case():
    prompts = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    pl = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    # segment 0: mean([1,0],[0,1]) = [.5,.5]; segment 1: no class -> 0; segment 2: [1,1]
    assert torch.allclose(pseudo_label_semantics(pl, prompts), torch.tensor([[[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]]]))
    with pytest.raises(ValueError, match="classes"):
        pseudo_label_semantics(pl[..., :2], prompts)


def test_film_fusion_hand_case():
    f = torch.tensor([2.0, -1.0])
    # 2*3 + 1 + 2 = 9; -1*0 + 0.5 - 1 = -0.5
    assert torch.allclose(film_fusion(f, torch.tensor([3.0, 0.0]), torch.tensor([1.0, 0.5])), torch.tensor([9.0, -0.5]))


def test_plsim_shapes_and_zero_mlps_are_identity():
    plsim = PLSIM(d_model=6, audio_text_dim=4, visual_text_dim=5)
    assert len([m for m in plsim.children()]) == 4  # Delta^1..4
    fa, fv = torch.randn(2, 10, 6), torch.randn(2, 10, 6)
    out_a, out_v = plsim(fa, fv, torch.randn(2, 10, 4), torch.randn(2, 10, 5))
    assert out_a.shape == out_v.shape == (2, 10, 6)
    for mlp in plsim.children():  # zero last layer: gamma = 0 -> F = f
        nn.init.zeros_(mlp[2].weight)
        nn.init.zeros_(mlp[2].bias)
    out_a, out_v = plsim(fa, fv, torch.randn(2, 10, 4), torch.randn(2, 10, 5))
    assert torch.equal(out_a, fa) and torch.equal(out_v, fv)


# ------------------------------------------------------------------------------- VALOR pseudo-labels
def test_valor_pseudo_labels_threshold_and_mask():
    seg = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])  # (1, T=2, D=2), unit rows
    prompts = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # normalised inside: e0, e1
    sim = zero_shot_similarity(seg, prompts)
    assert torch.allclose(sim, torch.tensor([[[1.0, 0.0], [0.6, 0.8]]]))
    thr = torch.tensor([0.7, 0.5])
    # > threshold: [[1,0],[0,1]]; the video label [1,0] masks class 1
    assert torch.equal(segment_pseudo_labels(sim, thr), torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]))
    assert torch.equal(segment_pseudo_labels(sim, thr, torch.tensor([[1.0, 0.0]])), torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]))
    with pytest.raises(ValueError, match="one per class"):
        segment_pseudo_labels(sim, torch.tensor([0.5]))


def test_calibrate_thresholds_picks_best_f1():
    sim = torch.tensor([[[0.05], [0.15], [0.25]]])
    gt = torch.tensor([[[0.0], [1.0], [1.0]]])
    # thresholds < 0.05 mark all three (F1 0.8); 0.05..0.14 mark the two true ones (F1 1); >=0.25 none
    assert calibrate_thresholds(sim, gt, grid=(0.0, 0.1, 0.2, 0.3)).item() == pytest.approx(0.1)


# --------------------------------------------------------------------------------------- the method
def _tiny_batch(b=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    clap = torch.nn.functional.normalize(torch.randn(b, 10, 512, generator=g), dim=-1)
    clip = torch.nn.functional.normalize(torch.randn(b, 10, 768, generator=g), dim=-1)
    labels = (torch.rand(b, 25, generator=g) < 0.2).float()
    standard = {"audio": torch.randn(b, 10, 128, generator=g), "visual_2d": torch.randn(b, 10, 2048, generator=g)}
    return {"clap": clap, "clip": clip, "visual_3d": torch.randn(b, 10, 512, generator=g), "labels": labels, **standard}


def _tiny_method(variant, seed=0, features="clip_clap"):
    g = torch.Generator().manual_seed(1)
    prompts = {"clap_text": torch.randn(25, 512, generator=g), "clip_text": torch.randn(25, 768, generator=g)}
    thresholds = {k: torch.full((25,), 0.02) for k in THRESHOLD_KEYS}
    torch.manual_seed(seed)
    return LinkMethod(spec_for(variant, "quick", features, d_model=16, nhead=2, ffn_dim=16, num_layers=1), prompts,
                      thresholds)


def test_feature_sets_feed_the_network_while_pseudo_labels_stay_clip_clap():
    """standard: the net reads VGGish / ResNet / R(2+1)D; clip_clap: CLAP / CLIP / R(2+1)D. The pseudo-labels
    (and so the loss targets) come from CLAP/CLIP in both."""
    batch = _tiny_batch()
    for features, own, other in (("standard", "audio", "clap"), ("clip_clap", "clap", "audio")):
        method = _tiny_method("P", features=features).eval()
        base = method.predict(batch).video
        moved_own = method.predict({**batch, own: batch[own] + 1.0}).video
        moved_other = method.predict({**batch, other: batch[other] + 1.0}).video if other == "audio" else None
        assert not torch.allclose(base, moved_own)
        if moved_other is not None:
            assert torch.equal(base, moved_other)  # clip_clap never reads VGGish
        assert not torch.equal(base, method.predict({**batch, "visual_3d": batch["visual_3d"] * 2}).video)
        pl = method.pseudo_labels(batch, masked=True)
        assert torch.equal(pl[0], method.pseudo_labels({**batch, "audio": batch["audio"] * 0}, masked=True)[0])
    assert spec_for("baseline", "quick", "standard").net.audio_dim == 128
    assert spec_for("baseline", "quick", "standard").net.audio_text_dim == 512
    with pytest.raises(ValueError, match="unknown feature set"):
        spec_for("baseline", "quick", "vggish")


@pytest.mark.parametrize("features", ["clip_clap", "standard"])
@pytest.mark.parametrize("variant", list(ABLATIONS))
def test_every_table2_row_trains_one_step(variant, features):
    method = _tiny_method(variant, features=features)
    batch = _tiny_batch()
    loss, logs = method.training_loss(batch, 0)
    loss.backward()
    assert torch.isfinite(loss)
    assert ("loss_avss" in logs) == ("S" in variant.split("+"))
    out = method.predict(batch)
    assert out.segment.shape == (3, 10, 2, 25) and out.video.shape == (3, 25)
    assert (method.net.cmim is not None) == ("T" in variant.split("+"))
    assert (method.net.plsim is not None) == ("P" in variant.split("+"))


def test_method_is_deterministic_and_rejects_bad_thresholds():
    b = _tiny_batch()
    l1, _ = _tiny_method("T+S+P", seed=3).training_loss(b, 0)
    l2, _ = _tiny_method("T+S+P", seed=3).training_loss(b, 0)
    assert l1.item() == l2.item()
    prompts = {"clap_text": torch.randn(25, 512), "clip_text": torch.randn(25, 768)}
    with pytest.raises(ValueError, match="thresholds"):
        LinkMethod(spec_for("baseline"), prompts, {"audio": torch.zeros(25)})
    with pytest.raises(ValueError, match="unknown LINK variant"):
        spec_for("T+Q")


def test_linknet_input_errors_and_placement():
    net = LinkNet(LinkNetConfig(d_model=8, nhead=2, ffn_dim=8, num_layers=1))
    with pytest.raises(ValueError, match="audio must be"):
        net(torch.randn(2, 10, 128), torch.randn(2, 10, 768))
    with pytest.raises(ValueError, match="placement"):
        LinkNet(LinkNetConfig(placement="middle"))
    after = LinkNet(LinkNetConfig(tsam=True, cmim=True, d_model=8, nhead=2, ffn_dim=8, num_layers=1, placement="after_han"))
    assert after(torch.randn(2, 10, 512), torch.randn(2, 10, 768)).mmil.segment.shape == (2, 10, 2, 25)


def test_train_config_profiles():
    assert train_config("full").epochs == 60 and train_config("full").batch_size == 64
    assert train_config("quick", seed=4).seed == 4
    with pytest.raises(ValueError, match="profile"):
        train_config("medium")


def test_segment_f1_hand_case():
    pred = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    gt = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    # tp=1, fp=1, fn=1 -> 2/(2+1+1) = 50 %
    assert segment_f1(pred, gt) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="differ"):
        segment_f1(pred, gt[:, :2])


def test_diagnostic_variants_split_t_into_its_modules():
    from avvp_lib.methods.link import DIAGNOSTIC_VARIANTS

    tsam_only, cmim_only = _tiny_method("TSAM-only"), _tiny_method("CMIM-only")
    assert tsam_only.net.tsam_a is not None and tsam_only.net.cmim is None
    assert cmim_only.net.cmim is not None and cmim_only.net.tsam_a is None
    assert set(DIAGNOSTIC_VARIANTS).isdisjoint(ABLATIONS)


def test_spec_overrides_reach_spec_and_net():
    spec = spec_for("S", "quick", segment_reduction="mean", placement="after_han")
    assert spec.segment_reduction == "mean" and spec.net.placement == "after_han" and spec.s_loss
    assert spec_for("baseline", "full").net.num_layers == 4  # VALOR++'s size
