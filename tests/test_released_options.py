"""Options that express the baselines as their authors released them (VALOR, UWAV, CoLeaF).

Each option is left out of its provenance dict at its default value, so every registered configuration keeps its
hash: the first test pins the hashes recorded before the options existed; then one test per object pins the old key
set, and one test per option checks a hand-worked expectation on tiny tensors.
"""
from __future__ import annotations

import math
import types

import pytest
import torch

import avvp_lib  # noqa: F401  (before torch's kernels are used: numerics.pin)
from avvp_lib.experiments.adapters import LINK_ADAPTER, UWAV_ADAPTER
from avvp_lib.experiments.registry import Experiment
from avvp_lib.experiments.roots import STANDARD
from avvp_lib.metrics import inference_rule
from avvp_lib.models.han import HAN, MMILOutput
from avvp_lib.train import TrainConfig, build_optimizer, build_scheduler, method_predictions

# ---------------------------------------------------------------------------------- hashes
#: config_hash(describe(name, profile)["configuration"]), recorded on the commit before these options (d983bec)
#: before the options existed (``valor/main``'s old configuration is ``valor+/main`` now; ``uwav/uwav`` on the full
#: profile now builds the released stage-2 HAN, so only its quick hash is pinned)
HASHES_BEFORE = {
    ("han/main", "quick"): "0bb27d96f2", ("han/main", "full"): "1571296b1b",
    ("coleaf/full", "quick"): "9b90d935d4", ("coleaf/full", "full"): "9e6e594be5",
    ("valor+/main", "quick"): "5d0fb831d3", ("valor+/main", "full"): "493d931da5",
    ("link/T+S+P", "quick"): "bf52e204de", ("link/T+S+P", "full"): "a4a503eb75",
    ("uwav/uwav", "quick"): "7d25550549",
}


@pytest.mark.parametrize("name, profile", sorted(HASHES_BEFORE))
def test_registered_configurations_keep_their_hash(name, profile):
    from avvp_lib.experiments.runner import describe
    from avvp_lib.results import config_hash

    assert config_hash(describe(name, profile)["configuration"]) == HASHES_BEFORE[name, profile]


# ---------------------------------------------------------------------------- 1. TrainConfig
OLD_TRAIN_KEYS = ["epochs", "batch_size", "lr", "optimizer", "weight_decay", "scheduler", "step_size", "gamma",
                  "warmup_epochs", "select_metric", "seed", "device", "grad_clip", "eval_batch_size"]


def test_train_config_dict_is_the_old_one_at_the_defaults():
    assert list(TrainConfig().to_dict()) == OLD_TRAIN_KEYS
    assert list(TrainConfig(beta1=0.9, min_lr=0.0).to_dict()) == OLD_TRAIN_KEYS
    d = TrainConfig(beta1=0.5, min_lr=1e-6).to_dict()
    assert d["beta1"] == 0.5 and d["min_lr"] == 1e-6 and list(d)[:len(OLD_TRAIN_KEYS)] == OLD_TRAIN_KEYS


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_beta1_reaches_the_optimiser(optimizer):
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert build_optimizer(p, TrainConfig(optimizer=optimizer)).param_groups[0]["betas"] == (0.9, 0.999)
    assert build_optimizer(p, TrainConfig(optimizer=optimizer, beta1=0.5)).param_groups[0]["betas"] == (0.5, 0.999)


def _lrs(config: TrainConfig, steps_per_epoch: int) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = build_optimizer([p], config)
    sched, per_step = build_scheduler(opt, config, steps_per_epoch)
    assert per_step
    out = []
    for _ in range(config.epochs * steps_per_epoch):
        out.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return out


def test_default_cosine_schedule_is_the_old_one():
    """5 epochs x 4 steps, 1 warm-up epoch (4 steps), lr 1: warm-up 1/4 .. 4/4, then 0.5 (1 + cos(pi (s - 3) / 16))."""
    lrs = _lrs(TrainConfig(epochs=5, lr=1.0, scheduler="cosine", warmup_epochs=1), 4)
    old = [(s + 1) / 4 if s < 4 else 0.5 * (1.0 + math.cos(math.pi * min(1.0, (s - 3) / 16))) for s in range(20)]
    assert lrs == old  # bit for bit: the default path is the old expression
    # hand values: warm-up, p = 1/4 at step 7, p = 1/2 at step 11, p = 1 at step 19
    assert lrs[:4] == [0.25, 0.5, 0.75, 1.0]
    assert lrs[7] == pytest.approx(0.5 * (1 + math.sqrt(0.5)))  # 0.853553...
    assert lrs[11] == pytest.approx(0.5)
    assert lrs[19] == pytest.approx(0.0, abs=1e-12)


def test_min_lr_is_the_cosine_floor():
    """VALOR: 1e-4 -> 1e-6. Halfway: 1e-6 + (1e-4 - 1e-6) / 2 = 5.05e-5; at the end 1e-6."""
    lrs = _lrs(TrainConfig(epochs=5, lr=1e-4, min_lr=1e-6, scheduler="cosine", warmup_epochs=1), 4)
    assert lrs[:4] == pytest.approx([2.5e-5, 5e-5, 7.5e-5, 1e-4])  # warm-up unchanged
    assert lrs[11] == pytest.approx(5.05e-5)
    assert lrs[19] == pytest.approx(1e-6)
    assert min(lrs[4:]) == pytest.approx(1e-6)


# -------------------------------------------------------------------- 2. LinkNet update order
OLD_NET_KEYS = ["tsam", "cmim", "plsim", "num_classes", "num_segments", "audio_dim", "visual_dim", "visual_3d_dim",
                "audio_text_dim", "visual_text_dim", "d_model", "nhead", "ffn_dim", "num_layers", "dropout",
                "tsam_hidden", "tsam_kernel", "cmim_init", "cmim_scaled", "placement"]
OLD_SPEC_KEYS = ["net", "features", "s_loss", "segment_reduction", "mu_init", "mu_trainable"]


def test_link_dicts_are_the_old_ones_at_the_defaults():
    from avvp_lib.methods.link import spec_for
    from avvp_lib.models.link import LinkNetConfig

    assert list(LinkNetConfig().to_dict()) == OLD_NET_KEYS
    assert LinkNetConfig(update_order="sequential").to_dict()["update_order"] == "sequential"
    spec = spec_for("baseline", "quick", "standard")
    assert list(spec.to_dict()) == OLD_SPEC_KEYS and list(spec.to_dict()["net"]) == OLD_NET_KEYS


def _tiny_nets(num_layers=1):
    from avvp_lib.models.link import LinkNet, LinkNetConfig

    kw = dict(d_model=8, nhead=2, ffn_dim=8, num_layers=num_layers, audio_dim=4, visual_dim=6)
    torch.manual_seed(0)
    parallel = LinkNet(LinkNetConfig(**kw)).eval()
    sequential = LinkNet(LinkNetConfig(**kw, update_order="sequential")).eval()
    sequential.load_state_dict(parallel.state_dict())  # same weights: only the order differs
    g = torch.Generator().manual_seed(1)
    return parallel, sequential, torch.randn(2, 10, 8, generator=g), torch.randn(2, 10, 8, generator=g)


def test_sequential_update_is_valors():
    """VALOR's Encoder: a' = layer(a, v), then v' = layer(v, a') - visual attends to the updated audio."""
    parallel, sequential, f_a, f_v = _tiny_nets()
    layer = sequential.layers[0]
    with torch.no_grad():
        a_seq, v_seq = sequential.han_layers(f_a, f_v)
        a_par, v_par = parallel.han_layers(f_a, f_v)
        a1 = layer(f_a, f_v)[0]
        assert torch.allclose(a_seq, a1, atol=1e-6)
        assert torch.allclose(v_seq, layer(f_v, a1)[0], atol=1e-6)
        # parallel (HAN): both from the un-updated inputs; same audio, another visual
        assert torch.allclose(a_par, a1, atol=1e-6)
        assert torch.allclose(v_par, layer(f_v, f_a)[0], atol=1e-6)
        assert not torch.allclose(v_par, v_seq, atol=1e-3)


def test_sequential_update_chains_layers():
    parallel, sequential, f_a, f_v = _tiny_nets(num_layers=2)
    with torch.no_grad():
        a, v = f_a, f_v
        for layer in sequential.layers:
            a = layer(a, v)[0]
            v = layer(v, a)[0]
        got = sequential.han_layers(f_a, f_v)
    assert torch.allclose(got[0], a, atol=1e-6) and torch.allclose(got[1], v, atol=1e-6)
    with pytest.raises(ValueError, match="update_order"):
        from avvp_lib.models.link import LinkNet, LinkNetConfig
        LinkNet(LinkNetConfig(update_order="audio_first"))


# ------------------------------------------------------------------- 3. segment loss reduction
def test_segment_reduction_mean_is_one_over_t_of_sum_t():
    """B = 1, T = 2, C = 1, targets 1: BCE(logit 0) = ln 2, BCE(logit ln 3) = ln(4/3);
    sum_t = ln 2 + ln 4/3 = ln 8/3, mean = ln(8/3) / 2 (per modality; the video term is the same)."""
    from avvp_lib.losses.link import valor_loss

    logits = torch.tensor([0.0, math.log(3.0)]).reshape(1, 2, 1, 1).expand(1, 2, 2, 1)
    pl = torch.ones(1, 2, 1)
    video, labels = torch.tensor([[0.5]]), torch.ones(1, 1)
    _, summed = valor_loss(video, logits, labels, pl, pl, "sum_t")
    _, mean = valor_loss(video, logits, labels, pl, pl, "mean")
    assert summed["audio"].item() == pytest.approx(math.log(8 / 3))
    assert mean["audio"].item() == pytest.approx(math.log(8 / 3) / 2)
    assert mean["visual"].item() == pytest.approx(summed["visual"].item() / 2)
    assert mean["video"].item() == summed["video"].item() == pytest.approx(math.log(2))


def _prompts_thresholds():
    from avvp_lib.methods.link import THRESHOLD_KEYS

    g = torch.Generator().manual_seed(1)
    prompts = {"clap_text": torch.randn(25, 512, generator=g), "clip_text": torch.randn(25, 768, generator=g)}
    return prompts, {k: torch.full((25,), 0.02) for k in THRESHOLD_KEYS}


def _tiny_batch(b=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"clap": torch.nn.functional.normalize(torch.randn(b, 10, 512, generator=g), dim=-1),
            "clip": torch.nn.functional.normalize(torch.randn(b, 10, 768, generator=g), dim=-1),
            "visual_3d": torch.randn(b, 10, 512, generator=g), "labels": (torch.rand(b, 25, generator=g) < 0.3).float(),
            "audio": torch.randn(b, 10, 128, generator=g), "visual_2d": torch.randn(b, 10, 2048, generator=g)}


def test_the_all_off_method_honours_segment_reduction():
    """LinkMethod (the VALOR baseline) passes its spec's reduction to the loss: the segment terms are 1/T (T = 10)."""
    from avvp_lib.methods.link import LinkMethod, spec_for

    prompts, thresholds = _prompts_thresholds()
    small = dict(d_model=16, nhead=2, ffn_dim=16, num_layers=1)
    torch.manual_seed(0)
    summed = LinkMethod(spec_for("baseline", "quick", "standard", **small), prompts, thresholds).eval()
    mean = LinkMethod(spec_for("baseline", "quick", "standard", segment_reduction="mean", **small), prompts,
                      thresholds).eval()
    mean.load_state_dict(summed.state_dict())
    batch = _tiny_batch()
    _, s = summed.training_loss(batch, 0)
    _, m = mean.training_loss(batch, 0)
    assert m["loss_audio"] == pytest.approx(s["loss_audio"] / 10, rel=1e-5)
    assert m["loss_visual"] == pytest.approx(s["loss_visual"] / 10, rel=1e-5)
    assert m["loss_video"] == pytest.approx(s["loss_video"], rel=1e-6)


# -------------------------------------------------------------------------- 4. VALOR released
def test_valor_spec_and_recipe_are_the_released_ones():
    from avvp_lib.methods.link import (MODEL_SIZES, VALOR_PLUS, VALOR_SIZES, spec_for, train_config, valor_spec,
                                       valor_train_config)

    full = valor_spec("full")
    assert (full.net.d_model, full.net.nhead, full.net.ffn_dim, full.net.num_layers) == (512, 8, 1024, 1)
    assert (full.net.update_order, full.segment_reduction, full.features) == ("sequential", "mean", "standard")
    assert (full.net.audio_dim, full.net.visual_dim, full.net.visual_3d_dim) == (128, 2048, 512)
    assert not (full.net.tsam or full.net.cmim or full.net.plsim or full.s_loss)
    quick = valor_spec("quick")
    assert (quick.net.d_model, quick.net.nhead, quick.net.ffn_dim, quick.net.num_layers) == (256, 4, 512, 1)
    assert valor_spec("full", update_order="parallel", segment_reduction="sum_t").net.update_order == "parallel"
    assert VALOR_SIZES["full"] == dict(d_model=512, nhead=8, ffn_dim=1024, num_layers=1)

    r = valor_train_config("full", seed=3, device="cpu")
    assert (r.optimizer, r.weight_decay, r.lr, r.min_lr, r.scheduler, r.warmup_epochs, r.beta1, r.grad_clip,
            r.batch_size, r.epochs, r.seed) == ("adamw", 1e-3, 1e-4, 1e-6, "cosine", 10, 0.5, 1.0, 64, 60, 3)
    q = valor_train_config("quick")
    assert (q.epochs, q.batch_size, q.warmup_epochs, q.lr, q.min_lr, q.beta1, q.weight_decay, q.grad_clip) == \
        (12, 32, 1, 5e-4, 5e-6, 0.5, 1e-3, 1.0)  # the quick shrink: LINK / VALOR+'s quick rate

    # VALOR+ (what valor/main has trained) is unchanged: spec_for("baseline") and train_config
    plus = spec_for("baseline", "full", "standard")
    assert (plus.net.num_layers, plus.net.d_model, plus.net.update_order, plus.segment_reduction) == \
        (MODEL_SIZES["full"]["num_layers"], 256, "parallel", "sum_t")
    assert VALOR_PLUS["update_order"] == "parallel" and VALOR_PLUS["segment_reduction"] == "sum_t"
    assert "beta1" not in train_config("full").to_dict() and "min_lr" not in train_config("full").to_dict()


def _valor_experiment(**options):
    from avvp_lib.methods.link import ALL_VARIANTS, valor_train_config

    return Experiment("valor/released-test", "VALOR", "baseline", STANDARD, ALL_VARIANTS["baseline"],
                      valor_train_config, LINK_ADAPTER, options={"link_variant": "baseline", **options})


def test_link_adapter_selects_the_released_valor():
    from avvp_lib.methods.link import train_config, valor_spec, valor_train_config
    from avvp_lib.results import config_hash

    exp = _valor_experiment(spec="valor-released")
    shown = LINK_ADAPTER.describe(exp, "quick")
    assert shown["spec"] == valor_spec("quick", "standard").to_dict()
    assert shown["spec"]["net"]["update_order"] == "sequential" and shown["spec"]["segment_reduction"] == "mean"
    assert shown["train"]["beta1"] == 0.5 and shown["train"]["min_lr"] == 5e-6 and shown["train"]["lr"] == 5e-4
    assert shown["spec_name"] == "valor-released"
    assert LINK_ADAPTER.recipe_for(exp, "full", 0, "cpu") == valor_train_config("full", 0, "cpu")

    plain = _valor_experiment()  # no "spec": today's valor/main, same configuration and hash
    assert LINK_ADAPTER.recipe_for(plain, "quick", 0, "cpu") == train_config("quick", 0, "cpu")
    assert config_hash(LINK_ADAPTER.describe(plain, "quick")) == HASHES_BEFORE["valor+/main", "quick"]
    assert config_hash(shown) != HASHES_BEFORE["valor+/main", "quick"]

    prompts, thresholds = _prompts_thresholds()
    ctx = types.SimpleNamespace(profile="quick", device="cpu", cached=lambda key, make: (None, prompts, thresholds))
    method = LINK_ADAPTER.build(exp, ctx, seed=0)
    assert method.spec == valor_spec("quick", "standard")
    assert method.net.config.update_order == "sequential" and len(method.net.layers) == 1
    loss, logs = method.training_loss(_tiny_batch(), 0)
    loss.backward()
    assert math.isfinite(logs["loss"])
    again = LINK_ADAPTER.build(exp, ctx, seed=0)  # seeded
    assert all(torch.equal(a, b) for a, b in zip(method.state_dict().values(), again.state_dict().values()))
    with pytest.raises(ValueError, match="variant must be 'baseline'"):
        LINK_ADAPTER.describe(Experiment("valor/x", "VALOR", "T", STANDARD, None, None, LINK_ADAPTER,
                                         options={"link_variant": "T", "spec": "valor-released"}), "quick")


# --------------------------------------------------------------------- 5. UWAV's stage-2 HAN
OLD_HAN_KEYS = ["num_classes", "audio_dim", "visual_2d_dim", "visual_3d_dim", "d_model", "ffn_dim", "nhead",
                "dropout", "cross_modal"]


def test_han_audio_mlp_is_left_out_at_its_default():
    assert list(HAN().config) == OLD_HAN_KEYS
    assert isinstance(HAN().fc_a, torch.nn.Linear) and "fc_a.weight" in HAN().state_dict()
    han = HAN(d_model=16, ffn_dim=16, audio_mlp_hidden=32)
    assert han.config["audio_mlp_hidden"] == 32
    first, relu, second = han.fc_a
    assert (first.in_features, first.out_features, second.in_features, second.out_features) == (128, 32, 32, 16)
    assert isinstance(relu, torch.nn.ReLU)
    out = han.eval()(torch.randn(2, 10, 128), torch.randn(2, 10, 2048), torch.randn(2, 10, 512))
    assert out.segment.shape == (2, 10, 2, 25)
    # fc_a is the MLP: f^a = W2 relu(W1 x + b1) + b2
    x = torch.randn(1, 10, 128)
    f_a, _ = han.encode(x, torch.randn(1, 10, 2048), torch.randn(1, 10, 512))
    assert torch.allclose(f_a, second(torch.relu(first(x))))


def test_stage2_han_released_option():
    from avvp_lib.methods.uwav import UWAVConfig, stage2_han

    assert stage2_han("full").config == {**HAN().config, "nhead": 16, "num_layers": 5, "sequential": True}
    released = stage2_han("full", released=True)
    assert released.config["ffn_dim"] == 2048 and released.config["audio_mlp_hidden"] == 1024
    assert released.config["num_layers"] == 5 and released.config["nhead"] == 16
    assert released.extra_layers[3].linear1.out_features == 2048
    with pytest.raises(ValueError, match="one size"):
        stage2_han("quick", released=True)
    exp = Experiment("uwav/released-test", "UWAV", "uwav", STANDARD, UWAVConfig(), None, UWAV_ADAPTER,
                     options={"han_profile": "full", "released_han": True})
    assert UWAV_ADAPTER.describe(exp, "quick")["han"] == released.config


# --------------------------------------------------------------- 6. generator selection rule
def _epoch_predictions():
    """Two videos, 10 seconds, one class. Video A: 10 audio-visual seconds; video B: 1 (second 0).
    Epoch 0: A all found, B missed -> pooled 2*10/(20+1) = 95.24, per video (100 + 0)/2 = 50.
    Epoch 1: A half found, B found  -> pooled 2*6/(12+5) = 70.59, per video (66.67 + 100)/2 = 83.33."""
    gt = torch.zeros(2, 10, 1, dtype=torch.bool)
    gt[0] = True
    gt[1, 0] = True
    epoch0 = gt.clone()
    epoch0[1] = False
    epoch1 = gt.clone()
    epoch1[0, 5:] = False
    return gt, [epoch0, epoch1]


def test_selection_rules_pick_different_epochs():
    from avvp_lib.pseudo_labels import av_f1_scores

    gt, epochs = _epoch_predictions()
    scores = [av_f1_scores(pred, gt) for pred in epochs]
    assert scores[0] == pytest.approx((2000 / 21, 50.0))
    assert scores[1] == pytest.approx((1200 / 17, (200 / 3 + 100) / 2))
    pooled_best = max(range(2), key=lambda e: scores[e][0])
    video_best = max(range(2), key=lambda e: scores[e][1])
    assert (pooled_best, video_best) == (0, 1)


class _FixedGenerator(torch.nn.Module):
    """Returns +-10 logits that make p_a * p_v >= 0.5 exactly where ``pred`` is true; row index in clip[..., 0]."""

    def __init__(self, pred):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.logits = torch.where(pred, 10.0, -10.0)

    def forward(self, clip, clap, clip_text, clap_text, mask=None):
        z = self.logits[clip[:, 0, 0].long(), : clip.shape[1]]
        return z, z


def test_unav_av_f1_scores_both_rules():
    from avvp_lib.data.unav import UnAVData
    from avvp_lib.pseudo_labels import unav_av_f1

    gt, epochs = _epoch_predictions()
    clip = torch.arange(2.0)[:, None, None].expand(2, 10, 768).clone()
    data = UnAVData("validation", ["a", "b"], clip, torch.zeros(2, 10, 512), gt.float(), torch.ones(2, 10, dtype=torch.bool))
    prompts = {"clip_text": torch.zeros(1, 768), "clap_text": torch.zeros(1, 512)}
    for pred, (pooled, video) in zip(epochs, ((2000 / 21, 50.0), (1200 / 17, 250 / 3))):
        gen = _FixedGenerator(pred)
        assert unav_av_f1(gen, data, prompts, batch_size=1) == pytest.approx(pooled)  # batches of one video
        assert unav_av_f1(gen, data, prompts, batch_size=1, select="video_av_f1") == pytest.approx(video)
        assert unav_av_f1(gen, data, prompts, select="video_av_f1") == pytest.approx(video)


def test_generator_run_dir_leaves_the_default_rule_out(monkeypatch):
    from avvp_lib import pseudo_labels as pl

    meta = {"profile": "quick", "seed": 0, "space_seed": 1, "knobs": {}, "counts": {}}
    monkeypatch.setattr(pl, "ensure_unav", lambda root, profile, seed=0: meta)  # no data read or written
    folder, config = pl.generator_run_dir("unused", "quick", 0)
    assert list(config) == ["generator", "train", "betas", "present_weight", "unav"]
    folder2, config2 = pl.generator_run_dir("unused", "quick", 0, select="video_av_f1")
    assert config2 == {**config, "select": "video_av_f1"} and folder2 != folder
    with pytest.raises(ValueError, match="selection rule"):
        pl.generator_run_dir("unused", "quick", 0, select="best")
    exp = Experiment("uwav/select-test", "UWAV", "uwav", STANDARD, None, None, UWAV_ADAPTER,
                     options={"generator_select": "video_av_f1"})
    assert UWAV_ADAPTER.select_kwargs(exp) == {"select": "video_av_f1"}
    assert UWAV_ADAPTER.select_kwargs(Experiment("uwav/x", "UWAV", "uwav", STANDARD, None, None, UWAV_ADAPTER)) == {}


# ------------------------------------------------------------------------- 7. CoLeaF released
OLD_COLEAF_KEYS = ["contrastive", "self_modality", "co_occurrence", "class_tokens", "theta", "tau", "normalize",
                   "include_positive", "anchor_loss", "share_encoder", "warmup_epochs", "w_contrastive",
                   "w_self_modality", "w_co_occurrence"]


def test_coleaf_config_dict_is_the_old_one_at_the_defaults():
    from dataclasses import asdict

    from avvp_lib.methods.coleaf import ABLATIONS, CoLeaFConfig, coleaf_config_dict

    assert list(coleaf_config_dict(CoLeaFConfig())) == OLD_COLEAF_KEYS
    for ablation in ABLATIONS.values():
        if ablation.config is not None:
            assert coleaf_config_dict(ablation.config) == {k: asdict(ablation.config)[k] for k in OLD_COLEAF_KEYS}
    d = coleaf_config_dict(CoLeaFConfig(co_cls_scale="released", self_mo_video_mask=True, inference="released"))
    assert (d["co_cls_scale"], d["self_mo_video_mask"], d["inference"]) == ("released", True, "released")
    with pytest.raises(ValueError, match="co_cls_scale"):
        CoLeaFConfig(co_cls_scale="code")


def test_released_co_occurrence_on_a_hand_example():
    """B = 1, C = 2, labels [1, 0]. Audio: Reference [0.9, 0.05] -> class 0 confident (>= 0.8) and present: teacher
    0.9; class 1 absent: teacher = Anchor's 0.2. T = [0.9, 0.2], S = [0.5, 0.2]: M_T = [[.81, .18], [.18, .04]],
    M_S = [[.25, .10], [.10, .04]]; sum of squares = .56^2 + 2 * .08^2 = .3264; / C * B = .1632; x 1e-4.
    Visual: Reference [0.5, 0.5] is inside the band (0.4, 0.6): the teacher is the Anchor itself, 0."""
    from avvp_lib.losses.coleaf import co_occurrence_loss_released, confident_teacher

    labels = torch.tensor([[1.0, 0.0]])
    ref_a, anc_a = torch.tensor([[0.9, 0.05]]), torch.tensor([[0.5, 0.2]], requires_grad=True)
    ref_v, anc_v = torch.tensor([[0.5, 0.5]]), torch.tensor([[0.3, 0.7]], requires_grad=True)
    assert torch.allclose(confident_teacher(ref_a, anc_a, labels, 0.8, 0.1), torch.tensor([[0.9, 0.2]]))
    loss = co_occurrence_loss_released(ref_a, ref_v, anc_a, anc_v, labels)
    assert loss.item() == pytest.approx(1e-4 * 0.3264 / 2, rel=1e-5)
    loss.backward()
    assert anc_a.grad.abs().sum() > 0 and anc_v.grad.abs().sum() == 0


def test_released_co_occurrence_scale_is_41_times_ours_at_batch_128():
    """Every class present and every Reference entry confident (0.9): both teachers are the Reference, so the
    ratio is the scale alone, 1e-4 * C * B^2 = 2.5e-3 * 128^2 = 40.96."""
    from avvp_lib.losses.coleaf import co_occurrence_loss, co_occurrence_loss_released

    g = torch.Generator().manual_seed(0)
    b = 128
    labels, ref = torch.ones(b, 25), torch.full((b, 25), 0.9)
    anc_a, anc_v = torch.rand(b, 25, generator=g), torch.rand(b, 25, generator=g)
    ratio = co_occurrence_loss_released(ref, ref, anc_a, anc_v, labels) / co_occurrence_loss(ref, ref, anc_a, anc_v)
    assert ratio.item() == pytest.approx(40.96, rel=1e-4)


def test_self_modality_video_mask():
    """Anchor audio [0.9, 0.9] -> targets [1, 1]; masked by labels [1, 0] -> [1, 0]. Reference 0.8 for both:
    unmasked audio BCE = -ln 0.8 = 0.2231, masked = (-ln 0.8 - ln 0.2) / 2 = 0.9163. Visual (anchor 0.1): 0 targets
    either way, -ln 0.2 = 1.6094."""
    from avvp_lib.losses.coleaf import self_modality_loss

    ref = torch.full((1, 2), 0.8)
    anc_a, anc_v, labels = torch.full((1, 2), 0.9), torch.full((1, 2), 0.1), torch.tensor([[1.0, 0.0]])
    assert self_modality_loss(ref, ref, anc_a, anc_v).item() == pytest.approx(-math.log(0.8) - math.log(0.2), rel=1e-5)
    masked = self_modality_loss(ref, ref, anc_a, anc_v, video_labels=labels).item()
    assert masked == pytest.approx((-math.log(0.8) - math.log(0.2)) / 2 - math.log(0.2), rel=1e-5)


def _tiny_coleaf(**config):
    from avvp_lib.methods.coleaf import CoLeaFConfig, CoLeaFMethod

    torch.manual_seed(0)
    anchor = HAN(audio_dim=4, visual_2d_dim=6, visual_3d_dim=5, d_model=8, ffn_dim=8)
    return CoLeaFMethod(CoLeaFConfig(**config), anchor=anchor)


def _coleaf_batch():
    g = torch.Generator().manual_seed(2)
    return {"audio": torch.randn(3, 10, 4, generator=g), "visual_2d": torch.randn(3, 10, 6, generator=g),
            "visual_3d": torch.randn(3, 10, 5, generator=g), "labels": (torch.rand(3, 25, generator=g) < 0.3).float()}


def test_released_options_change_only_their_terms():
    batch = _coleaf_batch()
    paper = _tiny_coleaf().eval()
    released = _tiny_coleaf(co_cls_scale="released", self_mo_video_mask=True).eval()
    released.load_state_dict(paper.state_dict())
    terms_p = paper.losses(paper(batch), batch["labels"])
    terms_r = released.losses(released(batch), batch["labels"])
    for key in ("video_anchor", "video_reference", "contrastive"):
        assert torch.equal(terms_p[key], terms_r[key])
    assert not torch.isclose(terms_p["co_occurrence"], terms_r["co_occurrence"])
    loss, _ = released.training_loss(batch, 0)
    loss.backward()


def test_released_inference_rule_on_a_hand_example():
    """Audio segments [0.3, 0.2], gate 0.53 >= 0.52: [1, 0]; visual [0.3, 0.3], gate 0.51 < 0.52: [0, 0].
    HAN's rule (segments >= 0.5) finds nothing."""
    from avvp_lib.methods.coleaf import released_inference_rule

    seg = torch.tensor([[0.3, 0.3], [0.2, 0.3]]).reshape(1, 2, 2, 1)
    out = MMILOutput(torch.tensor([[0.9]]), torch.tensor([[0.53]]), torch.tensor([[0.51]]), seg)
    pred_a, pred_v = released_inference_rule(out)
    assert pred_a.flatten().tolist() == [1, 0] and pred_v.flatten().tolist() == [0, 0]

    class WithRule(torch.nn.Module):
        inference_rule = staticmethod(released_inference_rule)

    assert method_predictions(WithRule(), out)[0].flatten().tolist() == [1, 0]
    han_a, han_v = method_predictions(torch.nn.Module(), out)  # no rule: HAN's
    assert han_a.sum() == 0 and han_v.sum() == 0
    assert all(torch.equal(x, y) for x, y in zip(method_predictions(HAN(), out), inference_rule(out.segment, out.video)))


def test_released_prediction_mixes_with_and_without_cross_attention():
    from avvp_lib.methods.coleaf import released_inference_rule

    batch = _coleaf_batch()
    default = _tiny_coleaf().eval()
    assert default.inference_rule is None
    released = _tiny_coleaf(inference="released").eval()
    released.load_state_dict(default.state_dict())
    assert released.inference_rule is released_inference_rule
    with_ca = default.predict(batch)
    without = released.predict_without_cross(batch)
    # without cross-attention = a unimodal HAN holding the same weights (its layer has no cm_attn)
    unimodal = HAN(audio_dim=4, visual_2d_dim=6, visual_3d_dim=5, d_model=8, ffn_dim=8, cross_modal=False).eval()
    unimodal.load_state_dict({k: v for k, v in default.model.anchor.state_dict().items() if ".cm_attn." not in k})
    with torch.no_grad():
        ref = unimodal(batch["audio"], batch["visual_2d"], batch["visual_3d"])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(without, ref))
    assert not torch.allclose(without.segment, with_ca.segment)
    mixed = released.predict(batch)
    assert all(torch.allclose(m, 0.7 * a + 0.3 * b, atol=1e-6) for m, a, b in zip(mixed, with_ca, without))


def test_valor_main_shows_the_released_recipe_on_the_full_profile():
    """``python -m avvp_lib.experiments --show valor/main --profile full``: scripts/train_valor.sh item by item."""
    from avvp_lib.experiments.runner import describe

    shown = describe("valor/main", "full")
    recipe, net, spec = shown["recipe"], shown["configuration"]["spec"]["net"], shown["configuration"]["spec"]
    assert (recipe["epochs"], recipe["batch_size"], recipe["lr"], recipe["min_lr"], recipe["beta1"]) == (60, 64, 1e-4,
                                                                                                         1e-6, 0.5)
    assert (recipe["optimizer"], recipe["weight_decay"], recipe["warmup_epochs"], recipe["grad_clip"]) == (
        "adamw", 1e-3, 10, 1.0)
    assert (net["d_model"], net["nhead"], net["ffn_dim"], net["num_layers"], net["update_order"]) == (
        512, 8, 1024, 1, "sequential")
    assert spec["segment_reduction"] == "mean" and not (net["tsam"] or net["cmim"] or net["plsim"] or spec["s_loss"])
    plus = describe("valor+/main", "full")
    assert (plus["recipe"]["lr"], plus["configuration"]["spec"]["net"]["num_layers"]) == (3e-4, 4)
    assert "UWAV Table 1: VALOR" in shown["paper_rows"][0] and describe("valor+/main", "full")["paper_rows"] == []
    assert any("VALOR++" in r for r in describe("valor+/main@clip_clap", "full")["paper_rows"])


def test_the_full_profile_builds_uwavs_released_stage2_han():
    from avvp_lib.experiments.runner import describe

    full, quick = describe("uwav/uwav", "full")["configuration"]["han"], describe("uwav/uwav", "quick")["configuration"]["han"]
    assert full["ffn_dim"] == 2048 and full["audio_mlp_hidden"] == 1024
    assert "audio_mlp_hidden" not in quick  # the quick shrink keeps one Linear (measured by uwav/uwav@released-han)
    shrink = describe("uwav/uwav@released-han", "quick")["configuration"]["han"]
    assert shrink == full
