"""Test oracle: a deliberately slow, loop-by-loop re-implementation of the official LLP evaluation.

Mirrors, step by step, the HAN evaluation (``YapengTian/AVVP-ECCV20``: ``utils/eval_metrics.py``
``segment_level``, ``event_level``, ``extract_event``, ``event_wise_metric``; ``main_avvp.py``
``eval``, the per-video loop) and CoLeaF's additions (``faeghehsardari/coleaf`` ``main.py``
``eval``: element-wise audible-only / visible-only matrices fed to the same two functions, with
the original ``SO_av = SO_a * SO_v`` and ``GT_av``). Written independently for this repository;
the only generalisation is that T and C are read from the array shapes instead of the official
hard-coded 10 and 25.

Used only by ``tests/test_metrics.py`` to check the vectorised ``avvp_lib.metrics``.
Per-video matrices are in the official layout ``(C, T)`` (class, segment).
"""
from __future__ import annotations

import numpy as np


def _f1_list(tp, fp, fn):
    """Official per-class F1 list: a class enters only if TP+FP != 0 or TP+FN != 0."""
    scores = []
    for k in range(len(fp)):
        if (tp + fp)[k] != 0 or (tp + fn)[k] != 0:
            scores.append(2 * tp[k] / (2 * tp[k] + (fn + fp)[k]))
    return scores


def _mean_or_one(scores):
    """Mean of the kept classes with a Python ``sum``; 1.0 when none was kept (all true negatives)."""
    if len(scores) == 0:
        return 1.0
    return sum(scores) / len(scores)


def segment_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av):
    """Per-video segment-level (f_a, f_v, f, f_av) - note the official return order."""
    TP_a = np.sum(SO_a * GT_a, axis=1)
    FN_a = np.sum((1 - SO_a) * GT_a, axis=1)
    FP_a = np.sum(SO_a * (1 - GT_a), axis=1)
    F_a = _f1_list(TP_a, FP_a, FN_a)

    TP_v = np.sum(SO_v * GT_v, axis=1)
    FN_v = np.sum((1 - SO_v) * GT_v, axis=1)
    FP_v = np.sum(SO_v * (1 - GT_v), axis=1)
    F_v = _f1_list(TP_v, FP_v, FN_v)

    F = _f1_list(TP_a + TP_v, FP_a + FP_v, FN_a + FN_v)

    TP_av = np.sum(SO_av * GT_av, axis=1)
    FN_av = np.sum((1 - SO_av) * GT_av, axis=1)
    FP_av = np.sum(SO_av * (1 - GT_av), axis=1)
    F_av = _f1_list(TP_av, FP_av, FN_av)

    return _mean_or_one(F_a), _mean_or_one(F_v), _mean_or_one(F), _mean_or_one(F_av)


def _indicator(start, end, length):
    vec = np.zeros(length)
    for t in range(start, end):
        vec[t] = 1
    return vec


def extract_event(seq):
    """Maximal runs of 1s as indicator vectors, scanned left to right like the official code."""
    length = len(seq)
    events = []
    i = 0
    while i < length:
        if seq[i] == 1:
            start = i
            if i + 1 == length:  # a run of one segment at the very end
                events.append(_indicator(start, length, length))
                break
            for j in range(i + 1, length):
                if seq[j] != 1:  # run ends before j; j is a 0, so resume after it
                    events.append(_indicator(start, j, length))
                    i = j + 1
                    break
                i = j + 1
                if i == length:  # run reaches the end
                    events.append(_indicator(start, length, length))
                    break
        else:
            i += 1
    return events


def _overlaps(x1, x2):
    # intersection >= 0.5 * union, i.e. IoU >= 0.5 with the boundary included
    return np.sum(x1 * x2) >= 0.5 * np.sum(x1 + x2 - x1 * x2)


def event_wise_metric(event_p, event_gt):
    """(TP, FP, FN) of one class: ``None`` stands for "no event" exactly as in the official code."""
    TP = FP = FN = 0
    if event_p is not None:
        for x1 in event_p:
            if event_gt is None:
                FP += 1
                continue
            hit = False
            for x2 in event_gt:
                if _overlaps(x1, x2):
                    hit = True
                    break
            if hit:
                TP += 1
            else:
                FP += 1
    if event_gt is not None:
        for x1 in event_gt:
            if event_p is None:
                FN += 1
                continue
            hit = False
            for x2 in event_p:
                if _overlaps(x1, x2):
                    hit = True
                    break
            if not hit:
                FN += 1
    return TP, FP, FN


def event_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av):
    """Per-video event-level (f_a, f_v, f, f_av) - the official return order."""
    C = SO_a.shape[0]
    counts = {s: (np.zeros(C), np.zeros(C), np.zeros(C)) for s in ("a", "v", "av")}
    pairs = {"a": (SO_a, GT_a), "v": (SO_v, GT_v), "av": (SO_av, GT_av)}
    for n in range(C):
        for s, (SO, GT) in pairs.items():
            event_p = extract_event(SO[n, :]) if np.sum(SO[n, :]) != 0 else None
            event_gt = extract_event(GT[n, :]) if np.sum(GT[n, :]) != 0 else None
            tp, fp, fn = event_wise_metric(event_p, event_gt)
            counts[s][0][n] += tp
            counts[s][1][n] += fp
            counts[s][2][n] += fn
    TP_a, FP_a, FN_a = counts["a"]
    TP_v, FP_v, FN_v = counts["v"]
    TP_av, FP_av, FN_av = counts["av"]
    F_a = _f1_list(TP_a, FP_a, FN_a)
    F_v = _f1_list(TP_v, FP_v, FN_v)
    F = _f1_list(TP_a + TP_v, FP_a + FP_v, FN_a + FN_v)
    F_av = _f1_list(TP_av, FP_av, FN_av)
    return _mean_or_one(F_a), _mean_or_one(F_v), _mean_or_one(F), _mean_or_one(F_av)


def _only_matrices(P_a, P_v):
    """CoLeaF main.py: element-by-element audible-only / visible-only matrices."""
    new_a = np.zeros(P_a.shape)
    new_v = np.zeros(P_v.shape)
    for i in range(P_a.shape[0]):
        for j in range(P_a.shape[1]):
            if P_a[i, j] == 1 and P_v[i, j] == 0:
                new_a[i, j] = 1
            if P_v[i, j] == 1 and P_a[i, j] == 0:
                new_v[i, j] = 1
    return new_a, new_v


def _summary(F_a, F_v, F, F_av):
    a = 100 * np.mean(np.array(F_a))
    v = 100 * np.mean(np.array(F_v))
    av = 100 * np.mean(np.array(F_av))
    type_av = (100 * np.mean(np.array(F_av)) + 100 * np.mean(np.array(F_a)) + 100 * np.mean(np.array(F_v))) / 3.0
    event_av = 100 * np.mean(np.array(F))
    return a, v, av, type_av, event_av


def official_evaluate(pred_a, pred_v, gt_a, gt_v):
    """The official per-video loop on ``(N, T, C)`` arrays -> the 18 keys of ``METRIC_KEYS``."""
    pred_a, pred_v, gt_a, gt_v = (np.asarray(x).astype(np.int64) for x in (pred_a, pred_v, gt_a, gt_v))
    lists = {name: [] for name in ("seg", "seg_only", "event", "event_only")}
    for b in range(pred_a.shape[0]):
        Pa, Pv = pred_a[b], pred_v[b]  # (T, C), like the official Pa / Pv before transposing
        GT_a = np.transpose(gt_a[b]).astype(np.float64)  # official GT matrices are float zeros (C, T)
        GT_v = np.transpose(gt_v[b]).astype(np.float64)
        GT_av = GT_a * GT_v
        SO_a = np.transpose(Pa)
        SO_v = np.transpose(Pv)
        SO_av = SO_a * SO_v
        lists["seg"].append(segment_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av))
        lists["event"].append(event_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av))

        # CoLeaF: only-matrices built in (T, C) then transposed; AV stream unchanged
        new_pa, new_pv = _only_matrices(Pa, Pv)
        new_gt_a, new_gt_v = _only_matrices(np.transpose(GT_a), np.transpose(GT_v))
        SO_a2, SO_v2 = np.transpose(new_pa), np.transpose(new_pv)
        new_GT_a, new_GT_v = np.transpose(new_gt_a), np.transpose(new_gt_v)
        SO_av2 = SO_a * SO_v
        lists["seg_only"].append(segment_level(SO_a2, SO_v2, SO_av2, new_GT_a, new_GT_v, GT_av))
        lists["event_only"].append(event_level(SO_a2, SO_v2, SO_av2, new_GT_a, new_GT_v, GT_av))

    out = {}
    for level, std, only in (("segment", "seg", "seg_only"), ("event", "event", "event_only")):
        F_a, F_v, F, F_av = zip(*lists[std])
        a, v, av, type_av, event_av = _summary(F_a, F_v, F, F_av)
        F_a2, F_v2, F2, F_av2 = zip(*lists[only])
        ao, vo, av2, type_avo, event_avo = _summary(F_a2, F_v2, F2, F_av2)
        out[f"{level}/A"] = a
        out[f"{level}/V"] = v
        out[f"{level}/AV"] = av
        out[f"{level}/Type@AV"] = type_av
        out[f"{level}/Event@AV"] = event_av
        out[f"{level}/Ao"] = ao
        out[f"{level}/Vo"] = vo
        out[f"{level}/Type@AVo"] = type_avo
        out[f"{level}/Event@AVo"] = event_avo
        assert av2 == av  # CoLeaF's second pass re-scores the unchanged AV stream
    return out
