"""Where runs execute: in this process, in N local worker processes, or as a SLURM job array (submitit).

Every executor runs :func:`avvp_lib.experiments.runner.run` on (name, seed) tasks and each finished run
writes its own record, so an interrupted or concurrent sweep loses nothing that finished, and re-submitting
a sweep only runs what has no record yet (:func:`pending`). A Slurm job that reaches its time limit is
requeued by submitit (:class:`SlurmRun`) and its run resumes from the last epoch's checkpoint.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from submitit.helpers import Checkpointable, DelayedSubmission

EXECUTORS = ("inline", "local", "slurm")


@dataclass(frozen=True)
class Task:
    name: str
    seed: int
    profile: str = "quick"
    data_root: str | None = None
    device: str = "auto"
    records_dir: str | None = None
    force: bool = False
    retrain: bool = False
    runs_dir: str | None = None  # checkpoints (default runs/)
    predictions_dir: str | None = None  # saved test predictions (default: the runner's choice)


def pending(tasks: list[Task], force: bool = False) -> list[Task]:
    """The tasks without a record (all of them with ``force``)."""
    if force:
        return list(tasks)
    from avvp_lib.experiments.records import RecordStore
    from avvp_lib.experiments.runner import context, provenance
    from avvp_lib.results import config_hash

    stores: dict = {}
    out = []
    for task in tasks:
        store = stores.setdefault(task.records_dir, RecordStore(*([task.records_dir] if task.records_dir else [])))
        ctx = context(task.profile, task.data_root, task.device)
        hits = store.find(config_hash(provenance(task.name, task.seed, ctx)), ctx.fingerprint, task.seed)
        if not any(r["name"] == task.name for r in hits):
            out.append(task)
    return out


def execute(task: Task) -> str:
    """Run one task (in whatever process this is) and return its record's file name; prints its start, one line
    per epoch (``AVVP_PROGRESS=lines`` unless the caller set the variable; restored afterwards, so nothing else in
    this process - a notebook kernel started later, another test - inherits it) and its end."""
    from avvp_lib import train
    from avvp_lib.experiments.records import RecordStore, record_filename
    from avvp_lib.experiments.runner import run

    store = RecordStore(task.records_dir) if task.records_dir else RecordStore()
    train.progress_label = f"{task.name} seed {task.seed}"
    t0 = time.perf_counter()
    print(f"[run] start {task.name} seed {task.seed} ({task.profile} profile)", flush=True)
    set_here = train.PROGRESS_VARIABLE not in os.environ
    if set_here:
        os.environ[train.PROGRESS_VARIABLE] = "lines"
    try:
        record = run(task.name, task.seed, task.profile, task.data_root, task.device, store=store, force=task.force,
                     retrain=task.retrain, runs_dir=task.runs_dir, predictions_dir=task.predictions_dir)
    finally:
        if set_here:
            os.environ.pop(train.PROGRESS_VARIABLE, None)
        train.progress_label = ""
    score = record["metrics"].get("segment/Type@AV")
    print(f"[run] done {task.name} seed {task.seed} in {time.perf_counter() - t0:.0f} s: segment Type@AV "
          f"{score:.1f}" if score is not None else f"[run] done {task.name} seed {task.seed}", flush=True)
    return record_filename(record)


def _worker_init(threads: int) -> None:
    os.environ["AVVP_NUM_THREADS"] = str(threads)
    import avvp_lib  # noqa: F401  (pins the numerics with this worker's thread count before torch loads)
    import torch

    torch.set_num_threads(threads)


def run_local(tasks: list[Task], jobs: int = 1, threads: int = 1) -> list[str]:
    """Tasks in ``jobs`` worker processes (``spawn``: each imports the library afresh, ``threads`` CPU threads
    each). ``jobs=1`` runs them here, one after the other. A failed task is reported after the others finish."""
    if jobs <= 1:
        done = []
        for i, task in enumerate(tasks, 1):
            done.append(execute(task))
            print(f"[sweeps] {i}/{len(tasks)} run(s) finished, {len(tasks) - i} remaining", flush=True)
        return done
    done, failed = [], []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(execute, t): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                done.append(future.result())
            except Exception as error:  # reported below: one broken run must not cost the others
                failed.append(f"{task.name} seed {task.seed}: {type(error).__name__}: {error}")
                print(f"[sweeps] FAILED {task.name} seed {task.seed}: {error}", flush=True)
            finished = len(done) + len(failed)
            print(f"[sweeps] {finished}/{len(tasks)} run(s) finished, {len(tasks) - finished} remaining", flush=True)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(tasks)} runs failed:\n" + "\n".join(failed))
    return done


class SlurmRun(Checkpointable):
    """What a Slurm job runs: :func:`execute` on one task. Signalled before its time limit, submitit calls
    :meth:`checkpoint` and requeues the job with what it returns; the run then resumes from its ``last.pt``."""

    def __call__(self, task: Task) -> str:
        import avvp_lib

        print(f"[slurm] avvp_lib from {Path(avvp_lib.__file__).parent}", flush=True)
        return execute(task)

    def checkpoint(self, task: Task) -> DelayedSubmission:
        """The same task again: every finished epoch is already in ``last.pt``."""
        return DelayedSubmission(self, task)


def default_signal_delay_s(timeout_min: int) -> int:
    """Seconds before the limit at which Slurm signals the job: submitit's 90 s, a sixth of shorter limits."""
    return min(90, max(5, timeout_min * 60 // 6))


def submit(tasks: list[Task], folder: str | Path, cluster: str = "slurm", wait: bool = False,
           timeout_min: int = 120, cpus_per_task: int = 2, gpus_per_node: int = 0, partition: str | None = None,
           array_parallelism: int = 64, signal_delay_s: int | None = None, max_num_timeout: int = 3):
    """A job array of ``tasks`` through submitit (``cluster="slurm"``; ``"local"`` runs the same array in local
    subprocesses, which is how the tests drive it). Returns the jobs; with ``wait`` their record file names.

    Slurm sends SIGUSR2 ``signal_delay_s`` before ``timeout_min`` (default :func:`default_signal_delay_s`);
    submitit then requeues the job, at most ``max_num_timeout`` times. Jobs import the library this process
    imported (the folder that holds it is put first on their ``PYTHONPATH``) and write under the same home
    (``AVVP_HOME``, :func:`avvp_lib.paths.home`)."""
    import submitit

    from avvp_lib import paths

    delay = default_signal_delay_s(timeout_min) if signal_delay_s is None else int(signal_delay_s)
    if not 0 < delay < timeout_min * 60:
        raise ValueError(f"signal_delay_s={delay}: expected 1 to {timeout_min * 60 - 1} s (under the time limit, "
                         f"timeout_min={timeout_min})")
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster, slurm_max_num_timeout=max_num_timeout)
    parameters = {"timeout_min": timeout_min, "cpus_per_task": cpus_per_task}
    if cluster == "slurm":
        root = shlex.quote(str(paths.SOURCE_ROOT))
        parameters.update(slurm_array_parallelism=array_parallelism, gpus_per_node=gpus_per_node,
                          slurm_signal_delay_s=delay,
                          slurm_setup=[f"export PYTHONPATH={root}${{PYTHONPATH:+:$PYTHONPATH}}",
                                       f"export {paths.HOME_VARIABLE}={shlex.quote(str(paths.home()))}"])
        if partition:
            parameters["slurm_partition"] = partition
    executor.update_parameters(**parameters)
    jobs = executor.map_array(SlurmRun(), tasks) if tasks else []
    if wait:
        return wait_for(jobs) if cluster == "slurm" else [job.result() for job in jobs]
    return jobs


def wait_for(jobs, poll_s: float = 5.0) -> list:
    """The jobs' results once each has written one, polling ``squeue`` rather than submitit's ``sacct`` watcher
    (which warns at every poll on a cluster without accounting, such as ``scripts/slurm_cluster.sh``'s). A job
    that has left the queue without a result is an error that names its logs."""
    def queued() -> set[str]:
        out = subprocess.run(["squeue", "--me", "-h", "-o", "%F"], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"squeue exited with {out.returncode}: {out.stderr.strip()}")
        return set(out.stdout.split())

    while True:
        waiting = [j for j in jobs if not j.paths.result_pickle.exists()]
        if not waiting:
            return [job.result() for job in jobs]
        if not {str(j.job_id).split("_")[0] for j in waiting} & queued():
            time.sleep(2)  # a result written as the job left the queue
            lost = [j for j in waiting if not j.paths.result_pickle.exists()]
            if lost:
                raise RuntimeError("Slurm job(s) left the queue without a result: " + "; ".join(
                    f"{j.job_id} (logs {j.paths.stdout}, {j.paths.stderr})" for j in lost))
        time.sleep(poll_s)
