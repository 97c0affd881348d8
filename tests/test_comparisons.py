"""The interval rule on results rows: predictions looked up by (name, profile, data fingerprint, seed)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from avvp_lib import comparisons as C
from avvp_lib.predictions import prediction_path, save_predictions
from avvp_lib.metrics import evaluate


def _world(tmp_path, noise=(("good/x", 0.02), ("base/y", 0.3)), seeds=(0, 1, 2), rate=0.15):
    """Two configurations x 3 seeds of predictions: ``good/x`` flips 2 % of the cells, ``base/y`` 30 %; ``rate``:
    the share of event cells in the truth."""
    rng = np.random.default_rng(0)
    gt_a, gt_v = ((rng.random((40, 10, 25)) < rate).astype(np.int64) for _ in range(2))
    rows = []
    for name, p in noise:
        for seed in seeds:
            flip = lambda g: np.where(rng.random(g.shape) < p, 1 - g, g)  # noqa: E731
            pa, pv = flip(gt_a), flip(gt_v)
            hashed = f"{abs(hash(name)) % 10**10:010d}"
            save_predictions(prediction_path(name, "quick", "fp0", seed, tmp_path), pa, pv, gt_a, gt_v,
                             [f"v{i}" for i in range(40)], {"name": name, "config_hash": hashed})
            rows.append({"name": name, "seed": seed, "profile": "quick", "data_fingerprint": "fp0",
                         "config_hash": hashed, **evaluate(pa, pv, gt_a, gt_v)})
    return pd.DataFrame(rows)


def test_a_clearly_better_configuration_is_called(tmp_path):
    frame = _world(tmp_path)
    out = C.compare(frame, "good/x", "base/y", ["segment/Type@AV", "segment/A"], paper=+2.0, n_boot=500,
                    folder=tmp_path).set_index("metric")
    ours = frame[frame.name == "good/x"]["segment/A"].mean() - frame[frame.name == "base/y"]["segment/A"].mean()
    assert out.loc["segment/A", "diff"] == pytest.approx(ours)  # the rows' own seed-mean difference
    assert (out["ci_low"] > 0).all() and (out["verdict"] == "agrees").all() and (out["seeds"] == "3").all()
    backwards = C.compare(frame, "base/y", "good/x", ["segment/A"], paper=+2.0, n_boot=500, folder=tmp_path)
    assert backwards.iloc[0]["verdict"] == "contradicts"
    table = C.comparison_table(frame, [("good - base", "good/x", "base/y", None), ("absent", "no/such", "base/y", None)],
                               ["segment/A"], n_boot=200, folder=tmp_path)
    assert table["verdict"].tolist() == ["higher"] and table.attrs["missing"] == ["absent"]
    assert C.format_interval(1.234, -0.31, 2.8) == "+1.2 [-0.3, +2.8]"


def test_another_runs_predictions_and_missing_files_are_errors(tmp_path):
    frame = _world(tmp_path)
    wrong = frame.copy()
    wrong.loc[(wrong.name == "good/x") & (wrong.seed == 1), "config_hash"] = "0000000000"
    with pytest.raises(ValueError, match=r"good--x_quick_fp0_seed1\.npz: predictions of config"):
        C.compare(wrong, "good/x", "base/y", folder=tmp_path)
    prediction_path("base/y", "quick", "fp0", 2, tmp_path).unlink()
    with pytest.raises(FileNotFoundError, match=r"no saved predictions for base/y seed 2 \(nor base--y_quick_fp0_seed2\.npz"):
        C.compare(frame, "good/x", "base/y", folder=tmp_path)


def test_unequal_seeds_are_paired_on_the_common_ones_or_resampled_unpaired(tmp_path):
    frame = _world(tmp_path)
    two = frame[~((frame.name == "base/y") & (frame.seed == 2))]
    assert C.compare(two, "good/x", "base/y", ["segment/A"], n_boot=200, folder=tmp_path).iloc[0]["seeds"] == "2"
    one = frame[~((frame.name == "base/y") & (frame.seed > 0))]
    assert C.compare(one, "good/x", "base/y", ["segment/A"], n_boot=200, folder=tmp_path).iloc[0]["seeds"] == "3 vs 1"


def test_features_column_filters_rows_of_one_name(tmp_path):
    """One name on two feature sets (a features column): only the asked feature set's rows are compared."""
    frame = _world(tmp_path).assign(features="standard")
    other = frame.assign(features="clip_clap", seed=frame.seed + 10)  # rows without files: must not be touched
    both = pd.concat([frame, other], ignore_index=True)
    out = C.compare(both, "good/x", "base/y", ["segment/A"], n_boot=200, folder=tmp_path, features="standard")
    assert out.iloc[0]["seeds"] == "3" and out.iloc[0]["verdict"] == "higher"
    with pytest.raises(KeyError, match="on imagebind features"):
        C.compare(both, "good/x", "base/y", folder=tmp_path, features="imagebind")


def test_format_interval_shows_the_side_of_zero_of_every_bound():
    assert C.format_interval(-0.5, -1.04, -0.03) == "-0.5 [-1.0, -0.03]"  # excludes 0: the sign stays visible
    assert C.format_interval(0.7, 0.004, 1.4) == "+0.7 [+0.004, +1.4]"
    assert C.format_interval(2.0, 0.0, 4.0) == "+2.0 [+0.0, +4.0]"  # a bound exactly 0 prints as 0
    assert C.format_bound(-0.0) == "+0.0" and C.format_bound(0.00001) == "+0.0000"  # at most 4 decimals
    assert C.format_bound(-0.04, digits=2) == "-0.04" and C.format_bound(12.34) == "+12.3"


def test_claim_sentences_read_the_rows_verdicts():
    rows = pd.DataFrame({"metric": ["segment/Ao", "segment/Vo"], "diff": [1.2, -0.5], "ci_low": [0.4, -1.0],
                         "ci_high": [2.0, 0.2], "verdict": ["agrees", "inconclusive"]})
    assert C.claim_sentence("X - Y", rows) == "X - Y: Ao +1.2 [+0.4, +2.0] (agrees); Vo -0.5 [-1.0, +0.2] (inconclusive)."
    md = C.claims_markdown([("**X**", rows, "Same features."), ("**Z**", rows.iloc[:1].assign(verdict="contradicts"), "")])
    assert md == ("* **X**: Ao +1.2 [+0.4, +2.0] (supports); Vo -0.5 [-1.0, +0.2] (inconclusive). Same features.\n"
                  "* **Z**: Ao +1.2 [+0.4, +2.0] (contradicts).")


def test_videos_with_scores_only_the_videos_whose_truth_holds_the_stream(tmp_path):
    frame = _world(tmp_path, rate=0.002)  # about 2 of 5 videos hold a visible-only event
    seed_rows = frame[frame.name == "good/x"]
    s = C.scores_for_rows(seed_rows, tmp_path)
    has_vo = s["_present"]["Vo"]
    assert 0 < has_vo.sum() < len(has_vo)  # some videos hold a visible-only event, some do not
    out = C.compare(frame, "good/x", "base/y", ["segment/Vo"], n_boot=200, folder=tmp_path, videos_with="Vo")
    b = C.scores_for_rows(frame[frame.name == "base/y"], tmp_path)
    expected = s["segment/Vo"][:, has_vo].mean() - b["segment/Vo"][:, has_vo].mean()
    assert out.iloc[0]["diff"] == pytest.approx(expected)


def test_range_sentence_counts_the_levels_verdicts():
    rows = pd.DataFrame({"diff": [-5.9, -4.3, -5.1], "verdict": ["lower", "lower", "inconclusive"]})
    trend = pd.Series({"diff": 2.0, "ci_low": -2.5, "ci_high": 6.4, "verdict": "inconclusive"})
    assert C.range_sentence("U+C - U, Ao", rows, trend, "share") == (
        "U+C - U, Ao: -5.9 to -4.3 over the 3 levels (lower at 2 of 3, inconclusive at 1 of 3); "
        "slope +2.0 [-2.5, +6.4] per unit of share (inconclusive).")


def test_a_configuration_change_under_one_name_never_overwrites_the_older_runs_predictions(tmp_path):
    """Files carry the configuration hash: a re-run of a name with another recipe writes beside the old file, and
    the reader finds each row's own file (the old name without a hash still read, checked against the row)."""
    from avvp_lib.predictions import find_predictions, load_predictions

    a = np.zeros((2, 10, 25), bool)
    b = np.ones((2, 10, 25), bool)
    legacy = prediction_path("valor/main", "quick", "f" * 12, 0, tmp_path)
    save_predictions(legacy, a, a, a, a, ["v1", "v2"], {"config_hash": "old"})
    new = prediction_path("valor/main", "quick", "f" * 12, 0, tmp_path, config_hash="new")
    save_predictions(new, b, b, a, a, ["v1", "v2"], {"config_hash": "new"})
    assert new != legacy and new.name == "valor--main_quick_ffffffffffff_new_seed0.npz"
    assert find_predictions("valor/main", "quick", "f" * 12, 0, "new", tmp_path) == new
    assert find_predictions("valor/main", "quick", "f" * 12, 0, "old", tmp_path) == legacy
    assert load_predictions(legacy)["meta"]["config_hash"] == "old"  # untouched by the second run
