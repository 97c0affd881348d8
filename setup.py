"""Packaging beyond ``pyproject.toml`` (which holds the metadata): which packages and files go into the wheel.

The read-only files the library ships (label files, UnAV-100 annotations, the papers' numbers) stay where a
checkout has always kept them, in ``data/`` (their location is part of the data fingerprint and of committed
records); the wheel carries them as the package ``avvp_lib._shipped`` (``avvp_lib.paths.shipped_data_dir``).
Only the files named in ``SHIPPED_FILES`` go in: never the generated data roots under ``data/synthetic/``.
"""
from setuptools import find_packages, setup

SHIPPED_PACKAGE = "avvp_lib._shipped"
#: globs relative to ``data/``
SHIPPED_FILES = ["annotations/*.csv", "annotations/SOURCE.md", "unav100/unav100_annotations.json",
                 "unav100/SOURCE.md", "paper_results.csv", "paper_results_parts/*.csv"]

setup(
    packages=find_packages(include=["avvp_lib", "avvp_lib.*"]) + [SHIPPED_PACKAGE],
    package_dir={SHIPPED_PACKAGE: "data"},
    package_data={SHIPPED_PACKAGE: SHIPPED_FILES},
    include_package_data=False,  # only the globs above: nothing else from data/ (a synthetic root is GBs)
)
