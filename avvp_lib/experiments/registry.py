"""The registry: method families, every runnable configuration by name (``family/variant``), and the result
tables as name lists.

A name maps to everything needed to run it and to place its numbers (:class:`Experiment`); a family
(:class:`Family`) says which source files only it uses (so editing them marks only its rows stale), which
results-row method labels it carries, and which tables ``sweeps --ablations`` adds for it. The course's own
configurations are registered by :mod:`avvp_lib.experiments.catalog`, which the package imports first; a method
of your own registers itself, beside its code, with :func:`avvp_lib.experiments.plugins.register_method`.
This module only stores and looks up.
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
    """A derived results table: ``results/<name>.csv`` holds one row per record of these experiments.

    course: one of the course's own tables (notebooks and the report read only these, so a table of your own
    never changes what they print)."""

    name: str
    experiments: tuple[str, ...]
    engine: str = "sequential"
    description: str = ""
    course: bool = False


@dataclass(frozen=True)
class Family:
    """A method family: the first part of its experiments' names (``coleaf`` in ``coleaf/full``).

    modules: source files only this family uses (relative to the ``avvp_lib`` folder, or absolute paths for a
    method that lives outside the package); they count for this family's code version and no other's.
    methods: the results-row ``method`` labels its experiments carry.
    code_family: whose modules count for its rows' code version (default: its own; HAN rows follow CoLeaF's
    modules because CoLeaF's ablation table trains them).
    ablation_tables: the tables ``sweeps --ablations`` adds when the family is selected.
    runs_with: families ``sweeps --only <name>`` selects along with it (VALOR's runs are LINK's baseline rows).
    """

    name: str
    modules: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    code_family: str = ""
    ablation_tables: tuple[str, ...] = ()
    runs_with: tuple[str, ...] = ()

    @property
    def code_owner(self) -> str:
        return self.code_family or self.name


_EXPERIMENTS: dict[str, Experiment] = {}
_TABLES: dict[str, Table] = {}
_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Declare a family; a method label already claimed by another family is an error (rows would mix)."""
    if family.name in _FAMILIES:
        raise ValueError(f"method family {family.name!r} is registered twice")
    for other in _FAMILIES.values():
        shared = sorted(set(other.methods) & set(family.methods))
        if shared and other.code_owner != family.code_owner:
            raise ValueError(f"family {family.name!r}: method label(s) {shared} already belong to family "
                             f"{other.name!r}; choose another label so their rows never mix")
    _FAMILIES[family.name] = family
    return family


def families() -> dict[str, Family]:
    return dict(_FAMILIES)


def family(name: str) -> Family:
    if name not in _FAMILIES:
        raise KeyError(f"unknown method family {name!r}; expected one of {sorted(_FAMILIES)}")
    return _FAMILIES[name]


def register(experiment: Experiment) -> Experiment:
    if experiment.name in _EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    declared = _FAMILIES.get(experiment.family)
    if declared is None:
        raise KeyError(f"experiment {experiment.name!r}: its family {experiment.family!r} is not declared "
                       f"(register_family first); known: {sorted(_FAMILIES)}")
    if experiment.method not in declared.methods:
        raise ValueError(f"experiment {experiment.name!r}: method label {experiment.method!r} is not one of its "
                         f"family's {declared.methods}")
    _EXPERIMENTS[experiment.name] = experiment
    return experiment


def register_table(table: Table) -> Table:
    unknown = [n for n in table.experiments if n not in _EXPERIMENTS]
    if unknown:
        raise KeyError(f"table {table.name}: unknown experiments {unknown}")
    if table.engine not in ENGINES:
        raise ValueError(f"table {table.name}: engine={table.engine!r}; expected one of {ENGINES}")
    if table.name in _TABLES and _TABLES[table.name].course:
        raise ValueError(f"table {table.name!r} is one of the course's tables; a method of your own declares its own")
    _TABLES[table.name] = table
    return table


def join_table(name: str, experiment: str, description: str = "") -> Table:
    """Add ``experiment`` to the (non-course) table ``name``, creating it when new."""
    current = _TABLES.get(name)
    if current is not None and current.course:
        raise ValueError(f"table {name!r} is one of the course's tables (notebooks print it); declare a table of "
                         f"your own")
    experiments = (current.experiments if current else ()) + (experiment,)
    _TABLES.pop(name, None)
    return register_table(Table(name, tuple(dict.fromkeys(experiments)),
                                description=description or (current.description if current else "")))


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


def tables(course_only: bool = False) -> dict[str, Table]:
    """Every registered table, or only the course's own (``course_only``: what notebooks and the report read)."""
    return {n: t for n, t in _TABLES.items() if t.course or not course_only}


def method_code_families() -> dict[str, str]:
    """Results-row method label -> the family whose modules count for its code version."""
    return {label: f.code_owner for f in _FAMILIES.values() for label in f.methods}


def family_modules() -> dict[str, tuple[str, ...]]:
    """Code family -> the source files only it uses (every family that owns modules)."""
    out: dict[str, tuple[str, ...]] = {}
    for f in _FAMILIES.values():
        if f.modules:
            out[f.code_owner] = tuple(dict.fromkeys(out.get(f.code_owner, ()) + f.modules))
    return out
