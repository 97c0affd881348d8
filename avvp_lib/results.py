"""Results rows: schema, atomic CSV writes, strict reading, staleness flags, aggregation.

Every row: ``method, variant, seed, data, profile, <18 metrics>, train_seconds`` plus provenance
(``code_version``, ``config_hash``, ``device``, ``timestamp``) so that notebooks can flag rows
produced by older code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.paths import RESULTS_DIR  # noqa: F401  (re-exported: the committed tables)
from avvp_lib.version import code_version, current_versions

KEY_COLUMNS = ["method", "variant", "seed", "data", "profile"]
RESULT_COLUMNS = KEY_COLUMNS + list(METRIC_KEYS) + ["train_seconds", "code_version", "config_hash", "device", "timestamp"]
DATA_SOURCES = ("synthetic", "llp")


def config_hash(config: dict) -> str:
    """Short stable hash of a configuration dictionary (keys sorted)."""
    from avvp_lib.atomic import checksum

    return checksum(config)[:10]


def make_row(method: str, variant: str, seed: int, data: str, profile: str, metrics: dict, train_seconds: float,
             config: dict, device: str = "cpu") -> dict:
    """One results row; checks that every metric is present and the data source is labelled."""
    if data not in DATA_SOURCES:
        raise ValueError(f"data source {data!r}; expected one of {DATA_SOURCES}")
    missing = [k for k in METRIC_KEYS if k not in metrics]
    if missing:
        raise ValueError(f"metrics for {method}/{variant} lack {missing}")
    return {"method": method, "variant": variant, "seed": int(seed), "data": data, "profile": profile,
            **{k: float(metrics[k]) for k in METRIC_KEYS}, "train_seconds": round(float(train_seconds), 2),
            "code_version": code_version(method), "config_hash": config_hash(config), "device": device,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")}


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file."""
    write_csvs_together({path: frame})


#: how every results CSV writes floats (a derived table compared with its records is rendered the same way)
CSV_FLOAT_FORMAT = "%.4f"


def write_csvs_together(frames: dict) -> None:
    """``{path: frame}``: every frame is written to a temporary file beside its path first, and the set is renamed
    into place only when all were written (a full disk or an error half-way leaves every file as it was)."""
    from avvp_lib.atomic import write_all_atomic

    def writer(frame):
        return lambda handle: frame.to_csv(handle, index=False, float_format=CSV_FLOAT_FORMAT)

    write_all_atomic({path: writer(frame) for path, frame in frames.items()}, what="table")


#: columns read as text: a hash of digits only (about 1 in 100) must stay ``"0234287435"``, not become a number
TEXT_COLUMNS = ("method", "variant", "data", "profile", "code_version", "config_hash", "device", "timestamp", "name",
                "features", "data_fingerprint")


def read_results(path: str | Path) -> pd.DataFrame:
    """A results CSV, checked against the schema. Every fault is an error naming the file: not CSV, empty, a
    missing column, a row with too many or too few fields (a truncated last line), a missing value."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
    except pd.errors.EmptyDataError as error:
        raise ValueError(f"{path}: empty results file ({error})") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a well-formed results CSV ({error})") from error
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: results file lacks columns {missing}")
    blank = frame[RESULT_COLUMNS].isna().to_numpy()
    if blank.any():
        rows, cols = blank.nonzero()
        raise ValueError(f"{path}: line(s) {sorted({int(r) + 2 for r in rows})[:5]} have empty fields "
                         f"{sorted({RESULT_COLUMNS[c] for c in cols})[:5]} (a truncated or hand-edited row); "
                         f"re-derive the tables from the records with `make results`")
    return frame


def flag_stale(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``stale``: True for rows written by a different version of the code their method uses
    (:func:`avvp_lib.version.code_version` of the row's method, or a fingerprint checked equivalent to it:
    :data:`avvp_lib.version.EQUIVALENT_VERSIONS`)."""
    frame = frame.copy()
    methods = frame["method"] if "method" in frame else pd.Series(None, index=frame.index, dtype=object)
    current = {m: current_versions(m) for m in methods.unique()}
    frame["stale"] = [str(v) not in current[m] for v, m in zip(frame["code_version"], methods)]
    return frame


def run_group_keys(frame: pd.DataFrame, by=("method", "variant")) -> tuple:
    """``by`` plus ``features`` when the frame has that column: runs on different feature sets are never one group."""
    return tuple(by) + (("features",) if "features" in frame.columns and "features" not in by else ())


def check_one_data_set(frame: pd.DataFrame, by) -> None:
    """Rows of one group must come from one data set: a group whose rows carry several ``data_fingerprint`` values
    (two versions of the features, two generated roots) is an error naming them, never one averaged row."""
    if "data_fingerprint" not in frame.columns or frame.empty:
        return
    counts = frame.groupby(list(by), sort=False, dropna=False)["data_fingerprint"].nunique()
    mixed = counts[counts > 1]
    if len(mixed):
        example = mixed.index[0]
        prints = sorted(frame.set_index(list(by)).loc[[example], "data_fingerprint"].astype(str).unique())
        raise ValueError(f"{len(mixed)} group(s) of rows by {list(by)} mix data sets, e.g. {example}: data fingerprints "
                         f"{prints}; expected one data set per group - select one (filter on data_fingerprint) or "
                         f"keep the records of each data root in their own --records-dir")


def summarize(frame: pd.DataFrame, metrics=None, by=("method", "variant", "data", "profile")) -> pd.DataFrame:
    """Mean and std over seeds (columns ``<metric> mean``/``<metric> std``, 0 for a single seed: check ``seeds``) and
    the seed count. Rows of two data sets in one group are an error (:func:`check_one_data_set`)."""
    metrics = list(metrics or METRIC_KEYS)
    check_one_data_set(frame, by)
    grouped = frame.groupby(list(by), sort=False)
    mean = grouped[metrics].mean().add_suffix(" mean")
    std = grouped[metrics].std(ddof=1).fillna(0.0).add_suffix(" std")
    out = pd.concat([mean, std], axis=1)
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def mean_std_table(frame: pd.DataFrame, metrics, by=("method", "variant"), digits: int = 1) -> pd.DataFrame:
    """``mean ± std`` strings per group, for display (a single seed shows its value and ``(1 seed)``: no spread)."""
    summary = summarize(frame, metrics, by=tuple(by) + ("data", "profile"))
    table = summary[list(by) + ["data", "profile", "seeds"]].copy()
    for m in metrics:
        table[m] = [f"{mu:.{digits}f} (1 seed)" if n == 1 else f"{mu:.{digits}f} ± {sd:.{digits}f}"
                    for mu, sd, n in zip(summary[f"{m} mean"], summary[f"{m} std"], summary["seeds"])]
    return table


TABLE6_COLUMNS = ("A", "Ao", "V", "Vo", "AV", "Type@AV", "Type@AVo", "Event@AV", "Event@AVo")


def metrics_table(metrics: dict | pd.Series, digits: int = 1) -> pd.DataFrame:
    """The 18 metrics as a 2 x 9 table (rows segment/event) in CoLeaF Table 6's column order."""
    return pd.DataFrame({col: [round(float(metrics[f"{lvl}/{col}"]), digits) for lvl in ("segment", "event")]
                         for col in TABLE6_COLUMNS}, index=["segment", "event"])


#: the rows every notebook can fall back on: the course's own benchmark, whose tables are committed
COMMITTED_SOURCE, COMMITTED_PROFILE = "synthetic", "quick"


@dataclass
class RunRows:
    """The rows a notebook shows for its run, with the data ``source`` and ``profile`` they belong to, their
    ``data_root`` (``None``: that profile's default root) and whether they are the committed ``fallback``."""

    rows: pd.DataFrame
    source: str
    profile: str
    data_root: object
    fallback: bool

    @property
    def label(self) -> str:
        """What every table and figure drawn from these rows says about its data (``synthetic, quick profile``)."""
        return f"{self.source}, {self.profile} profile"


def rows_for_run(frame: pd.DataFrame, data_source: str, profile: str, data_root=None, table: str = "the table",
                 verbose: bool = True) -> RunRows:
    """The rows of ``frame`` for this run's data source and profile. When there are none (a full-profile or
    real-data run before its sweeps), the committed rows of the course's benchmark (synthetic, quick profile),
    labelled as such, with a printed note saying so and what writes the missing rows; never an empty table
    that the cells after it cannot read."""
    mine = frame[(frame["data"] == data_source) & (frame["profile"] == profile)]
    if len(mine) or (data_source, profile) == (COMMITTED_SOURCE, COMMITTED_PROFILE):
        return RunRows(mine, data_source, profile, data_root, False)
    committed = frame[(frame["data"] == COMMITTED_SOURCE) & (frame["profile"] == COMMITTED_PROFILE)]
    label = f"{COMMITTED_SOURCE}, {COMMITTED_PROFILE} profile"
    if verbose:
        print(f"note: {table} has no rows for {data_source}, {profile} profile yet (`make sweeps PROFILE={profile}` "
              f"writes them); showing the committed rows of {label} instead, labelled as such")
    return RunRows(committed, COMMITTED_SOURCE, COMMITTED_PROFILE, None, True)


def currency_note(rows: pd.DataFrame, current=None) -> str:
    """One line on whether a table's rows are what today's code and registry give: ``all N rows current``, or how many
    were written by other code (``stale``, :func:`flag_stale`) and, with ``current`` (a boolean Series, e.g.
    ``experiments.rows_current``), how many were trained with another configuration."""
    n = len(rows)
    stale = int(rows["stale"].sum()) if "stale" in rows.columns else 0
    other = int((~pd.Series(current, index=rows.index).astype(bool)).sum()) if current is not None else 0
    if not stale and not other:
        return f"all {n} rows current (today's code and configuration)"
    parts = ([f"{stale} of {n} rows written by other code (stale: re-run the sweep before quoting them)"] if stale else []) + \
        ([f"{other} of {n} rows of another configuration (left out below)"] if other else [])
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit("avvp_lib.results is a library module (rows, CSVs, staleness); the report is "
                     "`python -m avvp_lib.report` (make results)")
