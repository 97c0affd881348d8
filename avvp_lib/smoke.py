"""The smoke switch (``AVVP_SMOKE=1``, ``make smoke``): every training runs a few steps only.

With the switch on, every training loop of the library (:func:`avvp_lib.train.fit`, the UWAV generator
pretraining, the seed ensemble) runs at most ``SMOKE_EPOCHS`` epochs of at most ``SMOKE_BATCHES``
batches each, and everything the run writes goes under ``runs/smoke/`` (``avvp_lib.paths``), never into
``results/`` or the checkpoint folders of real runs. Models, widths, recipes, data loading and
evaluation are untouched: the full profile's code paths run on a CPU in minutes. Its numbers mean
nothing and are never recorded beside real ones.
"""
from __future__ import annotations

import itertools
import os

VARIABLE = "AVVP_SMOKE"
SMOKE_EPOCHS = 2
SMOKE_BATCHES = 2


def active() -> bool:
    """``AVVP_SMOKE`` set to ``1``/``true``/``yes``; ``0``/empty/unset is off; anything else is an error."""
    value = os.environ.get(VARIABLE, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{VARIABLE}={value!r}: expected 1 (smoke run: capped training steps) or 0")


def epochs(n: int) -> int:
    """How many of a recipe's ``n`` epochs run."""
    return min(n, SMOKE_EPOCHS) if active() else n


def batches(iterable):
    """The batches of one epoch that run."""
    return itertools.islice(iterable, SMOKE_BATCHES) if active() else iterable
