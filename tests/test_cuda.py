"""The library on a GPU (skipped without one): what ``scripts/gpu_check.sh`` adds to the CPU suite.

``AVVP_TEST_DEVICE`` picks the device (default ``cuda`` when available, else the module is skipped);
``AVVP_TEST_DEVICE=cpu`` runs the same checks on the CPU, which is how they were written and checked
on a machine without a GPU.
"""
from __future__ import annotations

import os

import pytest
import torch

DEVICE = os.environ.get("AVVP_TEST_DEVICE") or ("cuda" if torch.cuda.is_available() else None)
pytestmark = pytest.mark.skipif(DEVICE is None, reason="no CUDA device (AVVP_TEST_DEVICE=cpu runs these on the CPU)")
#: one cell of every method family of the main grid (notebook 09), standard and CLIP/CLAP features
GRID_CELLS = ("han/main", "coleaf/full", "valor/main", "uwav/uwav", "link/T+S+P", "han/main@clip_clap")


def test_fit_and_evaluate_on_the_device(tiny_root):
    from avvp_lib.data.dataset import load_split
    from avvp_lib.methods.mmil import HANMethod, train_config
    from avvp_lib.train import evaluate_method, fit

    train, val = load_split(tiny_root, "train", device=DEVICE), load_split(tiny_root, "val", device=DEVICE)
    config = train_config("quick", seed=0, device=DEVICE).replace(epochs=2, step_size=1)
    torch.manual_seed(0)
    method = HANMethod(d_model=64, ffn_dim=64)
    result = fit(method, train, val, config)
    assert next(method.parameters()).device.type == torch.device(DEVICE).type
    assert len(result.history) == 2 and all(0.0 <= v <= 100.0 for v in result.best_metrics.values())
    again = evaluate_method(method, val)
    assert again == pytest.approx(result.best_metrics, abs=1e-6)  # the kept weights are the selected epoch's


def test_metrics_are_the_same_numbers_from_device_tensors():
    from avvp_lib.metrics import evaluate

    g = torch.Generator().manual_seed(0)
    tensors = [(torch.rand(40, 10, 25, generator=g) < 0.2).float() for _ in range(4)]
    on_cpu = evaluate(*tensors)
    on_device = evaluate(*[t.to(DEVICE) for t in tensors])
    assert on_device == on_cpu


def test_seed_ensemble_on_the_device(tiny_root):
    from avvp_lib.data.dataset import load_split
    from avvp_lib.ensemble import fit_ensemble
    from avvp_lib.methods.mmil import HANMethod, train_config

    train, val = load_split(tiny_root, "train", device=DEVICE), load_split(tiny_root, "val", device=DEVICE)
    config = train_config("quick", device=DEVICE).replace(epochs=1)
    methods, results = fit_ensemble(lambda seed: HANMethod(d_model=32, ffn_dim=32), [0, 1], train, val, config)
    assert len(methods) == len(results) == 2 and all(r.best_epoch == 0 for r in results)


@pytest.mark.parametrize("name", GRID_CELLS)
def test_every_grid_family_trains_a_smoke_run_on_the_device(name, tiny_root, monkeypatch):
    """Each family's quick recipe and model, two epochs of two batches (``AVVP_SMOKE``), on the device."""
    from avvp_lib.experiments import runner

    monkeypatch.setenv("AVVP_SMOKE", "1")
    method, result, test = runner.train(name, seed=0, profile="quick", data_root=tiny_root, device=DEVICE,
                                        runs_dir=tiny_root.parent / f"runs-{DEVICE}")
    assert len(result.history) == 2
    assert all(v == v for v in result.best_metrics.values())  # no NaN
