"""Per-run records: one immutable JSON file per finished run, written atomically, read loudly.

A record is keyed by its configuration hash, the fingerprint of its data and its seed (:func:`record_key`);
``results/*.csv`` are derived from the records (:mod:`avvp_lib.experiments.derived`), never appended to.
Each writer writes its own file (a temporary file in the same folder, then a hard link under the final name:
atomic, and an existing record is never overwritten unless ``replace``), so concurrent runs cannot lose each
other's results. Every record carries a SHA-256 checksum of its content: a truncated, edited or otherwise
damaged file raises :class:`RecordError` naming it; nothing reading records skips one.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from avvp_lib.metrics import METRIC_KEYS

SCHEMA = 1
from avvp_lib.paths import RECORDS_DIR, records_dir  # noqa: E402,F401  (results/records; runs/smoke/results/records under AVVP_SMOKE)
REQUIRED = ("schema", "name", "method", "variant", "features", "engine", "seed", "profile", "data",
            "data_fingerprint", "config_hash", "config", "code_version", "metrics", "train_seconds", "device",
            "timestamp", "extra")
STRING_FIELDS = ("name", "method", "variant", "features", "engine", "profile", "data", "data_fingerprint",
                 "config_hash", "code_version", "device", "timestamp")


class RecordError(ValueError):
    """A record file that cannot be trusted: unreadable, incomplete, or not what its checksum says."""


class RecordExists(FileExistsError):
    """A record with this key is already on disk (records are immutable; pass ``replace=True`` to supersede)."""


def record_key(config_hash: str, data_fingerprint: str, seed: int) -> tuple[str, str, int]:
    return str(config_hash), str(data_fingerprint), int(seed)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "+-=." else "_" for ch in text)


def record_filename(record: dict) -> str:
    """``<name>__<profile>__seed<seed>__<data fingerprint>__<config hash>.json`` (name and profile for the
    reader; the key is the last three parts)."""
    return (f"{_slug(record['name'].replace('/', '--'))}__{record['profile']}__seed{int(record['seed'])}__"
            f"{record['data_fingerprint']}__{record['config_hash']}.json")


def _checksum(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def make_record(**fields) -> dict:
    """A complete record (schema and checksum added); every field of :data:`REQUIRED` must be given."""
    record = {"schema": SCHEMA, **fields}
    _validate(record, "<new record>")
    record["checksum"] = _checksum(record)
    return record


def _validate(record: dict, where: str) -> None:
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise RecordError(f"{where}: record lacks {missing}")
    if record["schema"] != SCHEMA:
        raise RecordError(f"{where}: record schema {record['schema']!r}; this code reads schema {SCHEMA}")
    wrong = [k for k in STRING_FIELDS if not isinstance(record[k], str)]
    if wrong:
        raise RecordError(f"{where}: fields {wrong} must be strings (hashes are never numbers)")
    metrics = record["metrics"]
    absent = [k for k in METRIC_KEYS if k not in metrics]
    if absent:
        raise RecordError(f"{where}: metrics lack {absent}")
    bad = [k for k in METRIC_KEYS if not isinstance(metrics[k], (int, float)) or not math.isfinite(metrics[k])]
    if bad:
        raise RecordError(f"{where}: metrics {bad} are not finite numbers")


def write_record(record: dict, folder: str | Path | None = None, replace: bool = False) -> Path:
    """Write ``record`` under its file name in ``folder`` (default :func:`avvp_lib.paths.records_dir`, read now)
    atomically; returns the path.

    Without ``replace`` an existing record with the same name is left alone and :class:`RecordExists` raised."""
    folder = Path(folder) if folder is not None else records_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / record_filename(record)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        json.dump(record, handle, sort_keys=True, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise RecordExists(f"{path} already exists (records are immutable)") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_record(path: str | Path) -> dict:
    """One record, checked: valid JSON, every field present and typed, checksum matching."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(f"{path}: damaged record, not readable JSON ({error})") from error
    if not isinstance(record, dict):
        raise RecordError(f"{path}: damaged record, expected a JSON object, got {type(record).__name__}")
    stored = record.pop("checksum", None)
    if stored is None:
        raise RecordError(f"{path}: record has no checksum")
    actual = _checksum(record)
    if stored != actual:
        raise RecordError(f"{path}: checksum mismatch (stored {stored[:12]}..., content {actual[:12]}...): "
                          f"the file was edited or damaged")
    _validate(record, str(path))
    record["checksum"] = stored
    return record


@dataclass
class RecordStore:
    """The records of one folder, looked up by key. Every file is read (and checked) when the store opens."""

    folder: Path | None = None  # default: avvp_lib.paths.records_dir(), read when the store opens

    def __post_init__(self):
        self.folder = Path(self.folder) if self.folder is not None else records_dir()
        self.refresh()

    def refresh(self) -> None:
        self.records: list[dict] = []
        self.paths: list[Path] = []
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.json")):
                self.records.append(read_record(path))
                self.paths.append(path)

    def find(self, config_hash: str, data_fingerprint: str, seed: int, engine: str = "sequential") -> list[dict]:
        key = record_key(config_hash, data_fingerprint, seed)
        return [r for r in self.records
                if record_key(r["config_hash"], r["data_fingerprint"], r["seed"]) == key and r["engine"] == engine]

    def write(self, record: dict, replace: bool = False) -> Path:
        path = write_record(record, self.folder, replace)
        self.records = [r for r, p in zip(self.records, self.paths) if p != path] + [record]
        self.paths = [p for p in self.paths if p != path] + [path]
        return path
