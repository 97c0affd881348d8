"""The official LLP evaluation protocol, vectorised, plus CoLeaF's audible-/visible-only metrics.

Pipeline: segment probabilities -> :func:`inference_rule` -> binary predictions
``pred_a, pred_v`` of shape ``(N, T, C)`` (video, segment, class) -> :func:`evaluate` -> 18
numbers in percent, keyed by :data:`METRIC_KEYS`.

The official protocol (HAN, Tian et al. ECCV 2020; ``YapengTian/AVVP-ECCV20``, files
``main_avvp.py`` function ``eval`` and ``utils/eval_metrics.py`` functions ``segment_level``,
``event_level``, ``extract_event``, ``event_wise_metric``) scores **each video separately**:

1. Streams. ``a`` (audio), ``v`` (visual) and ``av = a * v`` for prediction and ground truth
   (``SO_av = SO_a * SO_v``, ``GT_av = GT_a * GT_v``).
2. Counts per class. *Segment level*: TP/FP/FN over the T segments. *Event level*: the maximal
   runs of consecutive 1s are the events; a predicted event is a TP if some ground-truth event of
   the same class overlaps it with IoU >= 0.5, otherwise an FP; a ground-truth event that no
   predicted event matches (IoU >= 0.5) is an FN.
3. Per-class F1 = 2TP / (2TP + FP + FN), **only for classes with TP+FP != 0 or TP+FN != 0**
   (the class appears in the prediction or in the ground truth of that stream); the video's score
   is the mean over those classes, or **1.0 when there is none** ("all true negatives").
4. ``Event@AV`` (the official variable ``F``): per class, TP = TP_a + TP_v, FP = FP_a + FP_v,
   FN = FN_a + FN_v, then the same F1 / skip / 1.0 rule.
5. Split score = 100 * mean over videos; ``Type@AV = (AV + A + V) / 3`` of the split scores.

CoLeaF (Sardari et al., ECCV 2024, Sec. 4) adds audible-only / visible-only streams,

    Eq. (14)  y^ao_hat = y^a_hat * (1 - y^v_hat),   y^vo_hat = y^v_hat * (1 - y^a_hat)
    Eq. (15)  y^ao     = y^a     * (1 - y^v),       y^vo     = y^v     * (1 - y^a)

and scores them with the same machinery: ``Ao`` / ``Vo`` are the ``A`` / ``V`` metrics on the
``ao`` / ``vo`` streams, ``AV`` is unchanged, ``Type@AVo = (AV + Ao + Vo) / 3`` and
``Event@AVo`` is the ``Event@AV`` combination of the ``ao`` and ``vo`` counts. This matches the
released CoLeaF code (``faeghehsardari/coleaf``, ``main.py`` ``eval``: it builds ``new_Pa``,
``new_Pv``, ``new_GT_a``, ``new_GT_v2`` element by element, keeps ``SO_av2 = SO_a * SO_v`` and
``GT_av``, and calls the unchanged HAN ``segment_level`` / ``event_level`` on them); we found no
difference in the *metric*. (CoLeaF's *inference rule* does differ from HAN's - see
:func:`inference_rule`.)

Everything here is vectorised over videos and classes (NumPy); inputs may be NumPy arrays or
torch tensors. ``tests/reference/official_eval.py`` is a slow loop-by-loop re-implementation
of the official code that the tests compare against (18 keys, 1e-6).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "LEVELS",
    "METRIC_KEYS",
    "inference_rule",
    "exclusive_streams",
    "segment_counts",
    "run_intervals",
    "event_counts",
    "per_video_f1",
    "per_video_scores",
    "evaluate",
    "per_class_f1",
]

LEVELS: tuple[str, ...] = ("segment", "event")
_NAMES: tuple[str, ...] = ("A", "V", "AV", "Type@AV", "Event@AV", "Ao", "Vo", "Type@AVo", "Event@AVo")
METRIC_KEYS: tuple[str, ...] = tuple(f"{level}/{name}" for level in LEVELS for name in _NAMES)

#: IoU a predicted event needs with a ground-truth event to count as detected (official: 0.5,
#: compared as ``intersection >= 0.5 * union``, so exactly 0.5 counts).
IOU_THRESHOLD = 0.5


# --------------------------------------------------------------------------------------------
# inference rule
# --------------------------------------------------------------------------------------------
def _check_threshold(thr: Any, num_classes: int, name: str) -> None:
    shape = tuple(np.shape(thr.detach().cpu().numpy() if isinstance(thr, torch.Tensor) else thr))
    try:
        ok = np.broadcast_shapes(shape, (2, num_classes)) == (2, num_classes)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} must be a scalar, a per-class array of shape ({num_classes},) or a "
            f"per-modality array of shape (2, {num_classes}); got shape {shape}"
        )


def inference_rule(segment_prob, video_prob, segment_threshold=0.5, video_threshold=0.5):
    """Binary segment-level predictions from probabilities (the official HAN rule).

    ``pred[n, t, m, c] = (segment_prob[n, t, m, c] >= segment_threshold)
    AND (video_prob[n, c] >= video_threshold)``, i.e. a segment is positive for a class only if
    the video-level prediction contains the class ("filter out false positive events with
    predicted weak labels", HAN ``main_avvp.py`` ``eval``). Both comparisons are ``>=``.

    Args:
        segment_prob: ``(N, T, 2, C)`` segment probabilities, index 0 audio, 1 visual.
        video_prob: ``(N, C)`` video-level probabilities. ``(N, 2, C)`` is also accepted: one gate
            per modality (index 0 audio, 1 visual), as in CoLeaF's evaluation, which gates the
            audio track with the audio-level and the visual track with the visual-level
            probability.
        segment_threshold, video_threshold: a scalar, a per-class array ``(C,)`` or a
            per-modality-and-class array ``(2, C)``; NumPy, torch or list.

    Returns:
        ``(pred_a, pred_v)``, each ``(N, T, C)`` with values 0/1: ``np.int64`` arrays when
        ``segment_prob`` is a NumPy array (like the official ``astype(np.int_)``), ``torch.long``
        tensors on ``segment_prob``'s device when it is a torch tensor. Integer rather than bool
        so that ``pred_a * (1 - pred_v)`` (CoLeaF Eq. 14) works in both libraries.

    Note:
        The official HAN evaluation uses 0.5 / 0.5. CoLeaF's released evaluation uses a different
        rule (``main.py`` ``eval``): segment threshold 0.25, audio gate ``a_prob >= 0.52``,
        visual gate ``v_prob >= 0.52`` or per-class selected thresholds. Reproduce it with
        ``inference_rule(seg, torch.stack([a_prob, v_prob], 1), 0.25, vthr)``.
    """
    use_torch = isinstance(segment_prob, torch.Tensor)
    if use_torch:
        seg = segment_prob.detach()
        dtype = seg.dtype if seg.is_floating_point() else torch.float32
        seg = seg.to(dtype)
        vid = torch.as_tensor(video_prob, device=seg.device).detach().to(dtype)
        s_thr = torch.as_tensor(segment_threshold, device=seg.device, dtype=dtype)
        v_thr = torch.as_tensor(video_threshold, device=seg.device, dtype=dtype)
    else:
        seg = np.asarray(segment_prob, dtype=np.float64)
        if isinstance(video_prob, torch.Tensor):
            video_prob = video_prob.detach().cpu().numpy()
        vid = np.asarray(video_prob, dtype=np.float64)
        to_np = lambda t: t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t  # noqa: E731
        s_thr = np.asarray(to_np(segment_threshold), dtype=np.float64)
        v_thr = np.asarray(to_np(video_threshold), dtype=np.float64)

    if seg.ndim != 4 or seg.shape[2] != 2:
        raise ValueError(
            f"segment_prob must have shape (N, T, 2, C) (index 0 audio, 1 visual); got shape "
            f"{tuple(seg.shape)}"
        )
    n, _, _, c = seg.shape
    if tuple(vid.shape) not in ((n, c), (n, 2, c)):
        raise ValueError(
            f"video_prob must have shape (N, C) = {(n, c)} or (N, 2, C) = {(n, 2, c)} to match "
            f"segment_prob of shape {tuple(seg.shape)}; got shape {tuple(vid.shape)}"
        )
    _check_threshold(s_thr, c, "segment_threshold")
    _check_threshold(v_thr, c, "video_threshold")

    if vid.ndim == 2:
        vid = vid[:, None, :]  # (N, 1, C): one gate for both modalities
    gate = (vid >= v_thr)[:, None]  # (N, 1, 1|2, C)
    pred = (seg >= s_thr) & gate  # (N, T, 2, C)
    pred = pred.long() if use_torch else pred.astype(np.int64)
    return pred[:, :, 0, :], pred[:, :, 1, :]


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _as_binary(x, name: str) -> np.ndarray:
    """NumPy bool view of a 0/1 array or tensor; ValueError naming the first non-binary value."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype in (torch.bfloat16, torch.float16):
            x = x.float()
        x = x.numpy()
    else:
        x = np.asarray(x)
    if x.dtype == np.bool_:
        return x
    if not (np.issubdtype(x.dtype, np.number)):
        raise ValueError(f"{name} must be a binary (0/1) numeric array; got dtype {x.dtype}")
    ok = (x == 0) | (x == 1)
    if not ok.all():
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        raise ValueError(
            f"{name} must be binary (0/1); found value {x[idx].item()!r} at index {idx} "
            f"(threshold probabilities first, e.g. with inference_rule)"
        )
    return x == 1


def _check_same_shape(arrays: dict[str, np.ndarray], ndim: int | None = 3) -> None:
    items = list(arrays.items())
    name0, a0 = items[0]
    if ndim is not None and a0.ndim != ndim:
        raise ValueError(f"{name0} must have shape (N, T, C) (video, segment, class); got shape {a0.shape}")
    for name, a in items[1:]:
        if a.shape != a0.shape:
            raise ValueError(f"shape mismatch: {name0} has shape {a0.shape} but {name} has shape {a.shape}")


def exclusive_streams(a, v):
    """Audible-only and visible-only streams, CoLeaF Eq. (14)-(15): ``(a * (1 - v), v * (1 - a))``.

    The same formula serves predictions (Eq. 14) and ground truth (Eq. 15). Works on NumPy bool or
    0/1 arrays and on torch tensors; returns the library and dtype of ``a``.
    """
    if isinstance(a, torch.Tensor):
        v = torch.as_tensor(v, device=a.device)
        if a.dtype == torch.bool:
            return a & ~v.bool(), v.bool() & ~a
        return a * (1 - v), v * (1 - a)
    a, v = np.asarray(a), np.asarray(v)
    if a.dtype == np.bool_:
        return a & ~v.astype(bool), v.astype(bool) & ~a
    return a * (1 - v), v * (1 - a)


# --------------------------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------------------------
def segment_counts(pred, gt):
    """Segment-level TP, FP, FN per video and class.

    ``pred``, ``gt``: binary ``(..., T, C)``. Returns three int64 arrays ``(..., C)``:
    ``TP = sum_t pred*gt``, ``FP = sum_t pred*(1-gt)``, ``FN = sum_t (1-pred)*gt`` - the official
    ``segment_level`` computes exactly these on a ``(C, T)`` matrix per video.
    """
    p, g = _as_binary(pred, "pred"), _as_binary(gt, "gt")
    _check_same_shape({"pred": p, "gt": g}, ndim=None)
    tp = (p & g).sum(axis=-2, dtype=np.int64)
    return tp, p.sum(axis=-2, dtype=np.int64) - tp, g.sum(axis=-2, dtype=np.int64) - tp


def run_intervals(x):
    """Maximal runs of consecutive 1s along the last axis (the official ``extract_event``).

    ``x``: binary ``(..., T)``. Returns ``(start, end)``, int64 arrays ``(..., R)`` with
    ``R = ceil(T / 2)`` (the most runs a length-T sequence can hold), runs in temporal order,
    ``end`` exclusive. Slots without a run hold ``start = end = 0`` (so ``end - start == 0``).

    Example: ``[1, 1, 0, 1, 0]`` -> ``start = [0, 3, 0]``, ``end = [2, 4, 0]``.
    """
    x = _as_binary(x, "x")
    lead, t = x.shape[:-1], x.shape[-1]
    flat = x.reshape(-1, t)
    is_start = flat.copy()
    is_start[:, 1:] &= ~flat[:, :-1]
    is_last = flat.copy()
    is_last[:, :-1] &= ~flat[:, 1:]
    slot = np.cumsum(is_start, axis=1) - 1  # which run of its row a position belongs to
    start = np.zeros((flat.shape[0], (t + 1) // 2), dtype=np.int64)
    end = np.zeros_like(start)
    rows, cols = np.nonzero(is_start)
    start[rows, slot[rows, cols]] = cols
    rows, cols = np.nonzero(is_last)
    end[rows, slot[rows, cols]] = cols + 1
    return start.reshape(*lead, -1), end.reshape(*lead, -1)


def _first_of_groups(*sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where a new group starts in sorted 1-D key arrays (``np.unique`` minus the sort)."""
    n = sorted_keys[0].size
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for k in sorted_keys:
        new[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(new)


def _run_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C-contiguous bool ``(M, T)`` -> per flat position: (flat index of the start of its run,
    length of its run), and the number of runs per row.

    Works on the flattened array (fast 1-D running max/min) with every row start forced to be a
    run boundary. Values at positions outside runs are meaningless; read them only where x is 1.
    """
    m, t = x.shape
    f = x.reshape(-1)
    n = f.size
    is_start = f.copy()
    is_start[1:] &= ~f[:-1]
    is_start[::t] = f[::t]  # a run cannot continue from the previous row
    is_last = f.copy()
    is_last[:-1] &= ~f[1:]
    is_last[t - 1 :: t] = f[t - 1 :: t]
    idx = np.arange(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)
    start = np.maximum.accumulate(np.where(is_start, idx, 0))
    last = np.minimum.accumulate(np.where(is_last, idx, n)[::-1])[::-1]
    return start, last - start + 1, np.count_nonzero(is_start.reshape(m, t), axis=1)


def event_counts(pred, gt, iou_threshold: float = IOU_THRESHOLD):
    """Event-level TP, FP, FN per video and class (the official ``event_wise_metric``).

    ``pred``, ``gt``: binary ``(..., T, C)``. For every (video, class) sequence the events are the
    maximal runs of 1s (:func:`run_intervals`). With ``I`` and ``U`` the intersection and union
    (in segments) of a predicted event p and a ground-truth event g, they match when
    ``I >= iou_threshold * U`` (IoU >= 0.5, boundary included, as in the official code;
    ``iou_threshold`` in (0, 1]).
    ``TP`` = predicted events matching some ground-truth event, ``FP`` = the other predicted
    events, ``FN`` = ground-truth events matched by no predicted event. Returns three int64
    arrays ``(..., C)``.

    Vectorised without comparing all pairs of runs: every segment where prediction and ground
    truth are both 1 names one (predicted run, ground-truth run) pair, so counting those segments
    per pair gives every non-zero intersection ``I``; run starts and lengths come from running
    max/min accumulations, and ``U = len_p + len_g - I``. Pairs that do not intersect have
    IoU 0 and never match. Cost is linear in ``N * T * C``. For ``T <= 10`` (LLP) the counts of
    each (prediction, ground truth) pattern pair are memoised (:func:`_event_counts_by_table`).
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1]; got {iou_threshold!r}")
    p, g = _as_binary(pred, "pred"), _as_binary(gt, "gt")
    _check_same_shape({"pred": p, "gt": g}, ndim=None)
    out_shape, t = p.shape[:-2] + p.shape[-1:], p.shape[-2]
    if t <= PAIR_TABLE_MAX_T:
        return _event_counts_by_table(p, g, iou_threshold)
    # (..., T, C) -> (..., C, T) -> (M, T): one row per (video, class) sequence
    p = np.ascontiguousarray(np.swapaxes(p, -1, -2)).reshape(-1, t)
    g = np.ascontiguousarray(np.swapaxes(g, -1, -2)).reshape(-1, t)
    m_all = p.shape[0]
    # only sequences with an event in the prediction or the ground truth can count anything
    active = np.flatnonzero(p.any(axis=1) | g.any(axis=1))
    counts = []
    for c in _event_counts_by_runs(p[active], g[active], iou_threshold):
        full = np.zeros(m_all, dtype=np.int64)
        full[active] = c
        counts.append(full.reshape(out_shape))
    return tuple(counts)


def _event_counts_by_runs(p: np.ndarray, g: np.ndarray, iou_threshold: float) -> tuple[np.ndarray, ...]:
    """TP, FP, FN per row of bool ``(M, T)`` sequences: the run-overlap algorithm of :func:`event_counts`."""
    t = p.shape[1]
    m_rows = p.shape[0]
    p_start, p_len, n_pred = _run_bounds(p)
    g_start, g_len, n_gt = _run_bounds(g)
    # Every segment where both are 1 belongs to one (predicted run, ground-truth run) pair; a run
    # is named by the flat index of its start. Starts never decrease along the flattened array,
    # so the segments of one pair are adjacent in flatnonzero's output (np.unique without a sort).
    pos = np.flatnonzero(p.reshape(-1) & g.reshape(-1))
    sp, sg = p_start[pos], g_start[pos]
    first = _first_of_groups(sp, sg)
    inter = np.diff(np.append(first, pos.size))  # segments shared by each overlapping pair
    pos, sp, sg = pos[first], sp[first], sg[first]
    union = p_len[pos] + g_len[pos] - inter
    if iou_threshold == 0.5:
        hit = 2 * inter >= union  # exact integer form of the official test
    else:
        hit = inter >= iou_threshold * union
    # distinct predicted / ground-truth runs with a match (still sorted), counted per row
    sp, sg = sp[hit], sg[hit]
    tp = np.bincount(sp[_first_of_groups(sp)] // t, minlength=m_rows)
    gt_hit = np.bincount(sg[_first_of_groups(sg)] // t, minlength=m_rows)
    return tp, n_pred - tp, n_gt - gt_hit


#: sequences up to this length are counted through :func:`_event_counts_by_table`
PAIR_TABLE_MAX_T = 10
_PAIR_TABLES: dict[tuple[int, float], np.ndarray] = {}


def _event_counts_by_table(p: np.ndarray, g: np.ndarray, iou_threshold: float) -> tuple[np.ndarray, ...]:
    """The counts of :func:`event_counts` for bool ``(..., T, C)`` with ``T <= 10``, memoised per pattern pair.

    A sequence of ``T`` segments has ``2^T`` patterns, so a (prediction, ground truth) pair of one
    (video, class) is one integer below ``2^(2T)``, and its three counts depend on nothing else.
    Each pair is packed into that integer (``np.packbits`` along time, bit ``i`` = segment ``i``);
    the counts of pairs not seen before are computed with the run algorithm
    (:func:`_event_counts_by_runs`) and stored in a table (3 MB for T = 10) kept for the process,
    so an evaluation is a bit-packing and a table lookup.
    """
    t = p.shape[-2]
    code = (_pack_time(p) << t) | _pack_time(g)  # (..., C)
    table = _PAIR_TABLES.get((t, iou_threshold))
    if table is None:
        table = _PAIR_TABLES.setdefault((t, iou_threshold), np.full((1 << (2 * t), 3), -1, dtype=np.int8))
    counts = table[code]
    missing = counts[..., 0] < 0
    if missing.any():
        new = np.unique(code[missing])
        bits = ((new[:, None] >> np.arange(2 * t)) & 1).astype(bool)  # bit i < t: gt, bit t + i: pred
        table[new] = np.stack(_event_counts_by_runs(np.ascontiguousarray(bits[:, t:]), np.ascontiguousarray(bits[:, :t]),
                                                    iou_threshold), axis=1)
        counts = table[code]
    counts = counts.astype(np.int64)
    return counts[..., 0], counts[..., 1], counts[..., 2]


def _pack_time(x: np.ndarray) -> np.ndarray:
    """Bool ``(..., T, C)`` -> int64 ``(..., C)`` with bit ``i`` set where segment ``i`` is 1."""
    packed = np.packbits(x, axis=-2, bitorder="little")  # (..., ceil(T / 8), C)
    code = packed[..., 0, :].astype(np.int64)
    for k in range(1, packed.shape[-2]):
        code |= packed[..., k, :].astype(np.int64) << (8 * k)
    return code


def per_video_f1(tp, fp, fn) -> np.ndarray:
    """Official per-video score from per-class counts ``(..., C)`` -> ``(...)`` in [0, 1].

    Per class ``F1 = 2TP / (2TP + FP + FN)``, kept only where ``TP + FP != 0 or TP + FN != 0``
    (the class occurs in the prediction or the ground truth); the score is the mean of the kept
    classes, or 1.0 if no class is kept (the official "all true negatives" case).
    """
    tp = np.asarray(tp)
    # counts are non-negative, so "TP + FP != 0 or TP + FN != 0" is exactly "2TP + FP + FN > 0",
    # and a skipped class has TP = 0: 2TP / max(denominator, 1) is its F1 or 0 when skipped.
    denom = 2 * tp + np.asarray(fp) + np.asarray(fn)
    f1 = (2.0 * tp) / np.maximum(denom, 1)
    n_keep = np.count_nonzero(denom, axis=-1)
    return np.where(n_keep > 0, f1.sum(axis=-1) / np.maximum(n_keep, 1), 1.0)


# --------------------------------------------------------------------------------------------
# the protocol
# --------------------------------------------------------------------------------------------
_COUNTERS = {"segment": segment_counts, "event": event_counts}


def _checked_inputs(pred_a, pred_v, gt_a, gt_v) -> dict[str, np.ndarray]:
    arrays = {
        "pred_a": _as_binary(pred_a, "pred_a"),
        "pred_v": _as_binary(pred_v, "pred_v"),
        "gt_a": _as_binary(gt_a, "gt_a"),
        "gt_v": _as_binary(gt_v, "gt_v"),
    }
    _check_same_shape(arrays)
    n, t, _ = arrays["pred_a"].shape
    if n == 0 or t == 0:
        raise ValueError(f"cannot evaluate zero videos or zero segments; got shape {arrays['pred_a'].shape}")
    return arrays


_BASE = ("A", "V", "AV", "Event@AV", "Ao", "Vo", "Event@AVo")  # the per-video quantities


def _per_video_fractions(pred_a, pred_v, gt_a, gt_v) -> dict[str, np.ndarray]:
    """``{"<level>/<base>": (N,) scores in [0, 1]}`` for the seven base metrics of each level."""
    x = _checked_inputs(pred_a, pred_v, gt_a, gt_v)
    pa, pv, ga, gv = x["pred_a"], x["pred_v"], x["gt_a"], x["gt_v"]
    pao, pvo = exclusive_streams(pa, pv)  # CoLeaF Eq. (14)
    gao, gvo = exclusive_streams(ga, gv)  # CoLeaF Eq. (15)
    # the five streams stacked -> one counting call per level: (5, N, T, C)
    pred = np.stack([pa, pv, pa & pv, pao, pvo])  # SO_a, SO_v, SO_av = SO_a * SO_v, ao, vo
    gt = np.stack([ga, gv, ga & gv, gao, gvo])  # GT_a, GT_v, GT_av = GT_a * GT_v, ao, vo
    out: dict[str, np.ndarray] = {}
    for level in LEVELS:
        tp, fp, fn = _COUNTERS[level](pred, gt)  # each (5, N, C)
        a, v, av, ao, vo = per_video_f1(tp, fp, fn)  # each (N,)
        # Event@AV: add the a and v counts per class *before* the F1 (official variable F);
        # Event@AVo does the same with the ao and vo counts.
        event_av = per_video_f1(tp[0] + tp[1], fp[0] + fp[1], fn[0] + fn[1])
        event_avo = per_video_f1(tp[3] + tp[4], fp[3] + fp[4], fn[3] + fn[4])
        values = (a, v, av, event_av, ao, vo, event_avo)
        out.update({f"{level}/{name}": val for name, val in zip(_BASE, values)})
    return out


def per_video_scores(pred_a, pred_v, gt_a, gt_v) -> dict[str, np.ndarray]:
    """Per-video scores in percent, ``(N,)`` per key of :data:`METRIC_KEYS`.

    ``A``, ``V``, ``AV``, ``Ao``, ``Vo``, ``Event@AV``, ``Event@AVo`` are the official per-video
    values (``f_a``, ``f_v``, ``f_av``, ``f`` returned by ``segment_level`` / ``event_level``)
    times 100; the ``Type`` keys are the per-video means of their three parts. :func:`evaluate`
    is the mean over videos of these (for ``Type`` up to floating-point rounding). Useful to find
    the videos a method gets most wrong.
    """
    f = {k: 100.0 * v for k, v in _per_video_fractions(pred_a, pred_v, gt_a, gt_v).items()}
    for level in LEVELS:
        f[f"{level}/Type@AV"] = (f[f"{level}/AV"] + f[f"{level}/A"] + f[f"{level}/V"]) / 3.0
        f[f"{level}/Type@AVo"] = (f[f"{level}/AV"] + f[f"{level}/Ao"] + f[f"{level}/Vo"]) / 3.0
    return {k: f[k] for k in METRIC_KEYS}


def evaluate(pred_a, pred_v, gt_a, gt_v) -> dict[str, float]:
    """The 18 LLP metrics in percent, identical to the official per-video evaluation.

    Args:
        pred_a, pred_v, gt_a, gt_v: binary ``(N, T, C)`` (video, segment, class), NumPy or torch,
            bool or 0/1 numbers (T = 10, C = 25 on LLP; neither is hard-coded).

    Returns:
        ``{key: value}`` for the keys of :data:`METRIC_KEYS`, in that order, as Python floats:
        ``A``, ``V``, ``AV``, ``Event@AV`` = 100 * mean over videos of the official per-video
        scores (see the module docstring); ``Type@AV = (AV + A + V) / 3`` computed from the
        video-averaged numbers (official ``avg_type``); CoLeaF's ``Ao``, ``Vo`` use the
        exclusive streams of Eq. (14)-(15), ``Type@AVo = (AV + Ao + Vo) / 3`` and ``Event@AVo``
        pools the ``ao`` and ``vo`` counts per class like ``Event@AV``.

    Raises:
        ValueError: arrays of different shapes (both shapes named), not 3-D, non-binary values
            (the value and its index named), or N = 0.
    """
    frac = _per_video_fractions(pred_a, pred_v, gt_a, gt_v)
    out: dict[str, float] = {k: float(100 * np.mean(v)) for k, v in frac.items()}
    for level in LEVELS:
        av, a, v = out[f"{level}/AV"], out[f"{level}/A"], out[f"{level}/V"]
        out[f"{level}/Type@AV"] = (av + a + v) / 3.0  # the official order of the terms
        out[f"{level}/Type@AVo"] = (av + out[f"{level}/Ao"] + out[f"{level}/Vo"]) / 3.0
    return {k: out[k] for k in METRIC_KEYS}


def per_class_f1(pred, gt, level: str = "segment") -> np.ndarray:
    """Per-class F1 in percent, pooled over the whole split - for per-class bar charts.

    **Not part of the official protocol.** For each class c the TP/FP/FN of every video are summed
    first (``level="segment"``: segments; ``"event"``: events, as in :func:`event_counts`) and
    then ``F1_c = 100 * 2TP / (2TP + FP + FN)``. Classes that occur in neither the predictions nor
    the ground truth get ``NaN``. Pooling weights long, frequent events more than the official
    per-video average, so the mean of these bars is not any of the official numbers.

    ``pred``, ``gt``: binary ``(N, T, C)`` of one stream (e.g. ``pred_a`` vs ``gt_a``, or the
    exclusive streams of :func:`exclusive_streams`). Returns ``(C,)`` float64.
    """
    if level not in _COUNTERS:
        raise ValueError(f"level must be one of {tuple(_COUNTERS)}; got {level!r}")
    p, g = _as_binary(pred, "pred"), _as_binary(gt, "gt")
    _check_same_shape({"pred": p, "gt": g})
    tp, fp, fn = (c.sum(axis=0).astype(np.float64) for c in _COUNTERS[level](p, g))
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 100.0 * 2 * tp / denom, np.nan)
