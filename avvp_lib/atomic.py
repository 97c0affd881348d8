"""Every file the project writes goes through :func:`write_atomic`; every checksum it stores is :func:`checksum`.

A file is written beside its target under a hidden temporary name, then renamed into place (or, with
``exclusive``, hard-linked, so an existing file is never overwritten). A failed write (a full disk, a crash of the
writer, an exception) leaves the target as it was and no temporary file behind, and an ``OSError`` names the target.

Durability: ``fsync=True`` (records, tables, checkpoints, level files: what a machine crash must not lose) flushes
the bytes to disk before the rename. Generated data files use ``fsync=False`` (tens of thousands of files, each
regenerable, and their root is itself renamed into place only when complete).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Callable


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], None], *, fsync: bool = True,
                 exclusive: bool = False, what: str = "file") -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then move it into place; returns ``path``.

    exclusive: hard-link instead of rename, raising ``FileExistsError`` when ``path`` exists.
    what: the kind of file, for the error message ("record", "checkpoint", ...)."""
    write_all_atomic({path: write}, fsync=fsync, exclusive=exclusive, what=what)
    return Path(path)


def write_all_atomic(writers: dict, *, fsync: bool = True, exclusive: bool = False, what: str = "file") -> None:
    """``{path: write}``: every file is written beside its target first, and the set is moved into place only when
    all were written (a failure half-way leaves every target as it was)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, write in writers.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            staged.append((tmp, path))
            try:
                with open(tmp, "wb") as handle:
                    write(handle)
                    handle.flush()
                    if fsync:
                        os.fsync(handle.fileno())
            except OSError as error:
                raise OSError(error.errno, f"could not write the {what} {path}: {error.strerror or error}") from error
            except RuntimeError as error:  # torch.save reports a failed write (a full disk) as a RuntimeError
                if "write" not in str(error).lower() and "enforce fail" not in str(error):
                    raise
                raise OSError(None, f"could not write the {what} {path}: {error}") from error
        for tmp, path in staged:
            if exclusive:
                os.link(tmp, path)
            else:
                os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str, **kwargs) -> Path:
    return write_atomic(path, lambda handle: handle.write(text.encode("utf-8")), **kwargs)


def checksum(body) -> str:
    """SHA-256 (hex) of a JSON-able body in its canonical form (keys sorted): what records and level files store."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
