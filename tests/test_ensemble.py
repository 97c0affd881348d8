"""Seeds as one batched model (avvp_lib.ensemble): the vmapped K-seed ensemble equals K separate models."""
from __future__ import annotations

import pytest
import torch

from avvp_lib.data.dataset import load_split
from avvp_lib.ensemble import SeedEnsemble, fit_ensemble
from avvp_lib.methods import HANMethod
from avvp_lib.train import TrainConfig, fit

TINY = dict(d_model=32, ffn_dim=32, visual_2d_dim=64, audio_dim=16, visual_3d_dim=24)
K = 3


def members(dropout: float = 0.0, seeds=range(K), **size):
    out = []
    for s in seeds:
        torch.manual_seed(s)
        out.append(HANMethod(dropout=dropout, **(size or TINY)))
    return out


def random_batch(b: int, seed: int, frames: int = 10):
    g = torch.Generator().manual_seed(seed)
    return {"audio": torch.randn(b, 10, 16, generator=g), "visual_2d": torch.randn(b, frames, 64, generator=g),
            "visual_3d": torch.randn(b, 10, 24, generator=g),
            "labels": (torch.rand(b, 25, generator=g) < 0.15).float()}


@pytest.mark.parametrize("frames", [10, 80])
def test_vmapped_forward_equals_separate_forwards(frames):
    models = members(dropout=0.1)  # eval mode: dropout off, as at prediction time
    ensemble = SeedEnsemble(models)
    batch = random_batch(6, 0, frames)
    ensemble.train(False)
    stacked = ensemble.predict(batch)
    for k, model in enumerate(models):
        model.eval()
        alone = model.predict(batch)
        for name, a, b in zip(alone._fields, stacked, alone):
            assert a.shape[0] == K
            torch.testing.assert_close(a[k], b, atol=1e-5, rtol=1e-5, msg=f"member {k} {name}")


def adam_first_step_bound(g_a: torch.Tensor, g_b: torch.Tensor, param: torch.Tensor, lr: float, eps: float) -> torch.Tensor:
    """How far two float32 Adam first steps may end apart, per element, given gradients ``g_a``, ``g_b``.

    Adam's first step is ``lr * g / (|g| + eps)`` (bias-corrected m and sqrt(v) are g and |g|). Its
    derivative in g is ``lr * eps / (|g| + eps)^2``: on the segment between g_a and g_b it is at most
    that at ``m = min(|g_a|, |g_b|)`` when both have one sign, and ``lr / eps`` when the segment crosses
    0. So ``|step_a - step_b| <= lr * eps * |g_a - g_b| / (m + eps)^2`` (m = 0 across 0) - exact
    arithmetic; float32 adds a few roundings of the parameter and of the step (4 ulps of |p| + lr).
    A gradient of pure rounding noise (|g| ~ 1e-10 << eps, e.g. the attention biases, whose true
    gradient is 0) may therefore move by up to lr * 1e-10 / eps = 1e-5: the bound says so; a mis-wired
    optimiser (another lr, shared or swapped moments) breaks it by orders of magnitude where |g| >> eps.
    """
    same_sign = torch.sign(g_a) == torch.sign(g_b)
    m = torch.where(same_sign, torch.minimum(g_a.abs(), g_b.abs()), torch.zeros_like(g_a))
    rounding = 4 * torch.finfo(torch.float32).eps * (param.abs() + lr)
    return lr * eps * (g_a - g_b).abs() / (m + eps) ** 2 + rounding


def test_one_adam_step_equals_k_separate_steps():
    """One Adam step of the K-member ensemble = K separate Adam steps, with torch's default eps: losses and
    gradients to float32 summation noise (1e-5), updated weights within :func:`adam_first_step_bound`."""
    models = members()
    initial = [{n: v.clone() for n, v in m.state_dict().items()} for m in models]
    ensemble = SeedEnsemble(models)
    ensemble.train(True)
    batches = [random_batch(5, 10 + k) for k in range(K)]  # each member trains on its own batch
    stacked_batch = {name: torch.stack([b[name] for b in batches]) for name in batches[0]}
    lr, eps = 1e-3, 1e-8
    optimizer = torch.optim.Adam(ensemble.parameters_to_optimize(), lr=lr, eps=eps)
    losses = ensemble.losses(stacked_batch, epoch=0)
    optimizer.zero_grad()
    losses.sum().backward()
    grads = {name: p.grad.clone() for name, p in ensemble.params.items()}
    optimizer.step()
    moved = 0
    for k, (model, batch) in enumerate(zip(models, batches)):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=lr, eps=eps)
        loss, _ = model.training_loss(batch, 0)
        torch.testing.assert_close(losses[k].detach(), loss.detach(), atol=1e-5, rtol=1e-5)
        opt.zero_grad()
        loss.backward()
        separate_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
        for name, g in separate_grads.items():
            torch.testing.assert_close(grads[name][k], g, atol=1e-5, rtol=1e-5, msg=f"grad {k} {name}")
        opt.step()
        after = ensemble.state_dict_of(k)
        for name, value in model.named_parameters():
            bound = adam_first_step_bound(grads[name][k], separate_grads[name], value.detach(), lr, eps)
            gap = (after[name] - value.detach()).abs()
            worst = (gap - bound).max().item()
            assert worst <= 0, f"member {k} {name}: |ensemble - separate| exceeds the Adam bound by {worst:.3g}"
            # and the step was real: parameters with a clear gradient moved by about lr
            clear = separate_grads[name].abs() > 100 * eps
            moved += int(clear.sum())
            step = (value.detach() - initial[k][name]).abs()[clear]
            assert torch.all((step > 0.9 * lr) & (step < 1.1 * lr)), f"member {k} {name}: first step is not ~lr"
    assert moved > 1000


def test_members_must_share_the_architecture():
    a = HANMethod(**TINY)
    b = HANMethod(**(TINY | {"d_model": 16, "ffn_dim": 16}))
    with pytest.raises(ValueError, match="member 1 has another architecture"):
        SeedEnsemble([a, b])


def test_dropout_masks_differ_between_members():
    models = members(dropout=0.5, seeds=[0, 0])  # identical weights: only the dropout noise can differ
    ensemble = SeedEnsemble(models)
    ensemble.train(True)
    batch = random_batch(4, 1)
    losses = ensemble.losses({k: torch.stack([v, v]) for k, v in batch.items()})
    assert losses[0].item() != losses[1].item()


def test_fit_ensemble_follows_sequential_fits_without_dropout(tiny_root):
    """Same init, same data order (seeded generators), same Adam: K runs at once = K runs one by one."""
    train, val = load_split(tiny_root, "train"), load_split(tiny_root, "val")
    config = TrainConfig(epochs=2, batch_size=16, lr=1e-3, step_size=1, device="cpu")
    size = dict(d_model=32, ffn_dim=32)
    make = lambda seed: HANMethod(dropout=0.0, **size)  # noqa: E731 - fit_ensemble seeds before calling it
    seeds = [0, 5]
    methods, results = fit_ensemble(make, seeds, train, val, config)
    assert len(results) == 2 and all(len(r.history) == 2 for r in results)
    for seed, method, result in zip(seeds, methods, results):
        torch.manual_seed(seed)
        alone = make(seed)
        reference = fit(alone, train, val, config.replace(seed=seed))
        assert result.best_epoch == reference.best_epoch
        for got, want in zip(result.history, reference.history):
            assert got["loss"] == pytest.approx(want["loss"], abs=1e-4)
        # compare what the weights compute, not the weights: the biases of the two attention heads (softmax
        # over time / over modalities) have a gradient of exactly 0 in exact arithmetic, so Adam turns
        # their float-noise gradients into steps of +-lr in both runs alike, with no effect on any output
        method.eval(), alone.eval()
        batch = {k: v[:16] for k, v in val.tensors.items()}
        for name, a, b in zip(alone.predict(batch)._fields, method.predict(batch), alone.predict(batch)):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4, msg=f"seed {seed} {name}")
