"""Diagnostics shared by several notebooks (03 CoLeaF motivation, 08 comparisons).

:func:`event_type_rates` is the measurement behind CoLeaF's Table 1: how often a model gets
audible-only, visible-only and audible-visible events right or wrong, cell by cell.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from avvp_lib.metrics import exclusive_streams

EVENT_TYPES = ("Ao", "Vo", "AV")
RATES = ("TP", "TN", "FP", "FN")


def _as_bool(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype != np.bool_:
        bad = ~np.isin(x, (0, 1))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} must be binary (0/1); found {x[idx]!r} at index {idx}")
        x = x == 1
    return x


def event_type_streams(a, v) -> dict[str, np.ndarray]:
    """``Ao = a (1 - v)``, ``Vo = v (1 - a)`` (CoLeaF Eq. 14-15) and ``AV = a v``, as bool arrays."""
    ao, vo = exclusive_streams(a, v)
    return {"Ao": np.asarray(ao, dtype=bool), "Vo": np.asarray(vo, dtype=bool), "AV": a & v}


def event_type_rates(pred_a, pred_v, gt_a, gt_v) -> pd.DataFrame:
    """TP/TN/FP/FN rates (percent) of audible-only, visible-only and audible-visible events (Table 1's idea).

    Inputs: binary (N, T, C) predictions and ground truth. For each event type the prediction and the
    ground truth are turned into that type's stream (:func:`event_type_streams`), and every
    (video, segment, class) cell is counted once:

        TP rate = TP / (TP + FN)   FN rate = FN / (TP + FN)   (of the true events of that type)
        TN rate = TN / (TN + FP)   FP rate = FP / (TN + FP)   (of the cells without one)

    so TP + FN = 100 and TN + FP = 100 per column (NaN when a type never occurs). CoLeaF's Table 1
    does not state its normalisation (its TP and FN do not sum to 100); these are the standard rates.
    Returns a DataFrame with rows TP, TN, FP, FN and columns Ao, Vo, AV.
    """
    arrays = {"pred_a": _as_bool(pred_a, "pred_a"), "pred_v": _as_bool(pred_v, "pred_v"),
              "gt_a": _as_bool(gt_a, "gt_a"), "gt_v": _as_bool(gt_v, "gt_v")}
    shape = arrays["pred_a"].shape
    for name, arr in arrays.items():
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}; expected {shape} (the shape of pred_a)")
    pred = event_type_streams(arrays["pred_a"], arrays["pred_v"])
    gt = event_type_streams(arrays["gt_a"], arrays["gt_v"])
    table = {}
    for kind in EVENT_TYPES:
        p, g = pred[kind], gt[kind]
        tp, fn = np.sum(p & g), np.sum(~p & g)
        tn, fp = np.sum(~p & ~g), np.sum(p & ~g)
        pos, neg = tp + fn, tn + fp
        rate = lambda k, n: 100.0 * k / n if n else float("nan")  # noqa: E731
        table[kind] = {"TP": rate(tp, pos), "TN": rate(tn, neg), "FP": rate(fp, neg), "FN": rate(fn, pos)}
    return pd.DataFrame(table).loc[list(RATES), list(EVENT_TYPES)]
