"""UWAV stage 2: HAN trained on the generators' pseudo-labels (Lai et al., CVPR 2025, Sec. 4.1-4.4).

The inference model is HAN on VGGish / ResNet-152 / R(2+1)D features (the paper's main LLP setting,
Table 1; the ``clip_clap`` feature set of the main grid feeds it CLAP / CLIP / R(2+1)D instead, Table A6);
CLIP/CLAP always feed the pseudo-label generators. As released, the HAN has 5 layers with 16 heads
updated audio-then-visual (:class:`~avvp_lib.models.uwav.StackedHAN`; the ``full`` profile, see
:data:`STAGE2_HAN`); the ``quick`` profile keeps HAN's single layer and head. Its loss is Eq. (20)::

    L_total = L_seg + L_mix + L_video

* ``L_seg``: BCE of the segment probabilities against hard (Eq. 11) or soft (Eq. 13) pseudo-labels,
  optionally class-balanced (Eq. 17-19, ``W = 0.5`` on the released code's scale, Eq. 18-19 times C: the
  scale the authors' W = 0.5 was tuned on; ``reweight_scale="paper"`` is the printed scale);
* ``L_mix``: uncertainty-weighted feature mixup (Eq. 14-16, ``lambda ~ Beta(1.7, 1.7)``) of the
  HAN-layer outputs of two segments of the batch, through HAN's segment classifier;
* ``L_video``: BCE of the MMIL video probability against the video label.

:data:`ABLATIONS` holds the five rows of Table 4; :func:`sensitivity_configs` the alpha / W points
of supplementary Fig. A4-A5. Each is registered as ``uwav/<name>`` in ``avvp_lib.experiments``, which runs
them (``python -m avvp_lib.sweeps --tables 06_uwav_ablations``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from avvp_lib.losses.uwav import (class_balance_weights, class_balanced_bce, mixup_bce, mixup_segments,
                                  pseudo_label_bce, sample_mixup, uwav_total_loss, video_bce)
from avvp_lib.models.han import HAN, MMILOutput, attentive_mmil_pooling
from avvp_lib.models.uwav import StackedHAN
from avvp_lib.pseudo_labels import PseudoLabelBundle
from avvp_lib.train import TrainConfig

METHOD = "UWAV"


@dataclass(frozen=True)
class UWAVConfig:
    """Which of UWAV's components are on. Defaults: the full method (Table 4, last row)."""

    labels: str = "soft"  # "hard": Eq. (10)-(11); "soft": Eq. (12)-(13)
    reweight: bool = True  # class-balanced re-weighting, Eq. (17)-(19)
    W: float = 0.5
    mixup: bool = True  # uncertainty-weighted feature mixup, Eq. (14)-(16)
    alpha: float = 1.7
    temperature: float = 1.0  # soft labels sigmoid((z - theta) / temperature); the official code uses 2
    reweight_scale: str = "official"  # Eq. (18)-(19) times C as the released code; "paper": as printed
    mixup_targets: str = "soft"  # "hard": binary pseudo-labels (the AVE variant of Table A9)
    threshold_rule: str = "val_best_f1"

    def __post_init__(self):
        if self.labels not in ("hard", "soft"):
            raise ValueError(f"labels must be 'hard' or 'soft'; got {self.labels!r}")
        if self.mixup_targets not in ("hard", "soft"):
            raise ValueError(f"mixup_targets must be 'hard' or 'soft'; got {self.mixup_targets!r}")
        if self.reweight_scale not in ("paper", "official"):
            raise ValueError(f"reweight_scale must be 'paper' or 'official'; got {self.reweight_scale!r}")

    def to_dict(self) -> dict:
        return asdict(self)


#: Table 4 of the paper, row by row (binary / soft / soft + re-weight / soft + mixup / all).
ABLATIONS: dict[str, UWAVConfig] = {
    "binary": UWAVConfig(labels="hard", reweight=False, mixup=False),
    "soft": UWAVConfig(labels="soft", reweight=False, mixup=False),
    "soft+reweight": UWAVConfig(labels="soft", reweight=True, mixup=False),
    "soft+mixup": UWAVConfig(labels="soft", reweight=False, mixup=True),
    "uwav": UWAVConfig(),
}
#: Where paper and released code differ (not Table 4 rows): the printed re-weighting scale (our default is
#: the code's, on which the authors tuned W) and the code's soft-label temperature 2.
CODE_VARIANTS: dict[str, UWAVConfig] = {
    "soft+reweight (printed scale)": UWAVConfig(reweight=True, mixup=False, reweight_scale="paper"),
    "uwav (temperature 2, code)": UWAVConfig(temperature=2.0),
}
#: A diagnostic, not a paper row: Eq. (12) has no temperature, so how soft the labels are depends on the
#: generator's logit scale. Sharper soft labels (temperature 0.25) separate "soft vs binary" from "too soft".
#: ``binary+reweight+mixup`` (hard labels everywhere, mixup of hard targets) separates what the soft labels
#: add from what re-weighting and mixup add.
DIAGNOSTIC_VARIANTS: dict[str, UWAVConfig] = {
    "soft (temperature 0.25)": UWAVConfig(labels="soft", reweight=False, mixup=False, temperature=0.25),
    "uwav (temperature 0.25)": UWAVConfig(temperature=0.25),
    "binary+reweight+mixup": UWAVConfig(labels="hard", reweight=True, mixup=True, mixup_targets="hard"),
}
ALPHAS = (0.1, 0.5, 1.0, 1.5, 1.7, 2.0)
WS = (0.1, 0.25, 0.5, 1.0, 2.0)


def sensitivity_configs() -> dict[str, UWAVConfig]:
    """Fig. A4: alpha with mixup and no re-weighting; Fig. A5: W with re-weighting and no mixup, on the code's
    scale (``W=...``, the default) and on the printed one (``W=... (printed scale)``)."""
    out = {f"alpha={a}": UWAVConfig(reweight=False, mixup=True, alpha=a) for a in ALPHAS}
    out |= {f"W={w}": UWAVConfig(reweight=True, mixup=False, W=w) for w in WS}
    out |= {f"W={w} (printed scale)": UWAVConfig(reweight=True, mixup=False, W=w, reweight_scale="paper") for w in WS}
    return out


#: Stage-2 HAN per profile: ``full`` as released (5 layers, 16 heads, sequential audio-then-visual update);
#: ``quick`` HAN's one layer and head (CPU budget; its cost is measured by ``uwav/uwav@released-han``).
STAGE2_HAN: dict[str, dict] = {"quick": {}, "full": {"num_layers": 5, "nhead": 16}}
#: What the released stage-2 HAN has beyond :data:`STAGE2_HAN` ``["full"]`` (UWAV's model/HAN.py): a feed-forward
#: block of 2048 (HAN's is 512) and a 2-layer audio projection 128 -> 1024 -> d with a ReLU (HAN's is one Linear,
#: ``HAN(audio_mlp_hidden=1024)``). ``stage2_han("full", released=True)`` builds it; ``stage2_han("full")`` stays
#: what the recorded ``uwav/*`` runs trained (5 layers, 16 heads, HAN's FFN and audio Linear).
RELEASED_STAGE2_EXTRAS: dict = {"ffn_dim": 2048, "audio_mlp_hidden": 1024}


def stage2_han(profile: str, released: bool = False, **han_kwargs) -> HAN:
    """The stage-2 HAN of a profile (:data:`STAGE2_HAN`); ``han_kwargs`` (input sizes, or ``num_layers`` /
    ``nhead`` to override the profile's) go to the constructor. ``released=True`` (``full`` only: the release has
    one size) adds :data:`RELEASED_STAGE2_EXTRAS`: the HAN exactly as released (5 layers, 16 heads, sequential
    update, FFN 2048, audio MLP 128 -> 1024 -> d). The default (``released=False``) is unchanged."""
    if profile not in STAGE2_HAN:
        raise ValueError(f"unknown profile {profile!r}; expected one of {sorted(STAGE2_HAN)}")
    if released and profile != "full":
        raise ValueError(f"released=True builds the released stage-2 HAN, which has one size: use profile 'full' "
                         f"(an experiment's han_profile option trains it on quick data); got {profile!r}")
    size = {**STAGE2_HAN[profile], **(RELEASED_STAGE2_EXTRAS if released else {}), **han_kwargs}
    return StackedHAN(**size) if "num_layers" in size else HAN(**size)


def train_config(profile: str, seed: int = 0, device: str = "auto") -> TrainConfig:
    """HAN recipe. ``full``: supplementary Sec. 8 (AdamW, batch 64, 80 epochs, 10 warm-up epochs to
    1e-4, cosine decay, gradient norm clipped at 1.0; weight decay 1e-4 from the official script;
    the cosine ends at 0 instead of 5e-6). ``quick``: 6 epochs, batch 32, peak 5e-4 (CPU budget)."""
    if profile == "full":
        return TrainConfig(epochs=80, batch_size=64, lr=1e-4, optimizer="adamw", weight_decay=1e-4,
                           scheduler="cosine", warmup_epochs=10, grad_clip=1.0, seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=6, batch_size=32, lr=5e-4, optimizer="adamw", weight_decay=1e-4,
                           scheduler="cosine", warmup_epochs=1, grad_clip=1.0, seed=seed, device=device)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


class UWAVMethod(nn.Module):
    """HAN + UWAV's loss (Eq. 20). The batch must carry ``uwav_target_a/v`` (segment targets) and,
    with mixup, ``uwav_mix_a/v`` (mixup targets), each (B, T, C) - see :func:`training_targets`.

    ``weights``: ``{"a": (w_pos, w_neg), "v": (w_pos, w_neg)}`` of Eq. (18)-(19), needed when
    ``config.reweight``.
    """

    def __init__(self, config: UWAVConfig = UWAVConfig(), weights: dict | None = None, han: HAN | None = None,
                 **han_kwargs) -> None:
        super().__init__()
        if config.reweight and weights is None:
            raise ValueError("config.reweight needs the class-balance weights of Eq. (18)-(19); pass weights=")
        self.config = config
        self.weights = weights or {}
        self.han = han if han is not None else HAN(**han_kwargs)

    def forward(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self.han(batch["audio"], batch["visual_2d"], batch["visual_3d"])

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self(batch)

    def segment_loss(self, logits: torch.Tensor, batch: dict, modality: str) -> torch.Tensor:
        """L_hard / L_soft (Eq. 11/13) or the class-balanced L_w-soft (Eq. 17) of one modality."""
        target = batch[f"uwav_target_{modality}"]
        if self.config.reweight:
            w_pos, w_neg = self.weights[modality]
            return class_balanced_bce(logits, target, batch["labels"], w_pos, w_neg)
        return pseudo_label_bce(logits, target)

    def mixup_loss(self, features: torch.Tensor, batch: dict, modality: str) -> torch.Tensor:
        """L_mix of one modality (Eq. 14-16): mix HAN-layer outputs of the batch's segments."""
        s = features.shape[0] * features.shape[1]
        targets = batch[f"uwav_mix_{modality}"].reshape(s, -1)
        lam, perm = sample_mixup(s, self.config.alpha, features.device)
        mixed_f, mixed_t = mixup_segments(features.reshape(s, -1), targets, lam, perm)
        return mixup_bce(self.han.fc_prob(mixed_f), mixed_t)

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        han = self.han
        hat_a, hat_v = han.hybrid_attention(*han.encode(batch["audio"], batch["visual_2d"], batch["visual_3d"]))
        x = torch.stack((hat_a, hat_v), dim=-2)  # (B, T, 2, d)
        logits = han.fc_prob(x)
        out = attentive_mmil_pooling(torch.sigmoid(logits), han.fc_frame_att(x), han.fc_av_att(x))
        seg = self.segment_loss(logits[:, :, 0], batch, "a") + self.segment_loss(logits[:, :, 1], batch, "v")
        mix = (self.mixup_loss(hat_a, batch, "a") + self.mixup_loss(hat_v, batch, "v")) if self.config.mixup \
            else torch.zeros((), device=logits.device)
        vid = video_bce(out.video, batch["labels"])
        loss = uwav_total_loss(seg, mix, vid)
        return loss, {"loss": loss.item(), "seg": seg.item(), "mix": mix.item(), "video": vid.item()}


def training_targets(bundle: PseudoLabelBundle, config: UWAVConfig) -> dict[str, torch.Tensor]:
    """Per-video tensors for ``fit(extra_train=...)``: segment targets and mixup targets, (N, T, C) each."""
    hard_a, hard_v = bundle.hard("train")
    soft_a, soft_v = bundle.soft("train", config.temperature)
    seg = (hard_a, hard_v) if config.labels == "hard" else (soft_a, soft_v)
    mix = (soft_a, soft_v) if config.mixup_targets == "soft" else (hard_a, hard_v)
    return {"uwav_target_a": seg[0], "uwav_target_v": seg[1], "uwav_mix_a": mix[0], "uwav_mix_v": mix[1]}


def balance_weights(bundle: PseudoLabelBundle, config: UWAVConfig) -> dict[str, tuple[float, float]]:
    """Eq. (18)-(19) per modality from the binary pseudo-labels of the whole training set."""
    hard_a, hard_v = bundle.hard("train")
    return {"a": class_balance_weights(hard_a, config.W, config.reweight_scale),
            "v": class_balance_weights(hard_v, config.W, config.reweight_scale)}


def build_method(bundle: PseudoLabelBundle, config: UWAVConfig, profile: str = "quick", **han_kwargs) -> UWAVMethod:
    """A freshly initialised UWAV stage 2 (seed torch first) with the profile's HAN (:func:`stage2_han`)."""
    return UWAVMethod(config, balance_weights(bundle, config) if config.reweight else None,
                      han=stage2_han(profile, **han_kwargs))


def variant_config(variant: str) -> UWAVConfig:
    table = ABLATIONS | CODE_VARIANTS | DIAGNOSTIC_VARIANTS | sensitivity_configs()
    if variant not in table:
        raise ValueError(f"unknown UWAV variant {variant!r}; expected one of {sorted(table)}")
    return table[variant]
