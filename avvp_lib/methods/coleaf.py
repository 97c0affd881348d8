"""CoLeaF as a trainable method: both branches trained together through the shared trainer.

``CoLeaFMethod(CoLeaFConfig())`` is the full framework with a HAN Anchor (Table 5's "HAN x").
Every ablation row of the paper is a named configuration (registered as ``coleaf/<name>`` in
``avvp_lib.experiments``, which also names the paper row each one stands for)::

    ablation("no_class_tokens")       # -> CoLeaFConfig(class_tokens=False)
    build_method("evt_nce", seed=0)   # -> a fresh, seeded CoLeaFMethod (or HANMethod for "han")

Total loss (CoLeaF Fig. 2; the paper gives no weights: ``w_selfmo = w_cocls = 1``, ``w_evt = 0.1`` chosen on
the validation split, see :class:`CoLeaFConfig`)::

    L = L_video^Anch + L_video^Ref + w_evt L_Evt^Anch + w_selfmo L_SelfMo^Ref + w_cocls L_CoCls^Anch
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from avvp_lib.losses.coleaf import (
    anchor_video_loss,
    co_occurrence_loss,
    co_occurrence_loss_released,
    event_aware_contrastive_loss,
    event_aware_weights,
    pseudo_label_bce_loss,
    pseudo_labels,
    reference_video_loss,
    self_modality_loss,
)
from avvp_lib.methods.mmil import HANMethod
from avvp_lib.models.coleaf import CoLeaF, CoLeaFOutput
from avvp_lib.metrics import inference_rule
from avvp_lib.models.han import HAN, MMILOutput
from avvp_lib.train import TrainConfig

CONTRASTIVE_MODES = ("event_aware", "nce", "bce", "none")
#: CoLeaF's released inference (faeghehsardari/coleaf ``main.py`` ``eval``; ``option.py`` ``--fuse_ratio 0.7``):
#: the Anchor's outputs with cross-modal attention mixed 0.7 / 0.3 with those of a second pass without it
#: (``with_ca=False``, same weights), then segment threshold 0.25 gated per modality by the audio-level and the
#: visual-level probability at 0.52 (HAN's rule: 0.5 gated by the video-level probability at 0.5).
RELEASED_INFERENCE = {"fuse_ratio": 0.7, "segment_threshold": 0.25, "video_threshold": 0.52}


@dataclass(frozen=True)
class CoLeaFConfig:
    """Which CoLeaF components are on, and their hyper-parameters.

    contrastive: ``event_aware`` (L_Evt, Eq. 8-11), ``nce`` (standard NCE, theta = 1), ``bce`` (BCE of the
        Anchor against the Reference pseudo-labels of Eq. 9) or ``none`` - the four rows of Table 2.
    self_modality: L_SelfMo (Eq. 12, Table 3).   co_occurrence: L_CoCls (Eq. 13, Table 4).
    class_tokens: the Reference's class tokens (Eq. 5, Table 4).
    theta: pseudo-label threshold of Eq. 9 and 12 (not given in the paper; 0.5 as in the released code's
        contrastive weights).   tau: temperature of Eq. 8 (not given; 0.2 as in the released code).
    normalize / include_positive: see :func:`avvp_lib.losses.coleaf.segment_nce`.
    anchor_loss: ``han`` or ``video_only`` (:func:`avvp_lib.losses.coleaf.anchor_video_loss`).
    share_encoder: feed the Reference the Anchor's input tokens instead of its own projections.
    warmup_epochs: epochs trained with the two video-level losses only (0 in the paper; the released
        code waits 1 epoch for L_Evt/L_CoCls and 3 for L_SelfMo).
    w_*: loss weights. The paper gives none. ``w_contrastive = 0.1`` was chosen between 1 and 0.1 on the
        validation split (seed 0, quick profile): with weight 1 the contrastive term dominated and cost the
        Anchor about 8 points of validation segment-level V; row ``evt_weight_1`` of the sweep keeps weight 1.

    Options added later (:data:`LATER_FIELDS`; at their defaults they are left out of :func:`coleaf_config_dict`,
    so every recorded configuration keeps its hash), each the released code's choice at its other value:

    co_cls_scale: ``"paper"`` (default): L_CoCls = mean-MSE of the correlation matrices, teacher = the Reference,
        times ``w_co_occurrence``. ``"released"``: :func:`~avvp_lib.losses.coleaf.co_occurrence_loss_released`,
        ``1e-4 * sum (T - S)^2 / 25 * B`` per modality with a confidence-masked teacher (``utils/eval_metrics.py``
        ``cc_loss``, ``main.py`` training loop): 2.5e-3 B^2 times ours for equal errors, about 41x at B = 128
        (still times ``w_co_occurrence``, 1 by default).
    self_mo_video_mask: ``False`` (default): L_SelfMo's targets are ``[P^phi > theta]`` as Eq. 12 prints them.
        ``True``: masked by the video labels as released (a class absent from the video is never a positive).
    inference: ``"han"`` (default): :meth:`CoLeaFMethod.predict` is the Anchor's output and the HAN rule scores
        it. ``"released"``: :data:`RELEASED_INFERENCE` (0.7 / 0.3 mix with a pass without cross-attention,
        segment threshold 0.25, per-modality gates 0.52), through :attr:`CoLeaFMethod.inference_rule`.
    """

    contrastive: str = "event_aware"
    self_modality: bool = True
    co_occurrence: bool = True
    class_tokens: bool = True
    theta: float = 0.5
    tau: float = 0.2
    normalize: bool = True
    include_positive: bool = False
    anchor_loss: str = "han"
    share_encoder: bool = False
    warmup_epochs: int = 0
    w_contrastive: float = 0.1
    w_self_modality: float = 1.0
    w_co_occurrence: float = 1.0
    co_cls_scale: str = "paper"
    self_mo_video_mask: bool = False
    inference: str = "han"

    def __post_init__(self):
        if self.contrastive not in CONTRASTIVE_MODES:
            raise ValueError(f"contrastive={self.contrastive!r}; expected one of {CONTRASTIVE_MODES}")
        if self.anchor_loss not in ("han", "video_only"):
            raise ValueError(f"anchor_loss={self.anchor_loss!r}; expected 'han' or 'video_only'")
        if self.co_cls_scale not in ("paper", "released"):
            raise ValueError(f"co_cls_scale={self.co_cls_scale!r}; expected 'paper' or 'released'")
        if self.inference not in ("han", "released"):
            raise ValueError(f"inference={self.inference!r}; expected 'han' or 'released'")

    def replace(self, **changes) -> "CoLeaFConfig":
        return replace(self, **changes)


#: CoLeaFConfig fields added after results were recorded, with the default that reproduces the old method;
#: :func:`coleaf_config_dict` leaves them out at that value.
LATER_FIELDS = {"co_cls_scale": "paper", "self_mo_video_mask": False, "inference": "han"}


def coleaf_config_dict(config: CoLeaFConfig) -> dict:
    """``asdict(config)`` without the fields of :data:`LATER_FIELDS` that hold their default value: the
    provenance of every configuration that existed before them (and so its hash) is unchanged."""
    return {k: v for k, v in asdict(config).items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}


class CoLeaFMethod(nn.Module):
    """CoLeaF for the trainer: ``training_loss`` sums both branches' losses, ``predict`` runs the Anchor only."""

    def __init__(self, config: CoLeaFConfig = CoLeaFConfig(), anchor: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.model = CoLeaF(anchor if anchor is not None else HAN(), class_tokens=config.class_tokens,
                            share_encoder=config.share_encoder)

    def forward(self, batch: dict[str, torch.Tensor], need_weights: bool = False) -> CoLeaFOutput:
        return self.model(batch["audio"], batch["visual_2d"], batch["visual_3d"], need_weights=need_weights)

    def losses(self, out: CoLeaFOutput, labels: torch.Tensor, epoch: int = 0) -> dict[str, torch.Tensor]:
        """Every loss term by name (zero-weight or switched-off terms are absent) plus diagnostics
        ``theta_a``/``theta_v`` (mean contrastive weights, Eq. 11)."""
        cfg, anc, ref = self.config, out.anchor, out.reference
        terms = {
            "video_anchor": anchor_video_loss(anc.video, anc.audio, anc.visual, labels, cfg.anchor_loss),
            "video_reference": reference_video_loss(ref.audio, ref.visual, labels, ref.cls_a, ref.cls_v),
        }
        if epoch < cfg.warmup_epochs:
            return terms
        g_a, g_v = pseudo_labels(ref.audio, cfg.theta), pseudo_labels(ref.visual, cfg.theta)  # Eq. 9
        if cfg.contrastive in ("event_aware", "nce"):
            if cfg.contrastive == "event_aware":
                w_a, w_v = event_aware_weights(g_a, g_v)  # Eq. 10-11
            else:
                w_a = w_v = torch.ones(labels.shape[0], device=labels.device)
            terms["contrastive"] = cfg.w_contrastive * event_aware_contrastive_loss(
                out.anchor_tokens_a, out.anchor_tokens_v, ref.tokens_a, ref.tokens_v, w_a, w_v, cfg.tau,
                cfg.normalize, cfg.include_positive)
            terms["theta_a"], terms["theta_v"] = w_a.mean().detach(), w_v.mean().detach()
        elif cfg.contrastive == "bce":
            terms["contrastive"] = cfg.w_contrastive * pseudo_label_bce_loss(anc.audio, anc.visual, g_a, g_v)
        if cfg.self_modality:
            terms["self_modality"] = cfg.w_self_modality * self_modality_loss(
                ref.audio, ref.visual, anc.audio, anc.visual, cfg.theta,
                labels if cfg.self_mo_video_mask else None)
        if cfg.co_occurrence:
            if cfg.co_cls_scale == "released":
                terms["co_occurrence"] = cfg.w_co_occurrence * co_occurrence_loss_released(
                    ref.audio, ref.visual, anc.audio, anc.visual, labels)
            else:
                terms["co_occurrence"] = cfg.w_co_occurrence * co_occurrence_loss(
                    ref.audio, ref.visual, anc.audio, anc.visual)
        return terms

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        terms = self.losses(self(batch), batch["labels"], epoch)
        loss = sum(v for k, v in terms.items() if not k.startswith("theta_"))
        return loss, {"loss": loss.item(), **{k: float(v.detach()) for k, v in terms.items()}}

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        """The Anchor's probabilities; with ``config.inference == "released"`` every output is the released mix
        ``0.7 * with cross-attention + 0.3 * without`` (:data:`RELEASED_INFERENCE`, :meth:`predict_without_cross`)."""
        out = self.model.predict(batch["audio"], batch["visual_2d"], batch["visual_3d"])
        if self.config.inference != "released":
            return out
        r = RELEASED_INFERENCE["fuse_ratio"]
        return MMILOutput(*(r * a + (1 - r) * b for a, b in zip(out, self.predict_without_cross(batch))))

    @torch.no_grad()
    def predict_without_cross(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        """The Anchor with its HAN layer's cross-modal attention term skipped (same weights; the released
        ``model(..., with_ca=False)``). Needs a one-layer HAN Anchor (every CoLeaF registration has one)."""
        anchor = self.model.anchor
        if type(anchor) is not HAN:
            raise TypeError(f"predict_without_cross needs a one-layer HAN Anchor; got {type(anchor).__name__}")
        f_a, f_v = anchor.encode(batch["audio"], batch["visual_2d"], batch["visual_3d"])
        b = f_a.shape[0]
        hat = anchor.hat_layer(torch.cat((f_a, f_v), dim=0), None, use_cross=False)[0]
        return anchor.mmil_head(hat[:b], hat[b:])

    @property
    def inference_rule(self):
        """The method's own rule (``None``: the HAN rule, :func:`avvp_lib.train.method_predictions`): with
        ``config.inference == "released"``, :func:`released_inference_rule`."""
        return released_inference_rule if self.config.inference == "released" else None


def released_inference_rule(out: MMILOutput):
    """CoLeaF's released rule on (already mixed) probabilities: ``segment >= 0.25`` gated per modality by the
    audio-level (audio track) and visual-level (visual track) probability ``>= 0.52``. ``(pred_a, pred_v)``."""
    gates = torch.stack((out.audio, out.visual), dim=1)  # (N, 2, C)
    return inference_rule(out.segment, gates, RELEASED_INFERENCE["segment_threshold"],
                          RELEASED_INFERENCE["video_threshold"])


# ------------------------------------------------------------------------------------ ablations
@dataclass(frozen=True)
class Ablation:
    """A named configuration. ``config=None`` means a plain HAN (``han_kwargs`` for its options)."""

    config: CoLeaFConfig | None = field(default_factory=CoLeaFConfig)
    description: str = ""
    han_kwargs: dict = field(default_factory=dict)


ABLATIONS: dict[str, Ablation] = {
    "full": Ablation(CoLeaFConfig(), "everything on: L_Evt, L_SelfMo, class tokens, L_CoCls"),
    "evt_nce": Ablation(CoLeaFConfig(contrastive="nce"), "L_Evt replaced by the standard NCE (theta^a = theta^v = 1)"),
    "evt_bce": Ablation(CoLeaFConfig(contrastive="bce"),
                        "L_Evt replaced by BCE of the Anchor against the Reference pseudo-labels"),
    "no_evt": Ablation(CoLeaFConfig(contrastive="none"), "no contrastive term"),
    "no_self_modality": Ablation(CoLeaFConfig(self_modality=False), "the Reference learns from video labels only"),
    "no_co_occurrence": Ablation(CoLeaFConfig(co_occurrence=False), "class tokens kept, L_CoCls off"),
    "no_class_tokens": Ablation(CoLeaFConfig(class_tokens=False), "no class tokens, L_CoCls kept"),
    "no_class_tokens_no_co_occurrence": Ablation(CoLeaFConfig(class_tokens=False, co_occurrence=False),
                                                 "neither class tokens nor L_CoCls"),
    "han": Ablation(None, "the plain HAN baseline (same training recipe)"),
    "evt_weight_1": Ablation(CoLeaFConfig(w_contrastive=1.0),
                             "not a paper row: the full framework with contrastive weight 1 instead of 0.1"),
    "han_unimodal": Ablation(None, "HAN without cross-modal attention (Table 1's U; the paper measured CMPAE)",
                             {"cross_modal": False}),
}


def ablation(name: str) -> CoLeaFConfig | None:
    """The configuration of a named ablation row (None for a plain HAN baseline)."""
    if name not in ABLATIONS:
        raise KeyError(f"unknown ablation {name!r}; expected one of {sorted(ABLATIONS)}")
    return ABLATIONS[name].config


#: Backbone width per profile. ``full`` is the paper's (d = 512); ``quick`` narrows the tokens so that a
#: CoLeaF run fits a notebook's CPU budget (the architecture is otherwise unchanged).
MODEL_SIZES: dict[str, dict] = {"quick": {"d_model": 128, "ffn_dim": 128}, "full": {}}


def model_size(profile: str) -> dict:
    if profile not in MODEL_SIZES:
        raise ValueError(f"profile={profile!r}; expected one of {sorted(MODEL_SIZES)}")
    return dict(MODEL_SIZES[profile])


def build_method(name: str, seed: int = 0, profile: str = "full") -> nn.Module:
    """A freshly initialised, seeded method for an ablation name (HANMethod for ``han``) at the
    profile's width (:data:`MODEL_SIZES`)."""
    config = ablation(name)
    torch.manual_seed(seed)
    anchor = HAN(**model_size(profile), **ABLATIONS[name].han_kwargs)
    return HANMethod(anchor) if config is None else CoLeaFMethod(config, anchor=anchor)


def method_name(variant: str) -> str:
    return "HAN" if ablation(variant) is None else "CoLeaF"


def train_config(profile: str = "quick", seed: int = 0, device: str = "auto") -> TrainConfig:
    """CoLeaF's recipe. ``full``: the paper (Adam 5e-4, batch 128, 15 epochs, LR x0.25 every 6 epochs).
    ``quick`` (with the narrower backbone of :data:`MODEL_SIZES`): batch 32 on the 1500 quick training videos,
    20 epochs with the LR x0.25 every 8 (two decays, as in the paper) - about 900 updates, like the paper's
    ~1200; one CoLeaF run takes well under a minute on 2 idle CPU cores."""
    if profile == "full":
        return TrainConfig(epochs=15, batch_size=128, lr=5e-4, scheduler="step", step_size=6, gamma=0.25,
                           select_metric="segment/Type@AVo", seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=20, batch_size=32, lr=5e-4, scheduler="step", step_size=8, gamma=0.25,
                           select_metric="segment/Type@AVo", seed=seed, device=device)
    raise ValueError(f"profile={profile!r}; expected 'quick' or 'full'")
