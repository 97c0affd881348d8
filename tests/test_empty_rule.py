"""The empty-video rule, scored three ways on a case small enough to check by hand."""
import numpy as np
import pytest

from avvp_lib.empty_rule import empty_rule_effect, empty_videos


def _case():
    """Two videos, 2 segments, 1 class. Video 0: a visible-only event at t0 that the model misses (Vo F1 0);
    video 1: nothing anywhere (Vo 100 by the official rule)."""
    z = np.zeros((2, 2, 1), dtype=np.int64)
    gt_a, gt_v, pred_a, pred_v = z.copy(), z.copy(), z.copy(), z.copy()
    gt_v[0, 0, 0] = 1
    return pred_a, pred_v, gt_a, gt_v


def test_vo_three_ways_by_hand():
    row = empty_rule_effect(*_case(), metrics=("Vo",)).iloc[0]
    assert row["empty videos %"] == pytest.approx(50.0)
    assert row["official"] == pytest.approx(50.0)  # (0 + 100) / 2
    assert row["non-empty only"] == pytest.approx(0.0)
    assert row["empty as 0"] == pytest.approx(0.0)


def test_a_perfect_prediction_loses_nothing_on_non_empty_videos():
    pred_a, pred_v, gt_a, gt_v = _case()
    row = empty_rule_effect(pred_a, gt_v.copy(), gt_a, gt_v, metrics=("Vo",)).iloc[0]
    assert row["official"] == pytest.approx(100.0) and row["non-empty only"] == pytest.approx(100.0)
    assert row["empty as 0"] == pytest.approx(50.0)
    assert empty_videos(pred_a, gt_v, gt_a, gt_v, "Vo").tolist() == [False, True]
    with pytest.raises(KeyError, match="expected one of"):
        empty_videos(pred_a, pred_v, gt_a, gt_v, "Type@AV")
