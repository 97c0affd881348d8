"""Same seed -> identical numbers on CPU, across fresh processes.

``tests/test_train.py`` checks determinism inside one process; here every run is a new Python
process, so nothing (RNG state, caches, thread pools, import order) can carry over from one run to
the other. Each process trains HAN with the quick recipe (``methods.mmil.train_config('quick')``,
shortened to 2 epochs, tiny width) on the tiny root for two seeds and prints the metrics, the loss
history and a hash of the final weights.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib, json, sys
import torch
torch.set_num_threads(int(sys.argv[2]))
from avvp_lib.data.dataset import load_split
from avvp_lib.methods.mmil import HANMethod, train_config
from avvp_lib.train import fit

train, val = load_split(sys.argv[1], "train"), load_split(sys.argv[1], "val")
out = {}
for seed in (0, 1):
    config = train_config("quick", seed=seed, device="cpu").replace(epochs=2, step_size=1)
    torch.manual_seed(seed)
    method = HANMethod(d_model=32, ffn_dim=32)
    result = fit(method, train, val, config)
    weights = hashlib.sha256(b"".join(t.numpy().tobytes() for t in method.state_dict().values())).hexdigest()
    out[seed] = {"best_metrics": result.best_metrics, "best_epoch": result.best_epoch,
                 "history": result.history, "weights": weights}
print(json.dumps(out))
"""


def run_children(root: Path, n: int) -> list[dict]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    threads = "1"  # two children run at once; one thread each avoids oversubscribing small machines
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(root), threads], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outputs


def test_same_seed_identical_metrics_across_fresh_processes(tiny_root):
    first, second = run_children(tiny_root, 2)
    for seed in ("0", "1"):
        assert first[seed]["best_metrics"] == second[seed]["best_metrics"], f"seed {seed}: metrics differ"
        assert first[seed]["history"] == second[seed]["history"], f"seed {seed}: loss/metric history differs"
        assert first[seed]["best_epoch"] == second[seed]["best_epoch"]
        assert first[seed]["weights"] == second[seed]["weights"], f"seed {seed}: final weights differ"
        assert len(first[seed]["history"]) == 2
    # and the seed matters: otherwise the equality above would prove nothing
    assert first["0"]["weights"] != first["1"]["weights"]
    assert first["0"]["history"] != first["1"]["history"]
