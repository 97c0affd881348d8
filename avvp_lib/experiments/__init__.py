"""Experiments as data: the registry of runnable configurations, one runner, per-run records.

::

    from avvp_lib import experiments as X
    X.names("coleaf")                               # every CoLeaF configuration
    X.get("coleaf/no_evt").paper_rows               # the paper row it stands for
    record = X.run("han/main", seed=0, profile="quick")        # train + test, or the existing record
    method, result, test = X.train("coleaf/full", 0, "quick")  # the trained model (notebooks)

``python -m avvp_lib.experiments --list`` prints every name with its paper row; ``--show NAME --profile P`` its
resolved configuration and recipe. A method of your own: :func:`register_method` in its own file, imported through
``AVVP_PLUGINS`` (:mod:`avvp_lib.experiments.plugins`).
"""
from avvp_lib.experiments import catalog  # noqa: F401  (registers every configuration and table)
from avvp_lib.experiments.plugins import load_plugins, register_method
from avvp_lib.experiments.registry import Experiment, Family, PaperRow, Table, families, get, names, table, tables
from avvp_lib.experiments.runner import context, describe, rows_current, run, run_ensemble, train

load_plugins()

__all__ = ["Experiment", "Family", "PaperRow", "Table", "context", "describe", "families", "get", "load_plugins",
           "names", "register_method", "rows_current", "run", "run_ensemble", "table", "tables", "train"]
