"""The Slurm executor on a real cluster (``scripts/slurm_cluster.sh start``): a job array through the sweeps, and a
job that reaches its time limit, is requeued by submitit and resumes to the numbers of an uninterrupted run.

Skipped unless ``sinfo`` reports an idle node, except under ``AVVP_REQUIRE_SLURM=1`` (what ``.ci/run`` sets after
starting the cluster), where a missing cluster fails instead. The jobs run on this machine and import this checkout's
library.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import time

import pytest

from avvp_lib.experiments import executors
from avvp_lib.experiments.records import RecordStore
from avvp_lib.paths import REPO_ROOT, RESULTS_DIR


def _no_idle_node() -> str | None:
    """Why these tests cannot run here, or None when ``sinfo`` reports an idle node."""
    if shutil.which("sinfo") is None:
        return "no sinfo (scripts/slurm_cluster.sh start installs and starts a one-node cluster)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 30 s (is slurmctld running? scripts/slurm_cluster.sh status)"
    states = out.stdout.split()
    if "idle" not in states:
        return f"no idle Slurm node (sinfo states {states}, {out.stderr.strip() or 'no error'}); " \
               "scripts/slurm_cluster.sh start"
    return None


SKIP = _no_idle_node()
if SKIP is not None and os.environ.get("AVVP_REQUIRE_SLURM") == "1":
    raise RuntimeError(f"AVVP_REQUIRE_SLURM=1 but {SKIP}")
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout


def test_a_job_array_writes_both_records(tiny_root, tmp_path):
    from avvp_lib.sweeps import run_sweep

    records_dir = tmp_path / "records"
    slurm = {"folder": tmp_path / "submitit", "wait": True, "partition": "debug", "timeout_min": 10, "cpus_per_task": 1}
    done = run_sweep(["pseudo-labels/zero-shot"], seeds=[0, 1], profile="quick", data_root=tiny_root, device="cpu",
                     executor="slurm", records_dir=records_dir, slurm=slurm, derive=False)
    store = RecordStore(records_dir)
    assert sorted(done) == sorted(p.name for p in store.paths) and len(done) == 2
    assert sorted(r["seed"] for r in store.records) == [0, 1]
    for record in store.records:
        assert len(record["metrics"]) == 18 and all(math.isfinite(v) for v in record["metrics"].values())
    logs = "".join(p.read_text() for p in (tmp_path / "submitit").glob("*_log.out"))
    assert f"[slurm] avvp_lib from {REPO_ROOT / 'avvp_lib'}" in logs  # the jobs ran this checkout's code


def test_a_job_at_its_time_limit_is_requeued_and_resumes(tmp_path, monkeypatch):
    """HAN on the quick root trains longer than its 1-minute limit; the committed record is the uninterrupted run."""
    monkeypatch.setenv("AVVP_PROGRESS", "lines")  # one line per epoch in the job's log (sbatch exports it)
    from avvp_lib.experiments.runner import context, provenance
    from avvp_lib.results import config_hash

    ctx = context("quick", None, "cpu")
    committed = [r for r in RecordStore(RESULTS_DIR / "records").find(
        config_hash(provenance("han/main", 0, ctx)), ctx.fingerprint, 0) if r["name"] == "han/main"]
    assert committed, f"expected a committed han/main seed 0 record for data {ctx.fingerprint} in results/records"
    reference = max(committed, key=lambda r: r["timestamp"])
    before = _git_status()
    task = executors.Task("han/main", 0, "quick", None, "cpu", str(tmp_path / "records"),
                          runs_dir=str(tmp_path / "runs"), predictions_dir=str(tmp_path / "predictions"))
    t0 = time.perf_counter()
    [job] = executors.submit([task], tmp_path / "submitit", wait=False, timeout_min=1, cpus_per_task=1,
                             partition="debug", signal_delay_s=5, max_num_timeout=30)
    done = executors.wait_for([job])
    elapsed = time.perf_counter() - t0
    log = job.paths.stderr.read_text() + job.paths.stdout.read_text()
    requeues = log.count("Requeued job")
    print(f"han/main seed 0 under a 1-minute limit: {elapsed:.0f} s, {requeues} requeue(s)")
    assert requeues >= 1, f"expected the job to be requeued at least once; its logs:\n{log[-3000:]}"
    [record] = RecordStore(tmp_path / "records").records
    assert done == [p.name for p in RecordStore(tmp_path / "records").paths]
    assert len(record["metrics"]) == 18 and record["metrics"] == reference["metrics"]
    assert _git_status() == before
