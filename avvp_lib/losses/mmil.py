"""The HAN / MMIL video-level losses (Tian et al. ECCV 2020; CoLeaF Sec. 3.1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

PROB_EPS = 1e-7  # the official code clamps probabilities to [1e-7, 1 - 1e-7] before BCE


def smooth_targets(labels: torch.Tensor, keep: float) -> torch.Tensor:
    """Label smoothing toward 0.5 as in the official HAN code: ``keep * y + (1 - keep) * 0.5``.

    The official recipe keeps the audio target (keep = 1.0) and smooths the visual one (keep = 0.9),
    since a video-level label is less often true of the visual track.
    """
    return keep * labels + (1.0 - keep) * 0.5


def bce(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of probabilities, clamped as in the official code."""
    return F.binary_cross_entropy(prob.clamp(PROB_EPS, 1 - PROB_EPS), target)


def mmil_video_loss(video: torch.Tensor, audio: torch.Tensor, visual: torch.Tensor, labels: torch.Tensor,
                    audio_keep: float = 1.0, visual_keep: float = 0.9) -> torch.Tensor:
    """HAN's guided loss: BCE(P, Y) + BCE(P^a, Y_a) + BCE(P^v, Y_v) with smoothed modality targets.

    ``video`` is the MMIL-pooled probability (CoLeaF Eq. 4), ``audio``/``visual`` the per-modality
    temporal poolings; all (B, C).
    """
    return (bce(video, labels) + bce(audio, smooth_targets(labels, audio_keep))
            + bce(visual, smooth_targets(labels, visual_keep)))
