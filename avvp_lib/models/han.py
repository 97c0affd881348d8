"""Hybrid Attention Network (HAN) with attentive MMIL pooling.

Tian, Li & Xu, "Unified Multisensory Perception: Weakly-Supervised Audio-Visual
Video Parsing", ECCV 2020 (official class ``MMIL_Net`` in
``nets/net_audiovisual.py`` of github.com/YapengTian/AVVP-ECCV20).  The
equation numbers below are those of the CoLeaF paper (ECCV 2024, section 3.1),
which restates HAN compactly:

* Eq. (1)-(2), the hybrid attention layer::

      f^a_t <- f^a_t + Self-attn(f^a_t, F^a) + Cross-attn(f^a_t, F^v)
      f^v_t <- f^v_t + Self-attn(f^v_t, F^v) + Cross-attn(f^v_t, F^a)

  The official layer additionally applies dropout (0.1) to the attention
  weights and to both attention outputs, a LayerNorm, a position-wise feed-forward block (512 -> 512 -> 512, ReLU,
  dropout) with a residual connection and a second LayerNorm.  One layer with
  one set of weights serves both modalities, and both updates are computed
  from the *un-updated* inputs.
* Segment probabilities ``P^phi = sigmoid(FC(hat F^phi))`` with one FC shared
  by the two modalities.
* Eq. (3)-(4), attentive MMIL pooling::

      W^t  = softmax over time     of FC_t (hat F)   (T, 2, C)
      W^av = softmax over modality of FC_av(hat F)   (T, 2, C)
      video score = sum_t sum_m W^t * W^av * P

  W^t is normalised over time for each modality and W^av over modalities for
  each segment, so the video score is bounded by 2, not 1 (the official
  training loop clamps it before the BCE loss).
  The official network also returns modality-level probabilities
  ``sum_t W^t[:, m] * P[:, m]`` (no modality attention), which its training
  loss supervises alongside the video probability.

Implementation notes (the differences from the official code are purely
computational; ``tests/test_han.py`` checks equality against a re-implementation
of the official class):

* Tensors are batch-first ``(B, T, d)`` throughout.
* The official code projects all 8 ResNet frames of a segment with ``fc_v`` and
  then average-pools them.  ``fc_v`` is affine, so ``mean_k(W x_k + b) =
  W mean_k(x_k) + b``: we pool first and project once, which is the same
  function with 8x fewer multiply-adds in the largest layer (2048 -> 512).  The
  frames per segment are ``k = visual_2d.shape[1] // audio.shape[1]``, so
  pre-pooled features (k = 1) are accepted too.
* Because the same layer weights are used for both modalities, the audio and
  the visual queries are stacked along the batch axis and go through each
  attention block and the feed-forward block in a single call.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MMILOutput", "HybridAttentionLayer", "HAN", "attentive_mmil_pooling"]


class MMILOutput(NamedTuple):
    """Probabilities predicted by an MMIL network (all in [0, 1]).

    video:   (B, C) video-level score, CoLeaF Eq. (4).  Not a convex
             combination: it lies in [0, 2] (M = 2 modalities), like the
             official ``global_prob``, which the official training loop clamps
             to [1e-7, 1 - 1e-7] before the BCE.
    audio:   (B, C) audio-level probability, sum_t W^t_{t,a} * P^a_t.
    visual:  (B, C) visual-level probability, sum_t W^t_{t,v} * P^v_t.
    segment: (B, T, 2, C) segment probabilities P; index 0 audio, 1 visual.
    """

    video: Tensor
    audio: Tensor
    visual: Tensor
    segment: Tensor


def attentive_mmil_pooling(
    segment_prob: Tensor, frame_att_logits: Tensor, av_att_logits: Tensor
) -> MMILOutput:
    """Attentive MMIL pooling, CoLeaF Eq. (3)-(4).

    All three inputs are (B, T, M, C) with M = 2 modalities.  ``W^t`` is the
    softmax of ``frame_att_logits`` over time (dim 1), ``W^av`` the softmax of
    ``av_att_logits`` over modalities (dim 2).  Returns the video score
    ``sum_t sum_m W^t W^av P`` (in [0, M]) and the modality probabilities
    ``sum_t W^t P`` (in [0, 1]).
    """
    w_time = torch.softmax(frame_att_logits, dim=1)
    w_av = torch.softmax(av_att_logits, dim=2)
    temporal_prob = w_time * segment_prob  # (B, T, M, C)
    video = (temporal_prob * w_av).sum(dim=(1, 2))
    modality = temporal_prob.sum(dim=1)  # (B, M, C)
    return MMILOutput(video, modality[:, 0], modality[:, 1], segment_prob)


class HybridAttentionLayer(nn.Module):
    """One HAN layer, CoLeaF Eq. (1)-(2) plus the official norm/FFN block.

    For a query stream ``q`` and the other stream ``o`` (both (B, T, d))::

        x = q + Dropout(CrossAttn(q, o, o)) + Dropout(SelfAttn(q, q, q))
        x = LayerNorm1(x)
        x = LayerNorm2(x + Dropout(W2 Dropout(ReLU(W1 x))))

    With ``cross_modal=False`` the cross-attention block does not exist and
    the layer is a plain (unimodal) self-attention encoder layer.  Parameter
    names follow the official ``HANLayer`` (``self_attn``, ``cm_attn``,
    ``linear1``, ``linear2``, ``norm1``, ``norm2``).
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 1,
        ffn_dim: int = 512,
        dropout: float = 0.1,
        cross_modal: bool = True,
    ) -> None:
        super().__init__()
        self.cross_modal = cross_modal
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.cm_attn = (
            nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
            if cross_modal
            else None
        )
        self.linear1 = nn.Linear(d_model, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)  # inside the FFN
        self.dropout_cm = nn.Dropout(dropout)  # official dropout11
        self.dropout_self = nn.Dropout(dropout)  # official dropout12
        self.dropout_ffn = nn.Dropout(dropout)  # official dropout2

    def forward(
        self, query: Tensor, other: Tensor | None = None, need_weights: bool = False, use_cross: bool = True
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Update ``query`` (B, T, d) attending to itself and to ``other``.

        Returns ``(output, self_attention, cross_attention)``; the attention
        maps are (B, T, T) head-averaged weights when ``need_weights`` is true,
        else ``None`` (and the attention runs through the fused kernel).
        ``use_cross=False`` skips the cross-attention term of a cross-modal
        layer (``other`` is then ignored): the released CoLeaF/CMPAE code's
        ``with_ca=False`` pass, same weights, self-attention only.
        """
        cross_w = None
        use_cross = use_cross and self.cm_attn is not None
        if use_cross:
            if other is None:
                raise ValueError("a cross-modal HAN layer needs the other modality's features")
            cross_out, cross_w = self.cm_attn(query, other, other, need_weights=need_weights)
        self_out, self_w = self.self_attn(query, query, query, need_weights=need_weights)
        if use_cross:
            x = query + self.dropout_cm(cross_out) + self.dropout_self(self_out)
        else:
            x = query + self.dropout_self(self_out)
        x = self.norm1(x)
        ffn = self.linear2(self.dropout(F.relu(self.linear1(x))))
        x = self.norm2(x + self.dropout_ffn(ffn))
        return x, self_w, cross_w


# official key prefix -> our module prefix (for the modules the official forward uses)
_OFFICIAL_LAYER = "hat_encoder.layers.0."
_OWN_LAYER = "hat_layer."
# official modules that exist in MMIL_Net but never take part in its forward pass
_OFFICIAL_UNUSED_PREFIXES = (
    "audio_encoder.",
    "visual_encoder.",
    "cmt_encoder.",
    "hat_encoder.norm1.",
    "hat_encoder.norm2.",
)


class HAN(nn.Module):
    """HAN / MMIL_Net of Tian et al. (ECCV 2020), batch-first.

    Args:
        num_classes: C, number of event classes (25 for LLP).
        audio_dim: VGGish feature size (128).
        visual_2d_dim: ResNet-152 frame feature size (2048), or the CLIP size
            when used as the only visual stream.
        visual_3d_dim: R(2+1)D feature size (512); ``None`` drops the 3D stream
            and the fusion layer, so the visual tokens are ``fc_v(visual_2d)``.
        d_model: token size (512).
        ffn_dim: hidden size of the feed-forward block (512).
        nhead: attention heads (1).
        dropout: dropout of attention weights, residual branches and FFN (0.1).
        cross_modal: ``False`` removes the cross-attention term of Eq. (1)-(2)
            (the unimodal HAN of CoLeaF Table 1).
        audio_mlp_hidden: ``None`` (default, HAN's official code): the audio
            projection ``fc_a`` is one Linear ``audio_dim -> d_model``. An int
            ``h``: ``fc_a`` is a 2-layer MLP ``audio_dim -> h -> d_model`` with a
            ReLU, UWAV's released stage-2 HAN (``h = 1024``: model/HAN.py of the
            UWAV release, lines 162-163 and 176-182). Left out of ``config``
            when ``None`` (provenance hashes of the existing runs hold).

    ``forward(audio (B,T,128), visual_2d (B,k*T,2048), visual_3d (B,T,512))``
    returns :class:`MMILOutput`; the pieces are available separately as
    :meth:`encode`, :meth:`hybrid_attention` and :meth:`mmil_head`.
    """

    def __init__(
        self,
        num_classes: int = 25,
        audio_dim: int = 128,
        visual_2d_dim: int = 2048,
        visual_3d_dim: int | None = 512,
        d_model: int = 512,
        ffn_dim: int = 512,
        nhead: int = 1,
        dropout: float = 0.1,
        cross_modal: bool = True,
        audio_mlp_hidden: int | None = None,
    ) -> None:
        super().__init__()
        self.config = dict(
            num_classes=num_classes,
            audio_dim=audio_dim,
            visual_2d_dim=visual_2d_dim,
            visual_3d_dim=visual_3d_dim,
            d_model=d_model,
            ffn_dim=ffn_dim,
            nhead=nhead,
            dropout=dropout,
            cross_modal=cross_modal,
        )
        if audio_mlp_hidden is not None:  # added later: absent from config at its default
            self.config["audio_mlp_hidden"] = audio_mlp_hidden
        self.num_classes = num_classes
        self.cross_modal = cross_modal
        # input projections (official names)
        if audio_mlp_hidden is None:
            self.fc_a = nn.Linear(audio_dim, d_model)
        else:
            self.fc_a = nn.Sequential(nn.Linear(audio_dim, audio_mlp_hidden), nn.ReLU(),
                                      nn.Linear(audio_mlp_hidden, d_model))
        self.fc_v = nn.Linear(visual_2d_dim, d_model)
        if visual_3d_dim is not None:
            self.fc_st = nn.Linear(visual_3d_dim, d_model)
            self.fc_fusion = nn.Linear(2 * d_model, d_model)
        else:
            self.fc_st = None
            self.fc_fusion = None
        # the single HAN layer shared by both modalities
        self.hat_layer = HybridAttentionLayer(d_model, nhead, ffn_dim, dropout, cross_modal)
        # MMIL heads
        self.fc_prob = nn.Linear(d_model, num_classes)
        self.fc_frame_att = nn.Linear(d_model, num_classes)
        self.fc_av_att = nn.Linear(d_model, num_classes)

    # ------------------------------------------------------------------ pieces
    def encode(
        self, audio: Tensor, visual_2d: Tensor, visual_3d: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Input tokens ``F^a, F^v`` (B, T, d) of the HAN layer.

        ``f^a = fc_a(audio)``; ``f^v = fc_fusion([fc_v(pool(visual_2d)); fc_st(visual_3d)])``
        where ``pool`` averages the k = visual_2d.shape[1] // T frames of each
        segment (pooling before the affine ``fc_v`` equals the official
        pooling after it).  Without a 3D stream ``f^v = fc_v(pool(visual_2d))``.
        """
        if audio.dim() != 3 or visual_2d.dim() != 3:
            raise ValueError(
                f"expected audio (B, T, {self.config['audio_dim']}) and visual_2d "
                f"(B, k*T, {self.fc_v.in_features}); got {tuple(audio.shape)} and "
                f"{tuple(visual_2d.shape)}"
            )
        b, t, _ = audio.shape
        n_frames = visual_2d.shape[1]
        if visual_2d.shape[0] != b or n_frames % t != 0 or n_frames == 0:
            raise ValueError(
                f"visual_2d must be (B={b}, k*T with T={t}, {self.fc_v.in_features}); "
                f"got {tuple(visual_2d.shape)}"
            )
        k = n_frames // t
        if k > 1:
            visual_2d = visual_2d.reshape(b, t, k, visual_2d.shape[-1]).mean(dim=2)
        f_a = self.fc_a(audio)
        f_v = self.fc_v(visual_2d)
        if self.fc_st is not None:
            if visual_3d is None:
                raise ValueError("this HAN fuses a 3D visual stream: pass visual_3d (B, T, D3)")
            if visual_3d.shape[:2] != (b, t):
                raise ValueError(
                    f"visual_3d must be (B={b}, T={t}, {self.fc_st.in_features}); "
                    f"got {tuple(visual_3d.shape)}"
                )
            f_v = self.fc_fusion(torch.cat((f_v, self.fc_st(visual_3d)), dim=-1))
        elif visual_3d is not None:
            raise ValueError("this HAN was built with visual_3d_dim=None; do not pass visual_3d")
        return f_a, f_v

    def hybrid_attention(self, f_a: Tensor, f_v: Tensor, return_attention: bool = False):
        """Apply the HAN layer, CoLeaF Eq. (1)-(2), to both modalities.

        Both outputs are computed from the un-updated ``f_a``, ``f_v`` with the
        same layer weights.  Returns ``(hat_f_a, hat_f_v)``, plus a dict of
        (B, T, T) attention maps ``self_a, self_v, cross_a, cross_v`` (cross
        maps are ``None`` without cross-modal attention) when
        ``return_attention`` is true (taken after attention dropout in
        training mode, so call it in eval mode for clean maps).
        """
        if f_a.shape != f_v.shape:
            raise ValueError(
                f"f_a and f_v must have the same shape; got {tuple(f_a.shape)} and {tuple(f_v.shape)}"
            )
        b = f_a.shape[0]
        queries = torch.cat((f_a, f_v), dim=0)  # (2B, T, d): audio rows, then visual rows
        others = torch.cat((f_v, f_a), dim=0) if self.cross_modal else None
        out, self_w, cross_w = self.hat_layer(queries, others, need_weights=return_attention)
        hat_a, hat_v = out[:b], out[b:]
        if not return_attention:
            return hat_a, hat_v
        attention = {
            "self_a": self_w[:b],
            "self_v": self_w[b:],
            "cross_a": cross_w[:b] if cross_w is not None else None,
            "cross_v": cross_w[b:] if cross_w is not None else None,
        }
        return hat_a, hat_v, attention

    def mmil_head(self, hat_a: Tensor, hat_v: Tensor) -> MMILOutput:
        """Segment probabilities and attentive MMIL pooling, CoLeaF Eq. (3)-(4)."""
        x = torch.stack((hat_a, hat_v), dim=-2)  # (B, T, 2, d)
        segment_prob = torch.sigmoid(self.fc_prob(x))
        return attentive_mmil_pooling(segment_prob, self.fc_frame_att(x), self.fc_av_att(x))

    def forward(
        self, audio: Tensor, visual_2d: Tensor, visual_3d: Tensor | None = None
    ) -> MMILOutput:
        f_a, f_v = self.encode(audio, visual_2d, visual_3d)
        hat_a, hat_v = self.hybrid_attention(f_a, f_v)
        return self.mmil_head(hat_a, hat_v)

    # ------------------------------------------------- official checkpoints
    def _official_key_map(self) -> dict[str, str]:
        """Official MMIL_Net key -> our state-dict key, for every parameter we hold."""
        mapping = {}
        for own in self.state_dict():
            if own.startswith(_OWN_LAYER):
                rest = own[len(_OWN_LAYER):]
                mapping[_OFFICIAL_LAYER + rest] = own
            else:
                mapping[own] = own
        return mapping

    @classmethod
    def from_official_state_dict(cls, state_dict: Mapping[str, Tensor], **kwargs) -> "HAN":
        """Build a HAN holding the weights of an official ``MMIL_Net`` state dict.

        Keys may carry a ``module.`` prefix (DataParallel).  Keys of modules the
        official forward never uses (``audio_encoder``, ``visual_encoder``,
        ``cmt_encoder``, ``hat_encoder.norm1/norm2``) are ignored, and so are
        those of modules this configuration drops (``cm_attn`` with
        ``cross_modal=False``; ``fc_st``/``fc_fusion`` with
        ``visual_3d_dim=None``).  ``kwargs`` go to the constructor (defaults:
        the official sizes).  A missing key, a wrong shape or an unknown key
        raises ``ValueError`` naming it.
        """
        model = cls(**kwargs)
        sd = {
            (k[len("module."):] if k.startswith("module.") else k): v for k, v in state_dict.items()
        }
        key_map = model._official_key_map()
        own_sd = model.state_dict()
        sizes = ", ".join(f"{k}={v}" for k, v in model.config.items())
        hint = f"(model built with {sizes}; pass matching keyword arguments for other sizes)"

        droppable = list(_OFFICIAL_UNUSED_PREFIXES)
        if not model.cross_modal:
            droppable.append(_OFFICIAL_LAYER + "cm_attn.")
        if model.fc_st is None:
            droppable += ["fc_st.", "fc_fusion."]
        unknown = [k for k in sd if k not in key_map and not k.startswith(tuple(droppable))]
        if unknown:
            raise ValueError(f"unexpected keys in the official state dict: {sorted(unknown)}")

        loaded = {}
        for official, own in key_map.items():
            if official not in sd:
                raise ValueError(
                    f"missing key {official!r} (expected shape {tuple(own_sd[own].shape)}) {hint}"
                )
            value = sd[official]
            if tuple(value.shape) != tuple(own_sd[own].shape):
                raise ValueError(
                    f"key {official!r}: expected shape {tuple(own_sd[own].shape)}, "
                    f"got {tuple(value.shape)} {hint}"
                )
            loaded[own] = value
        model.load_state_dict(loaded, strict=True)
        return model

    def to_official_state_dict(self) -> dict[str, Tensor]:
        """State dict under the official ``MMIL_Net`` key names.

        Only the modules the official forward uses are included, so load it
        with ``MMIL_Net.load_state_dict(sd, strict=False)``; the missing keys
        are exactly those of the unused encoders.
        """
        own_sd = self.state_dict()
        return {official: own_sd[own].detach().clone() for official, own in self._official_key_map().items()}
