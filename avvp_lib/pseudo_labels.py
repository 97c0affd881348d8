"""Segment-level pseudo-labels for LLP: zero-shot, VALOR-style and UWAV's pretrained generators.

Pipeline (UWAV Sec. 4.1, Fig. 2, stage 1):

1. **Pretrain** the two generators (:class:`~avvp_lib.models.uwav.PseudoLabelGenerator`) on
   UnAV-100 with Eq. (9) (:func:`pretrain_generator`; cached by :func:`load_or_pretrain_generator`).
2. **Logits on LLP**: ``z = E . g_L`` for the 25 LLP prompts (:func:`generator_logits`), or the
   raw prompt . segment similarity without any training (:func:`zero_shot_logits`).
3. **Thresholds** ``theta`` per class and modality (:func:`choose_thresholds`). The paper only says
   they are "pre-defined". Rules offered:

   * ``"val_best_f1"`` (default; the official code's rule): per class, the cut that maximises the
     segment-level F1 of the pseudo-labels on the **LLP validation split's dense labels**. It uses
     val labels (649 videos, the split the protocol already uses for model selection), never test.
   * ``"val_best_f1_agnostic"``: one cut for all classes, same criterion.
   * ``"fixed"``: ``theta = 0`` for every class (probability 0.5), no labels at all.
4. **Labels**: hard ``1{z > theta} * y`` (Eq. 10) or soft ``sigmoid(z - theta) * y`` (Eq. 12).
5. **Accuracy** (Table 3): segment-level F of the pseudo-labels themselves against the test
   split's dense labels (:func:`pseudo_label_accuracy`).

VALOR (Lai et al., NeurIPS 2023) thresholds the zero-shot similarity of each segment on its own,
with no temporal context: :func:`valor_pseudo_labels` (public: LINK trains on them too).
"""
from __future__ import annotations

import copy
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from avvp_lib.paths import runs_dir
from avvp_lib.data.dataset import AVVPData, load_split
from avvp_lib.data.features import load_prompt_embeddings
from avvp_lib.data.unav import UnAVData, ensure_unav, load_unav_prompts, load_unav_split
from avvp_lib.losses.uwav import av_pretraining_loss, hard_pseudo_labels, soft_pseudo_labels
from avvp_lib.metrics import evaluate
from avvp_lib.models.uwav import RELEASED_LOGIT_SCALES, PseudoLabelGenerator
from avvp_lib import smoke
from avvp_lib.numerics import perturb_
from avvp_lib.results import config_hash
from avvp_lib.train import (TrainConfig, build_optimizer, build_scheduler, resolve_device, save_atomic,
                            seed_everything)

THRESHOLD_RULES = ("val_best_f1", "val_best_f1_agnostic", "fixed")
#: Eq. (9) loss weight of classes present in a video. The paper does not say; the official code uses 5
#: (``--pos_weight`` default), and with 1 the generators barely leave "all negative" in a short run.
PRESENT_WEIGHT = 5.0
TABLE3_METRICS = ("segment/A", "segment/V", "segment/AV", "segment/Type@AV", "segment/Event@AV")


#: CPU threads used to train and run the generators (and UWAV's HAN runs). Multi-threaded CPU kernels sum in an
#: order that depends on the thread count, so a generator trained on 2 cores differs in the last digits from one
#: trained on 1 core, and after training so do thresholds and F-scores. One thread: same seed, same numbers on any CPU.
CPU_THREADS = 1


@contextmanager
def cpu_threads(n: int | None = CPU_THREADS):
    """Run torch's CPU kernels with ``n`` threads inside the block (``None``: leave as is), then restore."""
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- configs
#: How the generators are built and optimised. ``released`` (default): the authors' code - Eq. (8)'s logits
#: scaled by 4.6 (visual) / 3.3 (audio), Adam(W) betas (0.5, 0.999), gradient norm clipped at 2.0.
#: ``paper``: Eq. (8) as printed (scale 1), torch's default betas (0.9, 0.999), the supplementary's clip 1.0.
GENERATOR_RECIPES = {
    "released": {"logit_scales": RELEASED_LOGIT_SCALES, "betas": (0.5, 0.999), "grad_clip": 2.0},
    "paper": {"logit_scales": {"visual_logit_scale": 1.0, "audio_logit_scale": 1.0}, "betas": (0.9, 0.999),
              "grad_clip": 1.0},
}
GENERATOR_RECIPE = "released"


def _recipe(recipe: str) -> dict:
    if recipe not in GENERATOR_RECIPES:
        raise ValueError(f"unknown generator recipe {recipe!r}; expected one of {sorted(GENERATOR_RECIPES)}")
    return GENERATOR_RECIPES[recipe]


def generator_kwargs(profile: str, recipe: str = GENERATOR_RECIPE) -> dict:
    """Generator size: ``full`` = the official code (d 1024, 16 heads, FFN 2048, dropout 0.3, MLP projections);
    ``quick`` = d 64, 4 heads, FFN 128, no dropout, linear projections (CPU). Both have L = 5 blocks. The
    logit scales of Eq. (8) come from ``recipe`` (:data:`GENERATOR_RECIPES`)."""
    scales = dict(_recipe(recipe)["logit_scales"])
    if profile == "full":
        return dict(d_model=1024, nhead=16, ffn_dim=2048, num_layers=5, dropout=0.3, **scales)
    if profile == "quick":
        return dict(d_model=64, nhead=4, ffn_dim=128, num_layers=5, dropout=0.0, projection="linear", **scales)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


def pretrain_config(profile: str, seed: int = 0, device: str = "auto", recipe: str = GENERATOR_RECIPE) -> TrainConfig:
    """UnAV pretraining recipe. ``full``: supplementary Sec. 8 (AdamW, batch 64, 80 epochs, 10 warm-up
    epochs to 1e-4 then cosine; weight decay 1e-3 from the official script). ``quick``: 10 epochs, batch 16,
    peak 2e-3 on 400 UnAV videos (CPU, about a minute). Gradient clipping and Adam's betas
    (:func:`generator_betas`) follow ``recipe``."""
    clip = _recipe(recipe)["grad_clip"]
    if profile == "full":
        return TrainConfig(epochs=80, batch_size=64, lr=1e-4, optimizer="adamw", weight_decay=1e-3,
                           scheduler="cosine", warmup_epochs=10, grad_clip=clip, seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=10, batch_size=16, lr=2e-3, optimizer="adamw", weight_decay=1e-3,
                           scheduler="cosine", warmup_epochs=0.5, grad_clip=clip, seed=seed, device=device)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


def generator_betas(recipe: str = GENERATOR_RECIPE) -> tuple[float, float]:
    """Adam(W)'s (beta1, beta2) for pretraining the generators (released code: beta1 = 0.5)."""
    return tuple(_recipe(recipe)["betas"])


# --------------------------------------------------------------------------- stage 1: pretraining
#: How the generators' best pretraining epoch is picked on UnAV's validation split (both score ``p_v * p_a >= 0.5``
#: against the per-second audio-visual labels). ``pooled_f1`` (default; every recorded run): one micro F1 over all
#: (second, class) cells of all videos. ``video_av_f1``: UWAV's released main_pretrain.py (line 331): the F1 of each
#: video on its own, averaged over videos (a video with neither a predicted nor a true audio-visual cell scores 0,
#: sklearn's ``zero_division`` default - our assumption).
GENERATOR_SELECT_RULES = ("pooled_f1", "video_av_f1")
GENERATOR_SELECT = "pooled_f1"


def av_f1_scores(pred: torch.Tensor, gt: torch.Tensor) -> tuple[float, float]:
    """``(pooled, per_video)`` F1 (%) of binary ``pred`` against ``gt`` (N, T, C) (padded cells already False in
    both): the micro F1 over every cell, and the mean over videos of each video's F1 (:data:`GENERATOR_SELECT_RULES`)."""
    tp, fp, fn = _counts(pred, gt)
    return _pooled_f1(tp, fp, fn), _video_f1(tp, fp, fn)


def _counts(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-video (N,) true positives, false positives and false negatives (float64)."""
    pred, gt = pred.bool(), gt.bool()
    dims = tuple(range(1, pred.dim()))
    return ((pred & gt).sum(dims).double(), (pred & ~gt).sum(dims).double(), (~pred & gt).sum(dims).double())


def _pooled_f1(tp, fp, fn) -> float:
    tp, fp, fn = float(tp.sum()), float(fp.sum()), float(fn.sum())
    return 100.0 * 2 * tp / max(2 * tp + fp + fn, 1.0)


def _video_f1(tp, fp, fn) -> float:
    if tp.numel() == 0:
        return 0.0
    return float(100.0 * (2 * tp / (2 * tp + fp + fn).clamp_min(1.0)).mean())


@torch.no_grad()
def unav_av_f1(generator: PseudoLabelGenerator, data: UnAVData, prompts: dict, batch_size: int = 128,
               select: str = GENERATOR_SELECT) -> float:
    """F1 (%) of ``p_v * p_a >= 0.5`` against UnAV's per-second audio-visual labels (real seconds only): the
    pooled micro F1 (``select="pooled_f1"``) or the per-video F1 averaged over videos (``"video_av_f1"``,
    :data:`GENERATOR_SELECT_RULES`). Under ``AVVP_SMOKE=1`` only the first batches are scored (``avvp_lib.smoke``)."""
    if select not in GENERATOR_SELECT_RULES:
        raise ValueError(f"unknown generator selection rule {select!r}; expected one of {GENERATOR_SELECT_RULES}")
    device = next(generator.parameters()).device
    was = generator.training
    generator.eval()
    tp = fp = fn = 0.0
    per_video: list = []
    for lo in smoke.batches(range(0, len(data), batch_size)):
        sl = slice(lo, lo + batch_size)
        mask = data.mask[sl].to(device)
        t = int(mask.sum(1).max())
        z_a, z_v = generator(data.clip[sl, :t].to(device), data.clap[sl, :t].to(device),
                             prompts["clip_text"].to(device), prompts["clap_text"].to(device), mask[:, :t])
        pred = (torch.sigmoid(z_a) * torch.sigmoid(z_v) >= 0.5) & mask[:, :t, None]
        gt = (data.labels[sl, :t].to(device) > 0) & mask[:, :t, None]
        if select == "video_av_f1":
            per_video.append([c.cpu() for c in _counts(pred, gt)])
            continue
        tp += float((pred & gt).sum())
        fp += float((pred & ~gt).sum())
        fn += float((~pred & gt).sum())
    generator.train(was)
    if select == "video_av_f1":
        return _video_f1(*(torch.cat(parts) for parts in zip(*per_video))) if per_video else 0.0
    return 100.0 * 2 * tp / max(2 * tp + fp + fn, 1.0)


def pretrain_generator(generator: PseudoLabelGenerator, train: UnAVData, val: UnAVData, prompts: dict,
                       config: TrainConfig, present_weight: float = PRESENT_WEIGHT, progress: bool = False,
                       betas: tuple[float, float] = generator_betas(), select: str = GENERATOR_SELECT) -> dict:
    """Train both generators on UnAV with Eq. (9); keep the epoch with the best UnAV-val AV F1 (``select``:
    pooled or per-video, :data:`GENERATOR_SELECT_RULES`; the history's ``val_av_f1`` is the selection score).

    Batches are cropped to their longest video, padded seconds are masked in attention and loss; ``betas``
    replace the optimiser's (:func:`generator_betas`).
    Returns ``{"history", "best_epoch", "best_f1", "train_seconds"}``; the generator holds the best weights.
    """
    device = resolve_device(config.device)
    seed_everything(config.seed)
    generator.to(device)
    text = {k: v.to(device) for k, v in prompts.items()}
    n = len(train)
    steps = math.ceil(n / config.batch_size)
    optimizer = build_optimizer(generator.parameters(), config)
    for group in optimizer.param_groups:  # TrainConfig has no betas: the released code's beta1 = 0.5
        group["betas"] = tuple(betas)
    scheduler, per_step = build_scheduler(optimizer, config, steps)
    order = torch.Generator().manual_seed(config.seed)
    history, best, best_state, elapsed = [], (-1.0, -1), None, 0.0
    for epoch in range(smoke.epochs(config.epochs)):
        t0 = time.perf_counter()
        generator.train()
        perturb_(generator, epoch)  # AVVP_NUMERICS=perturbed only (avvp_lib.numerics)
        total = 0.0
        for idx in smoke.batches(torch.randperm(n, generator=order).split(config.batch_size)):
            mask = train.mask[idx]
            t = int(mask.sum(1).max())
            mask = mask[:, :t].to(device)
            z_a, z_v = generator(train.clip[idx, :t].to(device), train.clap[idx, :t].to(device),
                                 text["clip_text"], text["clap_text"], mask)
            loss = av_pretraining_loss(z_a, z_v, train.labels[idx, :t].to(device), mask, present_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(generator.parameters(), config.grad_clip)
            optimizer.step()
            if per_step:
                scheduler.step()
            total += loss.item() * len(idx)
        if scheduler is not None and not per_step:
            scheduler.step()
        elapsed += time.perf_counter() - t0
        f1 = unav_av_f1(generator, val, prompts, select=select)
        history.append({"epoch": epoch, "loss": total / n, "val_av_f1": f1})
        if progress:
            print(f"epoch {epoch}: loss {total / n:.4f}  UnAV-val AV F1 {f1:.1f}")
        if f1 > best[0]:
            best, best_state = (f1, epoch), copy.deepcopy(generator.state_dict())
    generator.load_state_dict(best_state)
    return {"history": history, "best_epoch": best[1], "best_f1": best[0], "train_seconds": elapsed}


def generator_run_dir(root: str | Path, profile: str, seed: int = 0, present_weight: float = PRESENT_WEIGHT,
                      select: str = GENERATOR_SELECT) -> tuple[Path, dict]:
    """Where a pretrained generator is cached, and the configuration that names it (``select`` appears in it only
    when it is not the default, so the generators pretrained before the option keep their folder and hash)."""
    if select not in GENERATOR_SELECT_RULES:
        raise ValueError(f"unknown generator selection rule {select!r}; expected one of {GENERATOR_SELECT_RULES}")
    unav_meta = ensure_unav(root, profile, seed=0)
    config = {"generator": generator_kwargs(profile), "train": pretrain_config(profile, seed, "cpu").to_dict(),
              "betas": list(generator_betas()), "present_weight": present_weight,
              "unav": {k: unav_meta[k] for k in ("profile", "seed", "space_seed", "knobs", "counts")}}
    if select != GENERATOR_SELECT:
        config["select"] = select
    if unav_meta.get("data") == "unav100":  # a real unav100/ folder: its content names the generator too
        config["unav"].update(fingerprint=unav_meta["fingerprint"], annotations=unav_meta["annotations"])
    config["train"].pop("device")
    return runs_dir() / "uwav" / f"generator-{profile}-{config_hash(config)}", config


def load_or_pretrain_generator(root: str | Path, profile: str = "quick", seed: int = 0, device: str = "auto",
                               retrain: bool = False, present_weight: float = PRESENT_WEIGHT,
                               progress: bool = False, select: str = GENERATOR_SELECT) -> tuple[PseudoLabelGenerator, dict]:
    """The UnAV-pretrained generator for a data root, from ``runs/uwav/`` or trained now (and cached).

    Beside a synthetic root the UnAV streams are generated on first use; beside real LLP features the root's real
    ``unav100/`` is read as it is (:func:`avvp_lib.data.unav.ensure_unav`).
    ``select``: the best-epoch rule (:data:`GENERATOR_SELECT_RULES`).
    """
    run_dir, config = generator_run_dir(root, profile, seed, present_weight, select)
    seed_everything(seed)  # the initial weights depend on the seed only, not on what ran before
    generator = PseudoLabelGenerator(**generator_kwargs(profile))
    done = run_dir / "result.pt"
    if done.is_file() and not retrain:
        state = torch.load(done, map_location="cpu", weights_only=False)
        if state["config"] == config:
            generator.load_state_dict(state["model"])
            return generator.to(resolve_device(device)).eval(), state["info"]
    train, val = load_unav_split(root, "train"), load_unav_split(root, "validation")
    prompts = load_unav_prompts(root)
    with cpu_threads():
        info = pretrain_generator(generator, train, val, prompts, pretrain_config(profile, seed, device),
                                  present_weight, progress, select=select)
    save_atomic({"model": generator.state_dict(), "config": config, "info": info}, done)
    return generator.eval(), info


# --------------------------------------------------------------------------- stage 2: logits on LLP
def zero_shot_logits(clip: torch.Tensor, clap: torch.Tensor, clip_text: torch.Tensor, clap_text: torch.Tensor,
                     scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_a, z_v)``: prompt . segment similarities, no training (CLIP/CLAP zero-shot); (N, T, C) each."""
    if clip.shape[-1] != clip_text.shape[-1] or clap.shape[-1] != clap_text.shape[-1]:
        raise ValueError(f"feature and prompt sizes differ: clip {tuple(clip.shape)} vs {tuple(clip_text.shape)}, "
                         f"clap {tuple(clap.shape)} vs {tuple(clap_text.shape)}")
    return scale * clap.float() @ clap_text.float().T, scale * clip.float() @ clip_text.float().T


@torch.no_grad()
def generator_logits(generator: PseudoLabelGenerator, clip: torch.Tensor, clap: torch.Tensor, clip_text: torch.Tensor,
                     clap_text: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_a, z_v)`` of the pretrained generators for LLP videos (N, T, C), in eval mode, on the CPU.
    Under ``AVVP_SMOKE=1`` only the first batches are computed and repeated to all N rows (``avvp_lib.smoke``:
    the full generator over 11 849 videos is minutes of GPU time but most of an hour on one CPU core)."""
    device = next(generator.parameters()).device
    was = generator.training
    generator.eval()
    parts_a, parts_v = [], []
    with cpu_threads():
        for lo in smoke.batches(range(0, clip.shape[0], batch_size)):
            z_a, z_v = generator(clip[lo:lo + batch_size].to(device).float(),
                                 clap[lo:lo + batch_size].to(device).float(),
                                 clip_text.to(device).float(), clap_text.to(device).float())
            parts_a.append(z_a.cpu())
            parts_v.append(z_v.cpu())
    generator.train(was)
    z_a, z_v = torch.cat(parts_a), torch.cat(parts_v)
    if z_a.shape[0] < clip.shape[0]:  # smoke run: the computed rows, repeated
        rows = torch.arange(clip.shape[0]) % z_a.shape[0]
        z_a, z_v = z_a[rows], z_v[rows]
    return z_a, z_v


# --------------------------------------------------------------------------- stage 3: thresholds
def best_f1_threshold(scores: torch.Tensor, targets: torch.Tensor, candidates: torch.Tensor | None = None) -> tuple[float, float]:
    """The cut ``theta`` maximising the F1 of ``scores > theta`` against binary ``targets`` (1-D).

    Only ``candidates`` (bool, default all) may be predicted positive; every target counts for
    recall. ``theta`` is the midpoint between the last kept and the first dropped score (official
    rule). No positive target: ``theta = +inf`` (predict nothing), F1 = 0.
    """
    scores, targets = scores.reshape(-1).double(), targets.reshape(-1).double()
    if candidates is not None:
        candidates = candidates.reshape(-1)
        scores_c, targets_c = scores[candidates], targets[candidates]
    else:
        scores_c, targets_c = scores, targets
    positives = float(targets.sum())
    if positives == 0 or scores_c.numel() == 0:
        return math.inf, 0.0
    order = torch.argsort(scores_c, descending=True)
    s, tp = scores_c[order], torch.cumsum(targets_c[order], 0)
    k = torch.arange(1, len(s) + 1, dtype=torch.float64)
    f1 = 2 * tp / (k + positives)
    best = int(torch.argmax(f1))
    nxt = float(s[best + 1]) if best + 1 < len(s) else float(s[best]) - 1.0
    return (float(s[best]) + nxt) / 2, float(f1[best])


def best_f1_thresholds(logits: torch.Tensor, gt: torch.Tensor, labels: torch.Tensor,
                       classwise: bool = True) -> torch.Tensor:
    """Per-class (or one shared) best-F1 cuts, (C,), for ``1{logits > theta} * y`` against dense ``gt``.

    ``logits``, ``gt``: (N, T, C); ``labels``: (N, C) video-level labels (only labelled classes can
    be predicted, as in Eq. 10). A class without any positive segment gets ``+inf``.
    """
    if logits.shape != gt.shape or labels.shape != (logits.shape[0], logits.shape[-1]):
        raise ValueError(f"expected logits and gt (N, T, C) and labels (N, C); got {tuple(logits.shape)}, "
                         f"{tuple(gt.shape)}, {tuple(labels.shape)}")
    cand = (labels[:, None, :] > 0).expand_as(logits)
    c = logits.shape[-1]
    if not classwise:
        theta, _ = best_f1_threshold(logits, gt, cand)
        return torch.full((c,), theta)
    return torch.tensor([best_f1_threshold(logits[..., k], gt[..., k], cand[..., k])[0] for k in range(c)])


def choose_thresholds(rule: str, z_a_val: torch.Tensor | None = None, z_v_val: torch.Tensor | None = None,
                      val: AVVPData | None = None, value: float = 0.0,
                      num_classes: int = 25) -> tuple[torch.Tensor, torch.Tensor]:
    """``(theta_a, theta_v)`` (C,) by ``rule`` (module docstring). The ``val_*`` rules read val's dense labels."""
    if rule == "fixed":
        return torch.full((num_classes,), float(value)), torch.full((num_classes,), float(value))
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"unknown threshold rule {rule!r}; expected one of {THRESHOLD_RULES}")
    if val is None or val.gt_audio is None or z_a_val is None or z_v_val is None:
        raise ValueError(f"rule {rule!r} needs the val split's logits and dense labels")
    classwise = rule == "val_best_f1"
    labels = val.labels.cpu()
    return (best_f1_thresholds(z_a_val, val.gt_audio.cpu(), labels, classwise),
            best_f1_thresholds(z_v_val, val.gt_visual.cpu(), labels, classwise))


# --------------------------------------------------------------------------- stage 4-5: labels, accuracy
def pseudo_label_accuracy(pl_a: torch.Tensor, pl_v: torch.Tensor, gt_a: torch.Tensor, gt_v: torch.Tensor) -> dict:
    """The 18 LLP metrics of binary pseudo-labels (N, T, C) against dense ground truth (UWAV Table 3)."""
    return evaluate(pl_a.long(), pl_v.long(), gt_a.long(), gt_v.long())


def valor_pseudo_labels(clip: torch.Tensor, clap: torch.Tensor, clip_text: torch.Tensor, clap_text: torch.Tensor,
                        labels: torch.Tensor, theta_a: torch.Tensor, theta_v: torch.Tensor,
                        scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """VALOR-style segment pseudo-labels ``(pl_a, pl_v)`` (N, T, C): ``1{prompt . segment > theta} * y``.

    Each segment is labelled on its own from the frozen CLIP (visual) / CLAP (audio) similarity with
    the prompts, keeping only classes of the video-level label ``y`` (N, C). VALOR hand-picked
    ``theta`` per class for the real models; :func:`valor_thresholds` picks them by a rule.
    """
    z_a, z_v = zero_shot_logits(clip, clap, clip_text, clap_text, scale)
    return hard_pseudo_labels(z_a, theta_a, labels), hard_pseudo_labels(z_v, theta_v, labels)


def valor_thresholds(val: AVVPData, prompts: dict, rule: str = "val_best_f1") -> tuple[torch.Tensor, torch.Tensor]:
    """Class-wise thresholds for :func:`valor_pseudo_labels` chosen on ``val`` (needs the clipclap streams)."""
    z_a, z_v = zero_shot_logits(val.tensors["clip"], val.tensors["clap"], prompts["clip_text"], prompts["clap_text"])
    return choose_thresholds(rule, z_a, z_v, val)


@dataclass
class SplitLogits:
    """Generator (or zero-shot) logits of one LLP split and the video-level labels they are filtered with."""

    z_a: torch.Tensor  # (N, T, C)
    z_v: torch.Tensor
    labels: torch.Tensor  # (N, C)
    video_ids: list[str] = field(default_factory=list)

    def hard(self, theta_a, theta_v) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. (10) for both modalities."""
        return hard_pseudo_labels(self.z_a, theta_a, self.labels), hard_pseudo_labels(self.z_v, theta_v, self.labels)

    def soft(self, theta_a, theta_v, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. (12) for both modalities."""
        return (soft_pseudo_labels(self.z_a, theta_a, self.labels, temperature),
                soft_pseudo_labels(self.z_v, theta_v, self.labels, temperature))


@dataclass
class PseudoLabelBundle:
    """Everything UWAV's stage 2 needs: logits of train/val/test, thresholds, and how they were made."""

    source: str  # "uwav" (pretrained generators) or "zero_shot"
    rule: str
    splits: dict[str, SplitLogits]
    theta_a: torch.Tensor
    theta_v: torch.Tensor
    info: dict = field(default_factory=dict)

    def hard(self, split: str):
        return self.splits[split].hard(self.theta_a, self.theta_v)

    def soft(self, split: str, temperature: float = 1.0):
        return self.splits[split].soft(self.theta_a, self.theta_v, temperature)


def llp_logits(root: str | Path, source: str = "uwav", profile: str = "quick", seed: int = 0, device: str = "auto",
               splits: tuple[str, ...] = ("train", "val", "test"), retrain: bool = False,
               select: str = GENERATOR_SELECT) -> tuple[dict, dict, dict]:
    """Logits of LLP splits from the pretrained generators (``"uwav"``; ``select``: their best-epoch rule) or
    zero-shot similarity.

    Returns ``(split -> SplitLogits, split -> AVVPData (clipclap streams), info)``; generator logits are
    cached beside the generator checkpoint.
    """
    if source not in ("uwav", "zero_shot"):
        raise ValueError(f"source must be 'uwav' or 'zero_shot'; got {source!r}")
    prompts = load_prompt_embeddings(root)
    data = {s: load_split(root, s, streams=("clipclap",)) for s in splits}
    info: dict = {}
    if source == "zero_shot":
        out = {s: SplitLogits(*zero_shot_logits(d.tensors["clip"], d.tensors["clap"], prompts["clip_text"],
                                                prompts["clap_text"]), d.labels, d.video_ids) for s, d in data.items()}
        return out, data, info
    generator, info = load_or_pretrain_generator(root, profile, seed, device, retrain, select=select)
    run_dir, _ = generator_run_dir(root, profile, seed, select=select)
    out = {}
    for s, d in data.items():
        cache = run_dir / f"llp_logits_{s}.pt"
        key = {"ids": config_hash({"ids": d.video_ids}), "root": config_hash({"meta": d.meta})}
        state = torch.load(cache, weights_only=False) if cache.is_file() and not retrain else None
        if state is None or state["key"] != key:
            z_a, z_v = generator_logits(generator, d.tensors["clip"], d.tensors["clap"], prompts["clip_text"],
                                        prompts["clap_text"])
            state = {"key": key, "z_a": z_a, "z_v": z_v}
            save_atomic(state, cache)
        out[s] = SplitLogits(state["z_a"], state["z_v"], d.labels, d.video_ids)
    return out, data, info


def pseudo_label_bundle(root: str | Path, source: str = "uwav", rule: str = "val_best_f1", profile: str = "quick",
                        seed: int = 0, device: str = "auto", value: float = 0.0,
                        splits: tuple[str, ...] = ("train", "val", "test"),
                        select: str = GENERATOR_SELECT) -> PseudoLabelBundle:
    """Logits of ``splits`` plus thresholds chosen by ``rule`` (val is always loaded for the ``val_*`` rules);
    ``select``: the generators' best-epoch rule (:data:`GENERATOR_SELECT_RULES`)."""
    need = tuple(dict.fromkeys(splits + (("val",) if rule != "fixed" else ())))
    logits, data, info = llp_logits(root, source, profile, seed, device, need, select=select)
    val = logits.get("val")
    theta_a, theta_v = choose_thresholds(rule, val.z_a if val else None, val.z_v if val else None, data.get("val"),
                                         value, num_classes=next(iter(logits.values())).labels.shape[1])
    return PseudoLabelBundle(source, rule, {s: logits[s] for s in splits}, theta_a, theta_v,
                             info | {"gt": {s: (d.gt_audio, d.gt_visual) for s, d in data.items()}})


ACCURACY_SPECS = (("zero-shot (no pretraining)", "zero_shot", "val_best_f1_agnostic"),
                  ("VALOR-style (per segment)", "zero_shot", "val_best_f1"),
                  ("UWAV (pretrained)", "uwav", "val_best_f1"),
                  ("UWAV (pretrained)", "uwav", "val_best_f1_agnostic"),
                  ("UWAV (pretrained)", "uwav", "fixed"))


def accuracy_scores(root: str | Path, profile: str = "quick", seed: int = 0, device: str = "auto",
                    split: str = "test") -> list[tuple[str, str, dict]]:
    """``(method, threshold rule, 18 metrics)`` of the pseudo-labels of ``split`` for every label source.

    Sources (:data:`ACCURACY_SPECS`): zero-shot similarity with one shared threshold; VALOR-style
    (zero-shot, class-wise thresholds); UWAV (generators pretrained with ``seed``) with class-wise,
    shared and fixed (label-free) thresholds. The ``val_*`` rules read the val split's dense labels.
    """
    out = []
    for name, source, rule in ACCURACY_SPECS:
        bundle = pseudo_label_bundle(root, source, rule, profile, seed, device, splits=(split,))
        pl_a, pl_v = bundle.hard(split)
        gt_a, gt_v = bundle.info["gt"][split]
        out.append((name, rule, pseudo_label_accuracy(pl_a, pl_v, gt_a, gt_v)))
    return out


def accuracy_table(root: str | Path, profile: str = "quick", seed: int = 0, device: str = "auto",
                   split: str = "test", metrics=TABLE3_METRICS) -> "pandas.DataFrame":
    """UWAV Table 3 on our data: segment-level F (%) of the pseudo-labels on ``split`` (see :func:`accuracy_scores`)."""
    import pandas as pd

    return pd.DataFrame([{"method": name, "thresholds": rule, **{m: round(scores[m], 1) for m in metrics}}
                         for name, rule, scores in accuracy_scores(root, profile, seed, device, split)])
