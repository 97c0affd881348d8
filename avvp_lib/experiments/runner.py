"""One uniform call runs any registered configuration: ``run(name, seed, profile, data_root, device) -> record``.

A run whose record already exists (same configuration hash, data fingerprint and seed) is not repeated: the
record is returned (or, when another name registered the same configuration, copied under this name).
Checkpoints live in ``runs/experiments/<name>/<profile>-<data fingerprint>-<config hash>-seed<seed>/``, so a
run on other data or with another recipe never reloads this one's weights; notebooks train through
:func:`train` and share those folders with the sweeps.
"""
from __future__ import annotations

import time
from pathlib import Path

from avvp_lib.experiments.records import RecordStore, make_record, slug
from avvp_lib.experiments.registry import get

from avvp_lib import paths

_CONTEXTS: dict = {}


def context(profile: str = "quick", data_root=None, device: str = "auto"):
    """The loaded data of one root (cached per process: a sweep loads each split once)."""
    from avvp_lib.experiments.roots import Context

    key = (profile, str(Path(data_root).resolve()) if data_root is not None else None, device)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = Context(profile, data_root, device)
    return _CONTEXTS[key]


def provenance(name: str, seed: int, ctx) -> dict:
    """What determines the run's numbers besides its data and seed (hashed into ``config_hash``).

    The course's adapters state what they build (method, model configuration, loss, recipe); a run through any
    other adapter class (a subclass in a file of your own) also carries that class's name, so an adapter that
    changes ``build`` but not ``provenance`` can never share a record with the configuration it derives from."""
    from avvp_lib.experiments.adapters import COURSE_ADAPTER_TYPES

    exp = get(name)
    prov = exp.adapter.provenance(exp, ctx, seed)
    kind = type(exp.adapter)
    if kind not in COURSE_ADAPTER_TYPES:
        prov = {**prov, "adapter": f"{kind.__module__}.{kind.__qualname__}"}
    return prov


def describe(name: str, profile: str = "quick", seed: int = 0, device: str = "cpu") -> dict:
    """A configuration as it would run on ``profile``, without reading data: its labels, paper rows, the model
    configuration and the recipe (data-dependent parts, e.g. thresholds calibrated on a root, are named, not
    computed). What ``python -m avvp_lib.experiments --show NAME --profile P`` prints."""
    exp = get(name)
    recipe_profile = exp.options.get("recipe_profile", profile)
    recipe_for = getattr(exp.adapter, "recipe_for", None)  # an adapter whose recipe depends on the options
    recipe = (recipe_for(exp, recipe_profile, seed, device) if recipe_for is not None
              else exp.adapter.recipe(recipe_profile, seed, device))
    return {"name": exp.name, "family": exp.family, "method": exp.method, "variant": exp.variant,
            "features": exp.features, "profile": profile, "paper_rows": [str(r) for r in exp.paper_rows],
            "description": exp.description, "options": exp.options,
            "recipe": {k: v for k, v in recipe.to_dict().items() if k not in ("seed", "device")},
            "configuration": exp.adapter.describe(exp, profile, seed, device)}


def same_configuration(name: str, other: str) -> bool:
    """Whether a record of ``other`` with this run's configuration hash may be copied under ``name``: the hash covers
    everything a course adapter builds, so the two must only be built by the same adapter class (a record of a name
    no longer registered, or registered since with another recipe, was made by that same provenance)."""
    from avvp_lib.experiments.registry import names

    if other not in names():
        return True
    return type(get(name).adapter) is type(get(other).adapter)


def run_dir(name: str, seed: int, ctx, config_hash: str, runs_dir: Path | None = None) -> Path:
    base = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    return base / "experiments" / slug(name.replace("/", "--")) / \
        f"{ctx.profile}-{ctx.fingerprint}-{config_hash}-seed{int(seed)}"


def train(name: str, seed: int = 0, profile: str = "quick", data_root=None, device: str = "auto",
          data: dict | None = None, retrain: bool = False, runs_dir: Path | None = None):
    """Build and train (or reload from its checkpoint folder) a model configuration; returns
    ``(method, FitResult, test split)``. What notebooks call to train a named configuration."""
    from avvp_lib.results import config_hash

    exp = get(name)
    if not hasattr(exp.adapter, "train"):
        raise TypeError(f"{name} trains no model (it scores pseudo-labels); use run()")
    ctx = context(profile, data_root, device)
    hashed = config_hash(provenance(name, seed, ctx))
    return exp.adapter.train(exp, ctx, seed, run_dir(name, seed, ctx, hashed, runs_dir), retrain, data)


def _prediction_path(exp, ctx, seed: int, folder: Path | None, records: Path | None = None,
                     config_hash: str | None = None) -> Path:
    """Where a run's test predictions go, unless ``folder`` says: beside its records (``<records>/../predictions``)
    when they go to another folder than the default ``results/records``; else, for the roots the course generates
    (``data/synthetic/...``: the default one and notebook 10's controlled levels), ``results/predictions``
    (intervals and notebooks 08-10 read them); for any other root (real features, test roots)
    ``runs/predictions/<data fingerprint>/``."""
    from avvp_lib.predictions import prediction_path

    if folder is not None:
        base = Path(folder)
    elif records is not None and not paths.is_default_records_dir(records):
        base = paths.predictions_beside(records)
    else:
        base = (paths.write_predictions_dir() if ctx.course_root
                else paths.runs_dir() / "predictions" / ctx.fingerprint)
    return prediction_path(exp.name, ctx.profile, ctx.fingerprint, seed, base, config_hash)


def _record(exp, ctx, seed, prov, hashed, outcome, engine, predictions_file=None) -> dict:
    from avvp_lib.version import code_version

    extra = dict(outcome.extra)
    if predictions_file is not None:
        extra["predictions"] = paths.to_record(predictions_file)
    return make_record(name=exp.name, method=exp.method, variant=exp.variant, features=exp.features, engine=engine,
                       seed=int(seed), profile=ctx.profile, data=ctx.source, data_fingerprint=ctx.fingerprint,
                       config_hash=hashed, config=prov, code_version=code_version(exp.method),
                       metrics={k: float(v) for k, v in outcome.metrics.items()},
                       train_seconds=round(float(outcome.train_seconds), 2), device=ctx.device,
                       timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"), extra=extra)


def run(name: str, seed: int = 0, profile: str = "quick", data_root=None, device: str = "auto", *,
        store: RecordStore | None = None, force: bool = False, retrain: bool = False,
        runs_dir: Path | None = None, predictions_dir: Path | None = None, verbose: bool = True) -> dict:
    """Run one named configuration for one seed and return its record (written before it is returned).

    ``force``: compute it again even when its record exists (a finished checkpoint is re-used: the numbers are
    re-evaluated by the current code) and supersede the record; ``retrain``: also train from scratch.
    """
    from avvp_lib.results import config_hash

    exp = get(name)
    store = store if store is not None else RecordStore()
    ctx = context(profile, data_root, device)
    prov = provenance(name, seed, ctx)
    hashed = config_hash(prov)
    if not (force or retrain):
        hits = store.find(hashed, ctx.fingerprint, seed)
        mine = [r for r in hits if r["name"] == name]
        if mine:
            return max(mine, key=lambda r: r["timestamp"])
        usable = [r for r in hits if (not exp.predictions or r["extra"].get("predictions"))
                  and same_configuration(name, r["name"])]
        if usable:  # the same configuration under another name (valor/main = link/baseline): copy, do not retrain
            source = max(usable, key=lambda r: r["timestamp"])
            copy = {k: v for k, v in source.items() if k not in ("schema", "checksum")}
            extra = {**source["extra"], "copied_from": source["name"]}
            if exp.predictions and source["extra"].get("predictions"):  # the same file under this run's name
                import shutil

                mine_file = _prediction_path(exp, ctx, seed, predictions_dir, getattr(store, "folder", None), hashed)
                mine_file.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(paths.from_record(source["extra"]["predictions"]), mine_file)
                extra["predictions"] = paths.to_record(mine_file)
            copy.update(name=exp.name, method=exp.method, variant=exp.variant, extra=extra)
            return store.write_or_accept(make_record(**copy))
        late = store.written_since(name, ctx.profile, seed, ctx.fingerprint, hashed)
        if late is not None:  # a concurrent sweep finished this run after this one planned it
            return late
    t0 = time.perf_counter()
    try:
        outcome = exp.adapter.run(exp, ctx, seed, run_dir(name, seed, ctx, hashed, runs_dir), retrain or False)
    except FloatingPointError as error:  # non-finite losses or outputs: say which run, write no record
        raise FloatingPointError(f"{name}, seed {seed}, data {ctx.root}: {error}") from error
    predictions_file = None
    if exp.predictions and outcome.predictions is not None:
        from avvp_lib.predictions import save_predictions

        predictions_file = _prediction_path(exp, ctx, seed, predictions_dir, getattr(store, "folder", None), hashed)
        from avvp_lib.version import code_version

        meta = {"name": exp.name, "method": exp.method, "variant": exp.variant, "features": exp.features,
                "seed": int(seed), "data": ctx.source,
                "profile": ctx.profile, "config_hash": hashed, "data_fingerprint": ctx.fingerprint,
                "code_version": code_version(exp.method)}
        save_predictions(predictions_file, *outcome.predictions, meta)
    record = _record(exp, ctx, seed, prov, hashed, outcome, "sequential", predictions_file)
    # last: a record exists only with its predictions. A concurrent sweep that wrote the same run first wins.
    record = store.write_or_accept(record, replace=force or retrain)
    if verbose:
        m = outcome.metrics
        print(f"[run] {name} seed {seed}: segment Type@AV {m['segment/Type@AV']:.2f} Ao {m['segment/Ao']:.2f} "
              f"Vo {m['segment/Vo']:.2f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return record


def run_ensemble(name: str, seeds, profile: str = "quick", data_root=None, device: str = "auto", *,
                 store: RecordStore | None = None, force: bool = False, verbose: bool = True) -> list[dict]:
    """Every seed of ``seeds`` as one batched model (families with an ensemble path: CoLeaF's table); one record
    per seed with engine ``seed-ensemble``. No checkpoints (a killed run re-trains the group)."""
    from avvp_lib.experiments.adapters import ensemble_provenance
    from avvp_lib.results import config_hash

    exp = get(name)
    if not hasattr(exp.adapter, "ensemble"):
        raise ValueError(f"{name}: its family has no seed-ensemble path (only CoLeaF's table has one)")
    seeds = [int(s) for s in seeds]
    store = store if store is not None else RecordStore()
    ctx = context(profile, data_root, device)
    provs = {s: ensemble_provenance(provenance(name, s, ctx), seeds) for s in seeds}
    hashes = {s: config_hash(p) for s, p in provs.items()}
    found = {s: store.find(hashes[s], ctx.fingerprint, s, engine="seed-ensemble") for s in seeds}
    if not force and all(found.values()):
        return [max(found[s], key=lambda r: r["timestamp"]) for s in seeds]
    t0 = time.perf_counter()
    outcomes = exp.adapter.ensemble(exp, ctx, seeds)
    records = [_record(exp, ctx, s, provs[s], hashes[s], o, "seed-ensemble") for s, o in zip(seeds, outcomes)]
    records = [store.write_or_accept(record, replace=force) for record in records]
    if verbose:
        print(f"[run] {name} seeds {seeds} as one model: segment Type@AV "
              f"{[round(r['metrics']['segment/Type@AV'], 1) for r in records]} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    return records



def rows_current(frame, table_name: str, profile: str = "quick", data_root=None, device: str = "auto"):
    """For the rows of a derived table: True where the row's configuration hash and data fingerprint are what the
    registry gives now for this root (rows of another recipe, another root or an unknown name are not)."""
    import pandas as pd

    from avvp_lib.experiments.adapters import ensemble_provenance
    from avvp_lib.experiments.registry import names, table
    from avvp_lib.results import config_hash

    spec = table(table_name)
    if not {"name", "data_fingerprint"} <= set(frame.columns):  # a table written before the registry existed
        return pd.Series(False, index=frame.index, dtype=bool)
    ctx = context(profile, data_root, device)
    known = set(names())
    groups = {n: sorted({int(s) for s in seeds}) for n, seeds in frame.groupby("name")["seed"]} if len(frame) else {}
    current = []
    for name, seed, hashed, fingerprint in zip(frame["name"], frame["seed"], frame["config_hash"],
                                               frame["data_fingerprint"]):
        if name not in known or fingerprint != ctx.fingerprint:
            current.append(False)
            continue
        prov = provenance(name, int(seed), ctx)
        if spec.engine == "seed-ensemble":
            prov = ensemble_provenance(prov, groups[name])
        current.append(config_hash(prov) == hashed)
    return pd.Series(current, index=frame.index, dtype=bool)
