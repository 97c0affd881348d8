"""CoLeaF's two branches (Sardari et al., ECCV 2024, Sec. 3.2).

* **Reference** (training only): per modality, one self-attention layer over
  ``[segment tokens; C learnable class tokens]`` (Eq. 5-6), a segment classifier and learnable
  temporal weights giving the modality's video-level probability (Eq. 7), and a class-token head
  (average over the embedding dimension, sigmoid) supervised by the video labels. The class
  tokens can be switched off (Table 4).
* **Anchor** (training and inference): any backbone with HAN's interface (``encode``,
  ``hybrid_attention``, ``mmil_head``; Eq. 1-4), wrapped without being changed (Table 5's "x").
  ``CoLeaF.predict`` runs the Anchor alone, so inference costs exactly what the backbone costs.

Where the paper is silent we follow the released code (``faeghehsardari/coleaf``,
``nets/net_audiovisual.py`` ``Self_Audio_Net``/``Self_Video_Net``): the "self-attention layer" is a
HAN layer without cross-attention (attention + LayerNorm + feed-forward), the Reference has its own
input projections (``share_encoder=True`` feeds it the Anchor's tokens instead), and the class
tokens start at zero. Differences we do *not* follow are listed in notebook 03.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from avvp_lib.models.han import HAN, HybridAttentionLayer, MMILOutput

__all__ = [
    "ReferenceOutput",
    "CoLeaFOutput",
    "append_class_tokens",
    "temporal_pooling",
    "class_token_probabilities",
    "ReferenceEncoder",
    "ReferenceStream",
    "Reference",
    "CoLeaF",
    "ANCHOR_INTERFACE",
    "class_to_segment_attention",
]

ANCHOR_INTERFACE = ("encode", "hybrid_attention", "mmil_head")


class ReferenceOutput(NamedTuple):
    """What the Reference branch predicts (probabilities in [0, 1]).

    audio, visual:   (B, C) modality video-level probabilities ddot P^a, ddot P^v (Eq. 7).
    segment:         (B, T, 2, C) segment probabilities ddot p_t (index 0 audio, 1 visual).
    tokens_a, _v:    (B, T, d) segment output tokens ddot F^a, ddot F^v (Eq. 8's keys).
    cls_a, cls_v:    (B, C) class-token probabilities CLS^a, CLS^v, or None without class tokens.
    attention:       None, or a dict ``audio``/``visual`` of (B, T+C, T+C) attention maps.
    """

    audio: Tensor
    visual: Tensor
    segment: Tensor
    tokens_a: Tensor
    tokens_v: Tensor
    cls_a: Tensor | None
    cls_v: Tensor | None
    attention: dict | None = None


class CoLeaFOutput(NamedTuple):
    """Both branches' outputs: the Anchor's MMILOutput and HAN-layer tokens, and the Reference's."""

    anchor: MMILOutput
    anchor_tokens_a: Tensor
    anchor_tokens_v: Tensor
    reference: ReferenceOutput


def append_class_tokens(tokens: Tensor, class_tokens: Tensor | None) -> Tensor:
    """``X = [F; C]``, CoLeaF Eq. (5): (B, T, d) segment tokens then the C class tokens (C, d) -> (B, T+C, d)."""
    if class_tokens is None:
        return tokens
    if class_tokens.dim() != 2 or class_tokens.shape[-1] != tokens.shape[-1]:
        raise ValueError(f"class_tokens must be (C, d={tokens.shape[-1]}); got {tuple(class_tokens.shape)}")
    return torch.cat((tokens, class_tokens.unsqueeze(0).expand(tokens.shape[0], -1, -1)), dim=1)


def temporal_pooling(segment_prob: Tensor, time_logits: Tensor) -> Tensor:
    """``ddot P = sum_t ddot w_t * ddot p_t`` with ``ddot w = softmax_t(FC_t(ddot F))``, CoLeaF Eq. (7).

    Both inputs (B, T, C); the weights are normalised over time per class, so the result is in [0, 1].
    """
    if segment_prob.shape != time_logits.shape:
        raise ValueError(f"segment_prob {tuple(segment_prob.shape)} and time_logits {tuple(time_logits.shape)} "
                         f"must have the same (B, T, C) shape")
    return (torch.softmax(time_logits, dim=1) * segment_prob).sum(dim=1)


def class_token_probabilities(class_outputs: Tensor) -> Tensor:
    """``CLS_i = sigmoid(AvgPool(ddot c_i))``: average each output class token over its embedding, (B, C, d) -> (B, C)."""
    return torch.sigmoid(class_outputs.mean(dim=-1))


class ReferenceEncoder(nn.Module):
    """The Reference's own input tokens: ``f^a = fc_a(audio)``, ``f^v = fc_fusion([fc_v(pool(2D)); fc_st(3D)])``.

    The same form as ``HAN.encode`` with separate weights (as in the released code).
    """

    def __init__(self, audio_dim: int = 128, visual_2d_dim: int = 2048, visual_3d_dim: int | None = 512,
                 d_model: int = 512) -> None:
        super().__init__()
        self.fc_a = nn.Linear(audio_dim, d_model)
        self.fc_v = nn.Linear(visual_2d_dim, d_model)
        self.fc_st = nn.Linear(visual_3d_dim, d_model) if visual_3d_dim is not None else None
        self.fc_fusion = nn.Linear(2 * d_model, d_model) if visual_3d_dim is not None else None

    def forward(self, audio: Tensor, visual_2d: Tensor, visual_3d: Tensor | None = None) -> tuple[Tensor, Tensor]:
        b, t, _ = audio.shape
        if visual_2d.shape[0] != b or visual_2d.shape[1] % t != 0:
            raise ValueError(f"visual_2d must be (B={b}, k*T with T={t}, D); got {tuple(visual_2d.shape)}")
        k = visual_2d.shape[1] // t
        if k > 1:
            visual_2d = visual_2d.reshape(b, t, k, visual_2d.shape[-1]).mean(dim=2)
        f_v = self.fc_v(visual_2d)
        if self.fc_st is not None:
            if visual_3d is None:
                raise ValueError("this Reference fuses a 3D visual stream: pass visual_3d (B, T, D3)")
            f_v = self.fc_fusion(torch.cat((f_v, self.fc_st(visual_3d)), dim=-1))
        return self.fc_a(audio), f_v


class ReferenceStream(nn.Module):
    """One modality of the Reference: Self-attn_phi over [F; C] (Eq. 5-6), FC_phi and temporal weights (Eq. 7)."""

    def __init__(self, num_classes: int = 25, d_model: int = 512, ffn_dim: int = 512, nhead: int = 1,
                 dropout: float = 0.1, class_tokens: bool = True) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.layer = HybridAttentionLayer(d_model, nhead, ffn_dim, dropout, cross_modal=False)
        self.class_tokens = nn.Parameter(torch.zeros(num_classes, d_model)) if class_tokens else None
        self.fc_prob = nn.Linear(d_model, num_classes)
        self.fc_time = nn.Linear(d_model, num_classes)

    def forward(self, tokens: Tensor, need_weights: bool = False):
        """``tokens`` (B, T, d) -> (video prob (B,C), segment prob (B,T,C), segment tokens (B,T,d),
        class-token prob (B,C) or None, attention (B,T+C,T+C) or None)."""
        t = tokens.shape[1]
        x = append_class_tokens(tokens, self.class_tokens)  # Eq. 5
        out, attention, _ = self.layer(x, None, need_weights=need_weights)  # Eq. 6
        seg_tokens = out[:, :t]
        segment_prob = torch.sigmoid(self.fc_prob(seg_tokens))
        video_prob = temporal_pooling(segment_prob, self.fc_time(seg_tokens))  # Eq. 7
        cls = class_token_probabilities(out[:, t:]) if self.class_tokens is not None else None
        return video_prob, segment_prob, seg_tokens, cls, attention


class Reference(nn.Module):
    """The Reference branch: unimodal self-attention with optional class tokens, one stream per modality.

    ``forward(audio, visual_2d, visual_3d, tokens=None)``; pass ``tokens=(f_a, f_v)`` to use given
    input tokens (e.g. the Anchor's, ``CoLeaF(share_encoder=True)``) instead of its own encoder.
    """

    def __init__(self, num_classes: int = 25, audio_dim: int = 128, visual_2d_dim: int = 2048,
                 visual_3d_dim: int | None = 512, d_model: int = 512, ffn_dim: int = 512, nhead: int = 1,
                 dropout: float = 0.1, class_tokens: bool = True, own_encoder: bool = True) -> None:
        super().__init__()
        self.class_tokens = class_tokens
        self.encoder = ReferenceEncoder(audio_dim, visual_2d_dim, visual_3d_dim, d_model) if own_encoder else None
        self.audio_stream = ReferenceStream(num_classes, d_model, ffn_dim, nhead, dropout, class_tokens)
        self.visual_stream = ReferenceStream(num_classes, d_model, ffn_dim, nhead, dropout, class_tokens)

    def forward(self, audio: Tensor | None = None, visual_2d: Tensor | None = None, visual_3d: Tensor | None = None,
                tokens: tuple[Tensor, Tensor] | None = None, need_weights: bool = False) -> ReferenceOutput:
        if tokens is None:
            if self.encoder is None:
                raise ValueError("this Reference has no encoder of its own: pass tokens=(f_a, f_v)")
            tokens = self.encoder(audio, visual_2d, visual_3d)
        f_a, f_v = tokens
        p_a, seg_a, tok_a, cls_a, att_a = self.audio_stream(f_a, need_weights)
        p_v, seg_v, tok_v, cls_v, att_v = self.visual_stream(f_v, need_weights)
        attention = {"audio": att_a, "visual": att_v} if need_weights else None
        return ReferenceOutput(p_a, p_v, torch.stack((seg_a, seg_v), dim=2), tok_a, tok_v, cls_a, cls_v, attention)


def check_anchor(anchor: nn.Module) -> None:
    """An Anchor must expose HAN's pieces; raise TypeError naming what is missing."""
    missing = [name for name in ANCHOR_INTERFACE if not callable(getattr(anchor, name, None))]
    if missing:
        raise TypeError(f"{type(anchor).__name__} cannot serve as CoLeaF's Anchor: it lacks {missing}; "
                        f"expected the HAN interface {list(ANCHOR_INTERFACE)}")


class CoLeaF(nn.Module):
    """Reference + Anchor (CoLeaF Fig. 2). The Anchor is any module with HAN's interface (a HAN by default).

    ``forward`` runs both branches (training); ``predict`` runs the Anchor alone (inference), so its
    cost equals the backbone's.
    """

    def __init__(self, anchor: nn.Module | None = None, class_tokens: bool = True, share_encoder: bool = False,
                 num_classes: int | None = None, **reference_kwargs) -> None:
        super().__init__()
        anchor = anchor if anchor is not None else HAN()
        check_anchor(anchor)
        sizes = dict(getattr(anchor, "config", {}))
        ref = {k: sizes[k] for k in ("audio_dim", "visual_2d_dim", "visual_3d_dim", "d_model", "ffn_dim", "nhead",
                                     "dropout") if k in sizes}
        ref.update(reference_kwargs)
        ref["num_classes"] = num_classes or sizes.get("num_classes", 25)
        self.anchor = anchor
        self.share_encoder = share_encoder
        self.reference = Reference(class_tokens=class_tokens, own_encoder=not share_encoder, **ref)

    def forward(self, audio: Tensor, visual_2d: Tensor, visual_3d: Tensor | None = None,
                need_weights: bool = False) -> CoLeaFOutput:
        f_a, f_v = self.anchor.encode(audio, visual_2d, visual_3d)
        hat_a, hat_v = self.anchor.hybrid_attention(f_a, f_v)  # Eq. 1-2
        anchor_out = self.anchor.mmil_head(hat_a, hat_v)  # Eq. 3-4
        if self.share_encoder:
            reference_out = self.reference(tokens=(f_a, f_v), need_weights=need_weights)
        else:
            reference_out = self.reference(audio, visual_2d, visual_3d, need_weights=need_weights)
        return CoLeaFOutput(anchor_out, hat_a, hat_v, reference_out)

    def predict(self, audio: Tensor, visual_2d: Tensor, visual_3d: Tensor | None = None) -> MMILOutput:
        """Inference: the Anchor alone (the Reference is never run)."""
        return self.anchor(audio, visual_2d, visual_3d)


def class_to_segment_attention(attention: Tensor, num_segments: int) -> Tensor:
    """How much each class token attends to each segment: rows T..T+C, columns 0..T of a Reference
    attention map (B, T+C, T+C) -> (B, C, T), renormalised over the T segments."""
    if attention.dim() != 3 or attention.shape[1] <= num_segments or attention.shape[1] != attention.shape[2]:
        raise ValueError(f"attention must be (B, T+C, T+C) with T={num_segments} and C > 0; "
                         f"got {tuple(attention.shape)}")
    block = attention[:, num_segments:, :num_segments]
    return block / block.sum(-1, keepdim=True).clamp_min(1e-12)
