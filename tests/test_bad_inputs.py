"""Every bad input a user can hand the course, in one place.

Each case builds a corrupted copy of the tiny synthetic root (hard links, so copying is cheap; a file
is always unlinked before it is rewritten, so the shared root is never touched) and checks that the
user's entry point raises exactly one exception of the library's own type whose single-line message
names the file (and line) and the expected vs the actual value. Some cases repeat checks of
test_annotations.py / test_features.py / test_course.py / test_results.py / test_train.py on purpose:
this file is the one list of them all. The number of cases is ``len(CASES)`` (asserted at the end).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from avvp_lib.course import ParameterError, check_parameters, setup
from avvp_lib.data.annotations import AnnotationError, load_llp
from avvp_lib.data.dataset import load_split
from avvp_lib.data.features import FeatureError
from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.results import make_row, read_results, write_csv_atomic

CASES: list[str] = []


def case(fn):
    CASES.append(fn.__name__)
    return fn


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture
def root(tiny_root, tmp_path) -> Path:
    """A private copy of the tiny root: hard links where possible, real copies otherwise."""
    dst = tmp_path / "root"

    def link(src, dst_file):
        try:
            os.link(src, dst_file)
        except OSError:
            shutil.copy2(src, dst_file)

    shutil.copytree(tiny_root, dst, copy_function=link)
    return dst


def rewrite(path: Path, data: bytes | str) -> None:
    """Replace a file's content without touching the (hard-linked) original."""
    path.unlink()
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


def save_npy(path: Path, array: np.ndarray) -> None:
    path.unlink()
    np.save(path, array)


def first_val_id(root: Path) -> str:
    return load_llp(root / "annotations").val.video_ids[0]


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def raises_one(exc_type, call, *fragments: str) -> str:
    """``call()`` raises one ``exc_type`` (exactly that type) with a one-line message containing every fragment."""
    with pytest.raises(Exception) as info:
        call()
    error = info.value
    assert type(error) is exc_type, f"expected {exc_type.__name__}, got {type(error).__name__}: {error}"
    message = str(error)
    assert "\n" not in message, f"message spans several lines: {message!r}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in message {message!r}"
    return message


# ------------------------------------------------------------------------------------------ features
@case
def test_missing_feature_file(root):
    vid = first_val_id(root)
    (root / "vggish" / f"{vid}.npy").unlink()
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(root / "vggish" / f"{vid}.npy"), "1 of 144 feature files are missing", "vggish: 1",
               "<root>/vggish/<id>.npy (10x128)")


@case
def test_missing_feature_folder(root):
    shutil.rmtree(root / "r2plus1d_18")
    raises_one(FeatureError, lambda: load_split(root, "val"),
               "48 of 144 feature files are missing", "r2plus1d_18: 48, folder missing", "(10x512)")


@case
def test_missing_feature_root(tmp_path):
    from avvp_lib.data.features import load_features

    missing = tmp_path / "nowhere"
    raises_one(FeatureError, lambda: load_features(missing, ["BjCEufrlXm4"]),
               str(missing), "does not exist", "vggish/", "res152/", "r2plus1d_18/")


@case
def test_truncated_npy(root):
    vid = first_val_id(root)
    path = root / "res152" / f"{vid}.npy"
    data = path.read_bytes()
    rewrite(path, data[: len(data) // 2])
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(path), "truncated or corrupt", "header declares float16 (80, 2048)", f"file is {len(data) // 2} bytes")


@case
def test_corrupt_npy_garbage_bytes(root):
    vid = first_val_id(root)
    path = root / "vggish" / f"{vid}.npy"
    rewrite(path, os.urandom(3000))
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(path), "not a readable .npy file (3000 bytes", "expected a float array of shape (10, 128)")


@case
def test_wrong_shape(root):
    vid = first_val_id(root)
    path = root / "r2plus1d_18" / f"{vid}.npy"
    save_npy(path, np.zeros((9, 512), dtype=np.float16))
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(path), "expected shape (10, 512)", "got (9, 512)")


@case
def test_non_float_dtype(root):
    vid = first_val_id(root)
    path = root / "vggish" / f"{vid}.npy"
    save_npy(path, np.zeros((10, 128), dtype=np.int64))
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(path), "dtype int64 is not a floating-point type", "expected float16/float32/float64")


@case
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_values(root, bad):
    vid = first_val_id(root)
    path = root / "vggish" / f"{vid}.npy"
    array = np.load(path)
    array[3, 7] = bad
    save_npy(path, array)
    raises_one(FeatureError, lambda: load_split(root, "val"),
               str(path), "1 non-finite value(s) (NaN/Inf)", f"first at (row 3, col 7) = {bad}",
               "expected all values finite")


# ------------------------------------------------------------------------------------------ label files
def _replace_in(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace the first ``old`` in ``path`` and return the 1-based line it was on."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    number = line_of(path, old)
    rewrite(path, text.replace(old, new, count))
    return number


@case
def test_unknown_class_in_split_file(root):
    path = root / "annotations" / "AVVP_val_pd.csv"
    lines = path.read_text().splitlines()
    name, labels = lines[1].split("\t")
    rewrite(path, "\n".join([lines[0], f"{name}\tDgo"] + lines[2:]) + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               f"{path}, line 2", "unknown class name 'Dgo'", "expected one of the 25 LLP classes", "Dog")


@case
def test_unknown_class_in_eval_file(root):
    path = root / "annotations" / "AVVP_eval_audio.csv"
    lines = path.read_text().splitlines()
    fields = lines[1].split("\t")
    fields[3] = "Speeches"
    rewrite(path, "\n".join([lines[0], "\t".join(fields)] + lines[2:]) + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               f"{path}, line 2", "unknown class name 'Speeches'", "expected one of the 25 LLP classes")


def _set_interval(path: Path, onset: str, offset: str) -> tuple[int, str]:
    lines = path.read_text().splitlines()
    fields = lines[1].split("\t")
    fields[1], fields[2] = onset, offset
    rewrite(path, "\n".join([lines[0], "\t".join(fields)] + lines[2:]) + "\n")
    return 2, fields[0]


@case
def test_inverted_interval_in_strict_mode(root):
    path = root / "annotations" / "AVVP_eval_audio.csv"  # line 2: before the real file's own quirks
    line, filename = _set_interval(path, "9", "2")
    load_llp(root / "annotations")  # default: reported as a quirk, as the official evaluation ignores it
    raises_one(AnnotationError, lambda: load_llp(root / "annotations", strict=True),
               f"{path}, line {line}", "inverted interval [9, 2)", filename)


@case
@pytest.mark.parametrize("onset,offset", [("-1", "4"), ("3", "12")])
def test_out_of_range_interval(root, onset, offset):
    path = root / "annotations" / "AVVP_eval_audio.csv"
    line, filename = _set_interval(path, onset, offset)
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               f"{path}, line {line}", f"interval [{onset}, {offset})", filename, "lies outside [0, 10]")


@case
def test_interval_not_whole_seconds(root):
    path = root / "annotations" / "AVVP_eval_audio.csv"
    line, _ = _set_interval(path, "2.5", "4")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               f"{path}, line {line}", "onset/offset '2.5'/'4' are not whole seconds")


@case
def test_csv_with_wrong_separator(root):
    path = root / "annotations" / "AVVP_test_pd.csv"
    rewrite(path, path.read_text().replace("\t", ","))
    raises_one(AnnotationError, lambda: load_split(root, "test"),
               str(path), "header is ['filename,event_labels']",
               "expected the tab-separated columns ['filename', 'event_labels']", "is the file comma-separated?")


@case
def test_csv_missing_column(root):
    path = root / "annotations" / "AVVP_eval_visual.csv"
    lines = path.read_text().splitlines()
    rewrite(path, "\n".join("\t".join(line.split("\t")[:3]) for line in lines) + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               str(path), "header is ['filename', 'onset', 'offset']",
               "expected the tab-separated columns ['filename', 'onset', 'offset', 'event_labels']")


@case
def test_csv_row_with_wrong_number_of_fields(root):
    path = root / "annotations" / "AVVP_train.csv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5] + "\textra"
    rewrite(path, "\n".join(lines) + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "train"),
               f"{path}, line 6", "3 tab-separated fields", "expected 2 ['filename', 'event_labels']")


@case
def test_empty_split(root):
    path = root / "annotations" / "AVVP_val_pd.csv"
    rewrite(path, path.read_text().splitlines()[0] + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               str(path), "no videos; a split needs at least one row")


@case
def test_missing_label_file(root):
    path = root / "annotations" / "AVVP_eval_audio.csv"
    path.unlink()
    raises_one(AnnotationError, lambda: load_split(root, "val"), str(path), "label file not found")


@case
@pytest.mark.parametrize("encoding,found", [("latin-1", "another encoding (latin-1?)"),
                                            ("utf-16", "UTF-16 (it starts with a byte-order mark)")])
def test_label_file_not_in_utf8(root, encoding, found):
    path = root / "annotations" / "AVVP_val_pd.csv"
    lines = path.read_text().splitlines()
    name, labels = lines[3].split("\t")
    lines[3] = f"{name}\t{labels},Café"
    rewrite(path, ("\n".join(lines) + "\n").encode(encoding))
    line = "line 4" if encoding == "latin-1" else "line 1"
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               f"{path}, {line}: not UTF-8 text", "expected the official files' UTF-8", f"found {found}")


@case
def test_eval_file_with_only_a_header(root):
    path = root / "annotations" / "AVVP_eval_visual.csv"
    rewrite(path, path.read_text().splitlines()[0] + "\n")
    raises_one(AnnotationError, lambda: load_split(root, "val"),
               str(path), "no events (a header only)", "expected at least one row")


@case
def test_truncated_synth_meta(root):
    from avvp_lib.data.dataset import DataRootError

    path = root / "synth_meta.json"
    text = path.read_text()
    rewrite(path, text[: len(text) // 2])
    raises_one(DataRootError, lambda: load_split(root, "val"),
               str(path), "not valid UTF-8 JSON", f"the file is {len(text[: len(text) // 2])} bytes",
               "expected the generator's metadata")


@case
def test_truncated_result_checkpoint(tiny_root, tmp_path):
    from avvp_lib.methods import HANMethod
    from avvp_lib.train import CheckpointError, TrainConfig, load_or_fit

    train, val = load_split(tiny_root, "train"), load_split(tiny_root, "val")
    config = TrainConfig(epochs=1, device="cpu")
    load_or_fit(HANMethod(d_model=16, ffn_dim=16), train, val, config, tmp_path / "run", progress=False)
    path = tmp_path / "run" / "result.pt"
    data = path.read_bytes()
    rewrite(path, data[: len(data) // 2])
    raises_one(CheckpointError, lambda: load_or_fit(HANMethod(d_model=16, ffn_dim=16), train, val, config,
                                                    tmp_path / "run", progress=False),
               str(path), f"unreadable checkpoint ({len(data) // 2} bytes", "expected a complete file written by "
               "torch.save", "--retrain")


# ------------------------------------------------------------------------------------------ parameters
@case
def test_unknown_profile():
    raises_one(ParameterError, lambda: check_parameters("quik", None, 0, "auto"),
               "profile='quik'", "expected one of ('quick', 'full')")


@case
def test_nonexistent_data_root(tmp_path):
    missing = tmp_path / "no" / "such" / "root"
    raises_one(ParameterError, lambda: setup("quick", missing, 0, "auto"),
               f"data_root={str(missing)!r} does not exist")


@case
def test_bad_seed_and_device_parameters():
    raises_one(ParameterError, lambda: check_parameters("quick", None, -3, "auto"), "seed=-3", "non-negative integer")
    raises_one(ParameterError, lambda: check_parameters("quick", None, 0, "gpu"), "device='gpu'",
               "expected 'auto', 'cpu' or 'cuda[:N]'")


# ------------------------------------------------------------------------------------------ results, trainer
@case
def test_results_csv_missing_a_column(tmp_path):
    import pandas as pd

    row = make_row("HAN", "x", 0, "synthetic", "quick", {k: 1.0 for k in METRIC_KEYS}, 1.0, {"a": 1})
    path = tmp_path / "results.csv"
    write_csv_atomic(pd.DataFrame([row]).drop(columns=["segment/Vo"]), path)
    raises_one(ValueError, lambda: read_results(path), str(path), "lacks columns ['segment/Vo']")


@case
def test_extra_train_with_wrong_number_of_rows(tiny_root):
    from avvp_lib.methods import HANMethod
    from avvp_lib.train import TrainConfig, fit

    train, val = load_split(tiny_root, "train"), load_split(tiny_root, "val")
    config = TrainConfig(epochs=1, device="cpu")
    raises_one(ValueError, lambda: fit(HANMethod(d_model=16, ffn_dim=16), train, val, config,
                                       extra_train={"pseudo": torch.zeros(47, 10, 25)}),
               "extra_train['pseudo'] has 47 rows; expected 48 (one per train video)")


def test_every_case_is_counted():
    """The enumeration of this file's cases; update the number when adding a case.

    27 case functions; with the NaN/Inf, below-0/above-10 and latin-1/UTF-16 parametrisations 30 collected
    tests, and 31 bad inputs in all (the seed/device case checks two parameters).
    """
    assert len(CASES) == len(set(CASES)) == 27, CASES
    assert all(re.match(r"test_\w+", c) for c in CASES)
