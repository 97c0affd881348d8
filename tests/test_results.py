"""Results rows: schema, strict reading, staleness, mean/std aggregation by hand."""
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


def write(path, rows):
    import pandas as pd

    results.write_csv_atomic(pd.DataFrame(rows, columns=results.RESULT_COLUMNS), path)
    return results.read_results(path)


def test_write_is_atomic_and_reads_back(tmp_path):
    path = tmp_path / "r.csv"
    back = write(path, [row(0, 10.0), row(1, 20.0)])
    assert back.set_index("seed").loc[1, "segment/A"] == 20.0
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary file left


def test_a_truncated_last_line_is_an_error_naming_file_and_line(tmp_path):
    """Fault 1: a cut-off last row used to load as NaN without a word."""
    path = tmp_path / "09_main.csv"
    write(path, [row(0, 10.0), row(1, 20.0)])
    text = path.read_text()
    path.write_text(text[: text.rindex(",") - 30])
    with pytest.raises(ValueError, match=r"09_main.csv: line\(s\) \[3\] have empty fields"):
        results.read_results(path)


def test_an_extra_field_and_an_empty_file_are_errors(tmp_path):
    path = tmp_path / "r.csv"
    write(path, [row(0, 10.0)])
    path.write_text(path.read_text() + "han,base,1," + ",".join(["1"] * 40) + "\n")
    with pytest.raises(ValueError, match="r.csv: not a well-formed results CSV"):
        results.read_results(path)
    path.write_text("")
    with pytest.raises(ValueError, match="r.csv: empty results file"):
        results.read_results(path)


def test_an_all_digit_hash_stays_a_string(tmp_path):
    """Fault 3: ``0234287435`` was read back as the integer 234287435 and never matched again."""
    first = row(0, 10.0)
    first["config_hash"], first["code_version"] = "0234287435", "000000000012"
    back = write(tmp_path / "r.csv", [first])
    assert back.loc[0, "config_hash"] == "0234287435" and back.loc[0, "code_version"] == "000000000012"


def test_summarize_mean_and_sample_std_by_hand(tmp_path):
    frame = write(tmp_path / "r.csv", [row(0, 10.0), row(1, 20.0), row(2, 30.0)])
    summary = results.summarize(frame, ["segment/A"])
    assert summary.loc[0, "segment/A mean"] == 20.0 and summary.loc[0, "segment/A std"] == 10.0  # sqrt(200 / 2)
    assert summary.loc[0, "seeds"] == 3
    table = results.mean_std_table(frame, ["segment/A"])
    assert table.loc[0, "segment/A"] == "20.0 ± 10.0"


def test_stale_rows_are_flagged(tmp_path):
    frame = write(tmp_path / "r.csv", [row(0, 10.0)])
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

    frame = write(tmp_path / "r.csv", [row(0, 10.0)])
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


def test_a_fingerprint_checked_equivalent_is_current_and_chains(tmp_path, monkeypatch):
    """A row stamped with an old fingerprint that EQUIVALENT_VERSIONS carries (through a chain) to today's is not
    stale; one the table does not name stays stale."""
    from avvp_lib import version

    today = version.code_version("LINK")
    monkeypatch.setattr(version, "EQUIVALENT_VERSIONS", {"aaaaaaaaaaaa": ("bbbbbbbbbbbb", "older"),
                                                        "bbbbbbbbbbbb": (today, "old")})
    assert version.current_versions("LINK") == {today, "bbbbbbbbbbbb", "aaaaaaaaaaaa"}
    frame = write(tmp_path / "r.csv", [row(0, 10.0), row(1, 11.0), row(2, 12.0)])
    frame["method"] = "LINK"
    frame["code_version"] = ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"]
    assert results.flag_stale(frame).stale.tolist() == [False, False, True]
    assert version.current_versions("UWAV") == {version.code_version("UWAV")}  # LINK's entries lead elsewhere


def test_rows_for_run_falls_back_to_the_committed_rows_and_says_so(capsys):
    import pandas as pd

    from avvp_lib.results import rows_for_run

    frame = pd.DataFrame({"data": ["synthetic", "synthetic", "llp"], "profile": ["quick", "full", "full"], "x": [1, 2, 3]})
    mine = rows_for_run(frame, "synthetic", "full", "/root", "t.csv")
    assert mine.rows.x.tolist() == [2] and not mine.fallback and mine.label == "synthetic, full profile"
    assert mine.data_root == "/root" and capsys.readouterr().out == ""
    none_yet = rows_for_run(frame[frame.profile == "quick"], "llp", "full", "/root", "t.csv")
    assert none_yet.fallback and none_yet.rows.x.tolist() == [1] and none_yet.label == "synthetic, quick profile"
    assert none_yet.data_root is None and none_yet.profile == "quick"
    note = capsys.readouterr().out
    assert "t.csv has no rows for llp, full profile yet" in note and "make sweeps PROFILE=full" in note
    empty = rows_for_run(frame[frame.profile == "full"], "synthetic", "quick")  # the course's own: never a fallback
    assert empty.rows.empty and not empty.fallback


def test_two_data_sets_are_never_averaged_into_one_row():
    import pandas as pd
    import pytest

    from avvp_lib.results import mean_std_table, summarize

    rows = pd.DataFrame({"method": ["HAN"] * 4, "variant": ["main"] * 4, "data": ["synthetic"] * 4,
                         "profile": ["quick"] * 4, "seed": [0, 1, 0, 1], "segment/A": [50.0, 52.0, 10.0, 12.0],
                         "data_fingerprint": ["aaa", "aaa", "bbb", "bbb"]})
    with pytest.raises(ValueError, match=r"mix data sets, e.g. .*HAN.*data fingerprints \['aaa', 'bbb'\]"):
        summarize(rows, ["segment/A"])
    one = rows[rows.data_fingerprint == "aaa"]
    assert summarize(one, ["segment/A"])["segment/A mean"].tolist() == [51.0]
    assert mean_std_table(one, ["segment/A"])["segment/A"].tolist() == ["51.0 ± 1.4"]
    assert mean_std_table(one[one.seed == 0], ["segment/A"])["segment/A"].tolist() == ["50.0 (1 seed)"]


def test_currency_note_says_all_current_or_counts_what_is_not():
    import pandas as pd

    from avvp_lib.results import currency_note

    rows = pd.DataFrame({"stale": [False, False, True]})
    assert currency_note(rows.iloc[:2]) == "all 2 rows current (today's code and configuration)"
    assert currency_note(rows).startswith("1 of 3 rows written by other code")
    note = currency_note(rows, [True, False, True])
    assert "1 of 3 rows written by other code" in note and "1 of 3 rows of another configuration" in note
