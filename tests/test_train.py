"""The generic trainer: determinism, resume-after-kill equals an uninterrupted run, load-or-fit, errors."""
from __future__ import annotations

import math

import pytest
import torch

from avvp_lib.data.dataset import load_split
from avvp_lib.methods import HANMethod
from avvp_lib.train import TrainConfig, build_optimizer, build_scheduler, fit, load_or_fit

TINY = dict(d_model=32, ffn_dim=32)
CONFIG = TrainConfig(epochs=3, batch_size=16, lr=1e-3, step_size=2, device="cpu")


@pytest.fixture(scope="module")
def splits(tiny_root):
    return load_split(tiny_root, "train"), load_split(tiny_root, "val")


def new_method(seed=0):
    torch.manual_seed(seed)
    return HANMethod(**TINY)


def test_same_seed_same_numbers(splits):
    train, val = splits
    runs = [fit(new_method(), train, val, CONFIG) for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert len(runs[0].history) == 3 and runs[0].best_epoch in (0, 1, 2)
    other = fit(new_method(), train, val, CONFIG.replace(seed=1))
    assert other.history[-1]["loss"] != runs[0].history[-1]["loss"]


def test_resume_after_interruption_matches_uninterrupted(splits, tmp_path):
    train, val = splits
    whole = new_method()
    result = fit(whole, train, val, CONFIG, run_dir=tmp_path / "whole")
    killed = new_method()
    fit(killed, train, val, CONFIG, run_dir=tmp_path / "killed", stop_after_epoch=0)  # "killed" after epoch 0
    resumed = new_method(seed=123)  # a fresh process: different initial weights, all state comes from last.pt
    again = fit(resumed, train, val, CONFIG, run_dir=tmp_path / "killed")
    assert again.resumed_from == 1
    assert again.best_metrics == result.best_metrics and again.history == result.history
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def test_checkpoint_of_another_config_is_not_resumed(splits, tmp_path):
    train, val = splits
    fit(new_method(), train, val, CONFIG, run_dir=tmp_path, stop_after_epoch=0)
    result = fit(new_method(), train, val, CONFIG.replace(lr=2e-3), run_dir=tmp_path)
    assert result.resumed_from == 0 and len(result.history) == 3


def test_load_or_fit_reuses_a_finished_run(splits, tmp_path):
    train, val = splits
    first = load_or_fit(new_method(), train, val, CONFIG, tmp_path)
    method = new_method(seed=7)
    second = load_or_fit(method, train, val, CONFIG, tmp_path)
    assert second.best_metrics == first.best_metrics and second.history == first.history
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files behind


def test_extra_train_tensor_rows_are_checked(splits):
    train, val = splits
    with pytest.raises(ValueError, match=r"extra_train\['pseudo'\] has 3 rows; expected 48"):
        fit(new_method(), train, val, CONFIG, extra_train={"pseudo": torch.zeros(3, 10, 25)})


def test_cosine_schedule_with_warmup_by_hand():
    param = torch.nn.Parameter(torch.zeros(1))
    config = TrainConfig(epochs=2, lr=1.0, scheduler="cosine", warmup_epochs=1)
    optimizer = build_optimizer([param], config)
    scheduler, per_step = build_scheduler(optimizer, config, steps_per_epoch=4)
    lrs = []
    for _ in range(8):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    # warm-up over 4 steps: 1/4, 2/4, 3/4, 4/4; then cosine over the remaining 4: 0.5 (1 + cos(pi k / 4))
    expected = [0.25, 0.5, 0.75, 1.0] + [0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(1, 4)] + [0.0]
    assert per_step and lrs[:7] == pytest.approx(expected[:7])


def test_unknown_optimizer_and_scheduler_names():
    param = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'"):
        build_optimizer(param, TrainConfig(optimizer="sgdd"))
    with pytest.raises(ValueError, match="unknown scheduler 'linear'"):
        build_scheduler(build_optimizer(param, TrainConfig()), TrainConfig(scheduler="linear"), 1)
