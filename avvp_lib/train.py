"""One generic trainer for every method: resident tensors, seeded, checkpointed, resumable.

A *method* is an ``nn.Module`` with

* ``training_loss(batch, epoch) -> (loss, logs)`` - ``batch`` is every tensor of the training
  dict indexed by the same random rows, so per-video side tensors (pseudo-labels, ...) ride along;
* ``predict(batch) -> MMILOutput`` - segment (B,T,2,C) and video (B,C) probabilities;
* optionally ``inference_rule`` - ``None`` or a callable ``MMILOutput -> (pred_a, pred_v)``: a method whose
  authors score it with another rule carries it (:func:`method_predictions`; every other method: HAN's rule).

Data flow: split tensors -> ``fit`` (mini-batches by index, no DataLoader) -> ``predict_split`` ->
``inference_rule`` -> ``evaluate``. Checkpoints (``last.pt`` every epoch, ``best.pt`` on improvement)
are written atomically; ``fit(..., resume=True)`` continues a killed run to the same final numbers.
"""
from __future__ import annotations

import copy
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from avvp_lib.data.dataset import AVVPData
from avvp_lib.metrics import evaluate, inference_rule
from avvp_lib.models.han import MMILOutput
from avvp_lib import smoke
from avvp_lib.numerics import perturb_


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation recipe. Defaults are the official HAN recipe (Adam 3e-4, batch 16, StepLR(10, 0.1), 40 epochs)."""

    epochs: int = 40
    batch_size: int = 16
    lr: float = 3e-4
    optimizer: str = "adam"  # adam | adamw
    weight_decay: float = 0.0
    scheduler: str = "step"  # step | cosine (per step, after linear warm-up) | none
    step_size: int = 10
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    select_metric: str = "segment/Type@AV"
    seed: int = 0
    device: str = "auto"
    grad_clip: float | None = None
    eval_batch_size: int = 512
    #: Adam/AdamW first-moment coefficient (betas = (beta1, 0.999)). 0.9 = torch's default, every course recipe;
    #: VALOR's released code (Franklin905/VALOR, main_avvp.py ``--beta1``, scripts/train_valor*.sh) uses 0.5.
    beta1: float = 0.9
    #: floor of the cosine schedule, an absolute learning rate: the factor after warm-up is
    #: ``min_lr/lr + (1 - min_lr/lr) * 0.5 (1 + cos(pi p))``. 0 = decay to 0 (every course recipe); VALOR's released
    #: ``lr_warm_up_cos_anneal`` decays to ``--lr_min`` (VALOR 1e-4 -> 1e-6, VALOR+ and VALOR++ 3e-4 -> 3e-6).
    min_lr: float = 0.0

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Every field, except the fields added later (:data:`LATER_FIELDS`) at their default value: the dict of a
        configuration that existed before them (hashed into run records, compared with checkpoints) is unchanged."""
        return {k: v for k, v in asdict(self).items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}


#: TrainConfig fields added after results were recorded, with the default that reproduces the old recipe;
#: :meth:`TrainConfig.to_dict` leaves them out at that value (so old provenance hashes and checkpoints hold).
LATER_FIELDS = {"beta1": 0.9, "min_lr": 0.0}


@dataclass
class FitResult:
    best_metrics: dict
    best_epoch: int
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    resumed_from: int = 0


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so the same seed gives the same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam / AdamW with the fused kernel (same update rule, one kernel for all parameters: ~4x faster steps on CPU).
    ``betas = (config.beta1, 0.999)``; the default beta1 = 0.9 is torch's default, so the default optimiser is the
    one built before ``beta1`` existed."""
    betas = (config.beta1, 0.999)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=betas, weight_decay=config.weight_decay, fused=True)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, betas=betas, weight_decay=config.weight_decay, fused=True)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; expected 'adam' or 'adamw'")


def build_scheduler(optimizer, config: TrainConfig, steps_per_epoch: int):
    """Returns (scheduler, per_step). StepLR steps per epoch; cosine-with-warm-up per optimiser step: a linear
    warm-up to ``lr``, then ``min_lr + (lr - min_lr) * 0.5 (1 + cos(pi p))`` (p: the progress after warm-up, 0 -> 1),
    i.e. the factor ``f + (1 - f) * 0.5 (1 + cos(pi p))`` with ``f = min_lr / lr`` (f = 0: the plain cosine to 0).
    VALOR's released ``lr_warm_up_cos_anneal`` has the same form but sets the rate once per epoch."""
    if config.scheduler == "none":
        return None, False
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma), False
    if config.scheduler == "cosine":
        total = max(1, config.epochs * steps_per_epoch)
        warm = int(round(config.warmup_epochs * steps_per_epoch))
        floor = config.min_lr / config.lr if config.lr else 0.0

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            progress = (step - warm + 1) / max(1, total - warm)
            cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
            return cosine if floor == 0.0 else floor + (1.0 - floor) * cosine

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor), True
    raise ValueError(f"unknown scheduler {config.scheduler!r}; expected 'step', 'cosine' or 'none'")


def save_atomic(obj, path: str | Path) -> None:
    """torch.save to a temporary file beside ``path``, then rename: a crash never leaves half a file. A failed
    write (a full disk) removes the partial file and is an ``OSError`` naming ``path``."""
    from avvp_lib.atomic import write_atomic

    write_atomic(path, lambda handle: torch.save(obj, handle), what="checkpoint")


class CheckpointError(ValueError):
    """A checkpoint file (``last.pt``, ``result.pt``) that cannot be read back."""


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """``torch.load`` of a checkpoint this module wrote; a truncated or damaged file is a :class:`CheckpointError`
    naming it, what was expected and what was found."""
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as error:  # torch raises OSError, RuntimeError, EOFError or an unpickling error here
        raise CheckpointError(f"{path}: unreadable checkpoint ({path.stat().st_size} bytes; "
                              f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); expected "
                              f"a complete file written by torch.save - a truncated copy? Delete it (or run with "
                              f"--retrain) to train again") from None
    if not isinstance(state, dict) or "config" not in state:
        raise CheckpointError(f"{path}: expected a checkpoint dict with a 'config', found "
                              f"{type(state).__name__}; delete it (or run with --retrain) to train again")
    return state


@torch.no_grad()
def predict_split(method: nn.Module, data: AVVPData, batch_size: int = 512) -> MMILOutput:
    """Probabilities for a whole split, in eval mode, gathered on the CPU."""
    was_training = method.training
    method.eval()
    device = next(method.parameters()).device
    parts = []
    n = len(data)
    for lo in range(0, n, batch_size):
        batch = {k: v[lo:lo + batch_size].to(device, non_blocking=True) for k, v in data.tensors.items()}
        parts.append(MMILOutput(*(t.float().cpu() for t in method.predict(batch))))
    method.train(was_training)
    out = MMILOutput(*(torch.cat(ts) for ts in zip(*parts)))
    check_finite(out, f"{type(method).__name__} on the {data.name} split", data.video_ids)
    return out


def check_finite(out: MMILOutput, what: str, video_ids=None) -> None:
    """A model output with NaN or infinite probabilities is an error that says where, never a row of zeros
    (the inference rule would read NaN as "absent" and score it)."""
    for name, tensor in zip(MMILOutput._fields, out):
        bad = ~torch.isfinite(tensor)
        if bad.any():
            rows = bad.reshape(bad.shape[0], -1).any(1).nonzero().flatten()
            first = video_ids[int(rows[0])] if video_ids is not None else int(rows[0])
            raise FloatingPointError(f"{what}: {int(bad.sum())} non-finite {name} probabilities in {len(rows)} of "
                                     f"{bad.shape[0]} videos (first: {first}); expected finite values in [0, 1] - check "
                                     f"the features for extreme values")


def method_predictions(method: nn.Module, out: MMILOutput, segment_threshold=0.5, video_threshold=0.5):
    """Binary ``(pred_a, pred_v)`` of a method's probabilities: its own ``method.inference_rule(out)`` when it has
    one that is not ``None`` (e.g. CoLeaF's released rule, ``CoLeaFConfig(inference="released")``), else HAN's
    :func:`~avvp_lib.metrics.inference_rule` with the given thresholds (every course method by default)."""
    rule = getattr(method, "inference_rule", None)
    if rule is not None:
        return rule(out)
    return inference_rule(out.segment, out.video, segment_threshold, video_threshold)


def evaluate_method(method: nn.Module, data: AVVPData, segment_threshold=0.5, video_threshold=0.5,
                    batch_size: int = 512, output: MMILOutput | None = None) -> dict:
    """The 18 LLP metrics of a method on a split with the standard inference rule (or the method's own,
    :func:`method_predictions`; the thresholds are the standard rule's)."""
    if data.gt_audio is None:
        raise ValueError(f"split {data.name!r} has no dense ground truth to evaluate against")
    out = output if output is not None else predict_split(method, data, batch_size)
    pred_a, pred_v = method_predictions(method, out, segment_threshold, video_threshold)
    return evaluate(pred_a, pred_v, data.gt_audio.cpu(), data.gt_visual.cpu())


PROGRESS_VARIABLE = "AVVP_PROGRESS"
PROGRESS_MODES = ("off", "lines", "bar", "notebook")
#: what progress lines name (set by the sweep executors to the run's name and seed)
progress_label = ""


def progress_mode(progress: bool | str | None = None) -> str:
    """``off``, ``lines`` (one flushed line per epoch: logs, Slurm), ``bar`` (tqdm) or ``notebook`` (one line
    updated in place, :mod:`avvp_lib.progress`). ``None``: the ``AVVP_PROGRESS`` variable (default: ``notebook``
    inside a Jupyter kernel, else ``off``); ``True`` / ``False``: ``bar`` / ``off``."""
    if progress is None:
        from avvp_lib.progress import in_notebook

        progress = os.environ.get(PROGRESS_VARIABLE, "").strip().lower() or ("notebook" if in_notebook() else "off")
    if progress is True or progress is False:
        return "bar" if progress else "off"
    if progress not in PROGRESS_MODES:
        raise ValueError(f"{PROGRESS_VARIABLE}={progress!r}: expected one of {PROGRESS_MODES}")
    return progress


def _progress(iterable, mode: str, **kwargs):
    if mode != "bar":
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def fit(method: nn.Module, train: AVVPData, val: AVVPData, config: TrainConfig = TrainConfig(),
        run_dir: str | Path | None = None, resume: bool = True, progress: bool | str | None = None,
        extra_train: dict[str, torch.Tensor] | None = None, stop_after_epoch: int | None = None) -> FitResult:
    """Train ``method`` on ``train``, select the epoch with the best ``config.select_metric`` on ``val``.

    ``extra_train`` adds per-video tensors (first dim = len(train)) to every batch. ``run_dir``
    enables checkpoints; with ``resume`` a run continues from ``last.pt`` (model, optimiser,
    scheduler, RNG states, history), reaching the same numbers as an uninterrupted run.
    ``stop_after_epoch`` ends early (used to simulate an interrupted run in tests). ``progress``: see
    :func:`progress_mode` (``None``: the ``AVVP_PROGRESS`` variable, which the sweeps set to ``lines``).
    On return the method holds the best epoch's weights.
    """
    device = resolve_device(config.device)
    mode = progress_mode(progress)
    seed_everything(config.seed)
    method.to(device)
    tensors = {k: v.to(device) for k, v in train.tensors.items()}
    for key, value in (extra_train or {}).items():
        if value.shape[0] != len(train):
            raise ValueError(f"extra_train[{key!r}] has {value.shape[0]} rows; expected {len(train)} (one per train video)")
        tensors[key] = value.to(device)
    n = len(train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    optimizer = build_optimizer([p for p in method.parameters() if p.requires_grad], config)
    scheduler, per_step = build_scheduler(optimizer, config, steps_per_epoch)
    order = torch.Generator().manual_seed(config.seed)

    start_epoch, best_score, best_epoch, best_state, history, elapsed = 0, -math.inf, -1, None, [], 0.0
    best_metrics: dict = {}
    last_path = Path(run_dir) / "last.pt" if run_dir else None
    state = None
    if last_path is not None and resume and last_path.is_file():
        state = load_checkpoint(last_path, map_location=device)
        if state.get("config") != config.to_dict():
            state = None  # a checkpoint of another configuration: start afresh
    if state is not None:
        method.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        order.set_state(state["order_rng"])
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        start_epoch, best_score, best_epoch = state["epoch"] + 1, state["best_score"], state["best_epoch"]
        best_state, history, elapsed, best_metrics = state["best_state"], state["history"], state["elapsed"], state["best_metrics"]

    last_epoch = smoke.epochs(config.epochs)  # the recipe's epochs; 2 under AVVP_SMOKE=1
    line = None
    if mode == "notebook" and start_epoch < last_epoch:
        from avvp_lib.progress import NotebookLine

        line = NotebookLine(f"[train] {progress_label + ' ' if progress_label else ''}epoch {start_epoch + 1}/{last_epoch}")
    for epoch in _progress(range(start_epoch, last_epoch), mode, desc="epochs", initial=start_epoch,
                           total=last_epoch):
        t0 = time.perf_counter()
        method.train()
        perturb_(method, epoch)  # AVVP_NUMERICS=perturbed only: another machine's last bits (avvp_lib.numerics)
        if hasattr(method, "on_epoch_start"):
            method.on_epoch_start(epoch)
        sums: dict[str, float] = {}
        perm = torch.randperm(n, generator=order).to(device)
        for step, idx in enumerate(smoke.batches(perm.split(config.batch_size))):
            batch = {k: v[idx] for k, v in tensors.items()}
            try:
                loss, logs = method.training_loss(batch, epoch)
            except RuntimeError as error:  # a BCE handed NaN probabilities stops here, before the loss exists
                if "between 0 and 1" not in str(error):
                    raise
                raise FloatingPointError(f"{_where(run_dir)}epoch {epoch}, batch {step}: the model's training outputs "
                                         f"are not probabilities in [0, 1] (NaN or infinite; torch: {error}); expected "
                                         f"finite outputs - check the train features for extreme values (largest "
                                         f"|value| in this batch: {_largest(batch):.3g})") from error
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{_where(run_dir)}epoch {epoch}, batch {step}: non-finite training loss "
                                         f"{loss.item()} (logs {logs}); expected a finite loss - check the train "
                                         f"features for extreme values (largest |value| in this batch: "
                                         f"{_largest(batch):.3g})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(method.parameters(), config.grad_clip)
            optimizer.step()
            if per_step:
                scheduler.step()
            for key, value in logs.items():
                sums[key] = sums.get(key, 0.0) + float(value) * len(idx)
        if scheduler is not None and not per_step:
            scheduler.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - t0
        try:
            metrics = evaluate_method(method, val, batch_size=config.eval_batch_size)
        except FloatingPointError as error:
            raise FloatingPointError(f"epoch {epoch}, model selection: {error}") from error
        score = metrics[config.select_metric]
        record = {"epoch": epoch, **{k: v / n for k, v in sums.items()}, **metrics}
        history.append(record)
        if score > best_score:
            best_score, best_epoch, best_metrics = score, epoch, metrics
            best_state = copy.deepcopy(method.state_dict())
            if run_dir:
                save_atomic({"model": best_state, "epoch": epoch, "metrics": metrics, "config": config.to_dict()},
                            Path(run_dir) / "best.pt")
        if mode in ("lines", "notebook"):
            loss_text = f"loss {record['loss']:.4f} " if "loss" in record else ""
            text = (f"[train] {progress_label + ' ' if progress_label else ''}epoch {epoch + 1}/{last_epoch} "
                    f"{loss_text}val {config.select_metric} {score:.1f} (best {best_score:.1f}, epoch {best_epoch + 1}) "
                    f"{time.perf_counter() - t0:.1f} s")
            if line is not None:
                line.update(text)
            else:
                print(text, flush=True)
        if last_path is not None:
            save_atomic({"model": method.state_dict(), "optimizer": optimizer.state_dict(),
                         "scheduler": scheduler.state_dict() if scheduler is not None else None,
                         "order_rng": order.get_state(), "torch_rng": torch.get_rng_state(),
                         "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                         "epoch": epoch, "best_score": best_score, "best_epoch": best_epoch,
                         "best_state": best_state, "best_metrics": best_metrics, "history": history,
                         "elapsed": elapsed, "config": config.to_dict()}, last_path)
        if stop_after_epoch is not None and epoch >= stop_after_epoch:
            return FitResult(best_metrics, best_epoch, history, elapsed, start_epoch)
    if best_state is not None:
        method.load_state_dict(best_state)
    return FitResult(best_metrics, best_epoch, history, elapsed, start_epoch)


def _where(run_dir) -> str:
    """The run a training message is about: the sweep's label, else its checkpoint folder, else nothing."""
    if progress_label:
        return f"{progress_label}: "
    return f"run {run_dir}: " if run_dir else ""


def _largest(batch: dict) -> float:
    """The largest finite |value| among the batch's floating-point tensors (for error messages only)."""
    values = [t.detach().abs().nan_to_num(0, 0, 0).max().item() for t in batch.values()
              if t.is_floating_point() and t.numel()]
    return max(values, default=float("nan"))


def load_or_fit(method: nn.Module, train: AVVPData, val: AVVPData, config: TrainConfig, run_dir: str | Path,
                retrain: bool = False, **kwargs) -> FitResult:
    """Reuse a finished run in ``run_dir`` (same config) or train it; notebooks call this."""
    run_dir = Path(run_dir)
    done = run_dir / "result.pt"
    if done.is_file() and not retrain:
        state = load_checkpoint(done)
        if state["config"] == config.to_dict():
            method.load_state_dict(state["model"])
            method.to(resolve_device(config.device))
            return FitResult(state["best_metrics"], state["best_epoch"], state["history"], state["train_seconds"])
    if retrain:
        for name in ("last.pt", "best.pt", "result.pt"):
            (run_dir / name).unlink(missing_ok=True)
    result = fit(method, train, val, config, run_dir=run_dir, **kwargs)
    save_atomic({"model": method.state_dict(), "config": config.to_dict(), "best_metrics": result.best_metrics,
                 "best_epoch": result.best_epoch, "history": result.history, "train_seconds": result.train_seconds},
                done)
    return result
