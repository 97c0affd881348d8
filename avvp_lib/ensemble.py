"""Several seeds of one configuration trained as *one* batched model (``torch.func`` model ensembling).

An ablation table needs every configuration trained with K seeds. Run one after the other, each run
is K x (many small steps); on a GPU a HAN step at batch 16 is bound by kernel launches, not by
arithmetic, so K copies cost almost K times as much. Ensembling stacks the K models' parameters
along a new leading axis and maps one functional forward over it with :func:`torch.func.vmap`:
every layer becomes one batched kernel for all seeds.

    members = [make(seed) for seed in seeds]       # K identical architectures, different init
    ens = SeedEnsemble(members)                    # params: name -> (K, *shape) leaf tensors
    loss_k = ens.losses(batch_k, epoch)            # (K,): member k on its own batch (K, B, ...)
    loss_k.sum().backward(); adam.step()           # one Adam on the stacked leaves

Why this equals K separate runs
-------------------------------
* The summed loss has ``d(sum_j loss_j) / d(theta_k) = d(loss_k) / d(theta_k)``: member k's
  gradient is exactly its own run's gradient.
* Adam/AdamW are element-wise (their moments, bias corrections and step are per element), so
  one optimiser over the stacked tensors performs K independent updates. The same holds for the
  StepLR/cosine schedules, which only scale the learning rate. Gradient clipping is *not*
  element-wise; :func:`fit_ensemble` clips each member by its own norm.
* :func:`fit_ensemble` gives member k the data order of ``fit(config.replace(seed=k))`` (the same
  ``torch.Generator`` seeded with k) and builds it after ``seed_everything(k)``, as a sequential run
  builds its method. What differs is the dropout noise: vmap draws an independent mask per member
  (``randomness="different"``) from one generator, so the trajectories agree with sequential runs
  in distribution, and exactly (up to float rounding) when dropout is 0 (``tests/test_ensemble.py``).

A method's ``training_loss`` returns logs with ``loss.item()``, which cannot run inside vmap (a
batched tensor has no single value). The ensemble therefore needs the loss as a tensor:
``loss_fn(method, batch, epoch) -> Tensor`` if given, else the method's ``loss(batch, epoch)`` if
it has one, else the built-in adapters for :class:`~avvp_lib.methods.mmil.HANMethod` (the official
MMIL loss) and for methods with a ``losses(out, labels, epoch)`` dict (CoLeaF).

Limits: no checkpoint/resume (sweeps are short; a killed sweep re-runs the configuration), buffers
are read-only inside the map (no BatchNorm running statistics; HAN has none), and all members
share one configuration (learning rate, batch size, schedule).
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

try:  # torch >= 2.3
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def _math_attention():
        return sdpa_kernel([SDPBackend.MATH])
except ImportError:  # older torch: no backend switch; vmap then falls back to a per-member loop (slower, same numbers)
    def _math_attention():
        return contextlib.nullcontext()

from avvp_lib.data.dataset import AVVPData
from avvp_lib.metrics import evaluate
from avvp_lib.models.han import MMILOutput
from avvp_lib import smoke
from avvp_lib.numerics import perturb_
from avvp_lib.train import (FitResult, TrainConfig, build_optimizer, build_scheduler, method_predictions,
                            resolve_device, seed_everything)

__all__ = ["SeedEnsemble", "default_loss", "fit_ensemble"]

LossFn = Callable[[nn.Module, dict, int], Tensor]


def default_loss(method: nn.Module, batch: dict[str, Tensor], epoch: int) -> Tensor:
    """The training loss of ``method`` as a tensor (no ``.item()``), usable inside vmap."""
    if hasattr(method, "loss"):
        return method.loss(batch, epoch)
    from avvp_lib.losses.mmil import mmil_video_loss
    from avvp_lib.methods.mmil import HANMethod

    if isinstance(method, HANMethod):
        out = method(batch)
        return mmil_video_loss(out.video, out.audio, out.visual, batch["labels"], method.audio_keep,
                               method.visual_keep)
    if hasattr(method, "losses"):  # CoLeaF: a dict of named terms, diagnostics prefixed theta_
        terms = method.losses(method(batch), batch["labels"], epoch)
        return sum(v for k, v in terms.items() if not k.startswith("theta_"))
    raise TypeError(
        f"{type(method).__name__} has no tensor-valued loss for the ensemble: its training_loss calls "
        f".item(), which vmap cannot run. Give it a method loss(batch, epoch) -> Tensor or pass "
        f"loss_fn=lambda method, batch, epoch: ...")


_LINEAR = F.linear


def _linear_2d(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``F.linear`` on the input flattened to 2-D (same numbers: torch folds the leading dims anyway)."""
    if input.dim() <= 2:
        return _LINEAR(input, weight, bias)
    out = _LINEAR(input.reshape(-1, input.shape[-1]), weight, bias)
    return out.reshape(*input.shape[:-1], out.shape[-1])


@contextlib.contextmanager
def _flat_linear():
    """Inside vmap, run every ``F.linear`` on 2-D inputs.

    Two vmap performance traps, measured on CPU with HAN (K = 4 seeds, batch 16): the fused
    attention kernels (flash/efficient SDPA) have no batching rule, so vmap falls back to a
    per-member loop (about 10x slower than K sequential steps) - :meth:`SeedEnsemble._map` selects
    the math kernel, plain matmul + softmax, as fast for HAN's 10-segment sequences; and a linear
    layer with per-member weights applied to a 3-D input (multi-head attention projects (T, B, d)
    tensors) is batched by *expanding the weight over T* - a copy of T x the weight per call, which
    took 1 s of a 3 s step. Flattening the input to 2-D first gives one bmm per layer. The patch is
    process-wide while it is active and restored on exit; it changes no result.
    """
    original = F.linear
    F.linear = _linear_2d
    try:
        yield
    finally:
        F.linear = original


class _Dispatch(nn.Module):
    """Wraps a member so that ``functional_call`` can reach ``predict`` and the loss, not only forward."""

    def __init__(self, method: nn.Module, loss_fn: LossFn):
        super().__init__()
        self.m = method
        self.loss_fn = loss_fn

    def forward(self, mode: str, batch: dict[str, Tensor], epoch: int = 0):
        if mode == "loss":
            return self.loss_fn(self.m, batch, epoch)
        return tuple(self.m.predict(batch))


class SeedEnsemble(nn.Module):
    """K copies of one architecture as stacked parameters; ``losses``/``predict`` map over the K members.

    ``params``/``buffers``: name -> (K, *shape) tensors (the stacked parameters are the leaves an
    optimiser updates). ``member(k)`` / ``state_dict_of(k)`` give a member back as an ordinary module.
    """

    def __init__(self, members: Sequence[nn.Module], loss_fn: LossFn | None = None):
        super().__init__()
        if len(members) == 0:
            raise ValueError("SeedEnsemble needs at least one member")
        shapes = [{k: tuple(v.shape) for k, v in m.state_dict().items()} for m in members]
        for i, s in enumerate(shapes[1:], start=1):
            if s != shapes[0]:
                raise ValueError(f"member {i} has another architecture than member 0 "
                                 f"(state-dict keys/shapes differ); an ensemble stacks identical models")
        trainable = [{n for n, p in m.named_parameters() if p.requires_grad} for m in members]
        if any(t != trainable[0] for t in trainable):
            raise ValueError("members differ in which parameters are trainable")
        self.k = len(members)
        self.template = copy.deepcopy(members[0])
        self._call = _Dispatch(self.template, loss_fn or default_loss)
        frozen = {n for n, _ in members[0].named_parameters()} - trainable[0]
        params, buffers = stack_module_state(list(members))  # frozen parameters stack without grad
        self.params = {n: (p if n not in frozen else p.detach()) for n, p in params.items()}
        self.buffers_ = buffers
        self.trainable_names = [n for n in self.params if n not in frozen]

    # ----------------------------------------------------------------- plumbing
    def to(self, device):  # noqa: D102 - keeps the stacked leaves leaves
        device = torch.device(device)
        self.template.to(device)
        self.params = {n: (p.detach().to(device).requires_grad_(p.requires_grad)) for n, p in self.params.items()}
        self.buffers_ = {n: b.to(device) for n, b in self.buffers_.items()}
        return self

    def parameters_to_optimize(self) -> list[Tensor]:
        return [self.params[n] for n in self.trainable_names]

    def train(self, mode: bool = True):
        self.template.train(mode)
        return super().train(mode)

    def _prefixed(self, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        return {f"m.{n}": t for n, t in tensors.items()}

    def _member_call(self, params, buffers, mode, batch, epoch):
        return functional_call(self._call, (self._prefixed(params), self._prefixed(buffers)), (mode, batch, epoch))

    def _map(self, fn, in_dims, *args):
        with _math_attention(), _flat_linear():
            return vmap(fn, in_dims=in_dims, randomness="different")(*args)

    # ------------------------------------------------------------------ maps
    def losses(self, batch: dict[str, Tensor], epoch: int = 0) -> Tensor:
        """(K,) training losses; every tensor of ``batch`` is (K, B, ...): member k's own batch."""
        fn = lambda p, b, x: self._member_call(p, b, "loss", x, epoch)  # noqa: E731
        return self._map(fn, (0, 0, 0), self.params, self.buffers_, batch)

    def predict(self, batch: dict[str, Tensor], shared_batch: bool = True) -> MMILOutput:
        """Each member's ``predict``; with ``shared_batch`` one (B, ...) batch for all, else (K, B, ...).

        Returns an :class:`MMILOutput` whose tensors have a leading K axis.
        """
        fn = lambda p, b, x: self._member_call(p, b, "predict", x, 0)  # noqa: E731
        with torch.no_grad():
            out = self._map(fn, (0, 0, None if shared_batch else 0), self.params, self.buffers_, batch)
        return MMILOutput(*out)

    def forward(self, batch: dict[str, Tensor]) -> MMILOutput:
        return self.predict(batch)

    def state_dict_of(self, k: int) -> dict[str, Tensor]:
        """Member k's weights as an ordinary state dict (detached copies)."""
        own = {n: p[k].detach().clone() for n, p in self.params.items()}
        own |= {n: b[k].detach().clone() for n, b in self.buffers_.items()}
        return {n: own[n] for n in self.template.state_dict()}

    def member(self, k: int) -> nn.Module:
        """Member k as a standalone module (a copy of the template holding its weights)."""
        module = copy.deepcopy(self.template)
        module.load_state_dict(self.state_dict_of(k))
        return module



def _clip_per_member(params: list[Tensor], max_norm: float) -> None:
    """clip_grad_norm_ of each member separately (the norm is not element-wise, so not shared)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    k = grads[0].shape[0]
    sq = torch.zeros(k, device=grads[0].device, dtype=torch.float32)
    for g in grads:
        sq += g.detach().float().reshape(k, -1).pow(2).sum(dim=1)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.to(g.dtype).reshape(k, *([1] * (g.dim() - 1))))


@torch.no_grad()
def predict_split_ensemble(ens: SeedEnsemble, data: AVVPData, batch_size: int = 512) -> MMILOutput:
    """(K, N, ...) probabilities of every member on a split, in eval mode, gathered on the CPU."""
    was = ens.template.training
    ens.train(False)
    device = ens.params[next(iter(ens.params))].device
    parts = []
    for lo in range(0, len(data), batch_size):
        batch = {k: v[lo:lo + batch_size].to(device) for k, v in data.tensors.items()}
        parts.append(MMILOutput(*(t.float().cpu() for t in ens.predict(batch))))
    ens.train(was)
    return MMILOutput(*(torch.cat(ts, dim=1) for ts in zip(*parts)))


def fit_ensemble(make_method: Callable[[int], nn.Module], seeds: Sequence[int], train: AVVPData, val: AVVPData,
                 config: TrainConfig = TrainConfig(), loss_fn: LossFn | None = None,
                 extra_train: dict[str, Tensor] | None = None, progress: bool = False,
                 evaluate_every_epoch: bool = True) -> tuple[list[nn.Module], list[FitResult]]:
    """Train one configuration for several seeds at once; the ensemble counterpart of :func:`avvp_lib.train.fit`.

    Member k is ``make_method(seeds[k])`` built after ``seed_everything(seeds[k])``, sees the batches
    of ``fit(..., config.replace(seed=seeds[k]))`` and keeps its own best epoch on
    ``config.select_metric``. Returns the K methods (holding their best weights) and K
    :class:`FitResult` (``train_seconds`` is the shared wall time divided by K).
    """
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct; got {seeds}")
    device = resolve_device(config.device)
    members = []
    for s in seeds:
        seed_everything(s)
        members.append(perturb_(make_method(s)))  # perturb_: AVVP_NUMERICS=perturbed only (avvp_lib.numerics)
    ens = SeedEnsemble(members, loss_fn).to(device)
    seed_everything(seeds[0])  # dropout noise of the whole ensemble
    tensors = {k: v.to(device) for k, v in train.tensors.items()}
    for key, value in (extra_train or {}).items():
        if value.shape[0] != len(train):
            raise ValueError(f"extra_train[{key!r}] has {value.shape[0]} rows; expected {len(train)} (one per train video)")
        tensors[key] = value.to(device)
    n, k = len(train), len(seeds)
    steps = math.ceil(n / config.batch_size)
    params = ens.parameters_to_optimize()
    optimizer = build_optimizer(params, config)
    scheduler, per_step = build_scheduler(optimizer, config, steps)
    orders = [torch.Generator().manual_seed(s) for s in seeds]
    best = [(-math.inf, -1, None, {}) for _ in seeds]  # score, epoch, state, metrics
    histories: list[list[dict]] = [[] for _ in seeds]
    elapsed = 0.0
    epochs = range(smoke.epochs(config.epochs))
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc=f"epochs x {k} seeds")
    for epoch in epochs:
        t0 = time.perf_counter()
        ens.train(True)
        perms = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(device)  # (K, N)
        sums = torch.zeros(k, device=device)
        for lo in smoke.batches(range(0, n, config.batch_size)):
            idx = perms[:, lo:lo + config.batch_size]  # (K, b)
            batch = {name: t[idx] for name, t in tensors.items()}
            loss_k = ens.losses(batch, epoch)
            optimizer.zero_grad(set_to_none=True)
            loss_k.sum().backward()
            if config.grad_clip:
                _clip_per_member(params, config.grad_clip)
            optimizer.step()
            if per_step:
                scheduler.step()
            sums += loss_k.detach() * idx.shape[1]
        if scheduler is not None and not per_step:
            scheduler.step()
        mean_loss = (sums / n).cpu()
        if not torch.isfinite(mean_loss).all():
            bad = [seeds[i] for i in range(k) if not math.isfinite(float(mean_loss[i]))]
            raise FloatingPointError(f"epoch {epoch}: non-finite training loss for seed(s) {bad}")
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - t0
        if not evaluate_every_epoch and epoch != smoke.epochs(config.epochs) - 1:
            for i in range(k):
                histories[i].append({"epoch": epoch, "loss": float(mean_loss[i])})
            continue
        out = predict_split_ensemble(ens, val, config.eval_batch_size)
        for i in range(k):
            pred_a, pred_v = method_predictions(ens.template, MMILOutput(*(t[i] for t in out)))
            metrics = evaluate(pred_a, pred_v, val.gt_audio.cpu(), val.gt_visual.cpu())
            histories[i].append({"epoch": epoch, "loss": float(mean_loss[i]), **metrics})
            if metrics[config.select_metric] > best[i][0]:
                best[i] = (metrics[config.select_metric], epoch, ens.state_dict_of(i), metrics)
    methods, results = [], []
    for i in range(k):
        score, epoch, state, metrics = best[i]
        method = ens.member(i) if state is None else copy.deepcopy(ens.template)
        if state is not None:
            method.load_state_dict(state)
        methods.append(method)
        results.append(FitResult(metrics, epoch, histories[i], elapsed / k))
    return methods, results
