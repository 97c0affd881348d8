"""Results rows: schema, atomic CSV writes, staleness flags, aggregation (GUIDE section 2).

Every row: ``method, variant, seed, data, profile, <18 metrics>, train_seconds`` plus provenance
(``code_version``, ``config_hash``, ``device``, ``timestamp``) so that notebooks can flag rows
produced by older code.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.version import code_version

KEY_COLUMNS = ["method", "variant", "seed", "data", "profile"]
RESULT_COLUMNS = KEY_COLUMNS + list(METRIC_KEYS) + ["train_seconds", "code_version", "config_hash", "device", "timestamp"]
DATA_SOURCES = ("synthetic", "llp")
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


def config_hash(config: dict) -> str:
    """Short stable hash of a configuration dictionary (keys sorted)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:10]


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_csv(tmp, index=False, float_format="%.4f")
    os.replace(tmp, path)


def read_results(path: str | Path) -> pd.DataFrame:
    """A results CSV, checked against the schema (a missing column is an error naming it)."""
    path = Path(path)
    frame = pd.read_csv(path)
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: results file lacks columns {missing}")
    return frame


def append_rows(path: str | Path, rows: list[dict]) -> pd.DataFrame:
    """Upsert rows (same method/variant/seed/data/profile replaces the old row) and write atomically."""
    path = Path(path)
    new = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    if path.is_file():
        old = read_results(path)
        keys = set(map(tuple, new[KEY_COLUMNS].astype(str).values))
        old = old[[tuple(r) not in keys for r in old[KEY_COLUMNS].astype(str).values]]
        new = pd.concat([old, new], ignore_index=True)
    write_csv_atomic(new, path)
    return new


def flag_stale(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``stale``: True for rows written by a different version of the code their method uses
    (:func:`avvp_lib.version.code_version` of the row's method)."""
    frame = frame.copy()
    current = {m: code_version(m) for m in frame["method"].unique()} if "method" in frame else {}
    expected = frame["method"].map(current) if "method" in frame else code_version()
    frame["stale"] = frame["code_version"] != expected
    return frame


def summarize(frame: pd.DataFrame, metrics=None, by=("method", "variant", "data", "profile")) -> pd.DataFrame:
    """Mean and std over seeds (columns ``<metric> mean``/``<metric> std``) and the seed count."""
    metrics = list(metrics or METRIC_KEYS)
    grouped = frame.groupby(list(by), sort=False)
    mean = grouped[metrics].mean().add_suffix(" mean")
    std = grouped[metrics].std(ddof=1).fillna(0.0).add_suffix(" std")
    out = pd.concat([mean, std], axis=1)
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def mean_std_table(frame: pd.DataFrame, metrics, by=("method", "variant"), digits: int = 1) -> pd.DataFrame:
    """``mean ± std`` strings per group, for display."""
    summary = summarize(frame, metrics, by=tuple(by) + ("data", "profile"))
    table = summary[list(by) + ["data", "profile", "seeds"]].copy()
    for m in metrics:
        table[m] = [f"{mu:.{digits}f} ± {sd:.{digits}f}" for mu, sd in zip(summary[f"{m} mean"], summary[f"{m} std"])]
    return table


PAPER_RESULTS = Path(__file__).resolve().parents[1] / "data" / "paper_results.csv"


def paper_results(path: str | Path = PAPER_RESULTS) -> pd.DataFrame:
    """Numbers reported in the papers (real LLP data): ``paper, table, method, setting, metric, value``."""
    frame = pd.read_csv(path, dtype={"table": str})
    missing = [c for c in ("paper", "table", "method", "setting", "metric", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: paper results lack columns {missing}")
    return frame


PAPER_PARTS_DIR = Path(__file__).resolve().parents[1] / "data" / "paper_results_parts"


def _paper_key(name: str) -> str:
    """``"CoLeaF (ECCV 2024)"`` -> ``"CoLeaF"``: the paper's short name."""
    return str(name).split(" (")[0].split()[0]


def _table_key(name) -> str:
    """``"Table 6"`` -> ``"6"``, ``"I"`` -> ``"I"``."""
    name = str(name).strip()
    return name[6:].strip() if name.lower().startswith("table ") else name


def paper_results_all(path: str | Path = PAPER_RESULTS, parts_dir: str | Path = PAPER_PARTS_DIR) -> pd.DataFrame:
    """The papers' reported numbers: ``data/paper_results.csv`` completed by ``data/paper_results_parts/*.csv``.

    Adds ``paper_key`` (short paper name) and ``table_key`` (``"Table 6"`` -> ``"6"``). For each
    (paper, table, method) the merged file wins; the part files fill in what it does not have yet.
    """
    frames = []
    merged = paper_results(path) if Path(path).is_file() else pd.DataFrame()
    if len(merged):
        frames.append(merged.assign(origin=Path(path).name))
    for part in sorted(Path(parts_dir).glob("*.csv")) if Path(parts_dir).is_dir() else []:
        frames.append(paper_results(part).assign(origin=f"paper_results_parts/{part.name}"))
    if not frames:
        raise FileNotFoundError(f"no paper results in {path} or {parts_dir}")
    frame = pd.concat(frames, ignore_index=True)
    frame["paper_key"] = frame["paper"].map(_paper_key)
    frame["table_key"] = frame["table"].map(_table_key)
    key = ["paper_key", "table_key", "method"]
    in_merged = set(map(tuple, frame.loc[frame.origin == Path(path).name, key].values))
    keep = (frame.origin == Path(path).name).to_numpy() | np.array([tuple(r) not in in_merged
                                                                    for r in frame[key].values], dtype=bool)
    return frame[keep].reset_index(drop=True)


def paper_row(method: str, table: str, paper: str | None = None, setting: str | None = None) -> pd.Series:
    """One method's reported metrics from one table, indexed by metric key."""
    frame = paper_results_all()
    pick = (frame.method == method) & (frame.table_key == _table_key(table))
    if paper is not None:
        pick &= frame.paper_key == _paper_key(paper)
    if setting is not None:
        pick &= frame.setting == setting
    rows = frame[pick]
    if rows.empty:
        raise KeyError(f"no paper numbers for method={method!r}, table={table!r} in {PAPER_RESULTS.name}")
    return rows.drop_duplicates("metric").set_index("metric")["value"]


TABLE6_COLUMNS = ("A", "Ao", "V", "Vo", "AV", "Type@AV", "Type@AVo", "Event@AV", "Event@AVo")


def metrics_table(metrics: dict | pd.Series, digits: int = 1) -> pd.DataFrame:
    """The 18 metrics as a 2 x 9 table (rows segment/event) in CoLeaF Table 6's column order."""
    return pd.DataFrame({col: [round(float(metrics[f"{lvl}/{col}"]), digits) for lvl in ("segment", "event")]
                         for col in TABLE6_COLUMNS}, index=["segment", "event"])


def main(argv: list[str] | None = None) -> None:
    """``python -m avvp_lib.results``: regenerate every table and figure (:func:`avvp_lib.report.main`)."""
    from avvp_lib.report import main as report_main

    report_main(argv)


if __name__ == "__main__":
    main()
