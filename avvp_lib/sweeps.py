"""The main-results sweep: every method's main configuration x seeds -> ``results/09_main.csv``.

``python -m avvp_lib.sweeps --profile quick --seeds 0 1 2 [--only han,coleaf,uwav,valor,link] [--ablations]``

Per run it writes, as soon as the run ends (so an interrupted sweep loses nothing that finished):

* one results row (``avvp_lib.results`` schema, test split) upserted into ``results/09_main.csv``;
* one compute row into ``results/09_compute.csv``: parameters, epochs, training seconds per epoch,
  inference seconds for the test split, the device;
* the test predictions ``results/predictions/<method>_<variant>_<profile>_seed<seed>.npz``: binary
  ``pred_a``/``pred_v`` and the ground truth ``gt_a``/``gt_v`` as packed bits (``np.packbits``) with
  their shape and the test filenames - read them back with :func:`load_predictions`. Notebooks 08-09
  bootstrap, draw per-class heatmaps and timelines from these without retraining.

A run whose row is already in the CSV with the same ``config_hash`` is skipped. ``--force`` recomputes it,
re-using a finished checkpoint in ``runs/`` (the row is re-evaluated by the current code: cheap);
``--retrain`` trains from scratch (and passes ``force=True`` to the ablation sweeps).
Each method's main configuration comes from its own module (its public ``train_config`` /
``train_variant`` / ``run_variant``); checkpoints go to the same ``runs/`` folders the notebooks use,
so a notebook and the sweep share training. ``--ablations`` also calls each method module's
``run_ablations(profile, seeds, out_csv)`` where it exists.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from avvp_lib import course
from avvp_lib.metrics import evaluate, inference_rule
from avvp_lib.results import append_rows, config_hash, make_row, read_results, write_csv_atomic
from avvp_lib.version import code_version

MAIN_CSV = course.RESULTS_DIR / "09_main.csv"
COMPUTE_CSV = course.RESULTS_DIR / "09_compute.csv"
PREDICTIONS_DIR = course.RESULTS_DIR / "predictions"
COMPUTE_COLUMNS = ["method", "variant", "seed", "data", "profile", "params", "epochs", "train_seconds",
                   "train_seconds_per_epoch", "inference_seconds", "test_videos", "device", "threads",
                   "code_version", "config_hash", "timestamp"]
METHODS = ("han", "coleaf", "uwav", "valor", "link")
#: module and results CSV of each method's ablation sweep (``--ablations``)
ABLATION_SWEEPS = {"han": ("avvp_lib.methods.mmil", None),
                   "coleaf": ("avvp_lib.methods.coleaf", "04_coleaf_ablations.csv"),
                   "uwav": ("avvp_lib.methods.uwav", "06_uwav_ablations.csv"),
                   "valor": ("avvp_lib.methods.link", "07_link_ablations.csv"),
                   "link": ("avvp_lib.methods.link", "07_link_ablations.csv")}
#: tables a method's ``--ablations`` also writes after its sweep: (module, function(profile, seeds, out_csv,
#: data_root, device), results CSV, what). UWAV Table 3 scores the pseudo-labels themselves, one row per source
#: and pretraining seed.
ABLATION_FOLLOW_UPS = {"uwav": (("avvp_lib.pseudo_labels", "run_pseudo_label_accuracy", "05_uwav_pseudolabels.csv",
                                 "UWAV pseudo-label accuracy"),)}


class Unavailable(RuntimeError):
    """A method module (or the public function the sweep needs) does not exist yet."""


@dataclass
class Plan:
    """One method's main configuration for one seed: its row keys, its hash and how to train it."""

    method: str  # as written in the results row ("HAN", "CoLeaF", ...)
    variant: str
    provenance: dict  # hashed into config_hash
    train: Callable[[bool], tuple]  # train(retrain) -> (trained nn.Module, FitResult, test AVVPData)

    @property
    def hash(self) -> str:
        return config_hash(self.provenance)


# ----------------------------------------------------------------------------------- data cache
class Context:
    """Lazily loaded splits shared by all runs of one sweep."""

    def __init__(self, profile: str, data_root=None, device: str = "auto", runs_dir: Path | None = None):
        self.cfg = course.setup(profile, data_root, 0, device)
        self.runs_dir = Path(runs_dir) if runs_dir is not None else course.RUNS_DIR  # HAN's checkpoints
        self.profile, self.device = profile, str(self.cfg["device"])
        self.root, self.source = self.cfg["data_root"], self.cfg["data_source"]
        self._cache: dict = {}

    def han_splits(self) -> dict:
        if "han" not in self._cache:
            from avvp_lib.data.dataset import load_split

            self._cache["han"] = {s: load_split(self.root, s) for s in ("train", "val", "test")}
        return self._cache["han"]

    def link_inputs(self) -> tuple:
        if "link" not in self._cache:
            link = _module("avvp_lib.methods.link", ("load_link_data", "calibrated_thresholds", "run_variant"))
            from avvp_lib.data.features import load_prompt_embeddings

            data = link.load_link_data(self.root)
            prompts = load_prompt_embeddings(self.root)
            self._cache["link"] = (data, prompts, link.calibrated_thresholds(data["val"], prompts))
        return self._cache["link"]


def _module(name: str, needs: tuple[str, ...]):
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise Unavailable(f"{name} cannot be imported ({error})") from error
    missing = [n for n in needs if not hasattr(module, n)]
    if missing:
        raise Unavailable(f"{name} has no public {', '.join(missing)}")
    return module


def _train_dict(config) -> dict:
    return {k: v for k, v in config.to_dict().items() if k not in ("seed", "device")}


# ------------------------------------------------------------------------------- the main configs
def plan_han(ctx: Context, seed: int) -> Plan:
    """HAN with the official MMIL loss and recipe (``methods.mmil``), d = 512; notebook 02's run folder."""
    from avvp_lib.methods.mmil import HANMethod, train_config
    from avvp_lib.models.han import HAN
    from avvp_lib.train import load_or_fit

    config = train_config(ctx.profile, seed, ctx.device)
    provenance = {"method": "HAN", "han": HAN().config, "loss": "mmil", "train": _train_dict(config)}

    def train(retrain: bool = False):
        splits = ctx.han_splits()
        torch.manual_seed(seed)  # as notebook 02: the same run folder holds the same run
        method = HANMethod()
        run_dir = ctx.runs_dir / "02_han" / f"{ctx.source}_{ctx.profile}_seed{seed}"
        result = load_or_fit(method, splits["train"], splits["val"], config, run_dir, retrain=retrain, progress=False)
        return method, result, splits["test"]

    return Plan("HAN", "main", provenance, train)


def plan_coleaf(ctx: Context, seed: int) -> Plan:
    """CoLeaF with the HAN Anchor, every component on (``methods.coleaf`` variant ``full``)."""
    cl = _module("avvp_lib.methods.coleaf", ("train_variant", "train_config", "run_config", "method_name"))
    variant = "full"
    provenance = cl.run_config(variant, cl.train_config(ctx.profile, seed, ctx.device), ctx.profile)

    def train(retrain: bool = False):
        splits = ctx.han_splits()
        method, result, _ = cl.train_variant(variant, seed, splits["train"], splits["val"], ctx.profile, ctx.device,
                                             retrain=retrain)
        return method, result, splits["test"]

    return Plan(cl.method_name(variant), variant, provenance, train)


def plan_uwav(ctx: Context, seed: int) -> Plan:
    """UWAV: HAN trained on the pretrained generators' soft, re-weighted pseudo-labels with mixup (``uwav``)."""
    uw = _module("avvp_lib.methods.uwav", ("train_variant", "run_config", "variant_config"))
    variant = "uwav"
    provenance = uw.run_config(variant, uw.variant_config(variant), ctx.profile, seed, Path(ctx.root))

    def train(retrain: bool = False):
        splits = ctx.han_splits()
        method, result, _, _ = uw.train_variant(ctx.root, variant, ctx.profile, seed, ctx.device, data=splits,
                                                retrain=retrain)
        return method, result, splits["test"]

    return Plan(getattr(uw, "METHOD", "UWAV"), variant, provenance, train)


def _plan_link(ctx: Context, seed: int, variant: str, method_name: str) -> Plan:
    link = _module("avvp_lib.methods.link", ("run_variant", "run_key", "train_config", "spec_for"))
    data, prompts, thresholds = ctx.link_inputs()
    key = link.run_key(variant, ctx.profile, seed, thresholds, ctx.device)
    provenance = {"method": method_name, "link_variant": variant, "link_run_key": key}

    def train(retrain: bool = False):
        run_dir = course.RUNS_DIR / "07_link" / key  # notebook 07's run folders
        if retrain:
            for name in ("last.pt", "best.pt"):
                (run_dir / name).unlink(missing_ok=True)
        method, _, result = link.run_variant(variant, seed, data, prompts, thresholds, ctx.profile, ctx.device,
                                             run_dir=run_dir)
        return method, result, data["test"]

    return Plan(method_name, variant, provenance, train)


def plan_valor(ctx: Context, seed: int) -> Plan:
    """The VALOR-style baseline: LINK's network with every LINK module off (LINK Table II ``baseline``)."""
    return _plan_link(ctx, seed, "baseline", "VALOR")


def plan_link(ctx: Context, seed: int) -> Plan:
    """LINK with TSAM + CMIM, S-LOSS and PLSIM (Table II ``T+S+P`` = Table I's LINK)."""
    return _plan_link(ctx, seed, "T+S+P", "LINK")


PLANS: dict[str, Callable[[Context, int], Plan]] = {"han": plan_han, "coleaf": plan_coleaf, "uwav": plan_uwav,
                                                     "valor": plan_valor, "link": plan_link}


# ------------------------------------------------------------------------------- predictions I/O
def prediction_path(method: str, variant: str, profile: str, seed: int, folder: Path = PREDICTIONS_DIR) -> Path:
    slug = "".join(ch if ch.isalnum() or ch in "+-=." else "_" for ch in f"{method}_{variant}".lower())
    return Path(folder) / f"{slug}_{profile}_seed{seed}.npz"


def save_predictions(path: str | Path, pred_a, pred_v, gt_a, gt_v, filenames, meta: dict) -> Path:
    """Binary (N, T, C) arrays as packed bits in a compressed .npz (written atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v.cpu() if isinstance(v, torch.Tensor) else v).astype(bool)
              for k, v in dict(pred_a=pred_a, pred_v=pred_v, gt_a=gt_a, gt_v=gt_v).items()}
    shape = arrays["pred_a"].shape
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, shape=np.array(shape), filenames=np.array(filenames),
                        meta=np.array(json.dumps(meta, sort_keys=True)),
                        **{k: np.packbits(v.reshape(-1)) for k, v in arrays.items()})
    os.replace(tmp, path)
    return path


def load_predictions(path: str | Path) -> dict:
    """``{"pred_a", "pred_v", "gt_a", "gt_v": (N, T, C) uint8, "filenames": list, "meta": dict}``."""
    with np.load(path) as z:
        shape = tuple(int(x) for x in z["shape"])
        size = int(np.prod(shape))
        out = {k: np.unpackbits(z[k])[:size].reshape(shape) for k in ("pred_a", "pred_v", "gt_a", "gt_v")}
        out["filenames"] = [str(f) for f in z["filenames"]]
        out["meta"] = json.loads(str(z["meta"]))
    return out


def saved_predictions(profile: str | None = None, data: str | None = None,
                      folder: Path = PREDICTIONS_DIR) -> pd.DataFrame:
    """Index of the saved prediction files: ``method, variant, seed, data, profile, config_hash, path``."""
    rows = []
    for path in sorted(Path(folder).glob("*.npz")):
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
        rows.append({**{k: meta.get(k) for k in ("method", "variant", "seed", "data", "profile", "config_hash",
                                                 "code_version")}, "path": path})
    frame = pd.DataFrame(rows, columns=["method", "variant", "seed", "data", "profile", "config_hash",
                                        "code_version", "path"])
    if profile is not None:
        frame = frame[frame.profile == profile]
    if data is not None:
        frame = frame[frame.data == data]
    return frame.reset_index(drop=True)


# ------------------------------------------------------------------------------------ the sweep
def _done(csv: Path, plan: Plan, seed: int, ctx: Context, predictions_dir: Path = PREDICTIONS_DIR) -> bool:
    if not csv.is_file():
        return False
    old = read_results(csv)
    hit = ((old.method == plan.method) & (old.variant == plan.variant) & (old.seed == seed)
           & (old.data == ctx.source) & (old.profile == ctx.profile) & (old.config_hash == plan.hash))
    return bool(hit.any()) and prediction_path(plan.method, plan.variant, ctx.profile, seed, predictions_dir).is_file()


def _upsert_compute(path: Path, row: dict) -> None:
    new = pd.DataFrame([row], columns=COMPUTE_COLUMNS)
    if path.is_file():
        old = pd.read_csv(path)
        keys = ["method", "variant", "seed", "data", "profile"]
        mine = tuple(str(row[k]) for k in keys)
        old = old[[tuple(r) != mine for r in old[keys].astype(str).values]]
        new = pd.concat([old, new], ignore_index=True)
    write_csv_atomic(new, path)


def run_main(profile: str = "quick", seeds=(0, 1, 2), only=METHODS, data_root=None, device: str = "auto",
             force: bool = False, out_csv: Path = MAIN_CSV, compute_csv: Path = COMPUTE_CSV,
             predictions_dir: Path = PREDICTIONS_DIR, runs_dir: Path | None = None,
             retrain: bool = False) -> list[str]:
    """Train and evaluate the main configuration of each method in ``only`` for each seed.

    Returns the list of methods skipped because their module is not available (with the reason printed).
    ``force`` recomputes rows that are present (finished checkpoints in ``runs/`` are reused: the row is
    re-evaluated with the current code); ``retrain`` also trains from scratch. ``runs_dir`` moves HAN's
    checkpoints (tests); the other methods use their modules' run folders.
    """
    from avvp_lib.train import predict_split, resolve_device

    ctx = Context(profile, data_root, device, runs_dir)
    out_csv, compute_csv = Path(out_csv), Path(compute_csv)
    skipped = []
    for name in only:
        if name not in PLANS:
            raise KeyError(f"unknown method {name!r}; expected some of {METHODS}")
        for seed in seeds:
            try:
                plan = PLANS[name](ctx, seed)
            except Unavailable as error:
                print(f"[sweeps] skip {name}: {error}", flush=True)
                skipped.append(name)
                break
            if not force and _done(out_csv, plan, seed, ctx, predictions_dir):
                print(f"[sweeps] {plan.method}/{plan.variant} seed {seed}: row present (config {plan.hash}), skipped",
                      flush=True)
                continue
            t0 = time.perf_counter()
            method, result, test = plan.train(retrain)
            if resolve_device(ctx.device).type == "cuda":
                torch.cuda.synchronize()
            t1 = time.perf_counter()
            out = predict_split(method, test)
            if resolve_device(ctx.device).type == "cuda":
                torch.cuda.synchronize()
            inference_seconds = time.perf_counter() - t1
            pred_a, pred_v = inference_rule(out.segment, out.video)
            metrics = evaluate(pred_a, pred_v, test.gt_audio, test.gt_visual)
            dev = str(resolve_device(ctx.device))
            row = make_row(plan.method, plan.variant, seed, ctx.source, profile, metrics, result.train_seconds,
                           plan.provenance, dev)
            epochs = max(1, len(result.history))
            _upsert_compute(Path(compute_csv), {
                "method": plan.method, "variant": plan.variant, "seed": seed, "data": ctx.source, "profile": profile,
                "params": sum(p.numel() for p in method.parameters()), "epochs": epochs,
                "train_seconds": round(result.train_seconds, 2),
                "train_seconds_per_epoch": round(result.train_seconds / epochs, 3),
                "inference_seconds": round(inference_seconds, 3), "test_videos": len(test), "device": dev,
                "threads": torch.get_num_threads(), "code_version": row["code_version"],
                "config_hash": row["config_hash"], "timestamp": row["timestamp"]})
            meta = {k: row[k] for k in ("method", "variant", "seed", "data", "profile", "config_hash", "code_version")}
            save_predictions(prediction_path(plan.method, plan.variant, profile, seed, predictions_dir),
                             pred_a, pred_v, test.gt_audio, test.gt_visual, test.filenames, meta)
            append_rows(out_csv, [row])  # last: a row is present only with its predictions and compute row
            print(f"[sweeps] {plan.method}/{plan.variant} seed {seed}: segment Type@AV {metrics['segment/Type@AV']:.2f}"
                  f" Ao {metrics['segment/Ao']:.2f} Vo {metrics['segment/Vo']:.2f} "
                  f"({time.perf_counter() - t0:.0f} s, best epoch {result.best_epoch})", flush=True)
    return skipped


# ------------------------------------------------------------------- seeds as one batched model
ENGINES = ("auto", "sequential", "ensemble")
#: ablation sweeps that can train their seeds as one vmapped model (``avvp_lib.ensemble``). UWAV's mixup turns
#: its Beta draw into a Python float (``losses.uwav.sample_mixup``) and LINK's ``training_loss`` calls ``.item()``
#: on its terms; neither runs under vmap yet, so their sweeps stay sequential whatever the engine.
ENSEMBLE_SWEEPS = ("coleaf",)
#: where the ensemble engine writes (apart from the sequential table: an ensemble run is another run, with
#: other dropout noise; notebook 04 compares the two and falls back to this file when it is the only one)
ENSEMBLE_CSV = course.RESULTS_DIR / "04_coleaf_ablations_ensemble.csv"


def resolve_engine(engine: str, device: str = "auto") -> str:
    """``auto``: the seed ensemble on a GPU (launch-bound small batches: K seeds cost about one), sequential
    runs on a CPU (compute-bound: the ensemble does the same arithmetic plus vmap's overhead; ``benchmarks``
    measured 0.78-0.86x of sequential speed for HAN and 0.83-1.18x for CoLeaF's quick width)."""
    from avvp_lib.train import resolve_device

    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; expected one of {ENGINES}")
    if engine == "auto":
        return "ensemble" if resolve_device(device).type == "cuda" else "sequential"
    return engine


def ensemble_provenance(run_config: dict, seeds) -> dict:
    """A sequential run's provenance plus the engine and the seed group. Member k of an ensemble sees the data
    order and initial weights of its own seed but dropout masks drawn for the whole group (seeded by the
    group's first seed), so its numbers depend on the group and must not share a hash with a sequential run."""
    return {**run_config, "engine": "seed-ensemble", "ensemble_seeds": [int(s) for s in seeds]}


def coleaf_rows_current(frame: pd.DataFrame, profile: str, device: str = "auto") -> pd.Series:
    """True for CoLeaF-table rows whose ``config_hash`` is what the current code writes for them: a sequential
    run's (``coleaf.run_config``) or an ensemble run's (:func:`ensemble_provenance`, the seed group being the
    seeds of that variant in ``frame``, as one sweep call writes them). Unknown variants are not current."""
    from avvp_lib.methods import coleaf as cl

    groups = {v: sorted({int(x) for x in seeds}) for v, seeds in frame.groupby("variant")["seed"]}
    current = []
    for variant, seed, hashed in zip(frame["variant"], frame["seed"], frame["config_hash"]):
        if variant not in cl.ABLATIONS:
            current.append(False)
            continue
        sequential = cl.run_config(variant, cl.train_config(profile, int(seed), device), profile)
        current.append(hashed in (config_hash(sequential), config_hash(ensemble_provenance(sequential, groups[variant]))))
    return pd.Series(current, index=frame.index, dtype=bool)


def run_coleaf_ablations_ensemble(profile: str = "quick", seeds=(0, 1, 2), out_csv: Path | None = None,
                                  variants=None, device: str = "auto", data_root=None, force: bool = False,
                                  splits: dict | None = None, verbose: bool = True) -> pd.DataFrame:
    """CoLeaF's ablation table (``methods.coleaf.ABLATIONS``, HAN rows included) with every configuration's
    seeds trained as one model by :func:`avvp_lib.ensemble.fit_ensemble`; one results row per seed, upserted
    into ``out_csv`` (default :data:`ENSEMBLE_CSV`) after each configuration.

    Same recipe, widths and test evaluation as ``coleaf.run_ablations``; rows carry
    :func:`ensemble_provenance` in their ``config_hash``. A configuration whose rows are all present with the
    current hash is skipped unless ``force``. There are no checkpoints (a killed sweep re-trains the
    configuration it was in) and nothing is written to the ``runs/`` folders that notebooks reload.
    """
    from avvp_lib.ensemble import fit_ensemble
    from avvp_lib.methods import coleaf as cl
    from avvp_lib.train import evaluate_method, resolve_device

    seeds = [int(s) for s in seeds]
    variants = list(variants or cl.ABLATIONS)
    unknown = [v for v in variants if v not in cl.ABLATIONS]
    if unknown:
        raise KeyError(f"unknown ablation(s) {unknown}; expected names from {sorted(cl.ABLATIONS)}")
    out_csv = Path(out_csv) if out_csv is not None else ENSEMBLE_CSV
    if splits is None:
        from avvp_lib.data.dataset import load_split

        root = course.setup(profile, data_root, 0, device)["data_root"]
        splits = {s: load_split(root, s) for s in ("train", "val", "test")}
    source, dev = splits["train"].data_source, str(resolve_device(device))
    if verbose:
        print(f"[sweeps] CoLeaF ablations, seeds as one model -> {out_csv}", flush=True)
    for variant in variants:
        provenance = {s: ensemble_provenance(cl.run_config(variant, cl.train_config(profile, s, device), profile), seeds)
                      for s in seeds}
        if not force and all(cl._has_row(out_csv, variant, s, source, profile, config_hash(provenance[s]))
                             for s in seeds):
            continue
        t0 = time.perf_counter()
        methods, results = fit_ensemble(lambda s: cl.build_method(variant, s, profile), seeds, splits["train"],
                                        splits["val"], cl.train_config(profile, seeds[0], device))
        rows = [make_row(cl.method_name(variant), variant, s, source, profile, evaluate_method(m, splits["test"]),
                         r.train_seconds, provenance[s], dev) for s, m, r in zip(seeds, methods, results)]
        append_rows(out_csv, rows)
        if verbose:
            av = [f"{row['segment/Type@AV']:.1f}" for row in rows]
            print(f"[sweeps] ensemble {variant} seeds {seeds}: segment Type@AV {av} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return read_results(out_csv)


def run_all_ablations(profile: str = "quick", seeds=(0, 1, 2), only=METHODS, device: str = "auto",
                      force: bool = False, data_root=None, engine: str = "sequential",
                      ensemble_csv: Path | None = None) -> list[str]:
    """Call each method module's ``run_ablations(profile, seeds, out_csv)`` where it exists; with the
    ``ensemble`` engine (or ``auto`` on a GPU) the sweeps of :data:`ENSEMBLE_SWEEPS` train each
    configuration's seeds as one batched model instead (rows to ``ensemble_csv``, default :data:`ENSEMBLE_CSV`)."""
    engine = resolve_engine(engine, device)
    skipped, seen = [], set()
    for name in only:
        module_name, csv_name = ABLATION_SWEEPS[name]
        if module_name in seen:
            continue
        seen.add(module_name)
        if engine == "ensemble" and name in ENSEMBLE_SWEEPS:
            run_coleaf_ablations_ensemble(profile, seeds, ensemble_csv, device=device, data_root=data_root, force=force)
            continue
        try:
            module = _module(module_name, ("run_ablations",))
        except Unavailable as error:
            print(f"[sweeps] no ablation sweep for {name}: {error}", flush=True)
            skipped.append(name)
            continue
        note = " (sequential seeds: no ensemble path for this sweep)" if engine == "ensemble" else ""
        print(f"[sweeps] ablations of {module_name} -> results/{csv_name}{note}", flush=True)
        module.run_ablations(profile, list(seeds), course.RESULTS_DIR / csv_name, data_root=data_root, force=force,
                             device=device)
        for module_path, function, follow_csv, what in ABLATION_FOLLOW_UPS.get(name, ()):
            print(f"[sweeps] {what} -> results/{follow_csv}", flush=True)
            getattr(importlib.import_module(module_path), function)(profile, list(seeds),
                                                                     course.RESULTS_DIR / follow_csv, data_root, device)
    return skipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.sweeps",
                                     description="Main configuration of every method x seeds -> results/09_main.csv")
    parser.add_argument("--profile", default="quick", choices=course.PROFILES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--ablations", action="store_true",
                        help="also run each module's run_ablations(profile, seeds, out_csv) sweep")
    parser.add_argument("--no-main", action="store_true", help="with --ablations: skip the main sweep")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--force", action="store_true",
                        help="recompute rows that already exist (reuses finished checkpoints in runs/)")
    parser.add_argument("--retrain", action="store_true", help="with --force: train from scratch, ignoring runs/")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--engine", default="auto", choices=ENGINES,
                        help="ablation sweeps: seeds one after the other (sequential) or as one batched model "
                             "(ensemble; CoLeaF's table); auto = ensemble on a GPU, sequential on a CPU")
    parser.add_argument("--ensemble-csv", default=None,
                        help=f"with the ensemble engine: write its rows here (default results/{ENSEMBLE_CSV.name})")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    only = [m.strip().lower() for m in args.only.split(",") if m.strip()]
    unknown = [m for m in only if m not in METHODS]
    if unknown:
        parser.error(f"--only: unknown method(s) {unknown}; expected some of {list(METHODS)}")
    skipped = [] if args.no_main else run_main(args.profile, args.seeds, only, args.data_root, args.device,
                                               args.force or args.retrain, retrain=args.retrain)
    if args.ablations:
        skipped += run_all_ablations(args.profile, args.seeds, only, args.device, args.retrain, args.data_root,
                                     args.engine, args.ensemble_csv)
    if skipped:
        print(f"[sweeps] skipped (module not available): {sorted(set(skipped))}", file=sys.stderr)


if __name__ == "__main__":
    main()
