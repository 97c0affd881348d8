"""Notebook parameters: typos and missing folders fail with a message naming the bad value."""
from __future__ import annotations

import pytest

from avvp_lib import course


def test_unknown_profile():
    with pytest.raises(course.ParameterError, match=r"profile='quik': expected one of \('quick', 'full'\)"):
        course.check_parameters("quik", None, 0, "auto")


def test_missing_data_root(tmp_path):
    with pytest.raises(course.ParameterError, match="does-not-exist' does not exist"):
        course.check_parameters("quick", tmp_path / "does-not-exist", 0, "auto")


def test_bad_seed_and_device():
    with pytest.raises(course.ParameterError, match="seed=-1"):
        course.check_parameters("quick", None, -1, "auto")
    with pytest.raises(course.ParameterError, match="device='tpu'"):
        course.check_parameters("quick", None, 0, "tpu")


def test_setup_on_an_existing_root(tiny_root):
    cfg = course.setup("quick", tiny_root, 0, "cpu")
    assert cfg["data_source"] == "synthetic" and str(cfg["device"]) == "cpu"


def test_notebooks_are_numbered_in_order():
    names = [p.name for p in course.notebooks()]
    assert names == sorted(names) and all(n[:2].isdigit() for n in names)
