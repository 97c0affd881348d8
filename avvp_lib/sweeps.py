"""Sweeps: lists of registered configurations x seeds, run by an executor, then the tables derived.

``python -m avvp_lib.sweeps --profile quick --seeds 0 1 2 [--ablations] [--tables NAME ...] [--names NAME ...]
[--only FAMILY,...] [--executor inline|local|slurm] [--jobs N] [--engine auto|sequential|ensemble]``

* what runs: the main table (``09_main``) unless ``--no-main``; ``--ablations`` adds each method's ablation
  tables (CoLeaF's 04, UWAV's 05-06, LINK's 07); ``--tables`` names registry tables, ``--names`` single
  configurations; ``--only`` keeps the methods named (``python -m avvp_lib.experiments --list`` lists all);
* each finished run writes one record (``results/records/``); a run whose record exists is skipped
  (``--force``: re-evaluate, re-using finished checkpoints; ``--retrain``: from scratch). Afterwards every
  ``results/*.csv`` is derived from the records (what ``make results`` also does);
* executors: ``inline`` (this process), ``local --jobs N`` (N worker processes, ``--threads`` each),
  ``slurm`` (a submitit job array; ``--wait`` to block until it ends, otherwise derive later with
  ``make results``; a job at its time limit is requeued and resumes from its last epoch). Re-submitting skips
  every run that has a record.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from avvp_lib import paths
from avvp_lib.experiments import executors
from avvp_lib.experiments.registry import families, get, table
from avvp_lib.runtime import PROFILES

MAIN_TABLE = "09_main"
#: tables whose configurations can train their seeds as one vmapped model (``--engine ensemble``)
ENSEMBLE_TABLES = {"04_coleaf_ablations": "04_coleaf_ablations_ensemble"}
ENGINES = ("auto", "sequential", "ensemble")


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


def methods() -> tuple[str, ...]:
    """What ``--only`` accepts: every declared method family (the course's and any registered method's)."""
    return tuple(families())


def plan(only=None, main: bool = True, ablations: bool = False, tables=(), extra_names=()) -> list[str]:
    """The configurations to run, in table order, each once. ``only``: families to keep (each with the families
    it runs with); None keeps every family. Tables named in ``tables`` run whole unless ``only`` is given."""
    declared = families()
    unknown = [m for m in (only or ()) if m not in declared]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; expected some of {list(declared)}")
    chosen_families = set(declared) if only is None else {f for m in only for f in (m,) + declared[m].runs_with}
    chosen = ([MAIN_TABLE] if main else [])
    if ablations:
        chosen += [t for m in (only or declared) for t in declared[m].ablation_tables]
    chosen += list(tables)
    wanted = [n for t in dict.fromkeys(chosen) for n in table(t).experiments
              if n.partition("/")[0] in chosen_families]
    wanted += [get(n).name for n in extra_names]
    return list(dict.fromkeys(wanted))


def tasks_for(run_names, seeds, profile, data_root, device, records_dir=None, force=False, retrain=False):
    """Seed-major (an interrupted sweep still has every configuration of the first seeds)."""
    return [executors.Task(n, int(s), profile, None if data_root is None else str(data_root), device,
                           None if records_dir is None else str(records_dir), force, retrain)
            for s in seeds for n in run_names]


def run_sweep(run_names, seeds=(0, 1, 2), profile: str = "quick", data_root=None, device: str = "auto",
              executor: str = "inline", jobs: int = 1, threads: int = 1, force: bool = False, retrain: bool = False,
              records_dir=None, slurm: dict | None = None, derive: bool = True) -> list[str]:
    """Run every (name, seed) without a record; returns the record file names (submitted jobs for slurm)."""
    if executor not in executors.EXECUTORS:
        raise ValueError(f"executor={executor!r}; expected one of {executors.EXECUTORS}")
    todo = executors.pending(tasks_for(run_names, seeds, profile, data_root, device, records_dir, force, retrain),
                             force or retrain)
    print(f"[sweeps] {len(todo)} run(s) to do of {len(run_names) * len(seeds)} ({executor})", flush=True)
    if executor == "slurm":
        options = dict(slurm or {})
        folder = options.pop("folder", paths.runs_dir() / "submitit")
        wait = options.pop("wait", False)
        jobs = executors.submit(todo, folder, "slurm", False, **options)
        ids = sorted({str(j.job_id).split("_")[0] for j in jobs})
        print(f"[sweeps] submitted {len(jobs)} run(s) as Slurm job(s) {', '.join(ids) or '-'}; logs in "
              f"{Path(folder).resolve()}", flush=True)
        out = executors.wait_for(jobs) if wait else jobs
        if not wait:
            print("[sweeps] `make results` derives the tables once they end (or pass --wait)", flush=True)
            return [str(getattr(j, "job_id", j)) for j in out]
    else:
        out = executors.run_local(todo, jobs if executor == "local" else 1, threads)
    if derive:
        from avvp_lib.experiments.derived import write_tables

        if records_dir is None:
            write_tables()
        else:  # tables are derived beside their records
            write_tables(_store(records_dir), paths.tables_beside(records_dir))
    return out


def run_ensemble_sweep(run_names, seeds, profile="quick", data_root=None, device="auto", force=False,
                       records_dir=None) -> None:
    """Each configuration's seeds as one batched model (CoLeaF's table); one record per seed."""
    from avvp_lib.experiments.runner import run_ensemble

    store = _store(records_dir) if records_dir is not None else None
    for name in run_names:
        run_ensemble(name, seeds, profile, data_root, device, store=store, force=force)


def print_plan(run_names, seeds, profile: str) -> None:
    """One line per configuration: its feature set, its recipe's epochs and batch size on ``profile``; then the
    number of runs (``--dry-run``: nothing is read or trained)."""
    for name in run_names:
        exp = get(name)
        recipe = exp.recipe(exp.options.get("recipe_profile", profile), 0, "cpu") if exp.recipe else None
        what = f"{recipe.epochs} epochs, batch {recipe.batch_size}" if recipe is not None else "no training"
        print(f"{name:40s} {exp.features:10s} {what}")
    print(f"[sweeps] plan: {len(run_names)} configuration(s) x {len(seeds)} seed(s) = {len(run_names) * len(seeds)} "
          f"run(s), profile {profile}")


def _store(records_dir):
    from avvp_lib.experiments.records import RecordStore

    return RecordStore(Path(records_dir))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.sweeps", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick", choices=PROFILES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", default=None,
                        help=f"comma-separated method families (default: all; {','.join(methods())})")
    parser.add_argument("--ablations", action="store_true", help="also each method's ablation tables")
    parser.add_argument("--no-main", action="store_true", help=f"leave out the main table ({MAIN_TABLE})")
    parser.add_argument("--tables", nargs="*", default=(), help="registry tables to run (python -m avvp_lib.experiments --tables)")
    parser.add_argument("--names", nargs="*", default=(), help="single configurations to run (family/variant)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--force", action="store_true", help="re-evaluate runs that have a record (re-uses checkpoints)")
    parser.add_argument("--retrain", action="store_true", help="train from scratch even when a record or checkpoint exists")
    parser.add_argument("--engine", default="auto", choices=ENGINES,
                        help="CoLeaF's table: seeds one after the other or as one batched model (auto: ensemble on a GPU)")
    parser.add_argument("--executor", default="inline", choices=executors.EXECUTORS + ("submitit",),
                        help="submitit is the same as slurm (a job array through submitit)")
    parser.add_argument("--jobs", type=int, default=1, help="--executor local: worker processes (at least 1)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per run")
    parser.add_argument("--records-dir", default=None,
                        help="default results/records; the derived tables go to its parent folder and the runs' "
                             "predictions to <its parent>/predictions")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (every configuration, its recipe's epochs, the number of runs) and exit; "
                             "reads no data")
    parser.add_argument("--slurm-partition", default=None)
    parser.add_argument("--slurm-timeout-min", type=int, default=120)
    parser.add_argument("--slurm-cpus", type=int, default=2)
    parser.add_argument("--slurm-gpus", type=int, default=0)
    parser.add_argument("--slurm-signal-delay-s", type=int, default=None,
                        help="Slurm signals a job this long before its limit; it is then requeued and resumes "
                             "(default: 90 s, a sixth of limits under 9 min)")
    parser.add_argument("--wait", action="store_true", help="--executor slurm: wait for the jobs, then derive the tables")
    args = parser.parse_args(argv)
    if args.executor == "submitit":
        args.executor = "slurm"
    if args.jobs < 1 or args.threads < 1:
        parser.error(f"--jobs {args.jobs} / --threads {args.threads}: expected integers of at least 1")
    if any(s < 0 for s in args.seeds):
        parser.error(f"--seeds {' '.join(map(str, args.seeds))}: seeds are non-negative integers")
    if args.records_dir is not None and Path(args.records_dir).exists() and not Path(args.records_dir).is_dir():
        parser.error(f"--records-dir {args.records_dir}: is a file; expected a folder of run records (it is "
                     f"created when missing)")
    if args.data_root is not None and (not args.data_root.strip() or not Path(args.data_root).is_dir()):
        parser.error(f"--data-root {args.data_root!r}: no such folder; expected a data root in the official layout")
    only = None if args.only is None else [m.strip().lower() for m in args.only.split(",") if m.strip()]
    unknown = [m for m in (only or ()) if m not in methods()]
    if unknown:
        parser.error(f"--only: unknown method(s) {unknown}; expected some of {list(methods())}")
    import torch

    torch.set_num_threads(args.threads)
    engine = resolve_engine(args.engine, args.device)
    run_names = plan(only, not args.no_main, args.ablations, args.tables, args.names)
    if args.dry_run:
        print_plan(run_names, args.seeds, args.profile)
        return
    if engine == "ensemble":
        grouped = [n for t in ENSEMBLE_TABLES for n in table(t).experiments]
        ensemble_names = [n for n in run_names if n in grouped]
        run_ensemble_sweep(ensemble_names, args.seeds, args.profile, args.data_root, args.device,
                           args.force or args.retrain, args.records_dir)
        run_names = [n for n in run_names if n not in ensemble_names]
        print(f"[sweeps] seed ensembles for {len(ensemble_names)} configuration(s); the others run sequentially",
              flush=True)
    slurm = {"partition": args.slurm_partition, "timeout_min": args.slurm_timeout_min,
             "cpus_per_task": args.slurm_cpus, "gpus_per_node": args.slurm_gpus, "wait": args.wait,
             "signal_delay_s": args.slurm_signal_delay_s}
    run_sweep(run_names, args.seeds, args.profile, args.data_root, args.device, args.executor, args.jobs,
              args.threads, args.force, args.retrain, args.records_dir, slurm)


if __name__ == "__main__":
    main()
