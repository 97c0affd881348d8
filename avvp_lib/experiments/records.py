"""Per-run records: one immutable JSON file per finished run, written atomically, read loudly.

A record is keyed by its configuration hash, the fingerprint of its data and its seed (:func:`record_key`);
``results/*.csv`` are derived from the records (:mod:`avvp_lib.experiments.derived`), never appended to.
Each writer writes its own file (a temporary file in the same folder, then a hard link under the final name:
atomic, and an existing record is never overwritten unless ``replace``), so concurrent runs cannot lose each
other's results. Every record carries a SHA-256 checksum of its content: a truncated, edited or otherwise
damaged file raises :class:`RecordError` naming it; nothing reading records skips one.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from avvp_lib.atomic import checksum, write_text_atomic
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


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "+-=." else "_" for ch in text)


def record_filename(record: dict) -> str:
    """``<name>__<profile>__seed<seed>__<data fingerprint>__<config hash>.json`` (name and profile for the
    reader; the key is the last three parts)."""
    return (f"{slug(record['name'].replace('/', '--'))}__{record['profile']}__seed{int(record['seed'])}__"
            f"{record['data_fingerprint']}__{record['config_hash']}.json")


def _checksum(body: dict) -> str:
    return checksum(body)


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
    path = folder / record_filename(record)
    text = json.dumps(record, sort_keys=True, indent=1) + "\n"
    try:  # a full disk: no partial file left behind, and the error names the record (avvp_lib.atomic)
        write_text_atomic(path, text, exclusive=not replace, what="record")
    except FileExistsError:
        raise RecordExists(f"{path} already exists (records are immutable)") from None
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
        self._add(path, record)
        return path

    def _add(self, path: Path, record: dict) -> None:
        self.records = [r for r, p in zip(self.records, self.paths) if p != path] + [record]
        self.paths = [p for p in self.paths if p != path] + [path]

    def written_since(self, name: str, profile: str, seed: int, data_fingerprint: str, config_hash: str,
                      engine: str = "sequential") -> dict | None:
        """The record of this run if another process wrote it after the store was opened (read, checked and
        added to the store), else None. One file is looked at: the run's own record name."""
        path = self.folder / record_filename({"name": name, "profile": profile, "seed": seed,
                                              "data_fingerprint": data_fingerprint, "config_hash": config_hash})
        if path in self.paths or not path.is_file():
            return None
        record = read_record(path)
        if record["engine"] != engine:
            return None
        self._add(path, record)
        print(f"[run] {name} seed {seed}: {path.name} was written by another process meanwhile; using it", flush=True)
        return record

    def write_or_accept(self, record: dict, replace: bool = False) -> dict:
        """:meth:`write`, except that when another process wrote the same run's record first (same name, engine
        and key: two sweeps raced on one run) that record is kept, logged and returned instead of an error.
        A different record under the name is still :class:`RecordExists`."""
        try:
            self.write(record, replace)
            return record
        except RecordExists:
            path = self.folder / record_filename(record)
            existing = read_record(path)
            same = (record_key(existing["config_hash"], existing["data_fingerprint"], existing["seed"]) ==
                    record_key(record["config_hash"], record["data_fingerprint"], record["seed"])
                    and (existing["name"], existing["engine"]) == (record["name"], record["engine"]))
            if not same:
                raise
            self._add(path, existing)
            mine, theirs = (r["metrics"].get("segment/Type@AV") for r in (record, existing))
            print(f"[run] {record['name']} seed {record['seed']}: another process wrote {path.name} first; keeping it "
                  f"(segment Type@AV {theirs}; this process computed {mine})", flush=True)
            return existing
