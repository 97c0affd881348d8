"""The registry: every runnable configuration by name (``family/variant``), and the result tables as name lists.

One decorator-free call per configuration (:func:`register`), in the style of timm's model registry: a name
maps to everything needed to run it and to place its numbers (:class:`Experiment`). The configurations
themselves are registered by :mod:`avvp_lib.experiments.catalog`, which the package imports first: any
``import avvp_lib.experiments...`` sees them all. This module only stores and looks up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

FEATURE_SETS = ("standard", "clip_clap")
ENGINES = ("sequential", "seed-ensemble")


@dataclass(frozen=True)
class PaperRow:
    """The published row a configuration stands for (a key of ``data/paper_results.csv``)."""

    paper: str
    table: str
    method: str
    setting: str

    def __str__(self) -> str:
        return f"{self.paper} {self.table}: {self.method}, {self.setting}"


@dataclass(frozen=True)
class Experiment:
    """One runnable configuration.

    name: ``family/variant``.  method, variant: the labels its rows carry in ``results/*.csv``.
    features: the input streams (``standard`` = VGGish + ResNet-152 + R(2+1)D, ``clip_clap`` = CLAP + CLIP).
    config: the method's configuration object (a dataclass, or None for a plain HAN).
    recipe: ``recipe(profile, seed, device) -> TrainConfig`` (None where a run trains nothing).
    adapter: the family adapter that builds, trains and evaluates it (:mod:`avvp_lib.experiments.catalog`).
    paper_rows: the published rows it reproduces (empty: not a paper row; ``description`` says what it is).
    predictions: save its test predictions (every trained run: intervals bootstrap them; notebooks 08-09 draw them).
    """

    name: str
    method: str
    variant: str
    features: str
    config: Any
    recipe: Callable | None
    adapter: Any
    paper_rows: tuple[PaperRow, ...] = ()
    description: str = ""
    predictions: bool = True
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        family, _, variant = self.name.partition("/")
        if not family or not variant:
            raise ValueError(f"experiment name {self.name!r}: expected 'family/variant'")
        if self.features not in FEATURE_SETS:
            raise ValueError(f"{self.name}: features={self.features!r}; expected one of {FEATURE_SETS}")

    @property
    def family(self) -> str:
        return self.name.partition("/")[0]

    @property
    def paper_label(self) -> str:
        return "; ".join(map(str, self.paper_rows)) if self.paper_rows else "- (not a paper row)"


@dataclass(frozen=True)
class Table:
    """A derived results table: ``results/<name>.csv`` holds one row per record of these experiments."""

    name: str
    experiments: tuple[str, ...]
    engine: str = "sequential"
    description: str = ""


_EXPERIMENTS: dict[str, Experiment] = {}
_TABLES: dict[str, Table] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in _EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    _EXPERIMENTS[experiment.name] = experiment
    return experiment


def register_table(table: Table) -> Table:
    unknown = [n for n in table.experiments if n not in _EXPERIMENTS]
    if unknown:
        raise KeyError(f"table {table.name}: unknown experiments {unknown}")
    if table.engine not in ENGINES:
        raise ValueError(f"table {table.name}: engine={table.engine!r}; expected one of {ENGINES}")
    _TABLES[table.name] = table
    return table


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name is an error that lists the close ones."""
    if name not in _EXPERIMENTS:
        family = name.partition("/")[0]
        near = [n for n in _EXPERIMENTS if n.startswith(family + "/")] or sorted({n.partition("/")[0] for n in _EXPERIMENTS})
        raise KeyError(f"unknown experiment {name!r}; {'its family has' if near and '/' in near[0] else 'families:'} {near}")
    return _EXPERIMENTS[name]


def names(family: str | None = None) -> list[str]:
    return [n for n in _EXPERIMENTS if family is None or n.partition("/")[0] == family]


def table(name: str) -> Table:
    if name not in _TABLES:
        raise KeyError(f"unknown table {name!r}; expected one of {sorted(_TABLES)}")
    return _TABLES[name]


def tables() -> dict[str, Table]:
    return dict(_TABLES)
