"""The one atomic-write helper: the target is replaced whole or not at all, and nothing is left beside it."""
from __future__ import annotations

import errno

import pytest

from avvp_lib import atomic


def test_a_write_replaces_the_target_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic.write_text_atomic(path, "one")
    atomic.write_text_atomic(path, "two")
    assert path.read_text() == "two" and sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]


def test_a_failing_write_keeps_the_old_file_and_names_the_target(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def half_then_full_disk(handle):
        handle.write(b"new, half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=r"could not write the checkpoint .*a\.txt: No space left"):
        atomic.write_atomic(path, half_then_full_disk, what="checkpoint")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_exclusive_never_overwrites(tmp_path):
    path = tmp_path / "r.json"
    atomic.write_text_atomic(path, "first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic.write_text_atomic(path, "second", exclusive=True)
    assert path.read_text() == "first" and len(list(tmp_path.iterdir())) == 1


def test_a_set_of_files_moves_into_place_only_when_all_were_written(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("a0")
    b.write_text("b0")

    def fails(handle):
        raise OSError(errno.EIO, "I/O error")

    with pytest.raises(OSError, match="b.csv"):
        atomic.write_all_atomic({a: lambda h: h.write(b"a1"), b: fails})
    assert (a.read_text(), b.read_text()) == ("a0", "b0") and len(list(tmp_path.iterdir())) == 2
    atomic.write_all_atomic({a: lambda h: h.write(b"a1"), b: lambda h: h.write(b"b1")})
    assert (a.read_text(), b.read_text()) == ("a1", "b1")


def test_checksum_is_the_sha256_of_the_canonical_json():
    # hand-checkable: sha256 of '{"a": 1, "b": [2, 3]}' (keys sorted, json.dumps separators)
    import hashlib

    assert atomic.checksum({"b": [2, 3], "a": 1}) == hashlib.sha256(b'{"a": 1, "b": [2, 3]}').hexdigest()
