"""LINK (Wang et al., "LINK: Adaptive Modality Interaction for Audio-Visual Video Parsing", Sec. II).

LINK is VALOR (a HAN on CLAP audio / CLIP visual segment features, trained with segment-level
pseudo-labels) plus three switchable parts; with every switch off :class:`LinkNet` *is* the
VALOR-style baseline:

* **TSAM** (Sec. II-B, Eq. 1-3): CBAM-like attention per modality - a temporal weight per segment
  (:func:`temporal_attention`) then a weight per feature channel (:func:`spatial_attention`).
* **CMIM** (Eq. 4-6): cross-modal attention added with four learnable scalars alpha_1,2, beta_1,2.
* **PLSIM** (Sec. II-D, Eq. 13-17): the prompt embeddings of each segment's pseudo-label classes,
  mapped by four MLPs to a scale and a bias per modality, FiLM-fused with a residual.

Pipeline (``LinkNet.forward``)::

    clap, clip --fc--> f^a, f^v --TSAM--> --CMIM--> --PLSIM--> HAN layers --> MMIL head

The paper does not draw where the modules sit relative to the HAN layers; we put them in front,
where its text places them (TSAM acts on "the features obtained by CLAP and CLIP", PLSIM fuses
"the outputs of CMIM"). ``placement="after_han"`` moves the block behind the HAN layers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from avvp_lib.models.blocks import mlp
from avvp_lib.models.han import HybridAttentionLayer, MMILOutput, attentive_mmil_pooling

__all__ = [
    "temporal_attention",
    "spatial_attention",
    "TSAM",
    "cross_modal_interaction",
    "CMIM",
    "pseudo_label_semantics",
    "film_fusion",
    "PLSIM",
    "LinkNetConfig",
    "LinkOutput",
    "LinkNet",
]


# ----------------------------------------------------------------------------------------- TSAM
def temporal_attention(f: Tensor, mlp: nn.Module) -> Tensor:
    """LINK Eq. 1: ``W^m = sigmoid(MLP(AvgPool(f^m)) + MLP(MaxPool(f^m)))``, one weight per segment.

    ``f`` (B, T, D); the pooling runs over the D channels of each segment, giving two (B, T)
    descriptors that go through the same ``mlp`` (T -> T). Returns (B, T, 1).
    """
    avg = f.mean(dim=-1)
    mx = f.amax(dim=-1)
    return torch.sigmoid(mlp(avg) + mlp(mx)).unsqueeze(-1)


def spatial_attention(f: Tensor, conv: nn.Module) -> Tensor:
    """LINK Eq. 2: ``S^m = sigmoid(conv([AvgPool(f); MaxPool(f)]))``, one weight per feature channel.

    The pooling runs over the T segments, giving two (B, D) descriptors stacked as 2 channels.
    Eq. 2 as printed has no layer between the concatenation and the sigmoid, which would leave
    two maps for one feature; we add CBAM's convolution (2 -> 1 channels along the feature axis),
    the module LINK says TSAM follows [10]. Returns (B, 1, D).
    """
    pooled = torch.stack((f.mean(dim=1), f.amax(dim=1)), dim=1)  # (B, 2, D)
    return torch.sigmoid(conv(pooled))


class TSAM(nn.Module):
    """Temporal-spatial attention of one modality, LINK Eq. 3 (with f^m, not the printed f^a).

    ``hat f^m = S^m(W^m(f^m) * f^m) * (W^m(f^m) * f^m)``: CBAM's order, channel weights computed on
    the temporally re-weighted features. The printed Eq. 3 multiplies by ``f^a`` for both
    modalities; that would overwrite the visual stream with audio features (the visual branch
    could then never see a visible-only event), contradicting "modality-specific enhancement" and
    CBAM, so we read it as a typo for ``f^m``.
    """

    def __init__(self, num_segments: int = 10, hidden: int = 5, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size={kernel_size}: expected an odd size (same-length convolution)")
        self.num_segments = num_segments
        self.mlp = nn.Sequential(nn.Linear(num_segments, hidden), nn.ReLU(), nn.Linear(hidden, num_segments))
        self.conv = nn.Conv1d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, f: Tensor, return_weights: bool = False):
        if f.dim() != 3 or f.shape[1] != self.num_segments:
            raise ValueError(f"TSAM expects (B, T={self.num_segments}, D); got {tuple(f.shape)}")
        w = temporal_attention(f, self.mlp)
        g = w * f
        s = spatial_attention(g, self.conv)
        out = s * g
        return (out, w.squeeze(-1), s.squeeze(1)) if return_weights else out


# ----------------------------------------------------------------------------------------- CMIM
def cross_modal_interaction(f_a: Tensor, f_v: Tensor, alpha: Tensor, beta: Tensor,
                            scale: float | None = None) -> tuple[Tensor, Tensor]:
    """LINK Eq. 4-6 (after the AV-Adapter [11]).

    ``f^ac = f^a + alpha_2 Softmax(f^a f^v^T)(beta_2 f^v)`` (Eq. 4),
    ``f^vc = f^v + alpha_1 Softmax(f^v f^a^T)(beta_1 f^a)`` (Eq. 5),
    ``f^aout = f^a + f^ac``, ``f^vout = f^v + f^vc`` (Eq. 6).
    ``alpha = (alpha_1, alpha_2)``, ``beta = (beta_1, beta_2)``; softmax over the T keys.
    The paper's product has no 1/sqrt(D) factor (``scale=None``); pass ``scale`` to divide by it.
    """
    if f_a.shape != f_v.shape:
        raise ValueError(f"f_a and f_v must have the same shape; got {tuple(f_a.shape)} and {tuple(f_v.shape)}")
    logits_a = f_a @ f_v.transpose(1, 2)  # (B, T, T): audio queries, visual keys
    if scale is not None:
        logits_a = logits_a / scale
    f_ac = f_a + alpha[1] * torch.softmax(logits_a, dim=-1) @ (beta[1] * f_v)
    f_vc = f_v + alpha[0] * torch.softmax(logits_a.transpose(1, 2), dim=-1) @ (beta[0] * f_a)
    return f_a + f_ac, f_v + f_vc


class CMIM(nn.Module):
    """Cross-modal interaction module with four learnable scalars (LINK Eq. 4-6).

    alpha and beta only enter as the products alpha_2 beta_2 (audio <- visual) and alpha_1 beta_1
    (visual <- audio): four parameters, two effective gains. Both start at ``init`` (1.0: a plain
    residual cross-attention), so the learned values show how much each modality takes in.
    """

    def __init__(self, init: float = 1.0, scaled: bool = False) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.full((2,), float(init)))
        self.beta = nn.Parameter(torch.full((2,), float(init)))
        self.scaled = scaled

    def forward(self, f_a: Tensor, f_v: Tensor) -> tuple[Tensor, Tensor]:
        scale = f_a.shape[-1] ** 0.5 if self.scaled else None
        return cross_modal_interaction(f_a, f_v, self.alpha, self.beta, scale)


# ---------------------------------------------------------------------------------------- PLSIM
def pseudo_label_semantics(pseudo_labels: Tensor, prompts: Tensor) -> Tensor:
    """LINK Eq. 13: the text features ``F_p`` of the classes in each segment's pseudo-label.

    ``pseudo_labels`` (B, T, C) in {0, 1}, ``prompts`` (C, D) = CLAP (audio) or CLIP (visual)
    prompt embeddings. A segment with several classes gets the mean of their embeddings, one
    with none a zero vector (the paper does not say how several classes combine). (B, T, D).
    """
    if pseudo_labels.shape[-1] != prompts.shape[0]:
        raise ValueError(f"pseudo_labels have {pseudo_labels.shape[-1]} classes; prompts {prompts.shape[0]}")
    counts = pseudo_labels.sum(dim=-1, keepdim=True).clamp_min(1.0)
    return (pseudo_labels @ prompts) / counts


def film_fusion(f: Tensor, scale: Tensor, bias: Tensor) -> Tensor:
    """LINK Eq. 16-17: ``F = f (.) gamma_1 + gamma_2 + f`` (FiLM with a residual)."""
    return f * scale + bias + f


class PLSIM(nn.Module):
    """Pseudo-label semantic interaction (LINK Eq. 13-17): four MLPs Delta^1..4 give scale and bias."""

    def __init__(self, d_model: int, audio_text_dim: int = 512, visual_text_dim: int = 768,
                 hidden: int | None = None) -> None:
        super().__init__()
        h = hidden or d_model
        self.scale_a = mlp(audio_text_dim, h, d_model)  # Delta^1 -> gamma_a1 (Eq. 14)
        self.bias_a = mlp(audio_text_dim, h, d_model)  # Delta^2 -> gamma_a2
        self.scale_v = mlp(visual_text_dim, h, d_model)  # Delta^3 -> rho_v1 (Eq. 15)
        self.bias_v = mlp(visual_text_dim, h, d_model)  # Delta^4 -> rho_v2

    def forward(self, f_a: Tensor, f_v: Tensor, text_a: Tensor, text_v: Tensor) -> tuple[Tensor, Tensor]:
        """``text_a``/``text_v``: the F_p^a, F_p^v of Eq. 13, (B, T, D_text)."""
        return (film_fusion(f_a, self.scale_a(text_a), self.bias_a(text_a)),
                film_fusion(f_v, self.scale_v(text_v), self.bias_v(text_v)))


# -------------------------------------------------------------------------------------- network
@dataclass(frozen=True)
class LinkNetConfig:
    """Sizes and switches. All switches off = the VALOR-style HAN baseline."""

    tsam: bool = False
    cmim: bool = False
    plsim: bool = False
    num_classes: int = 25
    num_segments: int = 10
    audio_dim: int = 512  # CLAP (VGGish: 128 on the standard features)
    visual_dim: int = 768  # CLIP (ResNet-152: 2048 on the standard features)
    visual_3d_dim: int | None = None  # R(2+1)D (512), fused as VALOR's released code does; None: not fused
    audio_text_dim: int = 512  # CLAP text prompts (PLSIM), whatever the audio input
    visual_text_dim: int = 768  # CLIP text prompts (PLSIM)
    d_model: int = 256
    nhead: int = 8
    ffn_dim: int = 1024
    num_layers: int = 4
    dropout: float = 0.1
    tsam_hidden: int = 5
    tsam_kernel: int = 7
    cmim_init: float = 1.0
    cmim_scaled: bool = False
    placement: str = "before_han"  # before_han | after_han
    #: how each HAN layer updates the two streams. ``parallel``: both from the un-updated inputs (HAN's official
    #: Encoder; every course configuration). ``sequential``: VALOR's released code (Franklin905/VALOR,
    #: main_network.py, ``Encoder.forward``): audio first, ``a' = layer(a, v)``, then the visual stream attends to
    #: the *updated* audio, ``v' = layer(v, a')``, with the same layer weights.
    update_order: str = "parallel"

    def to_dict(self) -> dict:
        """Every field, except those added later (:data:`LATER_FIELDS`) at their default (old hashes hold)."""
        return {k: v for k, v in asdict(self).items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}


#: LinkNetConfig fields added after results were recorded, with the value that reproduces the old network;
#: :meth:`LinkNetConfig.to_dict` leaves them out at that value.
LATER_FIELDS = {"update_order": "parallel"}


class LinkOutput(NamedTuple):
    """``mmil``: the MMILOutput every method returns; plus what LINK's losses need."""

    mmil: MMILOutput
    segment_logits: Tensor  # (B, T, 2, C)
    feat_a: Tensor  # (B, T, d): features entering the MMIL head
    feat_v: Tensor


class LinkNet(nn.Module):
    """HAN layers on CLAP/CLIP features with LINK's optional TSAM, CMIM and PLSIM."""

    def __init__(self, config: LinkNetConfig = LinkNetConfig()) -> None:
        super().__init__()
        if config.placement not in ("before_han", "after_han"):
            raise ValueError(f"placement={config.placement!r}; expected 'before_han' or 'after_han'")
        if config.update_order not in ("parallel", "sequential"):
            raise ValueError(f"update_order={config.update_order!r}; expected 'parallel' or 'sequential'")
        self.config = config
        d = config.d_model
        self.fc_a = nn.Linear(config.audio_dim, d)
        self.fc_v = nn.Linear(config.visual_dim, d)
        if config.visual_3d_dim is not None:
            self.fc_st = nn.Linear(config.visual_3d_dim, d)
            self.fc_fusion = nn.Linear(2 * d, d)
        self.tsam_a = TSAM(config.num_segments, config.tsam_hidden, config.tsam_kernel) if config.tsam else None
        self.tsam_v = TSAM(config.num_segments, config.tsam_hidden, config.tsam_kernel) if config.tsam else None
        self.cmim = CMIM(config.cmim_init, config.cmim_scaled) if config.cmim else None
        self.plsim = PLSIM(d, config.audio_text_dim, config.visual_text_dim) if config.plsim else None
        self.layers = nn.ModuleList(HybridAttentionLayer(d, config.nhead, config.ffn_dim, config.dropout)
                                    for _ in range(config.num_layers))
        self.fc_prob = nn.Linear(d, config.num_classes)
        self.fc_frame_att = nn.Linear(d, config.num_classes)
        self.fc_av_att = nn.Linear(d, config.num_classes)

    def encode(self, audio: Tensor, visual: Tensor, visual_3d: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Project CLAP (B,T,512) and CLIP (B,T,768) segments to (B,T,d) tokens."""
        cfg = self.config
        if audio.dim() != 3 or audio.shape[1:] != (cfg.num_segments, cfg.audio_dim):
            raise ValueError(f"audio must be (B, {cfg.num_segments}, {cfg.audio_dim}); got {tuple(audio.shape)}")
        if visual.shape != (audio.shape[0], cfg.num_segments, cfg.visual_dim):
            raise ValueError(f"visual must be (B={audio.shape[0]}, {cfg.num_segments}, {cfg.visual_dim}); "
                             f"got {tuple(visual.shape)}")
        f_a, f_v = self.fc_a(audio), self.fc_v(visual)
        if cfg.visual_3d_dim is not None:
            if visual_3d is None:
                raise ValueError("this LinkNet fuses a 3D visual stream (visual_3d_dim set): pass visual_3d")
            f_v = self.fc_fusion(torch.cat((f_v, self.fc_st(visual_3d)), dim=-1))
        return f_a, f_v

    def link_block(self, f_a: Tensor, f_v: Tensor, text_a: Tensor | None, text_v: Tensor | None):
        """TSAM -> CMIM -> PLSIM, each only when switched on."""
        if self.tsam_a is not None:
            f_a, f_v = self.tsam_a(f_a), self.tsam_v(f_v)
        if self.cmim is not None:
            f_a, f_v = self.cmim(f_a, f_v)
        if self.plsim is not None:
            if text_a is None or text_v is None:
                raise ValueError("PLSIM is on: pass the pseudo-label semantics text_a, text_v (B, T, D_text)")
            f_a, f_v = self.plsim(f_a, f_v, text_a, text_v)
        return f_a, f_v

    def han_layers(self, f_a: Tensor, f_v: Tensor) -> tuple[Tensor, Tensor]:
        """Stacked hybrid-attention layers. ``update_order="parallel"``: both modalities updated from the
        un-updated inputs (HAN); ``"sequential"``: per layer ``a' = layer(a, v)`` then ``v' = layer(v, a')``
        (VALOR's released ``Encoder``)."""
        if self.config.update_order == "sequential":
            for layer in self.layers:
                f_a = layer(f_a, f_v)[0]
                f_v = layer(f_v, f_a)[0]
            return f_a, f_v
        b = f_a.shape[0]
        x = torch.cat((f_a, f_v), dim=0)
        for layer in self.layers:
            x, _, _ = layer(x, torch.cat((x[b:], x[:b]), dim=0))
        return x[:b], x[b:]

    def head(self, h_a: Tensor, h_v: Tensor) -> tuple[MMILOutput, Tensor]:
        x = torch.stack((h_a, h_v), dim=-2)  # (B, T, 2, d)
        logits = self.fc_prob(x)
        return attentive_mmil_pooling(torch.sigmoid(logits), self.fc_frame_att(x), self.fc_av_att(x)), logits

    def forward(self, audio: Tensor, visual: Tensor, visual_3d: Tensor | None = None,
                text_a: Tensor | None = None, text_v: Tensor | None = None) -> LinkOutput:
        f_a, f_v = self.encode(audio, visual, visual_3d)
        if self.config.placement == "before_han":
            f_a, f_v = self.han_layers(*self.link_block(f_a, f_v, text_a, text_v))
        else:
            f_a, f_v = self.link_block(*self.han_layers(f_a, f_v), text_a, text_v)
        mmil, logits = self.head(f_a, f_v)
        return LinkOutput(mmil, logits, f_a, f_v)
