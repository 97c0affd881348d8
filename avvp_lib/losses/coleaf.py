"""CoLeaF losses (Sardari et al., ECCV 2024, Sec. 3.2), one small function per equation.

Who teaches whom (stop-gradient) - the teacher side of every collaborative loss is detached:

* ``event_aware_contrastive_loss`` (Eq. 8): student = Anchor tokens, teacher = Reference tokens
  (detached); the weights (Eq. 9-11) come from thresholded Reference probabilities (no gradient).
* ``pseudo_label_bce_loss`` (Table 2's L_BCE): student = Anchor modality probabilities, targets =
  the same hard Reference pseudo-labels (Eq. 9).
* ``self_modality_loss`` (Eq. 12, L_SelfMo): student = Reference, targets = hard Anchor
  pseudo-labels (no gradient).
* ``co_occurrence_loss`` (Eq. 13, L_CoCls): student = Anchor correlation matrix, teacher =
  Reference correlation matrix (detached).
* ``reference_video_loss`` / ``anchor_video_loss``: each branch against the video labels.

This matches the released code, which updates the two branches with separate optimisers and
computes each teacher under ``torch.no_grad()``; with detached teachers one optimiser over both
branches gives the same gradients.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from avvp_lib.losses.mmil import bce, mmil_video_loss

__all__ = [
    "pseudo_labels",
    "event_type_counts",
    "event_aware_weights",
    "segment_nce",
    "event_aware_contrastive_loss",
    "pseudo_label_bce_loss",
    "self_modality_loss",
    "class_correlation",
    "co_occurrence_loss",
    "RELEASED_CO_CLS",
    "confident_teacher",
    "co_occurrence_loss_released",
    "reference_video_loss",
    "anchor_video_loss",
]


def _check_same_shape(**tensors: Tensor) -> None:
    items = list(tensors.items())
    name0, t0 = items[0]
    for name, t in items[1:]:
        if t.shape != t0.shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)}; expected the shape of {name0}, {tuple(t0.shape)}")


def pseudo_labels(prob: Tensor, theta: float = 0.5) -> Tensor:
    """Hard pseudo-labels ``g_i = 1 if P_i > theta else 0`` (CoLeaF Eq. 9 for Reference, Eq. 12 for Anchor).

    Strict ``>`` as written in the paper; returns a float tensor with no gradient.
    """
    if not 0.0 <= theta <= 1.0:
        raise ValueError(f"theta={theta}: expected a probability threshold in [0, 1]")
    return (prob.detach() > theta).to(prob.dtype if prob.is_floating_point() else torch.float32)


def event_type_counts(g_a: Tensor, g_v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Numbers of audible-only, visible-only and audible-visible classes, CoLeaF Eq. (10).

    ``N^a = sum_i g^a_i (1 - g^v_i)``, ``N^v = sum_i g^v_i (1 - g^a_i)``, ``N^av = sum_i g^a_i g^v_i``
    over the last (class) dimension of 0/1 pseudo-labels ``(..., C)``.
    """
    _check_same_shape(g_a=g_a, g_v=g_v)
    n_a = (g_a * (1 - g_v)).sum(-1)
    n_v = (g_v * (1 - g_a)).sum(-1)
    n_av = (g_a * g_v).sum(-1)
    return n_a, n_v, n_av


def event_aware_weights(g_a: Tensor, g_v: Tensor) -> tuple[Tensor, Tensor]:
    """Contrastive weights ``theta^a = N^a / (N^a + N^av)``, ``theta^v = N^v / (N^v + N^av)``, CoLeaF Eq. (11).

    0 when the denominator is 0 (no event in that modality: "no encouragement"), so the weight is
    always in [0, 1]: 1 when every event of the modality is unaligned, 0 when all are audible-visible.
    """
    n_a, n_v, n_av = event_type_counts(g_a, g_v)
    return _safe_ratio(n_a, n_a + n_av), _safe_ratio(n_v, n_v + n_av)


def _safe_ratio(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` with 0 where ``den == 0``."""
    ok = den > 0
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(num))


def segment_nce(query: Tensor, keys: Tensor, tau: float = 0.2, normalize: bool = True,
                include_positive: bool = False) -> Tensor:
    """Per-video segment contrast, the inner term of CoLeaF Eq. (8): ``(B,)``.

    ``-(1/T) sum_t log( exp(q_t . k_t / tau) / sum_{n != t} exp(q_t . k_n / tau) )`` for query
    tokens ``q`` (the Anchor's hat f_t) and key tokens ``k`` (the Reference's x_t), both (B, T, d):
    the same segment of the other branch is the positive, the other segments of the same video the
    negatives.

    ``normalize`` (default): L2-normalise both tokens first (cosine similarity, as in the released
    code; the paper writes a plain dot product, ``normalize=False``). ``include_positive``: put the
    positive in the denominator too (standard InfoNCE / the released code); the paper's Eq. 8
    sums over ``n != t`` only, which makes the loss negative once the positive wins.
    """
    if query.dim() != 3 or query.shape != keys.shape:
        raise ValueError(f"query and keys must both be (B, T, d); got {tuple(query.shape)} and {tuple(keys.shape)}")
    if query.shape[1] < 2:
        raise ValueError(f"need at least 2 segments for negatives; got T={query.shape[1]}")
    if tau <= 0:
        raise ValueError(f"tau={tau}: expected a positive temperature")
    if normalize:
        query, keys = F.normalize(query, dim=-1), F.normalize(keys, dim=-1)
    sim = query @ keys.transpose(1, 2) / tau  # (B, T, T): sim[b, t, n] = q_t . k_n / tau
    positive = sim.diagonal(dim1=1, dim2=2)  # (B, T)
    if not include_positive:
        eye = torch.eye(sim.shape[1], dtype=torch.bool, device=sim.device)
        sim = sim.masked_fill(eye, float("-inf"))
    return (torch.logsumexp(sim, dim=-1) - positive).mean(dim=-1)


def event_aware_contrastive_loss(anchor_a: Tensor, anchor_v: Tensor, reference_a: Tensor, reference_v: Tensor,
                                 weight_a: Tensor, weight_v: Tensor, tau: float = 0.2, normalize: bool = True,
                                 include_positive: bool = False) -> Tensor:
    """L_Evt^Anch, CoLeaF Eq. (8): ``mean_b sum_phi theta^phi_b * NCE(hat F^phi_b, ddot F^phi_b)``.

    ``anchor_*``: the Anchor's HAN-layer outputs (B, T, d) (student); ``reference_*``: the Reference's
    segment tokens (B, T, d), detached here (teacher); ``weight_*``: (B,) from
    :func:`event_aware_weights` (Eq. 11), or ones for the standard NCE of Table 2.
    """
    if weight_a.shape != anchor_a.shape[:1] or weight_v.shape != anchor_v.shape[:1]:
        raise ValueError(f"weights must be (B,) = ({anchor_a.shape[0]},); got {tuple(weight_a.shape)} and "
                         f"{tuple(weight_v.shape)}")
    nce_a = segment_nce(anchor_a, reference_a.detach(), tau, normalize, include_positive)
    nce_v = segment_nce(anchor_v, reference_v.detach(), tau, normalize, include_positive)
    return (weight_a.detach() * nce_a + weight_v.detach() * nce_v).mean()


def pseudo_label_bce_loss(anchor_a: Tensor, anchor_v: Tensor, g_a: Tensor, g_v: Tensor) -> Tensor:
    """Table 2's L_BCE: ``sum_phi BCE(ddot G^phi, P^phi)`` - the Anchor's audio/visual probabilities (B, C)
    against the Reference pseudo-labels of Eq. (9) that L_Evt uses for its weights."""
    _check_same_shape(anchor_a=anchor_a, anchor_v=anchor_v, g_a=g_a, g_v=g_v)
    return bce(anchor_a, g_a.detach()) + bce(anchor_v, g_v.detach())


def self_modality_loss(reference_a: Tensor, reference_v: Tensor, anchor_a: Tensor, anchor_v: Tensor,
                       theta: float = 0.5, video_labels: Tensor | None = None) -> Tensor:
    """L_SelfMo^Ref, CoLeaF Eq. (12): ``sum_phi BCE(G^phi, ddot P^phi)`` with ``G^phi = [P^phi > theta]``
    thresholded from the Anchor's audio/visual probabilities (B, C). Gradient reaches the Reference only.

    ``video_labels`` (B, C) (default ``None``: Eq. 12 as printed) masks the targets as the released code does
    (``main.py``: ``a_prob = (a_prob >= 0.5).float() * Pa``): a class absent from the video is never a positive.
    """
    _check_same_shape(reference_a=reference_a, reference_v=reference_v, anchor_a=anchor_a, anchor_v=anchor_v)
    g_a, g_v = pseudo_labels(anchor_a, theta), pseudo_labels(anchor_v, theta)
    if video_labels is not None:
        _check_same_shape(anchor_a=anchor_a, video_labels=video_labels)
        g_a, g_v = g_a * video_labels.to(g_a), g_v * video_labels.to(g_v)
    return bce(reference_a, g_a) + bce(reference_v, g_v)


def class_correlation(prob: Tensor) -> Tensor:
    """Class co-occurrence matrix ``M_ij = P_i * P_j``, CoLeaF Eq. (13): (B, C) -> (B, C, C)."""
    if prob.dim() != 2:
        raise ValueError(f"prob must be (B, C); got shape {tuple(prob.shape)}")
    return prob.unsqueeze(-1) * prob.unsqueeze(-2)


def co_occurrence_loss(reference_a: Tensor, reference_v: Tensor, anchor_a: Tensor, anchor_v: Tensor) -> Tensor:
    """L_CoCls^Anch, CoLeaF Eq. (13): ``sum_phi MSE(dot M^phi, M^phi)``, the MSE averaged over batch and C x C.

    ``dot M`` (Reference, teacher) is detached; the Anchor's ``M`` is the student.
    """
    _check_same_shape(reference_a=reference_a, reference_v=reference_v, anchor_a=anchor_a, anchor_v=anchor_v)
    loss_a = F.mse_loss(class_correlation(anchor_a), class_correlation(reference_a.detach()))
    loss_v = F.mse_loss(class_correlation(anchor_v), class_correlation(reference_v.detach()))
    return loss_a + loss_v


#: The released L_CoCls (faeghehsardari/coleaf: ``utils/eval_metrics.py`` ``cc_loss(mode=1)``, ``main.py`` training
#: loop): loss weight 1e-4 per modality, and the teacher's confidence band per modality - a class of the video whose
#: Reference probability is at least ``high`` or at most ``low`` takes the Reference's value, every other entry the
#: Anchor's own (detached) probability.
RELEASED_CO_CLS = {"weight": 1e-4, "audio": (0.8, 0.1), "visual": (0.6, 0.4)}


def confident_teacher(reference: Tensor, anchor: Tensor, labels: Tensor, high: float, low: float) -> Tensor:
    """The released L_CoCls teacher (B, C): ``m * ddot P + (1 - m) * P`` with ``m = ([ddot P >= high] + [ddot P <=
    low]) * y`` (``y`` the video labels), computed without gradient: where the Reference is confident about a class
    of the video it teaches, elsewhere the Anchor is its own (detached) target, which costs nothing."""
    _check_same_shape(reference=reference, anchor=anchor, labels=labels)
    with torch.no_grad():
        ref = reference.detach()
        m = (((ref >= high).to(ref) + (ref <= low).to(ref)) * labels.to(ref))
        return m * ref + anchor.detach() * (1 - m)


def _released_cc(student: Tensor, teacher: Tensor) -> Tensor:
    """``cc_loss(mode=1)`` as released: ``((T - S)^2).sum() / class_num * batch_size`` - Python reads it as
    ``(sum / C) * B``, the scale we reproduce (not ``sum / (C B)``)."""
    b, c = teacher.shape
    return ((class_correlation(teacher) - class_correlation(student)) ** 2).sum() / c * b


def co_occurrence_loss_released(reference_a: Tensor, reference_v: Tensor, anchor_a: Tensor, anchor_v: Tensor,
                                labels: Tensor) -> Tensor:
    """L_CoCls^Anch as the released code computes it (``co_cls_scale="released"``), weight included::

        1e-4 * sum_phi [ sum_{b,i,j} (M^T_ij - M^S_ij)^2 / C * B ]

    with the teacher of :func:`confident_teacher` (audio band 0.8 / 0.1, visual 0.6 / 0.4,
    :data:`RELEASED_CO_CLS`). :func:`co_occurrence_loss` (the paper's reading, weight 1) is
    ``sum_{b,i,j} (.)^2 / (B C^2)`` per modality, so for equal squared errors the released term is
    ``(1e-4 B / C) / (1 / (B C^2)) = 1e-4 C B^2 = 2.5e-3 B^2`` times ours (C = 25): 40.96x (about 41x) at the
    released batch 128, 2.56x at 32, 0.64x at 16; and its teacher differs (confident Reference entries of present
    classes only). The released
    code also clamps the Anchor's probabilities to [1e-7, 1 - 1e-7] first, which we do not.
    """
    _check_same_shape(reference_a=reference_a, reference_v=reference_v, anchor_a=anchor_a, anchor_v=anchor_v,
                      labels=labels)
    teacher_a = confident_teacher(reference_a, anchor_a, labels, *RELEASED_CO_CLS["audio"])
    teacher_v = confident_teacher(reference_v, anchor_v, labels, *RELEASED_CO_CLS["visual"])
    return RELEASED_CO_CLS["weight"] * (_released_cc(anchor_a, teacher_a) + _released_cc(anchor_v, teacher_v))


def reference_video_loss(reference_a: Tensor, reference_v: Tensor, labels: Tensor,
                         cls_a: Tensor | None = None, cls_v: Tensor | None = None) -> Tensor:
    """L_video^Ref (CoLeaF Sec. 3.2): ``sum_phi BCE(Y, ddot P^phi) + BCE(Y, CLS^phi)``.

    The class-token terms are dropped when ``cls_a``/``cls_v`` are None (Reference without class
    tokens, Table 4).
    """
    _check_same_shape(reference_a=reference_a, reference_v=reference_v, labels=labels)
    loss = bce(reference_a, labels) + bce(reference_v, labels)
    if (cls_a is None) != (cls_v is None):
        raise ValueError("pass both class-token probabilities cls_a and cls_v, or neither")
    if cls_a is not None:
        _check_same_shape(labels=labels, cls_a=cls_a, cls_v=cls_v)
        loss = loss + bce(cls_a, labels) + bce(cls_v, labels)
    return loss


def anchor_video_loss(video: Tensor, audio: Tensor, visual: Tensor, labels: Tensor, mode: str = "han") -> Tensor:
    """L_video^Anch: the Anchor is trained "as in HAN".

    ``mode="han"`` (default): the HAN recipe this repository trains its HAN baseline with
    (:func:`avvp_lib.losses.mmil.mmil_video_loss`: video + audio + smoothed visual BCE), so that
    Table 5's HAN vs HAN-in-CoLeaF differ only by CoLeaF. ``mode="video_only"``: the literal
    ``BCE(Y, P)`` of CoLeaF Sec. 3.1-3.2 on the MMIL video probability (Eq. 4).
    """
    if mode == "han":
        return mmil_video_loss(video, audio, visual, labels)
    if mode == "video_only":
        return bce(video, labels)
    raise ValueError(f"anchor loss mode {mode!r}; expected 'han' or 'video_only'")
