"""LINK and its VALOR-style baseline as trainable methods (registered as ``link/<variant>`` and ``valor/main``).

``LinkMethod`` = :class:`~avvp_lib.models.link.LinkNet` on one feature set + the pseudo-labels of
:mod:`avvp_lib.models.valor` + the losses of :mod:`avvp_lib.losses.link`. Feature sets (:data:`INPUT_DIMS`):
``clip_clap`` = CLAP (audio) / CLIP (frames) / R(2+1)D, VALOR++'s released inputs and LINK's; ``standard`` =
VGGish / ResNet-152 / R(2+1)D, where the all-off network is VALOR itself (HAN trained with CLIP/CLAP segment
pseudo-labels). The pseudo-labels always come from the CLIP/CLAP zero-shot similarities. Switches (Table II): ``T`` = TSAM + CMIM (Sec. II-B; the paper's
TSAM ablation covers both), ``S`` = S-LOSS (L_label + lambda L_avss, Eq. 9-12), ``P`` = PLSIM.

VALOR as its authors released it (Franklin905/VALOR: one layer of width 512, the sequential audio-then-visual update,
the segment loss averaged over T, AdamW beta1 0.5 with a cosine floor) is :func:`valor_spec` +
:func:`valor_train_config`; an Experiment selects it with ``options={"link_variant": "baseline", "spec":
"valor-released"}`` (:class:`~avvp_lib.experiments.adapters.LinkAdapter`). ``spec_for("baseline", ...)`` +
:func:`train_config`, what ``valor/main`` trains, is unchanged (:data:`VALOR_PLUS`).

Pseudo-labels are computed inside the method from the features it is given (cheap): the loss
uses VALOR's video-masked ones (the batch's ``labels``), PLSIM the unmasked ones, at training and
at test time alike, so the module sees the same kind of input in both (LINK Sec. II-D).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import nn

from avvp_lib.data.dataset import AVVPData, load_split
from avvp_lib.losses.link import avss_loss, event_iou, label_loss, segment_cosine, valor_loss
from avvp_lib.losses.mmil import mmil_video_loss
from avvp_lib.models.han import MMILOutput
from avvp_lib.models.link import LinkNet, LinkNetConfig, LinkOutput, pseudo_label_semantics
from avvp_lib.models.valor import calibrate_thresholds, segment_pseudo_labels, zero_shot_similarity
from avvp_lib.train import TrainConfig

__all__ = ["ABLATIONS", "DIAGNOSTIC_VARIANTS", "ALL_VARIANTS", "MODEL_SIZES", "METHOD_NAME", "THRESHOLD_KEYS",
           "TABLE_METRICS", "LinkSpec", "LinkMethod", "spec_for", "train_config", "calibrated_thresholds",
           "build_method", "load_link_data", "inspect_modules", "VALOR_SIZES", "VALOR_PLUS", "SPECS",
           "valor_spec", "valor_train_config", "spec_named", "recipe_named"]

METHOD_NAME = "LINK"
#: network input sizes per feature set (audio, frames, motion); the prompts stay CLAP (512) / CLIP (768)
INPUT_DIMS = {"clip_clap": dict(audio_dim=512, visual_dim=768, visual_3d_dim=512),
              "standard": dict(audio_dim=128, visual_dim=2048, visual_3d_dim=512)}
#: the ten metrics LINK's Tables I-II report
TABLE_METRICS = tuple(f"{level}/{name}" for level in ("segment", "event")
                      for name in ("A", "V", "AV", "Type@AV", "Event@AV"))
#: pseudo-label threshold sets: masked (loss, VALOR) and unmasked (PLSIM), per modality
THRESHOLD_KEYS = ("audio", "visual", "audio_unmasked", "visual_unmasked")

#: Table II of LINK: every row, as module switches (``T`` = TSAM + CMIM, ``S`` = S-LOSS, ``P`` = PLSIM).
ABLATIONS: dict[str, dict[str, bool]] = {
    "baseline": {},
    "T": {"tsam": True, "cmim": True},
    "S": {"s_loss": True},
    "P": {"plsim": True},
    "T+S": {"tsam": True, "cmim": True, "s_loss": True},
    "S+P": {"s_loss": True, "plsim": True},
    "T+P": {"tsam": True, "cmim": True, "plsim": True},
    "T+S+P": {"tsam": True, "cmim": True, "s_loss": True, "plsim": True},
}

#: Not in the paper: T split into its two modules, to see which one moves the numbers.
DIAGNOSTIC_VARIANTS: dict[str, dict[str, bool]] = {
    "TSAM-only": {"tsam": True},
    "CMIM-only": {"cmim": True},
}
ALL_VARIANTS = {**ABLATIONS, **DIAGNOSTIC_VARIANTS}

#: Network sizes. ``full`` = VALOR++'s released recipe (hidden 256, 8 heads, FFN 1024, 4 layers).
MODEL_SIZES = {
    "quick": dict(d_model=128, nhead=4, ffn_dim=256, num_layers=2),
    "full": dict(d_model=256, nhead=8, ffn_dim=1024, num_layers=4),
}


@dataclass(frozen=True)
class LinkSpec:
    """Everything that defines a LINK variant besides the optimiser."""

    net: LinkNetConfig = field(default_factory=LinkNetConfig)
    features: str = "clip_clap"  # which streams feed the network (:data:`INPUT_DIMS`)
    s_loss: bool = False
    segment_reduction: str = "sum_t"  # Eq. 8 as printed; "mean" = VALOR's code
    mu_init: float = 0.0  # lambda(-0.1) = e^|1-mu| = e at the start
    mu_trainable: bool = True
    #: "segment_pseudo": VALOR's loss on the zero-shot segment pseudo-labels (Eq. 7); "video": HAN's guided MMIL loss
    #: on the video labels only (the matched comparison that isolates VALOR's pseudo-labels)
    supervision: str = "segment_pseudo"

    def to_dict(self) -> dict:
        out = {"net": self.net.to_dict(), "features": self.features, "s_loss": self.s_loss,
               "segment_reduction": self.segment_reduction,
               "mu_init": self.mu_init, "mu_trainable": self.mu_trainable}
        if self.supervision != "segment_pseudo":  # left out at its default: the hashes of every earlier run stay
            out["supervision"] = self.supervision
        return out


_SPEC_FIELDS = ("segment_reduction", "mu_init", "mu_trainable")


def spec_for(variant: str, profile: str = "quick", features: str = "clip_clap", **overrides) -> LinkSpec:
    """The :class:`LinkSpec` of a variant (a key of :data:`ALL_VARIANTS`) at a profile's size on a feature set.

    ``overrides`` set :class:`LinkSpec` fields (e.g. ``segment_reduction="mean"``, VALOR's code) or
    :class:`~avvp_lib.models.link.LinkNetConfig` fields (e.g. ``placement="after_han"``).
    """
    if variant not in ALL_VARIANTS:
        raise ValueError(f"unknown LINK variant {variant!r}; expected one of {list(ALL_VARIANTS)}")
    if profile not in MODEL_SIZES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {list(MODEL_SIZES)}")
    if features not in INPUT_DIMS:
        raise ValueError(f"unknown feature set {features!r}; expected one of {list(INPUT_DIMS)}")
    switches = dict(ALL_VARIANTS[variant])
    s_loss = switches.pop("s_loss", False)
    spec_overrides = {k: overrides.pop(k) for k in _SPEC_FIELDS if k in overrides}
    net = LinkNetConfig(**{**MODEL_SIZES[profile], **INPUT_DIMS[features], **switches, **overrides})
    return LinkSpec(net=net, features=features, s_loss=s_loss, **spec_overrides)


def train_config(profile: str = "quick", seed: int = 0, device: str = "auto") -> TrainConfig:
    """Optimiser recipe. ``full``: VALOR++'s (AdamW 3e-4, wd 1e-3, batch 64, 60 epochs, 10 warm-up
    epochs then cosine, grad-norm 1), except its Adam beta1 = 0.5 and its cosine floor 3e-6: this recipe keeps
    beta1 = 0.9 and decays to 0 (it predates :attr:`TrainConfig.beta1` / :attr:`TrainConfig.min_lr`; it stays as it
    is so that recorded runs keep their hashes - :func:`valor_train_config` is the released VALOR recipe).
    ``quick``: 2 CPU cores, about a minute per run.
    """
    if profile == "full":
        return TrainConfig(epochs=60, batch_size=64, lr=3e-4, optimizer="adamw", weight_decay=1e-3,
                           scheduler="cosine", warmup_epochs=10, grad_clip=1.0, seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=12, batch_size=32, lr=5e-4, optimizer="adamw", weight_decay=1e-3,
                           scheduler="cosine", warmup_epochs=1, grad_clip=1.0, seed=seed, device=device)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


# ------------------------------------------------------------------------- VALOR as released
#: VALOR's network as released (Franklin905/VALOR, scripts/train_valor.sh: ``--hidden_dim 512 --nhead 8 --ff_dim 1024
#: --num_layers 1``). ``quick`` is our CPU shrink (not the authors'): one layer as released, d_model 256, 4 heads,
#: FFN 512 (half the width, a quarter of the layer's weights; 2 CPU cores).
VALOR_SIZES = {
    "full": dict(d_model=512, nhead=8, ffn_dim=1024, num_layers=1),
    "quick": dict(d_model=256, nhead=4, ffn_dim=512, num_layers=1),
}

#: What ``valor/main`` has trained since the course began (``spec_for("baseline", ...)`` + :func:`train_config`):
#: VALOR's network on VALOR+/VALOR++'s sizes and recipe (:data:`MODEL_SIZES`: 4 layers at full), HAN's parallel
#: update and the segment loss summed over T (LINK Eq. 8 as printed). Kept as it is (its records and hashes); the
#: name says what it is: closer to VALOR+ than to VALOR as released (:func:`valor_spec`).
VALOR_PLUS = {"sizes": MODEL_SIZES, "update_order": "parallel", "segment_reduction": "sum_t", "recipe": "train_config"}


def valor_spec(profile: str = "quick", features: str = "standard", update_order: str = "sequential",
               segment_reduction: str = "mean", supervision: str = "segment_pseudo") -> LinkSpec:
    """The :class:`LinkSpec` of VALOR as released (Lai et al., NeurIPS 2023; Franklin905/VALOR): every LINK module
    off, :data:`VALOR_SIZES`, the released ``Encoder``'s sequential update (audio first, then visual attends to the
    updated audio: ``update_order="sequential"``) and the segment loss averaged over everything, segments included
    (``binary_cross_entropy_with_logits`` with the default mean: ``segment_reduction="mean"``, 1/T of LINK's Eq. 8
    as printed). The keywords switch one difference at a time: ``update_order="parallel"`` (HAN's and VALOR+'s
    update in our earlier recipe), ``segment_reduction="sum_t"`` (LINK's Eq. 8 as printed), ``supervision="video"``
    (the same network and recipe trained on the video labels with HAN's loss: no pseudo-labels)."""
    if profile not in VALOR_SIZES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {list(VALOR_SIZES)}")
    if features not in INPUT_DIMS:
        raise ValueError(f"unknown feature set {features!r}; expected one of {list(INPUT_DIMS)}")
    if supervision not in ("segment_pseudo", "video"):
        raise ValueError(f"supervision={supervision!r}; expected 'segment_pseudo' or 'video'")
    net = LinkNetConfig(**{**VALOR_SIZES[profile], **INPUT_DIMS[features]}, update_order=update_order)
    return LinkSpec(net=net, features=features, segment_reduction=segment_reduction, supervision=supervision)


def valor_train_config(profile: str = "quick", seed: int = 0, device: str = "auto") -> TrainConfig:
    """VALOR's released recipe (scripts/train_valor.sh): ``full`` = AdamW, weight decay 1e-3, lr 1e-4 with 10
    warm-up epochs then cosine down to ``min_lr`` 1e-6, Adam beta1 0.5, grad-norm clip 1.0, batch 64, 60 epochs.
    Differences that remain: the released schedule sets the rate once per epoch (warm-up from 0 at epoch 0), ours
    per optimiser step; the released code picks the best epoch on its validation metric as ours does.
    ``quick`` (our shrink for 2 CPU cores, like :func:`train_config`'s): 12 epochs, batch 32, 1 warm-up epoch and
    the quick LINK / VALOR+ rate, lr 5e-4 -> 5e-6 (the released 1e-4 reaches a validation Type@AV of 20 after 5 of
    12 short epochs: 564 steps instead of the released 9 400), beta1 0.5, weight decay 1e-3, clip 1. What the
    shrink costs is measured by ``valor/main@full-recipe`` (the released schedule on the quick data; notebook 09).
    """
    common = dict(optimizer="adamw", weight_decay=1e-3, scheduler="cosine", grad_clip=1.0, lr=1e-4, min_lr=1e-6,
                  beta1=0.5, seed=seed, device=device)
    if profile == "full":
        return TrainConfig(epochs=60, batch_size=64, warmup_epochs=10, **common)
    if profile == "quick":
        return TrainConfig(epochs=12, batch_size=32, warmup_epochs=1, **{**common, "lr": 5e-4, "min_lr": 5e-6})
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


#: Named specs an Experiment's ``options["spec"]`` may select (:func:`spec_named`; absent = the LINK variant's
#: :func:`spec_for` and :func:`train_config`, what every course registration uses).
SPECS = {
    "valor-released": (valor_spec, valor_train_config),
    # one released choice switched back at a time (measured: notebook 09, table 09_released)
    "valor-released/parallel-update": (partial(valor_spec, update_order="parallel"), valor_train_config),
    "valor-released/summed-segment-loss": (partial(valor_spec, segment_reduction="sum_t"), valor_train_config),
    # the same network and recipe on the video labels: isolates VALOR's segment pseudo-labels (matched comparison)
    "valor-released/video-labels": (partial(valor_spec, supervision="video"), valor_train_config),
}


def spec_named(name: str | None, variant: str, profile: str = "quick", features: str = "clip_clap") -> LinkSpec:
    """``name=None``: ``spec_for(variant, profile, features)``; ``"valor-released"``: :func:`valor_spec` (the
    variant must be ``baseline``: VALOR has no LINK module)."""
    if name is None:
        return spec_for(variant, profile, features)
    if name not in SPECS:
        raise ValueError(f"unknown spec {name!r}; expected one of {list(SPECS)}")
    if variant != "baseline":
        raise ValueError(f"spec {name!r} is VALOR's network, every LINK module off: variant must be 'baseline', "
                         f"got {variant!r}")
    return SPECS[name][0](profile, features)


def recipe_named(name: str | None, profile: str = "quick", seed: int = 0, device: str = "auto") -> TrainConfig:
    """The recipe that goes with :func:`spec_named`: :func:`train_config` for ``None``, else the named one."""
    if name is None:
        return train_config(profile, seed, device)
    if name not in SPECS:
        raise ValueError(f"unknown spec {name!r}; expected one of {list(SPECS)}")
    return SPECS[name][1](profile, seed, device)


class LinkMethod(nn.Module):
    """A trainable LINK variant: ``training_loss`` (Eq. 7 or Eq. 12) and ``predict`` for the trainer."""

    def __init__(self, spec: LinkSpec, prompts: dict[str, torch.Tensor], thresholds: dict[str, torch.Tensor]):
        super().__init__()
        self.spec = spec
        self.net = LinkNet(spec.net)
        c = spec.net.num_classes
        for key, dim in (("clap_text", spec.net.audio_text_dim), ("clip_text", spec.net.visual_text_dim)):
            if tuple(prompts[key].shape) != (c, dim):
                raise ValueError(f"prompts[{key!r}] has shape {tuple(prompts[key].shape)}; expected ({c}, {dim})")
        self.register_buffer("clap_text", prompts["clap_text"].float().clone())
        self.register_buffer("clip_text", prompts["clip_text"].float().clone())
        for key in THRESHOLD_KEYS:
            if key not in thresholds or tuple(torch.as_tensor(thresholds[key]).shape) != (c,):
                raise ValueError(f"thresholds[{key!r}] must be given, one per class ({c},); got keys {sorted(thresholds)}")
            self.register_buffer(f"threshold_{key}", torch.as_tensor(thresholds[key]).float().clone())
        self.mu = nn.Parameter(torch.tensor(float(spec.mu_init)), requires_grad=spec.mu_trainable) if spec.s_loss else None

    def pseudo_labels(self, batch: dict[str, torch.Tensor], masked: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Segment pseudo-labels (audio from CLAP, visual from CLIP); ``masked`` applies the video label."""
        if masked:
            labels, thr_a, thr_v = batch["labels"], self.threshold_audio, self.threshold_visual
        else:
            labels, thr_a, thr_v = None, self.threshold_audio_unmasked, self.threshold_visual_unmasked
        pl_a = segment_pseudo_labels(zero_shot_similarity(batch["clap"], self.clap_text), thr_a, labels)
        pl_v = segment_pseudo_labels(zero_shot_similarity(batch["clip"], self.clip_text), thr_v, labels)
        return pl_a, pl_v

    def forward(self, batch: dict[str, torch.Tensor]) -> LinkOutput:
        text_a = text_v = None
        if self.spec.net.plsim:
            pl_a, pl_v = self.pseudo_labels(batch, masked=False)
            text_a = pseudo_label_semantics(pl_a, self.clap_text)
            text_v = pseudo_label_semantics(pl_v, self.clip_text)
        return self.net(*self.inputs(batch), text_a, text_v)

    def inputs(self, batch: dict[str, torch.Tensor]) -> tuple:
        """The network's (audio, frames, motion) streams for the spec's feature set."""
        motion = batch.get("visual_3d") if self.spec.net.visual_3d_dim is not None else None
        if self.spec.features == "standard":
            return batch["audio"], batch["visual_2d"], motion
        return batch["clap"], batch["clip"], motion

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        out = self(batch)
        if self.spec.supervision == "video":  # HAN's guided loss on the video labels: no pseudo-label is used
            loss = mmil_video_loss(out.mmil.video, out.mmil.audio, out.mmil.visual, batch["labels"])
            return loss, {"loss": loss.item()}
        pl_a, pl_v = self.pseudo_labels(batch, masked=True)
        loss, parts = valor_loss(out.mmil.video, out.segment_logits, batch["labels"], pl_a, pl_v,
                                 self.spec.segment_reduction)
        if self.spec.s_loss:
            parts["label"] = label_loss(out.mmil.audio, out.mmil.visual, pl_a, pl_v)
            parts["avss"] = avss_loss(segment_cosine(out.feat_a, out.feat_v), event_iou(pl_a, pl_v), self.mu)
            loss = loss + parts["label"] + parts["avss"]
        logs = {f"loss_{k}": v.item() for k, v in parts.items()}
        logs["loss"] = loss.item()
        return loss, logs

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self(batch).mmil


# ------------------------------------------------------------------------------------ building
def load_link_data(root: str | Path, splits=("train", "val", "test"), standard: bool = True) -> dict[str, AVVPData]:
    """The CLIP/CLAP streams of each split (pseudo-labels, and the ``clip_clap`` inputs) and, with
    ``standard``, the VGGish / ResNet-152 / R(2+1)D streams (R(2+1)D is fused on both feature sets)."""
    streams = ("han", "clipclap") if standard else ("clipclap",)
    return {s: load_split(root, s, streams=streams) for s in splits}


def calibrated_thresholds(val: AVVPData, prompts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-class cosine thresholds tuned on ``val`` (audio: CLAP vs audio GT; visual: CLIP vs visual GT).

    Two sets, one per use: ``audio``/``visual`` maximise the F1 of the video-masked labels that
    supervise the loss (VALOR's use, so the baseline gets the best pseudo-labels we can give it);
    ``audio_unmasked``/``visual_unmasked`` maximise the F1 of the unmasked labels PLSIM sees (the
    masked tuning goes near 0 for some classes, which would switch a class on in most segments
    once the video mask is gone).
    """
    sim_a = zero_shot_similarity(val.tensors["clap"], prompts["clap_text"])
    sim_v = zero_shot_similarity(val.tensors["clip"], prompts["clip_text"])
    return {
        "audio": calibrate_thresholds(sim_a, val.gt_audio, val.labels),
        "visual": calibrate_thresholds(sim_v, val.gt_visual, val.labels),
        "audio_unmasked": calibrate_thresholds(sim_a, val.gt_audio),
        "visual_unmasked": calibrate_thresholds(sim_v, val.gt_visual),
    }


def build_method(variant: str, prompts, thresholds, profile: str = "quick", seed: int = 0,
                 features: str = "clip_clap", spec: LinkSpec | None = None, **overrides) -> LinkMethod:
    """A freshly initialised (seeded) LINK variant on a feature set; ``spec`` (e.g. :func:`valor_spec`) replaces
    ``spec_for(variant, profile, features, **overrides)``."""
    if spec is not None and overrides:
        raise ValueError(f"pass either spec or overrides, not both (got overrides {sorted(overrides)})")
    torch.manual_seed(seed)
    return LinkMethod(spec if spec is not None else spec_for(variant, profile, features, **overrides), prompts,
                      thresholds)


# ---------------------------------------------------------------------------------- inspection
@torch.no_grad()
def inspect_modules(method: LinkMethod, batch: dict[str, torch.Tensor]) -> dict:
    """What the notebook plots: TSAM's temporal (B,T) and channel (B,d) weights per modality
    (computed on the projected features, as in the forward pass), CMIM's alpha/beta and S-LOSS's mu."""
    was_training = method.training
    method.eval()
    out: dict = {}
    f_a, f_v = method.net.encode(*method.inputs(batch))
    if method.net.tsam_a is not None:
        _, out["temporal_a"], out["spatial_a"] = method.net.tsam_a(f_a, return_weights=True)
        _, out["temporal_v"], out["spatial_v"] = method.net.tsam_v(f_v, return_weights=True)
    if method.net.cmim is not None:
        out["alpha"] = method.net.cmim.alpha.detach().cpu().clone()
        out["beta"] = method.net.cmim.beta.detach().cpu().clone()
    if method.mu is not None:
        out["mu"] = float(method.mu)
    method.train(was_training)
    return out
