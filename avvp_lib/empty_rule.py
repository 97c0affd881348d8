"""What the official "all true negatives" rule does to a metric (notebook 08, issue "Vo honestly").

The official per-video score (:func:`avvp_lib.metrics.per_video_f1`) is 100 for a video in which neither the
prediction nor the ground truth holds any event of the stream scored. For ``Vo`` (visible-only events, CoLeaF
Eq. 14-15) most test videos are such videos, so a method that predicts almost no visible-only event scores high
on them. This module scores the same predictions three ways:

* ``official``: the rule as in the official code (empty videos count 100);
* ``non-empty only``: the mean over the videos whose stream is non-empty in the prediction or the truth;
* ``empty as 0``: empty videos count 0 (a lower bound: what a method gets from the non-empty videos alone).

It only re-reads saved predictions; no result depends on it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from avvp_lib.metrics import exclusive_streams, per_video_scores

#: stream of each metric checked for emptiness: (prediction, truth) -> the binary (N, T, C) arrays it scores
STREAMS = {"A": lambda pa, pv: pa, "V": lambda pa, pv: pv, "AV": lambda pa, pv: pa & pv,
           "Ao": lambda pa, pv: exclusive_streams(pa, pv)[0], "Vo": lambda pa, pv: exclusive_streams(pa, pv)[1]}


def empty_videos(pred_a, pred_v, gt_a, gt_v, metric: str) -> np.ndarray:
    """(N,) True where the stream of ``metric`` (a key of :data:`STREAMS`) is empty in prediction and truth."""
    if metric not in STREAMS:
        raise KeyError(f"metric {metric!r}: expected one of {sorted(STREAMS)}")
    arrays = [np.asarray(x).astype(bool) for x in (pred_a, pred_v, gt_a, gt_v)]
    pred = STREAMS[metric](arrays[0], arrays[1])
    gt = STREAMS[metric](arrays[2], arrays[3])
    return ~(pred.any(axis=(1, 2)) | gt.any(axis=(1, 2)))


def empty_rule_effect(pred_a, pred_v, gt_a, gt_v, metrics=("A", "V", "AV", "Ao", "Vo"),
                      level: str = "segment") -> pd.DataFrame:
    """One row per metric: share of empty videos and the metric scored the three ways (percent)."""
    scores = per_video_scores(pred_a, pred_v, gt_a, gt_v)
    rows = []
    for metric in metrics:
        empty = empty_videos(pred_a, pred_v, gt_a, gt_v, metric)
        s = scores[f"{level}/{metric}"]
        rows.append({"metric": f"{level}/{metric}", "empty videos %": 100.0 * empty.mean(),
                     "official": s.mean(), "non-empty only": s[~empty].mean() if (~empty).any() else float("nan"),
                     "empty as 0": np.where(empty, 0.0, s).mean()})
    return pd.DataFrame(rows)
