"""VALOR's segment-level pseudo-labels from zero-shot CLIP/CLAP (Lai et al., NeurIPS 2023), as LINK uses them.

VALOR scores every segment against a text prompt per class with the frozen CLIP (visual) and CLAP
(audio) encoders, thresholds the logits *per class*, and keeps only the classes of the video-level
label::

    logit_{t,c}   = scale * cos(segment_t, prompt_c)                     (zero-shot)
    yhat^{mgt}_t  = [logit_{t,c} > tau_c] * y_c                          (used in the loss, LINK Eq. 8)
    yhat^{m}_t    = [logit_{t,c} > tau_c]                                (LINK's PLSIM: no video mask)

The released code uses hand-set per-class thresholds in logit units (CLIP logits are 100 x cosine).
The features of this course's synthetic benchmark are not the real CLIP/CLAP ones, so those
numbers do not transfer; :func:`calibrate_thresholds` picks one threshold per class on a split
with dense labels (validation), the automated version of VALOR's hand tuning.

UWAV's ``avvp_lib.pseudo_labels.valor_pseudo_labels`` applies the same rule ``1{z > theta} * y``
(through UWAV's Eq. 10, ``losses.uwav.hard_pseudo_labels``) but picks each threshold as the exact
best-F1 cut, as UWAV's released code does; LINK keeps this coarser cosine grid, closer to VALOR's
hand-set values. The two threshold rules are kept apart on purpose: each method family reproduces
its own paper's choice, and changing one must not change the other's numbers.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "zero_shot_similarity",
    "segment_pseudo_labels",
    "calibrate_thresholds",
    "DEFAULT_THRESHOLD_GRID",
    "segment_f1",
]

#: candidate cosine thresholds searched per class by :func:`calibrate_thresholds`
DEFAULT_THRESHOLD_GRID = tuple(round(0.01 * i, 2) for i in range(0, 31))  # 0.00 ... 0.30


def zero_shot_similarity(segments: Tensor, prompts: Tensor) -> Tensor:
    """Cosine similarity of every segment with every class prompt: (N, T, D) x (C, D) -> (N, T, C).

    Both sides are L2-normalised here (the released embeddings already are), so the result is the
    zero-shot logit divided by the encoder's logit scale.
    """
    if segments.dim() != 3 or prompts.dim() != 2 or segments.shape[-1] != prompts.shape[-1]:
        raise ValueError(f"expected segments (N, T, D) and prompts (C, D) with the same D; "
                         f"got {tuple(segments.shape)} and {tuple(prompts.shape)}")
    seg = torch.nn.functional.normalize(segments.float(), dim=-1)
    txt = torch.nn.functional.normalize(prompts.float().to(seg.device), dim=-1)
    return seg @ txt.T


def segment_pseudo_labels(similarity: Tensor, thresholds: Tensor, video_labels: Tensor | None = None) -> Tensor:
    """VALOR's segment pseudo-labels ``[sim_{t,c} > tau_c]`` (strict, as the released code), (N, T, C) float.

    With ``video_labels`` (N, C) the classes absent from the video label are zeroed: VALOR's
    ``yhat^{mgt}`` supervising LINK Eq. 8. Without it: LINK's test-time ``yhat^m`` (PLSIM, Sec. II-D).
    """
    if similarity.dim() != 3:
        raise ValueError(f"similarity must be (N, T, C); got {tuple(similarity.shape)}")
    c = similarity.shape[-1]
    thresholds = torch.as_tensor(thresholds, dtype=similarity.dtype, device=similarity.device)
    if thresholds.shape != (c,):
        raise ValueError(f"thresholds must be one per class, shape ({c},); got {tuple(thresholds.shape)}")
    labels = (similarity > thresholds).to(similarity.dtype)
    if video_labels is not None:
        if video_labels.shape != (similarity.shape[0], c):
            raise ValueError(f"video_labels must be (N={similarity.shape[0]}, C={c}); got {tuple(video_labels.shape)}")
        labels = labels * video_labels[:, None, :].to(labels)
    return labels.detach()


def calibrate_thresholds(similarity: Tensor, ground_truth: Tensor, video_labels: Tensor | None = None,
                         grid=DEFAULT_THRESHOLD_GRID) -> Tensor:
    """One threshold per class maximising the segment F1 of the pseudo-labels against ``ground_truth``.

    ``similarity``, ``ground_truth``: (N, T, C) on a split with dense labels. With ``video_labels``
    (N, C) the F1 is that of the video-masked labels (the loss's), without it that of the unmasked
    ones (PLSIM's, the harder use). Ties go to the smallest threshold. Returns (C,) float32.
    """
    if similarity.shape != ground_truth.shape:
        raise ValueError(f"similarity {tuple(similarity.shape)} and ground_truth {tuple(ground_truth.shape)} differ")
    grid_t = torch.as_tensor(grid, dtype=torch.float32)
    gt = ground_truth.bool()
    pred = similarity.float()[None] > grid_t[:, None, None, None]  # (G, N, T, C)
    if video_labels is not None:
        pred = pred & video_labels[:, None, :].bool()[None]
    tp = (pred & gt[None]).sum(dim=(1, 2)).float()
    fp = (pred & ~gt[None]).sum(dim=(1, 2)).float()
    fn = (~pred & gt[None]).sum(dim=(1, 2)).float()
    f1 = 2 * tp / (2 * tp + fp + fn).clamp_min(1.0)  # (G, C)
    return grid_t[f1.argmax(dim=0)]  # argmax returns the first (smallest) maximiser


def segment_f1(pred: Tensor, ground_truth: Tensor) -> float:
    """Micro F1 (percent) of binary segment labels over every (video, segment, class) entry.

    A diagnostic of pseudo-label quality (not the per-video LLP metric of ``avvp_lib.metrics``).
    """
    if pred.shape != ground_truth.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and ground_truth {tuple(ground_truth.shape)} differ")
    p, g = pred.bool(), ground_truth.bool()
    tp = (p & g).sum().item()
    denom = 2 * tp + (p & ~g).sum().item() + (~p & g).sum().item()
    return 100.0 * 2 * tp / denom if denom else 100.0
