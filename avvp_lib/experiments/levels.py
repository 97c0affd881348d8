"""Level files of notebook 10's controlled experiments: one per (profile, knob, value) in ``results/controlled/``.

A level file records which data root stood for one level of a cause (its data fingerprint) and the measured
properties of that data (the x-axis of notebook 10). It is written atomically with a SHA-256 checksum; reading a
missing, truncated or edited file is an error naming it. The registry's own tables (``results/0*.csv``) leave out
the records of the non-frozen levels (:func:`controlled_fingerprints`): those runs belong to notebook 10's tables.
"""
from __future__ import annotations

import json
from pathlib import Path

from avvp_lib.atomic import checksum, write_text_atomic
from avvp_lib.paths import levels_dir

#: the level files' folder when the library was imported (the functions read :func:`levels_dir` at each call)
LEVELS_DIR = levels_dir()


def level_name(profile: str, knob: str, value: float) -> str:
    return f"{profile}-{knob}={value:g}"


def _checksum(body: dict) -> str:
    return checksum(body)


def write_level_file(body: dict, folder: Path | None = None) -> Path:
    """``body`` (with ``profile``, ``knob``, ``value``) as ``<folder>/<level name>.json``, atomically, checksummed
    (default folder: ``results/controlled``)."""
    folder = Path(folder) if folder is not None else levels_dir()
    path = folder / f"{level_name(body['profile'], body['knob'], body['value'])}.json"
    return write_text_atomic(path, json.dumps({**body, "checksum": _checksum(body)}, indent=1, sort_keys=True),
                             what="level file")


def read_level_file(path: Path) -> dict:
    """One level file, checked (the body without its checksum)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no level file (run `make controlled` to generate and measure the level)")
    try:
        body = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); re-run `make controlled`") from error
    checksum = body.pop("checksum", None)
    if checksum != _checksum(body):
        raise ValueError(f"{path}: checksum mismatch (a truncated or edited level file); re-run `make controlled`")
    return body


def read_level(profile: str, knob: str, value: float, folder: Path | None = None) -> dict:
    """The level file of (profile, knob, value); a file holding another level is an error."""
    path = Path(folder if folder is not None else levels_dir()) / f"{level_name(profile, knob, value)}.json"
    body = read_level_file(path)
    if (body.get("knob"), body.get("value"), body.get("profile")) != (knob, float(value), profile):
        raise ValueError(f"{path}: holds {body.get('knob')}={body.get('value')} ({body.get('profile')}); expected "
                         f"{knob}={value} ({profile})")
    return body


def controlled_fingerprints(folder: Path | None = None) -> set[str]:
    """Data fingerprints of every non-frozen level (each level file is read and checked)."""
    folder = Path(folder) if folder is not None else levels_dir()
    return {body["data_fingerprint"] for body in map(read_level_file, sorted(folder.glob("*.json")))
            if not body["frozen"]}
