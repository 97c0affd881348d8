"""LINK's losses (Wang et al., Sec. II-C), one function per equation.

* Eq. 7-8, the VALOR loss: ``L_video = BCE(p, y)`` on the MMIL video probability and
  ``L^m_video = sum_t BCE(p^m_t, yhat^{mgt}_t)`` on each modality's segment probabilities against
  VALOR's video-masked segment pseudo-labels.
* Eq. 9-10 (S-LOSS, part 1): ``L_label``. As printed, ``BCE(Y, y)`` compares two label sets and
  has no gradient. The sentence before it defines Y as *video-level pseudo-labels* ("an event is
  in Y as soon as it occurs in a segment"), and LINK cites LEAP [9], whose loss supervises each
  modality's video-level probability with exactly such labels. We implement that reading:
  ``L_label = BCE(p^a, Y^a) + BCE(p^v, Y^v)``, ``Y^m = max_t yhat^{mgt}_t``.
* Eq. 10-12 (S-LOSS, part 2): ``L_avss = MSE(s, r)`` between the cosine similarity s of every
  (audio segment t, visual segment t') pair and the IoU r of their pseudo-label class sets,
  weighted per pair by lambda(s) (Eq. 11) with a trainable mu.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from avvp_lib.losses.mmil import bce

__all__ = [
    "video_loss",
    "segment_pseudo_label_loss",
    "valor_loss",
    "video_pseudo_labels",
    "label_loss",
    "segment_cosine",
    "event_iou",
    "avss_weight",
    "avss_loss",
]


def video_loss(video_prob: Tensor, labels: Tensor) -> Tensor:
    """LINK Eq. 8 (left): ``L_video = BCE(p, y)``; p clamped to [1e-7, 1-1e-7] as in HAN/VALOR code."""
    return bce(video_prob, labels)


def segment_pseudo_label_loss(segment_logits: Tensor, pseudo_labels: Tensor, reduction: str = "sum_t") -> Tensor:
    """LINK Eq. 8 (right): ``L^m_video = sum_t BCE(p^m_t, yhat^{mgt}_t)`` for one modality.

    ``segment_logits``, ``pseudo_labels``: (B, T, C). ``reduction="sum_t"`` (paper) averages over
    batch and classes and sums over the T segments; ``"mean"`` averages over everything, as
    VALOR's released code does (``binary_cross_entropy_with_logits``), i.e. ``sum_t`` / T.
    """
    if segment_logits.shape != pseudo_labels.shape:
        raise ValueError(f"segment_logits {tuple(segment_logits.shape)} and pseudo_labels "
                         f"{tuple(pseudo_labels.shape)} must have the same (B, T, C) shape")
    per = F.binary_cross_entropy_with_logits(segment_logits, pseudo_labels.to(segment_logits), reduction="none")
    if reduction == "sum_t":
        return per.mean(dim=(0, 2)).sum()
    if reduction == "mean":
        return per.mean()
    raise ValueError(f"reduction={reduction!r}; expected 'sum_t' (paper) or 'mean' (VALOR code)")


def valor_loss(video_prob: Tensor, segment_logits: Tensor, labels: Tensor, pseudo_audio: Tensor,
               pseudo_visual: Tensor, reduction: str = "sum_t") -> tuple[Tensor, dict[str, Tensor]]:
    """LINK Eq. 7: ``L_VALOR = L_video + L^a_video + L^v_video``; ``segment_logits`` (B, T, 2, C)."""
    parts = {
        "video": video_loss(video_prob, labels),
        "audio": segment_pseudo_label_loss(segment_logits[:, :, 0], pseudo_audio, reduction),
        "visual": segment_pseudo_label_loss(segment_logits[:, :, 1], pseudo_visual, reduction),
    }
    return parts["video"] + parts["audio"] + parts["visual"], parts


def video_pseudo_labels(segment_pseudo: Tensor) -> Tensor:
    """Y^m (text before Eq. 9): a class is in the video-level pseudo-label if any segment has it. (B, C)."""
    return segment_pseudo.amax(dim=1)


def label_loss(audio_prob: Tensor, visual_prob: Tensor, pseudo_audio: Tensor, pseudo_visual: Tensor) -> Tensor:
    """LINK Eq. 10 (left), read as ``L_label = BCE(p^a, Y^a) + BCE(p^v, Y^v)`` (see module docstring).

    ``audio_prob``/``visual_prob`` (B, C): each modality's attention-pooled video probability;
    ``pseudo_*`` (B, T, C) segment pseudo-labels, pooled to Y^m by :func:`video_pseudo_labels`.
    """
    return (bce(audio_prob, video_pseudo_labels(pseudo_audio))
            + bce(visual_prob, video_pseudo_labels(pseudo_visual)))


def segment_cosine(feat_a: Tensor, feat_v: Tensor) -> Tensor:
    """s of Eq. 10: cosine similarity of every audio segment t with every visual segment t'. (B, T, T)."""
    if feat_a.shape != feat_v.shape:
        raise ValueError(f"feat_a {tuple(feat_a.shape)} and feat_v {tuple(feat_v.shape)} must match")
    return F.normalize(feat_a, dim=-1) @ F.normalize(feat_v, dim=-1).transpose(1, 2)


def event_iou(pseudo_audio: Tensor, pseudo_visual: Tensor) -> Tensor:
    """r of Eq. 10: IoU of the class sets of audio segment t and visual segment t'. (B, T, T) in [0, 1].

    Two empty sets share no event: r = 0 (as LEAP's code, where the overlap count is 0).
    """
    a, v = pseudo_audio.float(), pseudo_visual.float()
    inter = a @ v.transpose(1, 2)
    union = a.sum(-1)[:, :, None] + v.sum(-1)[:, None, :] - inter
    return inter / union.clamp_min(1.0)


def avss_weight(s: Tensor, mu: Tensor | float) -> Tensor:
    """LINK Eq. 11, lambda(s) with ``e = exp(|1 - mu|)``::

        1               s <= -0.2
        e               -0.2 < s < 0
        e + (1 - e) s   s >= 0        (e at s = 0, falling linearly to 1 at s = 1)

    Gradient flows to ``mu`` (trainable) but not through s: lambda weights samples.
    """
    mu = torch.as_tensor(mu, dtype=s.dtype, device=s.device)
    e = torch.exp((1 - mu).abs())
    s = s.detach()
    return torch.where(s <= -0.2, torch.ones_like(s), torch.where(s < 0, e.expand_as(s), e + (1 - e) * s))


def avss_loss(s: Tensor, r: Tensor, mu: Tensor | float | None = None) -> Tensor:
    """LINK Eq. 10 (right) and its weighted form in Eq. 12: ``mean(lambda(s) (s - r)^2)``.

    ``mu=None`` gives the unweighted ``MSE(s, r)`` of Eq. 10.
    """
    if s.shape != r.shape:
        raise ValueError(f"s {tuple(s.shape)} and r {tuple(r.shape)} must have the same shape")
    sq = (s - r) ** 2
    return sq.mean() if mu is None else (avss_weight(s, mu) * sq).mean()
