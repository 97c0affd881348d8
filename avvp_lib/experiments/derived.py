"""``results/*.csv`` derived from the records (``make results``): one row per record of each registry table.

A table holds, per (experiment, seed, profile, data fingerprint), the newest record of its engine. The rows
follow :data:`avvp_lib.results.RESULT_COLUMNS` plus ``name``, ``features`` and ``data_fingerprint``;
``09_compute.csv`` is derived from the main table's records. Tables are written atomically and only after
every record has been read: a damaged record stops the derivation with its file name, leaving the old
tables in place. A table whose records are all gone is removed once the new set is written (it would show runs
that no longer have a record), and :func:`check_tables` compares tables on disk with what their records derive
(``python -m avvp_lib.report --no-derive`` refuses a table edited by hand or left behind by deleted records).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from avvp_lib import paths
from avvp_lib.experiments.records import RecordStore, record_filename
from avvp_lib.experiments.registry import tables
from avvp_lib.metrics import METRIC_KEYS

#: where the tables went when the library was imported (:func:`write_tables` reads the folder at each call)
RESULTS_DIR = paths.RECORDS_DIR.parent
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


class DataSetsMixed(ValueError):
    """A table would hold, for one configuration, data label and profile, the records of two data roots."""


def check_one_data_set(table_name: str, records: list[dict], store: RecordStore | None = None) -> None:
    """Refuse a table in which one configuration has records of two data roots under the same data label and profile
    (e.g. two synthetic roots, or two versions of the real features): their rows would average into one. Raised
    before anything is written; names the fingerprints, a record of each and the way out."""
    roots: dict = {}
    for r in records:
        roots.setdefault((r["name"], r["profile"], r["data"]), {}).setdefault(r["data_fingerprint"], r)
    mixed = {k: v for k, v in roots.items() if len(v) > 1}
    if not mixed:
        return
    (name, profile, data), by_root = next(iter(mixed.items()))
    where = f" in {store.folder}" if store is not None else ""
    examples = ", ".join(f"{fp} (e.g. {record_filename(r)})" for fp, r in sorted(by_root.items()))
    raise DataSetsMixed(f"table {table_name}: {name} ({data}, {profile} profile) has records of {len(by_root)} data "
                        f"roots{where}: {examples}; expected one data set per table (their rows would average into "
                        f"one). Keep each root's runs in its own --records-dir (python -m avvp_lib.sweeps --records-dir "
                        f"DIR), or remove the records of the root you do not want here. Nothing was written.")


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
        check_one_data_set(name, mine, store)
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


def write_tables(store: RecordStore | None = None, results_dir: str | Path | None = None,
                 verbose: bool = True) -> dict[str, Path]:
    """Derive every table from the records and write ``<results_dir>/<table>.csv`` (default: the parent of the
    store's folder, ``results/`` for the default store): every table is written beside its target first and the
    set is renamed into place only when all were written (a full disk or an error half-way leaves every table as
    it was)."""
    from avvp_lib.experiments.levels import controlled_fingerprints
    from avvp_lib.results import write_csvs_together

    store = store if store is not None else RecordStore()
    results_dir = Path(results_dir) if results_dir is not None else paths.tables_beside(store.folder)
    levels = results_dir / "controlled"
    # reads and checks every record (and level file) before anything is written
    frames = derive(store, controlled_fingerprints(levels) if levels.is_dir() else ())
    written = {name: results_dir / f"{name}.csv" for name in frames}
    write_csvs_together({written[name]: frame for name, frame in frames.items()})
    if verbose:
        for name, frame in frames.items():
            print(f"[tables] {paths.shown(written[name])}: {len(frame)} rows from {len(store.records)} records",
                  flush=True)
    folder = getattr(store, "folder", None)
    if folder is not None and Path(folder).is_dir():  # records there, none for these tables: their rows are gone
        for path in orphaned_tables(frames, results_dir):
            path.unlink()
            print(f"[tables] {paths.shown(path)}: removed (no record of {paths.shown(Path(folder))} derives it any "
                  f"more)", flush=True)
    return written


def table_names() -> list[str]:
    """Every table :func:`derive` can write: the registry's tables and the compute table."""
    return list(tables()) + [COMPUTE_TABLE]


def orphaned_tables(frames: dict, results_dir: str | Path) -> list[Path]:
    """The derived tables on disk in ``results_dir`` that ``frames`` (a derivation) has no rows for."""
    return [Path(results_dir) / f"{name}.csv" for name in table_names()
            if name not in frames and (Path(results_dir) / f"{name}.csv").is_file()]


def render(frame: pd.DataFrame) -> str:
    """A derived table's CSV text, exactly as :func:`write_tables` writes it."""
    from avvp_lib.results import CSV_FLOAT_FORMAT

    return frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT)


def check_tables(store: RecordStore, results_dir: str | Path) -> list[Path]:
    """Check every derived table in ``results_dir`` against what ``store``'s records derive now; returns the tables
    checked. A table whose text differs (edited by hand, or written from other records) or whose records are all
    gone is a ``ValueError`` naming the file, the first differing line, what the records give and what the file
    has."""
    from avvp_lib.experiments.levels import controlled_fingerprints

    levels = Path(results_dir) / "controlled"
    frames = derive(store, controlled_fingerprints(levels) if levels.is_dir() else ())
    orphans = orphaned_tables(frames, results_dir)
    if orphans:
        raise ValueError(f"{orphans[0]}: no record of {store.folder} derives this table any more (expected no "
                         f"file; found {len(orphans[0].read_text().splitlines()) - 1} rows of runs whose records are "
                         f"gone) - run the report without --no-derive to re-derive")
    checked = []
    for name, frame in frames.items():
        path = Path(results_dir) / f"{name}.csv"
        if not path.is_file():
            continue
        if name != COMPUTE_TABLE:
            from avvp_lib.results import read_results

            read_results(path)  # a damaged table: the schema's own error, naming the file
        expected, found = render(frame).splitlines(), path.read_text().splitlines()
        if expected != found:
            line = next((i for i, (a, b) in enumerate(zip(expected, found)) if a != b), min(len(expected), len(found)))
            want = expected[line] if line < len(expected) else "<end of table>"
            have = found[line] if line < len(found) else "<end of file>"
            raise ValueError(f"{path}, line {line + 1}: differs from what the {len(store.records)} records of "
                             f"{store.folder} derive (expected {want!r}, found {have!r}; {len(expected) - 1} rows "
                             f"expected, {len(found) - 1} found): edited by hand or derived from other records - "
                             f"run the report without --no-derive to re-derive")
        checked.append(path)
    return checked
