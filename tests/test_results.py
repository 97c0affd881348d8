"""Results rows: schema, atomic upsert, staleness, mean/std aggregation by hand."""
from __future__ import annotations

import pytest

from avvp_lib import results
from avvp_lib.metrics import METRIC_KEYS


def row(seed, value, variant="base"):
    return results.make_row("han", variant, seed, "synthetic", "quick", {k: value for k in METRIC_KEYS}, 1.5,
                            {"lr": 3e-4})


def test_make_row_checks_source_and_metrics():
    with pytest.raises(ValueError, match="data source 'real'"):
        results.make_row("han", "base", 0, "real", "quick", {k: 0 for k in METRIC_KEYS}, 0, {})
    with pytest.raises(ValueError, match="lack"):
        results.make_row("han", "base", 0, "synthetic", "quick", {"segment/A": 1.0}, 0, {})


def test_append_is_an_upsert_and_atomic(tmp_path):
    path = tmp_path / "r.csv"
    results.append_rows(path, [row(0, 10.0), row(1, 20.0)])
    frame = results.append_rows(path, [row(1, 30.0), row(2, 40.0)])  # seed 1 is replaced, seed 2 added
    assert sorted(frame.seed) == [0, 1, 2]
    back = results.read_results(path)
    assert back.set_index("seed").loc[1, "segment/A"] == 30.0
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_summarize_mean_and_sample_std_by_hand(tmp_path):
    frame = results.append_rows(tmp_path / "r.csv", [row(0, 10.0), row(1, 20.0), row(2, 30.0)])
    summary = results.summarize(frame, ["segment/A"])
    assert summary.loc[0, "segment/A mean"] == 20.0 and summary.loc[0, "segment/A std"] == 10.0  # sqrt(200 / 2)
    assert summary.loc[0, "seeds"] == 3
    table = results.mean_std_table(frame, ["segment/A"])
    assert table.loc[0, "segment/A"] == "20.0 ± 10.0"


def test_stale_rows_are_flagged(tmp_path):
    frame = results.append_rows(tmp_path / "r.csv", [row(0, 10.0)])
    frame.loc[0, "code_version"] = "000000000000"
    assert results.flag_stale(frame).stale.tolist() == [True]


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("method,variant\nhan,base\n")
    with pytest.raises(ValueError, match=r"bad.csv: results file lacks columns \['seed'"):
        results.read_results(path)
