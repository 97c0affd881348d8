"""Results rows: schema, atomic upsert, staleness, mean/std aggregation by hand."""
from __future__ import annotations

from pathlib import Path

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


def test_fingerprint_is_per_method_family(tmp_path):
    """Editing a LINK-only module changes LINK's fingerprint, not CoLeaF's or UWAV's; a shared module changes all."""
    import shutil

    from avvp_lib import version

    package = tmp_path / "avvp_lib"
    shutil.copytree(Path(version.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = {m: version.code_version(m, package) for m in ("CoLeaF", "UWAV", "LINK", "VALOR", "HAN")}
    assert before["LINK"] == before["VALOR"] and before["HAN"] == before["CoLeaF"]
    assert len({before["CoLeaF"], before["UWAV"], before["LINK"]}) == 3
    (package / "methods" / "link.py").write_text((package / "methods" / "link.py").read_text() + "\n# edit\n")
    after = {m: version.code_version(m, package) for m in before}
    assert after["LINK"] != before["LINK"] and after["VALOR"] == after["LINK"]
    assert (after["CoLeaF"], after["UWAV"], after["HAN"]) == (before["CoLeaF"], before["UWAV"], before["HAN"])
    (package / "plots.py").write_text("# presentation only\n")  # never counts
    assert version.code_version("LINK", package) == after["LINK"]
    (package / "metrics.py").write_text((package / "metrics.py").read_text() + "\n# shared\n")
    assert all(version.code_version(m, package) != after[m] for m in before)


def test_stale_flag_uses_each_rows_method(tmp_path):
    from avvp_lib.version import code_version

    frame = results.append_rows(tmp_path / "r.csv", [row(0, 10.0)])
    frame.loc[0, "method"] = "LINK"
    frame.loc[0, "code_version"] = code_version("LINK")
    assert results.flag_stale(frame).stale.tolist() == [False]
    frame.loc[0, "code_version"] = code_version("CoLeaF")  # another family's fingerprint
    assert results.flag_stale(frame).stale.tolist() == [True]


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("method,variant\nhan,base\n")
    with pytest.raises(ValueError, match=r"bad.csv: results file lacks columns \['seed'"):
        results.read_results(path)
