"""The smoke switch (avvp_lib.smoke): capped training steps, everything written aside."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from avvp_lib import smoke

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_switch_values(monkeypatch):
    for value, expected in (("", False), ("0", False), ("1", True), ("true", True)):
        monkeypatch.setenv(smoke.VARIABLE, value)
        assert smoke.active() is expected
    monkeypatch.setenv(smoke.VARIABLE, "maybe")
    with pytest.raises(ValueError, match=r"AVVP_SMOKE='maybe': expected 1"):
        smoke.active()


def test_fit_runs_two_epochs_of_two_batches_under_the_switch(monkeypatch, tiny_root):
    from avvp_lib.data.dataset import load_split
    from avvp_lib.methods.mmil import HANMethod, train_config
    from avvp_lib.train import fit

    train, val = load_split(tiny_root, "train"), load_split(tiny_root, "val")
    config = train_config("quick", seed=0, device="cpu").replace(batch_size=8)  # 48 videos: 6 batches, 12 epochs

    class Counting(HANMethod):
        steps = 0

        def training_loss(self, batch, epoch):
            Counting.steps += 1
            return super().training_loss(batch, epoch)

    monkeypatch.setenv(smoke.VARIABLE, "1")
    torch.manual_seed(0)
    result = fit(Counting(d_model=16, ffn_dim=16), train, val, config)
    assert len(result.history) == smoke.SMOKE_EPOCHS == 2
    assert Counting.steps == smoke.SMOKE_EPOCHS * smoke.SMOKE_BATCHES == 4
    monkeypatch.setenv(smoke.VARIABLE, "0")
    Counting.steps = 0
    result = fit(Counting(d_model=16, ffn_dim=16), train, val, config.replace(epochs=2))
    assert Counting.steps == 2 * 6


def test_paths_move_every_write_aside_under_the_switch():
    code = ("from avvp_lib import paths; from avvp_lib.experiments import records; "
            "print(paths.RUNS_DIR, records.RecordStore().folder, paths.write_predictions_dir(), sep='|')")

    def folders(**env_changes):
        env = {k: v for k, v in os.environ.items() if k not in ("AVVP_SMOKE", "AVVP_NUMERICS")} | env_changes
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        return [Path(p).relative_to(REPO_ROOT).as_posix() for p in out.strip().split("|")]

    assert folders() == ["runs", "results/records", "results/predictions"]
    assert folders(AVVP_SMOKE="1") == ["runs/smoke", "runs/smoke/results/records", "runs/smoke/results/predictions"]
    assert folders(AVVP_NUMERICS="perturbed") == ["runs/perturbed", "results/records", "results/predictions"]


def test_a_switch_set_after_import_still_moves_what_a_training_writes(monkeypatch):
    """The folders are read when a run writes, not when the library was imported: a smoke run started from a
    process that imported avvp_lib first (a test, a notebook) never lands in the real caches or records."""
    from avvp_lib import paths
    from avvp_lib.experiments import records, runner
    from avvp_lib.pseudo_labels import generator_run_dir

    monkeypatch.setenv(smoke.VARIABLE, "1")
    assert paths.runs_dir() == REPO_ROOT / "runs" / "smoke"
    assert records.RecordStore.__dataclass_fields__["folder"].default is None  # resolved when a store opens
    assert paths.records_dir() == REPO_ROOT / "runs" / "smoke" / "results" / "records"

    class Ctx:
        profile, fingerprint = "quick", "f" * 10
    assert runner.run_dir("han/main", 0, Ctx, "c" * 10).is_relative_to(REPO_ROOT / "runs" / "smoke")
    assert generator_run_dir.__module__ == "avvp_lib.pseudo_labels"
    import inspect

    assert "runs_dir()" in inspect.getsource(generator_run_dir)  # the generator cache too (it trained a smoke
    # generator into runs/uwav once, which a real run then reused: the reason for this test)


def test_the_gpu_check_stops_cleanly_without_a_gpu(tmp_path):
    """``scripts/gpu_check.sh`` on a machine without ``nvidia-smi``: exit 3, a message that says why, and
    nothing written."""
    import shutil

    if shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
        pytest.skip("this machine has an NVIDIA GPU: the script would run for real")
    before = sorted((REPO_ROOT / "benchmarks" / "results").iterdir())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no nvidia-smi on it
    proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "gpu_check.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 3
    assert "no NVIDIA GPU here" in proc.stderr
    assert sorted((REPO_ROOT / "benchmarks" / "results").iterdir()) == before


def test_generator_logits_under_the_switch_keep_the_shape_and_compute_only_the_first_batches(monkeypatch):
    from avvp_lib.models.uwav import PseudoLabelGenerator
    from avvp_lib.pseudo_labels import generator_kwargs, generator_logits

    torch.manual_seed(0)
    gen = PseudoLabelGenerator(**generator_kwargs("quick"))
    clip, clap = torch.randn(10, 10, 768), torch.randn(10, 10, 512)
    text = torch.randn(25, 768), torch.randn(25, 512)
    full_a, full_v = generator_logits(gen, clip, clap, *text, batch_size=3)
    monkeypatch.setenv(smoke.VARIABLE, "1")
    z_a, z_v = generator_logits(gen, clip, clap, *text, batch_size=3)
    assert z_a.shape == full_a.shape and z_v.shape == full_v.shape
    assert torch.allclose(z_a[:6], full_a[:6], atol=1e-5)  # the two batches computed
    assert torch.equal(z_a[6:], z_a[:4]) and torch.equal(z_v[9], z_v[3])  # then repeated
