"""UWAV's losses and label transforms (Lai et al., CVPR 2025, Eq. 9-20), one function per equation.

Notation: ``z`` pseudo-label logits (N, T, C) from the generators, ``theta`` class-wise thresholds
(C,), ``y`` video-level labels (N, C), ``p`` the inference model's segment probabilities.
Segment losses take *logits* of the inference model (``binary_cross_entropy_with_logits``), which
is BCE(sigmoid(logit), target) computed stably.

Where the official code differs from the paper the paper is the default and the code's variant is
an argument: soft labels use ``sigmoid((z - theta) / 2)`` in the code (``temperature=2``), the
re-weighting weights are the paper's times ``C`` in the code (``scale="official"``) and the
pretraining loss up-weights classes present in the video by 5 (``present_weight=5``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

PROB_EPS = 1e-7


def _check_same(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")


def av_pretraining_loss(z_a: Tensor, z_v: Tensor, y_av: Tensor, mask: Tensor | None = None,
                        present_weight: float = 1.0) -> Tensor:
    """UWAV Eq. (9): ``BCE(p_v * p_a, y_av)`` with ``p = sigmoid(z)``, averaged over real seconds and classes.

    UnAV events are audio-visual, so the product of the two probabilities is supervised.
    ``mask`` (B, T) drops padded seconds. ``present_weight`` multiplies the loss of classes that
    occur somewhere in the video (the official code uses 5; the paper does not mention it: 1).
    """
    _check_same("z_a", z_a, "z_v", z_v)
    _check_same("z_a", z_a, "y_av", y_av)
    p_av = (torch.sigmoid(z_a) * torch.sigmoid(z_v)).clamp(PROB_EPS, 1 - PROB_EPS)
    loss = F.binary_cross_entropy(p_av, y_av.to(p_av.dtype), reduction="none")  # (B, T, C)
    if present_weight != 1.0:
        present = y_av.amax(dim=1, keepdim=True) > 0
        loss = loss * torch.where(present, present_weight, 1.0)
    if mask is None:
        return loss.mean()
    if mask.shape != z_a.shape[:2]:
        raise ValueError(f"mask must be (B, T) = {tuple(z_a.shape[:2])}; got {tuple(mask.shape)}")
    m = mask.to(loss.dtype).unsqueeze(-1)
    return (loss * m).sum() / (m.sum() * loss.shape[-1]).clamp_min(1.0)


def _broadcast_labels(y: Tensor, z: Tensor) -> Tensor:
    if y.dim() == 2:
        y = y.unsqueeze(1)  # (N, 1, C): the video-level label holds for every segment
    if y.shape[0] != z.shape[0] or y.shape[-1] != z.shape[-1]:
        raise ValueError(f"video labels {tuple(y.shape)} do not match logits {tuple(z.shape)} (N, T, C)")
    return y.to(z.dtype)


def hard_pseudo_labels(z: Tensor, theta: Tensor, y: Tensor) -> Tensor:
    """UWAV Eq. (10): ``y_hat_t = 1{z_t > theta} * y`` - binary segment labels, zero for classes not in the video."""
    return (z > theta).to(z.dtype) * _broadcast_labels(y, z)


def soft_pseudo_labels(z: Tensor, theta: Tensor, y: Tensor, temperature: float = 1.0) -> Tensor:
    """UWAV Eq. (12): ``p_hat_t = sigmoid(z_t - theta) * y`` - uncertainty-weighted labels.

    A logit far above (below) its class threshold gives a label near 1 (0); one at the threshold
    gives 0.5. ``temperature=2`` is the official code's ``sigmoid((z - theta) / 2)``.
    Infinite thresholds (a class never positive) give 0 or 1, never NaN.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    diff = torch.nan_to_num(z - theta, nan=0.0, posinf=1e4, neginf=-1e4)
    return torch.sigmoid(diff / temperature) * _broadcast_labels(y, z)


def pseudo_label_bce(logits: Tensor, targets: Tensor) -> Tensor:
    """UWAV Eq. (11) / (13) for one modality: ``BCE(p_t, target_t)`` averaged over segments and classes.

    Hard targets (Eq. 10) give L_hard, soft targets (Eq. 12) give L_soft; the equations sum this
    over the two modalities.
    """
    _check_same("logits", logits, "targets", targets)
    return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))


def class_balance_weights(hard_labels: Tensor, W: float = 0.5, scale: str = "paper") -> tuple[float, float]:
    """UWAV Eq. (18)-(19): ``(w_pos, w_neg)`` of one modality from its binary training pseudo-labels.

    ``w_pos = W * mean(1 - y_hat)`` (the share of negative entries) and ``w_neg = mean(y_hat)``
    (the share of positive ones), the means over all N videos, T segments and C classes.
    ``scale="official"`` multiplies both by C, as the released code does (same ratio, C times larger).
    """
    if hard_labels.dim() != 3:
        raise ValueError(f"expected binary pseudo-labels (N, T, C); got shape {tuple(hard_labels.shape)}")
    if scale not in ("paper", "official"):
        raise ValueError(f"scale must be 'paper' or 'official'; got {scale!r}")
    positive = float(hard_labels.float().mean())
    factor = hard_labels.shape[-1] if scale == "official" else 1.0
    return factor * W * (1.0 - positive), factor * positive


def class_balanced_bce(logits: Tensor, targets: Tensor, y: Tensor, w_pos: float, w_neg: float) -> Tensor:
    """UWAV Eq. (17) for one modality: ``mean(w_pos * y * BCE + w_neg * (1 - y) * BCE)``.

    ``y`` is the video-level label (N, C) broadcast over segments: classes in the video are the
    rare "positive events", the others the abundant negatives.
    """
    _check_same("logits", logits, "targets", targets)
    yb = _broadcast_labels(y, logits)
    bce = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    return ((w_pos * yb + w_neg * (1.0 - yb)) * bce).mean()


def sample_mixup(num_segments: int, alpha: float, device=None) -> tuple[float, Tensor]:
    """``lambda ~ Beta(alpha, alpha)`` and a random partner for every segment (a permutation).

    Draws from torch's global generator, so a seeded run (``train.seed_everything``) repeats them.
    """
    if alpha <= 0:
        raise ValueError(f"alpha must be positive; got {alpha}")
    a = torch.tensor(float(alpha))
    lam = float(torch.distributions.Beta(a, a).sample())
    return lam, torch.randperm(num_segments).to(device or "cpu")


def mixup_segments(features: Tensor, targets: Tensor, lam: float, perm: Tensor) -> tuple[Tensor, Tensor]:
    """UWAV Eq. (14)/(15) for one modality: mix each segment with its partner ``perm[i]``.

    ``f_bar = lam * f_i + (1 - lam) * f_perm[i]`` and ``p_bar = lam * p_hat_i + (1 - lam) * p_hat_perm[i]``;
    ``features`` (S, d) and ``targets`` (S, C) are the segments of a batch, flattened over videos and time.
    """
    if features.shape[0] != targets.shape[0] or perm.shape != (features.shape[0],):
        raise ValueError(f"features {tuple(features.shape)}, targets {tuple(targets.shape)} and perm "
                         f"{tuple(perm.shape)} must share the first dimension S")
    perm = perm.to(features.device)
    return lam * features + (1 - lam) * features[perm], lam * targets + (1 - lam) * targets[perm]


def mixup_bce(mixed_logits: Tensor, mixed_targets: Tensor) -> Tensor:
    """UWAV Eq. (16) for one modality: ``BCE(p_mix, p_bar)`` averaged over mixed segments and classes."""
    return pseudo_label_bce(mixed_logits, mixed_targets)


def video_bce(video_prob: Tensor, y: Tensor) -> Tensor:
    """L_video = BCE(p, y) of the MMIL video probability (UWAV Sec. 3), clamped as the official code does."""
    _check_same("video_prob", video_prob, "y", y)
    return F.binary_cross_entropy(video_prob.clamp(PROB_EPS, 1 - PROB_EPS), y.to(video_prob.dtype))


def uwav_total_loss(segment_loss: Tensor, mixup_loss: Tensor | float, video_loss: Tensor) -> Tensor:
    """UWAV Eq. (20): ``L_total = L_w-soft + L_mix + L_video`` (each already summed over the two modalities)."""
    return segment_loss + mixup_loss + video_loss
