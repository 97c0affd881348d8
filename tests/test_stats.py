"""Paired bootstrap and seed-noise test: hand-checkable cases."""
from __future__ import annotations

import numpy as np
import pytest

from avvp_lib import stats
from avvp_lib.metrics import METRIC_KEYS, evaluate, per_video_scores


def random_preds(n=40, seed=0, p=0.3):
    rng = np.random.default_rng(seed)
    return tuple((rng.random((n, 10, 5)) < p).astype(np.int64) for _ in range(2))


def test_counts_rows_sum_to_n_and_are_seeded():
    c = stats.bootstrap_counts(7, n_boot=50, seed=3)
    assert c.shape == (50, 7) and (c.sum(axis=1) == 7).all() and (c >= 0).all()
    assert np.array_equal(c, stats.bootstrap_counts(7, n_boot=50, seed=3))
    assert not np.array_equal(c, stats.bootstrap_counts(7, n_boot=50, seed=4))


def test_identical_predictions_give_zero_difference_and_degenerate_ci():
    gt = random_preds(seed=1)
    pred = random_preds(seed=2)
    table = stats.paired_bootstrap_predictions(pred, pred, gt, n_boot=200).set_index("metric")
    assert list(table.index) == list(METRIC_KEYS)
    assert (table[["diff", "ci_low", "ci_high"]] == 0).all().all()
    assert (table["share_le_0"] == 1.0).all()  # every resample has difference 0 <= 0


def test_constant_per_video_shift_is_recovered_exactly():
    n = 25
    rng = np.random.default_rng(0)
    base = {k: rng.uniform(0, 90, n) for k in METRIC_KEYS}
    shifted = {k: v + 2.5 for k, v in base.items()}
    table = stats.paired_bootstrap(shifted, base, n_boot=300, seed=1).set_index("metric")
    np.testing.assert_allclose(table[["diff", "ci_low", "ci_high"]].to_numpy(), 2.5, atol=1e-9)
    assert (table["share_le_0"] == 0).all()
    assert (table["n_videos"] == n).all() and (table["n_boot"] == 300).all()


def test_observed_difference_equals_difference_of_evaluate():
    gt, pm, pb = random_preds(seed=1), random_preds(seed=2), random_preds(seed=3, p=0.4)
    table = stats.paired_bootstrap_predictions(pm, pb, gt, n_boot=100).set_index("metric")
    em, eb = evaluate(*pm, *gt), evaluate(*pb, *gt)
    for k in METRIC_KEYS:
        assert table.loc[k, "diff"] == pytest.approx(em[k] - eb[k], abs=1e-9)
        assert table.loc[k, "ci_low"] <= table.loc[k, "ci_high"]


def test_type_metric_is_the_mean_of_its_three_resampled_parts():
    """Type@AV's resampled difference equals (AV + A + V) / 3 of the parts' resampled differences."""
    n, n_boot = 6, 4
    rng = np.random.default_rng(5)
    m = {k: rng.uniform(0, 100, n) for k in METRIC_KEYS}
    b = {k: rng.uniform(0, 100, n) for k in METRIC_KEYS}
    counts = stats.bootstrap_counts(n, n_boot, seed=9)
    by_hand = np.mean([counts @ (m[p] - b[p]) / n for p in ("segment/AV", "segment/A", "segment/V")], axis=0)
    table = stats.paired_bootstrap(m, b, ["segment/Type@AV"], n_boot=n_boot, seed=9, level=0.5)
    lo, hi = np.quantile(by_hand, [0.25, 0.75])
    assert table.loc[0, "ci_low"] == pytest.approx(lo) and table.loc[0, "ci_high"] == pytest.approx(hi)


def test_two_videos_by_hand():
    """Differences (+4, 0) on two videos: a resample draws each video 0, 1 or 2 times -> 0, 2 or 4."""
    m, b = {"segment/A": np.array([4.0, 0.0])}, {"segment/A": np.array([0.0, 0.0])}
    table = stats.paired_bootstrap(m, b, ["segment/A"], n_boot=4000, seed=0)
    assert table.loc[0, "diff"] == 2.0
    assert table.loc[0, "ci_low"] == 0.0 and table.loc[0, "ci_high"] == 4.0
    assert table.loc[0, "share_le_0"] == pytest.approx(0.25, abs=0.03)  # both draws hit video 2: 1/4


def test_seed_axis_is_averaged_first():
    m = {"segment/A": np.array([[1.0, 3.0], [3.0, 5.0]])}  # 2 seeds x 2 videos -> (2, 4)
    b = {"segment/A": np.array([0.0, 2.0])}
    table = stats.paired_bootstrap(m, b, ["segment/A"], n_boot=10)
    assert table.loc[0, "diff"] == pytest.approx(2.0)


def test_shape_errors_name_the_problem():
    with pytest.raises(ValueError, match="different numbers of videos"):
        stats.paired_bootstrap({"segment/A": np.zeros(3)}, {"segment/A": np.zeros(4)}, ["segment/A"])
    with pytest.raises(KeyError, match="segment/V"):
        stats.paired_bootstrap({"segment/A": np.zeros(3)}, {"segment/A": np.zeros(3)}, ["segment/V"])


def test_seed_noise_test_by_hand():
    # means 11 and 10, sample variances 1 and 1 with 3 seeds each: t = 1 / sqrt(1/3 + 1/3) = 1.2247
    res = stats.seed_noise_test([10, 11, 12], [9, 10, 11])
    assert res["diff"] == pytest.approx(1.0) and res["t"] == pytest.approx(1 / np.sqrt(2 / 3))
    assert not res["distinguishable"]
    big = stats.seed_noise_test([20.0, 20.1, 19.9], [10.0, 10.1, 9.9])
    assert big["distinguishable"] and big["p"] < 1e-4
    assert stats.seed_noise_test([5, 5, 5], [5, 5, 5]) | {} == {"diff": 0.0, "t": 0.0, "p": 1.0,
                                                               "distinguishable": False, "n_method": 3, "n_base": 3}
    assert stats.seed_noise_test([6, 6], [5, 5])["p"] == 0.0
    with pytest.raises(ValueError, match=">= 2 seeds"):
        stats.seed_noise_test([1.0], [1.0, 2.0])


def test_seed_noise_table_against_baseline():
    import pandas as pd

    rows = [{"method": m, "seed": s, "data": "synthetic", "profile": "quick", "segment/A": v}
            for m, vals in {"HAN": [50, 51, 52], "X": [60, 61, 62], "Y": [50, 52, 51]}.items()
            for s, v in enumerate(vals)]
    table = stats.seed_noise_table(pd.DataFrame(rows), metrics=["segment/A"]).set_index("method")
    assert table.loc["X", "distinguishable"] and not table.loc["Y", "distinguishable"]
    assert table.loc["X", "diff"] == pytest.approx(10.0)


def test_per_video_scores_mean_matches_evaluate():
    gt, pm = random_preds(seed=7), random_preds(seed=8)
    s, e = per_video_scores(*pm, *gt), evaluate(*pm, *gt)
    for k in METRIC_KEYS:
        assert s[k].mean() == pytest.approx(e[k], abs=1e-9)
