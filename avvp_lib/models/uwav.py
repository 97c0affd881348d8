"""UWAV's temporally-coherent pseudo-label generators (Lai et al., UWAV, CVPR 2025, Sec. 4.1).

One transformer per modality maps a video's per-second CLIP (visual) or CLAP (audio) features to
per-second class logits against the prompt embeddings of *any* class list, so the same network is
pretrained on UnAV-100 (100 classes) and then labels LLP (25 classes):

* input projection (a 2-layer MLP, as in the official code) to the model width ``d``;
* ``L = 5`` post-norm encoder blocks, Eq. (6)-(7)::

      G~_l    = LN(G_l + Attn(G_l, G_l, G_l))      (6)
      G_{l+1} = LN(G~_l + FFN(G~_l))               (7)

  padded seconds are excluded as attention keys (``mask``) so a 20 s video padded to 60 s gives
  the same logits as alone;
* output projection back to the prompt space, and logits ``z_t = E . g_{L,t}`` (Eq. 8).

The audio-visual pretraining objective (Eq. 9) is :func:`avvp_lib.losses.uwav.av_pretraining_loss`.
"""
from __future__ import annotations

from torch import Tensor, nn

from avvp_lib.models.blocks import mlp
from avvp_lib.models.han import HAN, HybridAttentionLayer


class EncoderBlock(nn.Module):
    """One post-norm transformer encoder block, UWAV Eq. (6)-(7), batch-first.

    ``forward(g (B, T, d), mask (B, T) bool, True = real second)``; padded positions are not
    attended to (their own outputs are computed but never used).
    """

    def __init__(self, d_model: int, nhead: int, ffn_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ffn_dim, d_model))
        self.drop1 = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)

    def forward(self, g: Tensor, mask: Tensor | None = None) -> Tensor:
        pad = None if mask is None else ~mask
        attended = self.attn(g, g, g, key_padding_mask=pad, need_weights=False)[0]
        g_tilde = self.norm1(g + self.drop1(attended))  # Eq. (6)
        return self.norm2(g_tilde + self.drop2(self.ffn(g_tilde)))  # Eq. (7)


class TemporalTransformer(nn.Module):
    """The per-modality generator: features (B, T, D_in) -> logits (B, T, C) against prompts (C, D_text).

    Args:
        input_dim: CLIP (768) or CLAP (512) feature size.
        text_dim: prompt-embedding size (the same as ``input_dim`` for CLIP/CLAP).
        d_model, nhead, ffn_dim, num_layers, dropout: encoder size; the paper uses L = 5 blocks
            (the official code: d = 1024, 16 heads, FFN 2048, dropout 0.3).
        logit_scale: constant multiplying Eq. (8)'s inner product (1 = the paper; the official code
            multiplies by 4.6 (visual) / 3.3 (audio), which the learned projection can absorb).
        projection: ``"mlp"`` (the official 2-layer MLPs in and out) or ``"linear"`` (one linear map
            each way: the quick profile's CPU-sized generator).
    """

    def __init__(self, input_dim: int, text_dim: int | None = None, d_model: int = 1024, nhead: int = 16,
                 ffn_dim: int = 2048, num_layers: int = 5, dropout: float = 0.3, logit_scale: float = 1.0,
                 projection: str = "mlp") -> None:
        super().__init__()
        text_dim = text_dim or input_dim
        self.input_dim, self.text_dim = input_dim, text_dim
        if projection == "mlp":
            self.proj_in, self.proj_out = mlp(input_dim, 2 * d_model, d_model), mlp(d_model, text_dim, text_dim)
        elif projection == "linear":
            self.proj_in, self.proj_out = nn.Linear(input_dim, d_model), nn.Linear(d_model, text_dim)
        else:
            raise ValueError(f"projection must be 'mlp' or 'linear'; got {projection!r}")
        self.blocks = nn.ModuleList(EncoderBlock(d_model, nhead, ffn_dim, dropout) for _ in range(num_layers))
        self.logit_scale = logit_scale

    def encode(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Segment features ``G_L`` (B, T, D_text) after the L blocks and the output projection."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"expected features (B, T, {self.input_dim}); got {tuple(x.shape)}")
        if mask is not None and mask.shape != x.shape[:2]:
            raise ValueError(f"mask must be (B, T) = {tuple(x.shape[:2])}; got {tuple(mask.shape)}")
        g = self.proj_in(x)
        for block in self.blocks:
            g = block(g, mask)
        return self.proj_out(g)

    def forward(self, x: Tensor, text: Tensor, mask: Tensor | None = None) -> Tensor:
        """Logits ``z_t = E . g_{L,t}``, UWAV Eq. (8): (B, T, C) for prompts ``text`` (C, D_text)."""
        if text.dim() != 2 or text.shape[1] != self.text_dim:
            raise ValueError(f"expected prompt embeddings (C, {self.text_dim}); got {tuple(text.shape)}")
        return self.logit_scale * self.encode(x, mask) @ text.T


#: the released code's constants of Eq. (8): logits = scale * <g_t, E_c> (visual, audio)
RELEASED_LOGIT_SCALES = {"visual_logit_scale": 4.6, "audio_logit_scale": 3.3}


class PseudoLabelGenerator(nn.Module):
    """The two generators of UWAV: visual (CLIP) and audio (CLAP), trained jointly by Eq. (9).

    ``forward(clip (B,T,768), clap (B,T,512), clip_text (C,768), clap_text (C,512), mask)`` returns
    ``(z_a, z_v)``, audio and visual logits (B, T, C).

    ``visual_logit_scale`` / ``audio_logit_scale``: the constant of Eq. (8) per modality (1 = the paper as
    printed; the released code uses 4.6 and 3.3, :data:`RELEASED_LOGIT_SCALES`).
    """

    def __init__(self, clip_dim: int = 768, clap_dim: int = 512, visual_logit_scale: float = 1.0,
                 audio_logit_scale: float = 1.0, **kwargs) -> None:
        super().__init__()
        self.config = dict(clip_dim=clip_dim, clap_dim=clap_dim, visual_logit_scale=visual_logit_scale,
                           audio_logit_scale=audio_logit_scale, **kwargs)
        self.visual = TemporalTransformer(clip_dim, logit_scale=visual_logit_scale, **kwargs)
        self.audio = TemporalTransformer(clap_dim, logit_scale=audio_logit_scale, **kwargs)

    def forward(self, clip: Tensor, clap: Tensor, clip_text: Tensor, clap_text: Tensor,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.audio(clap, clap_text, mask), self.visual(clip, clip_text, mask)


class StackedHAN(HAN):
    """UWAV's stage-2 HAN as released: ``num_layers`` HAN layers (distinct weights, each shared by both
    modalities) updated sequentially - audio first, then visual attending to the *updated* audio
    (the one-layer :class:`~avvp_lib.models.han.HAN` updates both from the same inputs). ``num_layers=1``
    with ``sequential=False`` is exactly HAN. Heads and widths are HAN's arguments (released: 16 heads)."""

    def __init__(self, num_layers: int = 5, sequential: bool = True, **han_kwargs) -> None:
        super().__init__(**han_kwargs)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1; got {num_layers}")
        self.config.update(num_layers=num_layers, sequential=sequential)
        self.sequential = sequential
        d, heads, ffn, drop = (self.config[k] for k in ("d_model", "nhead", "ffn_dim", "dropout"))
        self.extra_layers = nn.ModuleList(HybridAttentionLayer(d, heads, ffn, drop, self.cross_modal)
                                          for _ in range(num_layers - 1))

    def hybrid_attention(self, f_a: Tensor, f_v: Tensor, return_attention: bool = False):
        if return_attention:
            raise NotImplementedError("StackedHAN does not return attention maps")
        if not self.sequential and not len(self.extra_layers):
            return super().hybrid_attention(f_a, f_v)
        for layer in (self.hat_layer, *self.extra_layers):
            if self.sequential:
                f_a = layer(f_a, f_v if self.cross_modal else None)[0]
                f_v = layer(f_v, f_a if self.cross_modal else None)[0]
            else:
                f_a, f_v = layer(f_a, f_v if self.cross_modal else None)[0], layer(f_v, f_a if self.cross_modal else None)[0]
        return f_a, f_v
