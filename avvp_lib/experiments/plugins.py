"""A method of your own in one file: :func:`register_method`, a decorator in the style of timm's ``register_model``.

::

    # my_methods/han_ls.py
    from dataclasses import dataclass
    from avvp_lib.experiments.plugins import register_method
    from avvp_lib.methods.mmil import train_config

    @dataclass(frozen=True)
    class Smoothing:
        eps: float = 0.1

    @register_method("han-ls/eps=0.1", method="HAN-LS", config=Smoothing(0.1), recipe=train_config,
                     tables=("han_ls",), description="HAN + MMIL with label smoothing")
    def build(config, profile, seed, inputs):
        return HANWithSmoothing(config.eps, **inputs)   # any nn.Module with training_loss() and predict()

The decorator declares the family (``han-ls``: its first name part) with this file as its only module, registers
the experiment with a generic adapter that trains the built method on the HAN splits of its feature set, and adds
it to its tables (never to one of the course's tables: notebooks print those). Import the file before running:
``AVVP_PLUGINS=my_methods.han_ls`` (module names or ``.py`` paths, comma-separated; worker processes and Slurm
jobs inherit it) or an installed package's ``avvp_lib.methods`` entry point. Its runs are hashed from what is built:
the builder, the built class, the configuration and the recipe (:meth:`BuilderAdapter.describe`).
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Any, Callable

import torch

from avvp_lib import paths
from avvp_lib.experiments.adapters import HANAdapter
from avvp_lib.experiments.roots import HAN_INPUTS, STANDARD
from avvp_lib.experiments.registry import (Experiment, Family, PaperRow, families, join_table, register,
                                           register_family)
from avvp_lib.experiments.scoring import _train_dict

PLUGINS_ENV = "AVVP_PLUGINS"
ENTRY_POINT_GROUP = "avvp_lib.methods"
PROFILES = ("quick", "full")


def _qualified(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _config_dict(config) -> Any:
    if config is None:
        return None
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    if isinstance(config, dict):
        return dict(config)
    raise TypeError(f"config {config!r}: expected a dataclass instance, a dict or None (its fields are hashed)")


class BuilderAdapter(HANAdapter):
    """Builds a method with a registered builder, trains it with its recipe on the HAN splits of its feature set
    and scores it like every course run (the HAN adapter's ``train`` and ``run``; its own recipe, build and
    provenance). Not a course adapter: the runner names its class in every run's hash."""

    def __init__(self, builder: Callable, recipe):
        self.builder = builder
        self._recipe = recipe
        self._classes: dict = {}

    def recipe(self, profile, seed, device="auto"):
        recipe = self._recipe[profile] if isinstance(self._recipe, dict) else self._recipe
        if recipe is None:
            raise ValueError(f"{_qualified(self.builder)}: no recipe for profile {profile!r}")
        return recipe(profile, seed, device)

    def build(self, exp, ctx, seed):
        return self._build(exp, ctx.profile, seed)

    def _build(self, exp, profile, seed):
        torch.manual_seed(seed)
        method = self.builder(exp.config, profile, seed, dict(HAN_INPUTS[exp.features]))
        if not (hasattr(method, "training_loss") and hasattr(method, "predict")):
            raise TypeError(f"{exp.name}: {_qualified(self.builder)} returned {type(method).__name__}, which lacks "
                            f"training_loss() or predict() (see avvp_lib.methods.mmil.HANMethod)")
        return method

    def built_class(self, exp, profile) -> str:
        key = (exp.name, profile)
        if key not in self._classes:
            self._classes[key] = _qualified(type(self._build(exp, profile, 0)))
        return self._classes[key]

    def describe(self, exp, profile, seed=0, device="cpu") -> dict:
        """Everything a run's numbers depend on besides data and seed: builder, built class, configuration,
        recipe and feature set."""
        return {"method": exp.method, "builder": _qualified(self.builder), "class": self.built_class(exp, profile),
                "config": _config_dict(exp.config), "train": _train_dict(self.recipe(profile, seed, device)),
                "features": exp.features}

    def provenance(self, exp, ctx, seed) -> dict:
        return self.describe(exp, ctx.profile, seed, ctx.device)

    # train() and run() are the HAN adapter's: load_or_fit on the feature set's HAN splits, then the test scoring


def register_method(name: str, *, method: str, recipe, config=None, features: str = STANDARD,
                    tables: tuple[str, ...] = (), paper_rows: tuple[PaperRow, ...] = (), description: str = "",
                    modules: tuple[str, ...] = ()) -> Callable:
    """Register ``name`` (``family/variant``) built by the decorated ``builder(config, profile, seed, inputs)``.

    method: the label its results rows carry (must not be another family's, e.g. not ``HAN``).
    recipe: ``recipe(profile, seed, device) -> TrainConfig``, or ``{profile: recipe}``.
    config: a dataclass (or dict) of the method's own settings; hashed into its records.
    inputs: the input sizes of the feature set (``audio_dim`` etc.; empty for the standard features).
    modules: further source files only this family uses (the decorated function's file is always one).
    """
    family_name, _, variant = name.partition("/")

    def decorate(builder: Callable) -> Callable:
        _config_dict(config)  # a config the hash cannot read is an error now, not at the first run
        if isinstance(recipe, dict):
            unknown = sorted(set(recipe) - set(PROFILES))
            if unknown:
                raise ValueError(f"{name}: recipe profiles {unknown}; expected some of {PROFILES}")
        source = str(Path(inspect.getfile(builder)).resolve())
        files = tuple(dict.fromkeys((_module_key(source),) + tuple(_module_key(m) for m in modules)))
        known = families().get(family_name)
        if known is None:
            register_family(Family(family_name, modules=files, methods=(method,)))
        elif method not in known.methods or not set(files) <= set(known.modules):
            raise ValueError(f"{name}: family {family_name!r} is already declared with modules {known.modules} and "
                             f"methods {known.methods}; register every variant of a family from its one file with "
                             f"one method label")
        adapter = BuilderAdapter(builder, recipe)
        register(Experiment(name, method, variant, features, config, adapter.recipe, adapter,
                            tuple(paper_rows), description or f"{method} ({_qualified(builder)})"))
        for table_name in tables:
            join_table(table_name, name, f"runs of {family_name} (a method registered outside the course catalog)")
        return builder

    return decorate


def _module_key(path: str | Path) -> str:
    """A module file as families list it: relative to the ``avvp_lib`` folder when inside it, else absolute."""
    package = paths.SOURCE_ROOT / "avvp_lib"
    path = Path(path).resolve()
    return path.relative_to(package).as_posix() if package in path.parents else str(path)


def load_plugins(spec: str | None = None) -> list[str]:
    """Import every method module named in ``AVVP_PLUGINS`` (or ``spec``) and every installed ``avvp_lib.methods``
    entry point; returns what was loaded. A name that cannot be imported is an error that names it."""
    spec = os.environ.get(PLUGINS_ENV, "") if spec is None else spec
    loaded = []
    for item in [p.strip() for p in spec.split(",") if p.strip()]:
        if item.endswith(".py"):
            path = Path(item).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"{PLUGINS_ENV}: {item}: no such file (expected a module name or a .py file)")
            module_name = f"avvp_plugin_{path.stem}"
            if module_name not in sys.modules:
                module_spec = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[module_name] = module
                module_spec.loader.exec_module(module)
        else:
            try:
                importlib.import_module(item)
            except ModuleNotFoundError as error:
                raise ModuleNotFoundError(f"{PLUGINS_ENV}: cannot import {item!r} ({error}); expected a module on "
                                          f"sys.path or a .py file") from error
        loaded.append(item)
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        point.load()
        loaded.append(point.value)
    return loaded
