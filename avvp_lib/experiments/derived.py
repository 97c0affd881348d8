"""``results/*.csv`` derived from the records (``make results``): one row per record of each registry table.

A table holds, per (experiment, seed, profile, data fingerprint), the newest record of its engine. The rows
follow :data:`avvp_lib.results.RESULT_COLUMNS` plus ``name``, ``features`` and ``data_fingerprint``;
``09_compute.csv`` is derived from the main table's records. Tables are written atomically and only after
every record has been read: a damaged record stops the derivation with its file name, leaving the old
tables in place.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from avvp_lib.experiments.records import RECORDS_DIR, RecordStore
from avvp_lib.experiments.registry import tables
from avvp_lib.metrics import METRIC_KEYS

RESULTS_DIR = RECORDS_DIR.parent
EXTRA_COLUMNS = ["name", "features", "data_fingerprint"]
COMPUTE_TABLE = "09_compute"
COMPUTE_COLUMNS = ["method", "variant", "seed", "data", "profile", "params", "epochs", "train_seconds",
                   "train_seconds_per_epoch", "inference_seconds", "test_videos", "device", "threads",
                   "code_version", "config_hash", "timestamp"]


def record_row(record: dict) -> dict:
    from avvp_lib.results import RESULT_COLUMNS

    row = {k: record[k] for k in ("method", "variant", "seed", "data", "profile")}
    row.update({k: float(record["metrics"][k]) for k in METRIC_KEYS})
    row.update(train_seconds=record["train_seconds"], code_version=record["code_version"],
               config_hash=record["config_hash"], device=record["device"], timestamp=record["timestamp"],
               name=record["name"], features=record["features"], data_fingerprint=record["data_fingerprint"])
    return {k: row[k] for k in RESULT_COLUMNS + EXTRA_COLUMNS}


def newest(records: list[dict]) -> list[dict]:
    """The newest record per (name, engine, seed, profile, data fingerprint)."""
    best: dict = {}
    for record in records:
        key = (record["name"], record["engine"], int(record["seed"]), record["profile"], record["data_fingerprint"])
        if key not in best or record["timestamp"] > best[key]["timestamp"]:
            best[key] = record
    return list(best.values())


def derive(store: RecordStore, exclude_fingerprints=()) -> dict[str, pd.DataFrame]:
    """``{table name: frame}`` for every registry table with at least one record, plus ``09_compute``. Records on a
    data root of ``exclude_fingerprints`` (notebook 10's controlled levels) are left out: they are not the data of
    notebooks 04-09, and their rows would stand beside the default root's as extra seeds."""
    from avvp_lib.results import RESULT_COLUMNS

    exclude = set(exclude_fingerprints)
    latest = newest([r for r in store.records if r["data_fingerprint"] not in exclude])
    out = {}
    for name, spec in tables().items():
        order = {n: i for i, n in enumerate(spec.experiments)}
        mine = [r for r in latest if r["name"] in order and r["engine"] == spec.engine]
        if not mine:
            continue
        mine.sort(key=lambda r: (r["profile"], r["data"], int(r["seed"]), order[r["name"]]))
        out[name] = pd.DataFrame([record_row(r) for r in mine], columns=RESULT_COLUMNS + EXTRA_COLUMNS)
        if name == "09_main":
            out[COMPUTE_TABLE] = pd.DataFrame([compute_row(r) for r in mine], columns=COMPUTE_COLUMNS)
    return out


def compute_row(record: dict) -> dict:
    extra = record["extra"]
    epochs = max(1, int(extra.get("epochs", 1)))
    return {"method": record["method"], "variant": record["variant"], "seed": record["seed"], "data": record["data"],
            "profile": record["profile"], "params": extra.get("params"), "epochs": epochs,
            "train_seconds": record["train_seconds"],
            "train_seconds_per_epoch": round(record["train_seconds"] / epochs, 3),
            "inference_seconds": extra.get("inference_seconds"), "test_videos": extra.get("test_videos"),
            "device": record["device"], "threads": extra.get("threads"), "code_version": record["code_version"],
            "config_hash": record["config_hash"], "timestamp": record["timestamp"]}


def write_tables(store: RecordStore | None = None, results_dir: str | Path = RESULTS_DIR,
                 verbose: bool = True) -> dict[str, Path]:
    """Derive every table from the records and write ``results/<table>.csv``: every table is written beside its
    target first and the set is renamed into place only when all were written (a full disk or an error half-way
    leaves every table as it was)."""
    from avvp_lib.experiments.levels import controlled_fingerprints
    from avvp_lib.results import write_csvs_together

    store = store if store is not None else RecordStore()
    levels = Path(results_dir) / "controlled"
    # reads and checks every record (and level file) before anything is written
    frames = derive(store, controlled_fingerprints(levels) if levels.is_dir() else ())
    written = {name: Path(results_dir) / f"{name}.csv" for name in frames}
    write_csvs_together({written[name]: frame for name, frame in frames.items()})
    if verbose:
        for name, frame in frames.items():
            print(f"[tables] results/{name}.csv: {len(frame)} rows from {len(store.records)} records", flush=True)
    return written
