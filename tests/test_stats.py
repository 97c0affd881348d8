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


# ------------------------------------------------------------------ the course's rule: two-stage bootstrap
def _scores(values):
    """{"segment/A": (S, N)} from a nested list."""
    return {"segment/A": np.asarray(values, dtype=float)}


def test_two_stage_identical_sides_give_zero_and_inconclusive():
    a = _scores([[10.0, 20.0, 30.0], [15.0, 25.0, 35.0]])
    r = stats.two_stage_bootstrap(a, a, ["segment/A"], n_boot=200).iloc[0]
    assert (r["diff"], r["ci_low"], r["ci_high"]) == (0.0, 0.0, 0.0)
    assert stats.verdict(r["ci_low"], r["ci_high"], +1.0) == "inconclusive"


def test_two_stage_constant_shift_is_exact_and_read_against_the_paper():
    base = _scores([[10.0, 20.0, 30.0], [12.0, 22.0, 32.0], [8.0, 18.0, 28.0]])
    shifted = {"segment/A": base["segment/A"] + 4.0}
    r = stats.two_stage_bootstrap(shifted, base, ["segment/A"], n_boot=300).iloc[0]
    assert r["diff"] == pytest.approx(4.0) and r["ci_low"] == pytest.approx(4.0) and r["ci_high"] == pytest.approx(4.0)
    assert r["n_seeds"] == "3" and r["n_videos"] == 3
    assert stats.verdict(r["ci_low"], r["ci_high"], +1.0) == "agrees"
    assert stats.verdict(r["ci_low"], r["ci_high"], -1.0) == "contradicts"
    assert stats.verdict(r["ci_low"], r["ci_high"]) == "higher"


def test_two_videos_one_seed_by_hand():
    """S = 1, differences 4 and 0: a resample's mean is 0, 2 or 4 with probabilities 1/4, 1/2, 1/4, so the
    2.5 % quantile is 0 and the 97.5 % one is 4 (the video bootstrap alone)."""
    r = stats.two_stage_bootstrap(_scores([[4.0, 0.0]]), _scores([[0.0, 0.0]]), ["segment/A"], n_boot=4000).iloc[0]
    assert r["diff"] == pytest.approx(2.0) and (r["ci_low"], r["ci_high"]) == (0.0, 4.0)
    assert r["resampled"] == "videos only (1 seed)"
    assert stats.verdict(r["ci_low"], r["ci_high"], 1.0) == "inconclusive"


def test_two_seeds_one_video_by_hand():
    """The seed stage alone: N = 1 video, S = 2 seeds with differences 4 and 0. A replicate's mean over its two
    drawn seeds is 0, 2 or 4 with probabilities 1/4, 1/2, 1/4 -> interval [0, 4]; share of 4s about 1/4."""
    m, b = _scores([[4.0], [0.0]]), _scores([[0.0], [0.0]])
    r = stats.two_stage_bootstrap(m, b, ["segment/A"], n_boot=4000).iloc[0]
    assert r["diff"] == pytest.approx(2.0) and (r["ci_low"], r["ci_high"]) == (0.0, 4.0)
    assert r["resampled"] == "seeds and videos"
    assert stats.two_stage_bootstrap(m, b, ["segment/A"], n_boot=4000, level=0.4).iloc[0][["ci_low", "ci_high"]
                                                                                        ].tolist() == [2.0, 2.0]


def test_seed_variation_widens_the_interval():
    """The same per-video noise; per-seed offsets of +-3 on the method widen the two-stage interval, while the
    video-only bootstrap of the seed means (paired_bootstrap) does not see them."""
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 5, size=(1, 200))
    base = np.repeat(rng.normal(50, 10, size=(1, 200)), 4, axis=0)
    calm = base + 1.0 + noise
    wild = calm + np.array([[3.0], [-3.0], [3.0], [-3.0]])
    narrow = stats.two_stage_bootstrap(_scores(calm), _scores(base), ["segment/A"], n_boot=2000).iloc[0]
    wide = stats.two_stage_bootstrap(_scores(wild), _scores(base), ["segment/A"], n_boot=2000).iloc[0]
    video_only = stats.paired_bootstrap(_scores(wild), _scores(base), ["segment/A"], n_boot=2000).iloc[0]
    assert wide["ci_high"] - wide["ci_low"] > 2 * (narrow["ci_high"] - narrow["ci_low"])
    assert wide["ci_high"] - wide["ci_low"] >= video_only["ci_high"] - video_only["ci_low"]
    assert wide["diff"] == pytest.approx(narrow["diff"])  # the offsets cancel in the mean


def test_two_stage_is_deterministic_unpaired_and_checks_shapes():
    a, b = _scores([[1.0, 5.0, 2.0], [3.0, 4.0, 0.0]]), _scores([[0.0, 1.0, 2.0]])
    one = stats.two_stage_bootstrap(a, b, ["segment/A"], n_boot=500, seed=3, paired_seeds=False)
    two = stats.two_stage_bootstrap(a, b, ["segment/A"], n_boot=500, seed=3, paired_seeds=False)
    assert one.equals(two) and one.iloc[0]["n_seeds"] == "2 vs 1"
    with pytest.raises(ValueError, match="paired seeds need"):
        stats.two_stage_bootstrap(a, b, ["segment/A"])
    with pytest.raises(ValueError, match="different numbers of videos"):
        stats.two_stage_bootstrap(a, _scores([[0.0, 1.0]]), ["segment/A"], paired_seeds=False)


def test_two_stage_type_metric_is_the_mean_of_its_parts():
    parts = {k: np.array([[10.0, 20.0]]) for k in ("segment/AV", "segment/A", "segment/V")}
    plus = {"segment/AV": parts["segment/AV"] + 3, "segment/A": parts["segment/A"] + 6, "segment/V": parts["segment/V"]}
    r = stats.two_stage_bootstrap(plus, parts, ["segment/Type@AV"], n_boot=100).iloc[0]
    assert r["diff"] == pytest.approx(3.0) and r["ci_low"] == pytest.approx(3.0)


@pytest.mark.parametrize("low, high, paper, expected", [
    (0.5, 2.0, 1.0, "agrees"), (0.5, 2.0, -1.0, "contradicts"), (-0.5, 2.0, 1.0, "inconclusive"),
    (-2.0, -0.5, 1.0, "contradicts"), (-2.0, -0.5, -3.0, "agrees"), (0.5, 2.0, None, "higher"),
    (-2.0, -0.5, float("nan"), "lower"), (-0.1, 0.1, 0.0, "inconclusive"), (0.0, 1.0, 1.0, "inconclusive")])
def test_verdict_cases(low, high, paper, expected):
    assert stats.verdict(low, high, paper) == expected


def test_trend_bootstrap_recovers_a_linear_effect_and_calls_a_flat_one_inconclusive():
    from avvp_lib.stats import trend_bootstrap, verdict

    rng = np.random.default_rng(0)
    keys = ("segment/AV", "segment/A", "segment/V", "segment/Ao")
    linear, flat = [], []
    for level in range(4):
        base = {k: rng.uniform(0, 100, (3, 80)) for k in keys}
        linear.append(({k: b + 2.0 * level for k, b in base.items()}, base))  # effect 0, 2, 4, 6 at x = 0..3
        noise = {k: b + rng.normal(0, 5, b.shape) for k, b in base.items()}  # effect: noise around 0
        flat.append((noise, base))
    out = trend_bootstrap(linear, [0, 1, 2, 3], ["segment/Type@AV", "segment/Ao"], n_boot=300)
    assert np.allclose(out["slope"], 2.0) and np.allclose(out["ci_low"], 2.0) and np.allclose(out["ci_high"], 2.0)
    # x in other units: the slope is per unit of x (x = 0, 0.5, 1, 1.5 -> 4 per unit)
    assert np.allclose(trend_bootstrap(linear, [0, 0.5, 1, 1.5], ["segment/Ao"], n_boot=100)["slope"], 4.0)
    row = trend_bootstrap(flat, [0, 1, 2, 3], ["segment/Ao"], n_boot=500).iloc[0]
    assert row.ci_low < 0 < row.ci_high and verdict(row.ci_low, row.ci_high) == "inconclusive"
    with pytest.raises(ValueError, match="two distinct x"):
        trend_bootstrap(linear, [1, 1, 1, 1], ["segment/Ao"])
