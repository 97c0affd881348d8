"""Tests of avvp_lib.metrics: hand-worked examples, the official oracle, the inference rule, errors."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from avvp_lib import metrics as M
from avvp_lib.metrics import METRIC_KEYS, evaluate, inference_rule

# the oracle is loaded by path so that the test works whether or not tests/ is a package
_ORACLE_PATH = Path(__file__).parent / "reference" / "official_eval.py"
_spec = importlib.util.spec_from_file_location("avvp_official_eval_oracle", _ORACLE_PATH)
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


def arr(*rows):
    """One video, one class: ``arr([1, 0, 1])`` -> shape (1, T, 1)."""
    return np.array(rows[0], dtype=np.int64)[None, :, None]


def approx(d, expected):
    for k, v in expected.items():
        assert d[k] == pytest.approx(v, abs=1e-9), k


# ------------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------------
def test_metric_keys_order():
    names = ["A", "V", "AV", "Type@AV", "Event@AV", "Ao", "Vo", "Type@AVo", "Event@AVo"]
    assert METRIC_KEYS == tuple(f"{lvl}/{n}" for lvl in ("segment", "event") for n in names)
    z = np.zeros((1, 10, 25), dtype=bool)
    out = evaluate(z, z, z, z)
    assert tuple(out) == METRIC_KEYS
    assert all(type(v) is float for v in out.values())


# ------------------------------------------------------------------------------------------
# (a) hand-worked examples
# ------------------------------------------------------------------------------------------
def test_worked_example_three_segments():
    # one video, one class, T = 3
    gt_a, pred_a = arr([1, 1, 0]), arr([1, 0, 1])
    gt_v, pred_v = arr([0, 1, 1]), arr([0, 1, 1])
    # derived streams:
    #   gt_av  = [0,1,0]   pred_av = [0,0,1]
    #   gt_ao  = a(1-v) = [1,0,0]   pred_ao = [1,0,0]        (CoLeaF Eq. 14-15)
    #   gt_vo  = v(1-a) = [0,0,1]   pred_vo = [0,1,0]
    # SEGMENT level (F1 = 2TP / (2TP + FP + FN))
    #   A : TP=1 FP=1 FN=1 -> 2/4 = 0.5          V : TP=2 -> 1.0       AV: TP=0 FP=1 FN=1 -> 0
    #   Event@AV: TP=1+2 FP=1+0 FN=1+0 -> 6/8 = 0.75
    #   Type@AV = (0 + 50 + 100) / 3 = 50
    #   Ao: TP=1 -> 1.0     Vo: TP=0 FP=1 FN=1 -> 0     Type@AVo = (0 + 100 + 0) / 3
    #   Event@AVo: TP=1+0 FP=0+1 FN=0+1 -> 2/4 = 0.5
    # EVENT level (runs; a predicted run is a TP if IoU >= 0.5 with a GT run)
    #   A : pred runs {0}, {2}; GT run {0,1}. IoU({0},{0,1}) = 1/2 = 0.5 -> matched (boundary);
    #       {2} matches nothing -> FP; the GT run is matched -> FN = 0. TP=1 FP=1 FN=0 -> 2/3
    #   V : {1,2} == {1,2} -> 1.0          AV: pred {2} vs GT {1}: TP=0 FP=1 FN=1 -> 0
    #   Event@AV: TP=1+1 FP=1+0 FN=0+0 -> 4/5 = 0.8
    #   Type@AV = (0 + 66.67 + 100) / 3 = 55.56
    #   Ao: {0} vs {0} -> 1.0   Vo: {1} vs {2} -> 0   Event@AVo: TP=1 FP=1 FN=1 -> 0.5
    expected = {
        "segment/A": 50.0, "segment/V": 100.0, "segment/AV": 0.0, "segment/Type@AV": 50.0,
        "segment/Event@AV": 75.0, "segment/Ao": 100.0, "segment/Vo": 0.0,
        "segment/Type@AVo": 100.0 / 3, "segment/Event@AVo": 50.0,
        "event/A": 200.0 / 3, "event/V": 100.0, "event/AV": 0.0,
        "event/Type@AV": (200.0 / 3 + 100.0) / 3, "event/Event@AV": 80.0,
        "event/Ao": 100.0, "event/Vo": 0.0, "event/Type@AVo": 100.0 / 3, "event/Event@AVo": 50.0,
    }
    assert set(expected) == set(METRIC_KEYS)
    approx(evaluate(pred_a, pred_v, gt_a, gt_v), expected)
    approx(oracle.official_evaluate(pred_a, pred_v, gt_a, gt_v), expected)  # the oracle agrees


def test_empty_prediction_and_empty_ground_truth_is_perfect():
    # no class occurs anywhere: every class is skipped, every video scores 1.0 ("all true negatives")
    z = np.zeros((2, 3, 4), dtype=np.int64)
    assert evaluate(z, z, z, z) == {k: 100.0 for k in METRIC_KEYS}


def test_prediction_without_ground_truth_scores_zero():
    z = arr([0, 0, 0])
    pred_a = arr([0, 1, 0])
    # A: TP=0 FP=1 -> F1 0 (class kept); V and AV: nothing anywhere -> 1.0
    # Event@AV: TP=0 FP=1 -> 0;  Ao = A (pred_v is empty), Vo -> 1.0, Event@AVo -> 0
    expected_level = {"A": 0.0, "V": 100.0, "AV": 100.0, "Type@AV": 200.0 / 3, "Event@AV": 0.0,
                      "Ao": 0.0, "Vo": 100.0, "Type@AVo": 200.0 / 3, "Event@AVo": 0.0}
    out = evaluate(pred_a, z, z, z)
    approx(out, {f"{lvl}/{k}": v for lvl in ("segment", "event") for k, v in expected_level.items()})


def test_ground_truth_without_prediction_scores_zero():
    z = arr([0, 0, 0])
    gt_v = arr([1, 1, 1])
    # V: TP=0 FN=3 (segment) / FN=1 event -> 0; A, AV: 1.0; Vo = V; Ao 1.0
    expected_level = {"A": 100.0, "V": 0.0, "AV": 100.0, "Type@AV": 200.0 / 3, "Event@AV": 0.0,
                      "Ao": 100.0, "Vo": 0.0, "Type@AVo": 200.0 / 3, "Event@AVo": 0.0}
    out = evaluate(z, z, z, gt_v)
    approx(out, {f"{lvl}/{k}": v for lvl in ("segment", "event") for k, v in expected_level.items()})


def test_classes_without_events_are_skipped_and_videos_averaged():
    # video 0, three classes (T = 3), audio only:
    #   class 0: pred = gt = [1,1,0]      -> F1 1
    #   class 1: pred [0,0,1], gt empty   -> F1 0
    #   class 2: nothing                  -> skipped (neither 0 nor 1)
    #   -> video score (1 + 0) / 2 = 0.5
    # video 1: nothing at all -> 1.0.  Split: 100 * (0.5 + 1.0) / 2 = 75
    pred = np.zeros((2, 3, 3), dtype=np.int64)
    gt = np.zeros_like(pred)
    pred[0, :, 0] = gt[0, :, 0] = [1, 1, 0]
    pred[0, :, 1] = [0, 0, 1]
    z = np.zeros_like(pred)
    out = evaluate(pred, z, gt, z)
    assert out["segment/A"] == pytest.approx(75.0)
    assert out["event/A"] == pytest.approx(75.0)
    np.testing.assert_allclose(M.per_video_scores(pred, z, gt, z)["segment/A"], [50.0, 100.0])


def test_event_run_split_by_a_gap():
    # T = 5: GT run {0,1,2,3}; prediction split by a gap into {0,1} and {3}
    gt, pred = arr([1, 1, 1, 1, 0]), arr([1, 1, 0, 1, 0])
    start, end = M.run_intervals(pred[0, :, 0])
    assert start.tolist() == [0, 3, 0] and end.tolist() == [2, 4, 0]  # R = ceil(5/2) = 3 slots
    # {0,1}: IoU 2/4 = 0.5 -> TP;  {3}: IoU 1/4 -> FP;  GT run matched -> FN 0
    tp, fp, fn = M.event_counts(pred, gt)
    assert (tp.item(), fp.item(), fn.item()) == (1, 1, 0)
    z = np.zeros_like(gt)
    out = evaluate(pred, z, gt, z)
    assert out["event/A"] == pytest.approx(100 * 2 / 3)  # 2*1 / (2*1 + 1 + 0)
    assert out["segment/A"] == pytest.approx(100 * 6 / 7)  # TP=3 FP=0 FN=1


@pytest.mark.parametrize(
    "pred, expected_event, expected_segment",
    [
        ([0, 0, 1, 1, 0], 100.0, 100 * 4 / 6),  # IoU 2/4 = 0.5 exactly: matched
        ([0, 0, 1, 1, 1], 0.0, 100 * 4 / 7),  # IoU 2/5 = 0.4: not matched -> FP and FN
        ([1, 1, 1, 1, 1], 100.0, 100 * 8 / 9),  # IoU 4/5: matched
    ],
)
def test_iou_boundary(pred, expected_event, expected_segment):
    gt = arr([1, 1, 1, 1, 0])
    z = np.zeros_like(gt)
    out = evaluate(arr(pred), z, gt, z)
    assert out["event/A"] == pytest.approx(expected_event)
    assert out["segment/A"] == pytest.approx(expected_segment)


def test_one_long_prediction_over_two_ground_truth_events():
    gt = arr([1, 1, 0, 1, 1])
    # {0..4} vs {0,1} and {3,4}: IoU 2/5 each -> TP 0, FP 1, FN 2 -> 0
    assert [c.item() for c in M.event_counts(arr([1, 1, 1, 1, 1]), gt)] == [0, 1, 2]
    # {0,1,2} vs {0,1}: IoU 2/3 -> TP; {3,4} unmatched -> FN: F1 = 2/(2+1)
    assert [c.item() for c in M.event_counts(arr([1, 1, 1, 0, 0]), gt)] == [1, 0, 1]


@pytest.mark.parametrize("t", [1, 2, 5, 10, 11, 13])
def test_memoised_event_counts_equal_the_run_algorithm(t):
    """The pattern-pair table (T <= 10) and the run-overlap algorithm give the same counts, also once the table is warm."""
    rng = np.random.default_rng(t)
    pred, gt = rng.random((2, 3, 40, t, 6)) < 0.4  # (streams=3, N=40, T, C=6)
    rows = lambda x: np.ascontiguousarray(np.swapaxes(x, -1, -2)).reshape(-1, t)  # noqa: E731
    for threshold in (0.5, 0.3, 1.0):
        expected = M._event_counts_by_runs(rows(pred), rows(gt), threshold)
        for _ in range(2):  # cold, then warm table
            got = M.event_counts(pred, gt, threshold)
            for g, e in zip(got, expected):
                assert g.shape == (3, 40, 6) and np.array_equal(g.reshape(-1), e)


def test_event_counts_table_by_hand():
    # pred 1 1 0 1, gt 0 1 1 1: pred runs [0,2) and [3,4), gt run [1,4). IoU 1/4 and 1/3: no match.
    pred = np.array([1, 1, 0, 1], dtype=bool)[:, None]
    gt = np.array([0, 1, 1, 1], dtype=bool)[:, None]
    assert [c.item() for c in M.event_counts(pred, gt)] == [0, 2, 1]
    assert [c.item() for c in M.event_counts(pred, gt, iou_threshold=0.25)] == [2, 0, 0]


def test_segment_counts_and_per_video_f1():
    pred = np.array([[[1, 0], [1, 1], [0, 1]]])  # (1, T=3, C=2)
    gt = np.array([[[1, 0], [0, 0], [1, 1]]])
    tp, fp, fn = M.segment_counts(pred, gt)
    assert tp.tolist() == [[1, 1]] and fp.tolist() == [[1, 1]] and fn.tolist() == [[1, 0]]
    # class 0: 2/(2+2) = 0.5, class 1: 2/(2+1) = 2/3, class 2 (all zero) skipped
    f = M.per_video_f1([[1, 1, 0], [0, 0, 0]], [[1, 1, 0], [0, 0, 0]], [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(f, [(0.5 + 2 / 3) / 2, 1.0])


def test_exclusive_streams_eq14_15():
    a = np.array([1, 1, 0, 0])
    v = np.array([1, 0, 1, 0])
    ao, vo = M.exclusive_streams(a, v)
    assert ao.tolist() == [0, 1, 0, 0] and vo.tolist() == [0, 0, 1, 0]
    ao_t, vo_t = M.exclusive_streams(torch.tensor(a).bool(), torch.tensor(v).bool())
    assert ao_t.tolist() == [False, True, False, False] and vo_t.tolist() == [False, False, True, False]


def test_per_class_f1_pools_over_videos():
    pred = np.zeros((2, 3, 3), dtype=np.int64)
    gt = np.zeros_like(pred)
    pred[0, :, 0] = gt[0, :, 0] = [1, 1, 0]  # class 0, video 0: TP 2
    pred[1, :, 0] = [1, 0, 0]  # class 0, video 1: FP 1, FN 1
    gt[1, :, 0] = [0, 1, 0]
    pred[0, :, 2] = [0, 0, 1]  # class 2: FP only; class 1: never occurs
    f = M.per_class_f1(pred, gt)
    assert f[0] == pytest.approx(100 * 4 / 6) and math.isnan(f[1]) and f[2] == 0.0
    fe = M.per_class_f1(pred, gt, level="event")  # class 0 events: TP 1, then FP 1 + FN 1
    assert fe[0] == pytest.approx(100 * 2 / 4)
    with pytest.raises(ValueError, match="level"):
        M.per_class_f1(pred, gt, level="video")


# ------------------------------------------------------------------------------------------
# (b) equivalence with the official evaluation (slow oracle)
# ------------------------------------------------------------------------------------------
def _runs(rng, n, t, c, p_active, max_runs=2):
    """(n, t, c) bool tracks made of up to ``max_runs`` random runs per active (video, class)."""
    ar = np.arange(t)[None, :, None]
    out = np.zeros((n, t, c), dtype=bool)
    for _ in range(max_runs):
        active = rng.random((n, 1, c)) < p_active
        s = rng.integers(0, t, (n, 1, c))
        length = rng.integers(1, t + 1, (n, 1, c))
        out |= active & (ar >= s) & (ar < s + length)
    return out


def _perturb(rng, x, flip, drop=0.1):
    """Shift each (video, class) track by -1/0/+1, drop some classes, flip a few bits."""
    shift = rng.integers(-1, 2, (x.shape[0], 1, x.shape[2]))
    y = x.copy()
    for d in (-1, 1):
        y = np.where(shift == d, np.roll(x, d, axis=1), y)
    y &= ~(rng.random((x.shape[0], 1, x.shape[2])) < drop)
    return y ^ (rng.random(x.shape) < flip)


def _structured_case(seed, n=300, t=10, c=25):
    rng = np.random.default_rng(seed)
    gt_a = _runs(rng, n, t, c, p_active=0.08)
    shared = rng.random((n, 1, c)) < 0.5  # aligned audio-visual events (perturbed copies)
    gt_v = np.where(shared, _perturb(rng, gt_a, flip=0.0, drop=0.0), _runs(rng, n, t, c, 0.05))
    pred_a = _perturb(rng, gt_a, flip=0.04) | _runs(rng, n, t, c, 0.03)
    pred_v = _perturb(rng, gt_v, flip=0.04) | _runs(rng, n, t, c, 0.03)
    return pred_a, pred_v, gt_a, gt_v


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_official_evaluation_structured(seed):
    case = _structured_case(seed)
    ours = evaluate(*case)
    ref = oracle.official_evaluate(*case)
    for k in METRIC_KEYS:
        assert abs(ours[k] - ref[k]) < 1e-6, (k, ours[k], ref[k])
    assert 0 < ours["event/Vo"] < 100  # the data exercise the metrics, not only the edge cases


def test_matches_official_evaluation_other_shape_dense_torch():
    # T = 7, C = 4, dense coin flips (many short runs), torch float inputs
    rng = np.random.default_rng(7)
    case = [torch.from_numpy(rng.random((80, 7, 4)) < 0.5).float() for _ in range(4)]
    ours = evaluate(*case)
    ref = oracle.official_evaluate(*[x.numpy() for x in case])
    for k in METRIC_KEYS:
        assert abs(ours[k] - ref[k]) < 1e-6, (k, ours[k], ref[k])


@pytest.mark.parametrize("t", [1, 2, 3])
def test_matches_official_evaluation_short_sequences(t):
    rng = np.random.default_rng(t)
    case = [rng.random((60, t, 3)) < 0.5 for _ in range(4)]
    ours, ref = evaluate(*case), oracle.official_evaluate(*case)
    for k in METRIC_KEYS:
        assert abs(ours[k] - ref[k]) < 1e-6, (k, ours[k], ref[k])


def test_input_kinds_agree_and_per_video_scores_average_to_evaluate():
    case = _structured_case(3, n=60)
    ref = evaluate(*case)
    assert evaluate(*[x.astype(np.float32) for x in case]) == ref
    assert evaluate(*[torch.from_numpy(x) for x in case]) == ref
    assert evaluate(*[torch.from_numpy(x).long() for x in case]) == ref
    per_video = M.per_video_scores(*case)
    for k in METRIC_KEYS:
        assert per_video[k].shape == (60,)
        assert per_video[k].mean() == pytest.approx(ref[k], abs=1e-9)


# ------------------------------------------------------------------------------------------
# (c) inference rule
# ------------------------------------------------------------------------------------------
def _probs():
    # N=1, T=2, C=2; segment_prob[n, t, modality, class]
    seg = np.zeros((1, 2, 2, 2))
    seg[0, :, 0, 0] = [0.5, 0.4]  # audio, class 0: 0.5 is >= 0.5 (inclusive)
    seg[0, :, 1, 0] = [0.9, 0.6]  # visual, class 0
    seg[0, :, 0, 1] = [0.8, 0.8]  # audio, class 1
    seg[0, :, 1, 1] = [0.3, 0.7]  # visual, class 1
    video = np.array([[0.7, 0.45]])  # class 1 fails the video-level gate at 0.5
    return seg, video


def test_inference_rule_official_default():
    seg, video = _probs()
    pa, pv = inference_rule(seg, video)
    assert isinstance(pa, np.ndarray) and pa.dtype == np.int64 and pa.shape == (1, 2, 2)
    assert pa[0].tolist() == [[1, 0], [0, 0]]  # class 1 gated off by the video probability
    assert pv[0].tolist() == [[1, 0], [1, 0]]


def test_inference_rule_per_class_thresholds():
    seg, video = _probs()
    pa, pv = inference_rule(seg, video, segment_threshold=[0.35, 0.5], video_threshold=[0.5, 0.4])
    assert pa[0].tolist() == [[1, 1], [1, 1]]  # class 0 threshold 0.35; class 1 gate 0.4 passes
    assert pv[0].tolist() == [[1, 0], [1, 1]]
    # per-modality (2, C) segment thresholds and per-modality video gates (N, 2, C)
    gates = np.stack([video, np.array([[0.1, 0.9]])], axis=1)  # audio gate, visual gate
    pa, pv = inference_rule(seg, gates, segment_threshold=[[0.5, 0.5], [0.95, 0.2]])
    assert pa[0].tolist() == [[1, 0], [0, 0]]
    assert pv[0].tolist() == [[0, 1], [0, 1]]  # visual class 0 gated off (0.1), class 1 thr 0.2


def test_inference_rule_torch_in_torch_out():
    seg, video = _probs()
    pa, pv = inference_rule(torch.tensor(seg, dtype=torch.float32), torch.tensor(video), 0.5,
                            torch.tensor([0.5, 0.4]))
    assert isinstance(pa, torch.Tensor) and pa.dtype == torch.long
    ref_a, ref_v = inference_rule(seg, video, 0.5, [0.5, 0.4])
    assert pa.numpy().tolist() == ref_a.tolist() and pv.numpy().tolist() == ref_v.tolist()
    out = evaluate(pa, pv, pa, pv)  # tensors go straight into evaluate
    assert out["segment/Type@AV"] == 100.0


def test_inference_rule_errors():
    seg, video = _probs()
    with pytest.raises(ValueError, match=r"\(N, T, 2, C\)"):
        inference_rule(seg[:, :, :1], video)
    with pytest.raises(ValueError, match=r"video_prob.*\(1, 3\)"):
        inference_rule(seg, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"segment_threshold.*\(3,\)"):
        inference_rule(seg, video, segment_threshold=[0.5, 0.5, 0.5])


# ------------------------------------------------------------------------------------------
# (d) error messages
# ------------------------------------------------------------------------------------------
def test_shape_mismatch_names_both_shapes():
    a = np.zeros((2, 10, 25))
    b = np.zeros((2, 10, 24))
    with pytest.raises(ValueError, match=r"pred_a has shape \(2, 10, 25\) but gt_v has shape \(2, 10, 24\)"):
        evaluate(a, a, a, b)


@pytest.mark.parametrize("bad, shown", [(0.5, "0.5"), (2, "2"), (-1, "-1"), (np.nan, "nan")])
def test_non_binary_value_is_named(bad, shown):
    x = np.zeros((1, 10, 25))
    y = x.copy()
    y[0, 3, 7] = bad
    with pytest.raises(ValueError, match=rf"pred_v must be binary.*{shown}.*\(0, 3, 7\)"):
        evaluate(x, y, x, x)


def test_other_input_errors():
    with pytest.raises(ValueError, match=r"\(N, T, C\)"):
        evaluate(np.zeros((10, 25)), np.zeros((10, 25)), np.zeros((10, 25)), np.zeros((10, 25)))
    z = np.zeros((0, 10, 25))
    with pytest.raises(ValueError, match="zero videos"):
        evaluate(z, z, z, z)
    with pytest.raises(ValueError, match="iou_threshold"):
        M.event_counts(np.zeros((1, 3, 1)), np.zeros((1, 3, 1)), iou_threshold=0.0)
