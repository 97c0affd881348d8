"""UWAV stage 2: HAN trained on the generators' pseudo-labels (Lai et al., CVPR 2025, Sec. 4.1-4.4).

The inference model is the standard HAN on VGGish / ResNet-152 / R(2+1)D features (the paper's
main LLP setting, Table 1); CLIP/CLAP feed only the pseudo-label generators. Its loss is Eq. (20)::

    L_total = L_seg + L_mix + L_video

* ``L_seg``: BCE of the segment probabilities against hard (Eq. 11) or soft (Eq. 13) pseudo-labels,
  optionally class-balanced (Eq. 17-19, ``W = 0.5``);
* ``L_mix``: uncertainty-weighted feature mixup (Eq. 14-16, ``lambda ~ Beta(1.7, 1.7)``) of the
  HAN-layer outputs of two segments of the batch, through HAN's segment classifier;
* ``L_video``: BCE of the MMIL video probability against the video label.

:data:`ABLATIONS` holds the five rows of Table 4; :func:`sensitivity_configs` the alpha / W sweeps
of supplementary Fig. A4-A5 (full profile). :func:`run_ablations` trains them for several seeds
and appends one results row per run (``python -m avvp_lib.methods.uwav --profile quick``).
"""
from __future__ import annotations

import argparse
import inspect
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from avvp_lib.course import REPO_ROOT, RESULTS_DIR, RUNS_DIR
from avvp_lib.data.dataset import load_split
from avvp_lib.losses.uwav import (class_balance_weights, class_balanced_bce, mixup_bce, mixup_segments,
                                  pseudo_label_bce, sample_mixup, uwav_total_loss, video_bce)
from avvp_lib.models.han import HAN, MMILOutput, attentive_mmil_pooling
from avvp_lib.pseudo_labels import PseudoLabelBundle, cpu_threads, generator_run_dir, pseudo_label_bundle
from avvp_lib.results import append_rows, config_hash, make_row
from avvp_lib.train import TrainConfig, evaluate_method, load_or_fit, resolve_device, seed_everything

METHOD = "UWAV"


@dataclass(frozen=True)
class UWAVConfig:
    """Which of UWAV's components are on. Defaults: the full method (Table 4, last row)."""

    labels: str = "soft"  # "hard": Eq. (10)-(11); "soft": Eq. (12)-(13)
    reweight: bool = True  # class-balanced re-weighting, Eq. (17)-(19)
    W: float = 0.5
    mixup: bool = True  # uncertainty-weighted feature mixup, Eq. (14)-(16)
    alpha: float = 1.7
    temperature: float = 1.0  # soft labels sigmoid((z - theta) / temperature); the official code uses 2
    reweight_scale: str = "paper"  # "official": Eq. (18)-(19) times C, as the released code
    mixup_targets: str = "soft"  # "hard": binary pseudo-labels (the AVE variant of Table A9)
    threshold_rule: str = "val_best_f1"

    def __post_init__(self):
        if self.labels not in ("hard", "soft"):
            raise ValueError(f"labels must be 'hard' or 'soft'; got {self.labels!r}")
        if self.mixup_targets not in ("hard", "soft"):
            raise ValueError(f"mixup_targets must be 'hard' or 'soft'; got {self.mixup_targets!r}")
        if self.reweight_scale not in ("paper", "official"):
            raise ValueError(f"reweight_scale must be 'paper' or 'official'; got {self.reweight_scale!r}")

    def to_dict(self) -> dict:
        return asdict(self)


#: Table 4 of the paper, row by row (binary / soft / soft + re-weight / soft + mixup / all).
ABLATIONS: dict[str, UWAVConfig] = {
    "binary": UWAVConfig(labels="hard", reweight=False, mixup=False),
    "soft": UWAVConfig(labels="soft", reweight=False, mixup=False),
    "soft+reweight": UWAVConfig(labels="soft", reweight=True, mixup=False),
    "soft+mixup": UWAVConfig(labels="soft", reweight=False, mixup=True),
    "uwav": UWAVConfig(),
}
#: The released code's choices where it departs from the paper (not Table 4 rows; run in the quick sweep
#: to show whether the difference matters): soft labels sigmoid((z - theta) / 2) and weights x C.
CODE_VARIANTS: dict[str, UWAVConfig] = {
    "soft+reweight (code scale)": UWAVConfig(reweight=True, mixup=False, reweight_scale="official"),
    "uwav (official code)": UWAVConfig(temperature=2.0, reweight_scale="official"),
}
#: A diagnostic, not a paper row: Eq. (12) has no temperature, so how soft the labels are depends on the
#: generator's logit scale. Sharper soft labels (temperature 0.25) separate "soft vs binary" from "too soft".
DIAGNOSTIC_VARIANTS: dict[str, UWAVConfig] = {
    "soft (temperature 0.25)": UWAVConfig(labels="soft", reweight=False, mixup=False, temperature=0.25),
    "uwav (temperature 0.25)": UWAVConfig(temperature=0.25),
}
ALPHAS = (0.1, 0.5, 1.0, 1.5, 1.7, 2.0)
WS = (0.1, 0.25, 0.5, 1.0, 2.0)


def sensitivity_configs() -> dict[str, UWAVConfig]:
    """Fig. A4: alpha with mixup and no re-weighting; Fig. A5: W with re-weighting and no mixup."""
    out = {f"alpha={a}": UWAVConfig(reweight=False, mixup=True, alpha=a) for a in ALPHAS}
    out |= {f"W={w}": UWAVConfig(reweight=True, mixup=False, W=w) for w in WS}
    return out


def train_config(profile: str, seed: int = 0, device: str = "auto") -> TrainConfig:
    """HAN recipe. ``full``: supplementary Sec. 8 (AdamW, batch 64, 80 epochs, 10 warm-up epochs to
    1e-4, cosine decay, gradient norm clipped at 1.0; weight decay 1e-4 from the official script;
    the cosine ends at 0 instead of 5e-6). ``quick``: 6 epochs, batch 32, peak 5e-4 (CPU budget)."""
    if profile == "full":
        return TrainConfig(epochs=80, batch_size=64, lr=1e-4, optimizer="adamw", weight_decay=1e-4,
                           scheduler="cosine", warmup_epochs=10, grad_clip=1.0, seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=6, batch_size=32, lr=5e-4, optimizer="adamw", weight_decay=1e-4,
                           scheduler="cosine", warmup_epochs=1, grad_clip=1.0, seed=seed, device=device)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")


class UWAVMethod(nn.Module):
    """HAN + UWAV's loss (Eq. 20). The batch must carry ``uwav_target_a/v`` (segment targets) and,
    with mixup, ``uwav_mix_a/v`` (mixup targets), each (B, T, C) - see :func:`training_targets`.

    ``weights``: ``{"a": (w_pos, w_neg), "v": (w_pos, w_neg)}`` of Eq. (18)-(19), needed when
    ``config.reweight``.
    """

    def __init__(self, config: UWAVConfig = UWAVConfig(), weights: dict | None = None, han: HAN | None = None,
                 **han_kwargs) -> None:
        super().__init__()
        if config.reweight and weights is None:
            raise ValueError("config.reweight needs the class-balance weights of Eq. (18)-(19); pass weights=")
        self.config = config
        self.weights = weights or {}
        self.han = han if han is not None else HAN(**han_kwargs)

    def forward(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self.han(batch["audio"], batch["visual_2d"], batch["visual_3d"])

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self(batch)

    def segment_loss(self, logits: torch.Tensor, batch: dict, modality: str) -> torch.Tensor:
        """L_hard / L_soft (Eq. 11/13) or the class-balanced L_w-soft (Eq. 17) of one modality."""
        target = batch[f"uwav_target_{modality}"]
        if self.config.reweight:
            w_pos, w_neg = self.weights[modality]
            return class_balanced_bce(logits, target, batch["labels"], w_pos, w_neg)
        return pseudo_label_bce(logits, target)

    def mixup_loss(self, features: torch.Tensor, batch: dict, modality: str) -> torch.Tensor:
        """L_mix of one modality (Eq. 14-16): mix HAN-layer outputs of the batch's segments."""
        s = features.shape[0] * features.shape[1]
        targets = batch[f"uwav_mix_{modality}"].reshape(s, -1)
        lam, perm = sample_mixup(s, self.config.alpha, features.device)
        mixed_f, mixed_t = mixup_segments(features.reshape(s, -1), targets, lam, perm)
        return mixup_bce(self.han.fc_prob(mixed_f), mixed_t)

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        han = self.han
        hat_a, hat_v = han.hybrid_attention(*han.encode(batch["audio"], batch["visual_2d"], batch["visual_3d"]))
        x = torch.stack((hat_a, hat_v), dim=-2)  # (B, T, 2, d)
        logits = han.fc_prob(x)
        out = attentive_mmil_pooling(torch.sigmoid(logits), han.fc_frame_att(x), han.fc_av_att(x))
        seg = self.segment_loss(logits[:, :, 0], batch, "a") + self.segment_loss(logits[:, :, 1], batch, "v")
        mix = (self.mixup_loss(hat_a, batch, "a") + self.mixup_loss(hat_v, batch, "v")) if self.config.mixup \
            else torch.zeros((), device=logits.device)
        vid = video_bce(out.video, batch["labels"])
        loss = uwav_total_loss(seg, mix, vid)
        return loss, {"loss": loss.item(), "seg": seg.item(), "mix": mix.item(), "video": vid.item()}


def training_targets(bundle: PseudoLabelBundle, config: UWAVConfig) -> dict[str, torch.Tensor]:
    """Per-video tensors for ``fit(extra_train=...)``: segment targets and mixup targets, (N, T, C) each."""
    hard_a, hard_v = bundle.hard("train")
    soft_a, soft_v = bundle.soft("train", config.temperature)
    seg = (hard_a, hard_v) if config.labels == "hard" else (soft_a, soft_v)
    mix = (soft_a, soft_v) if config.mixup_targets == "soft" else (hard_a, hard_v)
    return {"uwav_target_a": seg[0], "uwav_target_v": seg[1], "uwav_mix_a": mix[0], "uwav_mix_v": mix[1]}


def balance_weights(bundle: PseudoLabelBundle, config: UWAVConfig) -> dict[str, tuple[float, float]]:
    """Eq. (18)-(19) per modality from the binary pseudo-labels of the whole training set."""
    hard_a, hard_v = bundle.hard("train")
    return {"a": class_balance_weights(hard_a, config.W, config.reweight_scale),
            "v": class_balance_weights(hard_v, config.W, config.reweight_scale)}


def build_method(bundle: PseudoLabelBundle, config: UWAVConfig) -> UWAVMethod:
    return UWAVMethod(config, balance_weights(bundle, config) if config.reweight else None)


def variant_config(variant: str) -> UWAVConfig:
    table = ABLATIONS | CODE_VARIANTS | DIAGNOSTIC_VARIANTS | sensitivity_configs()
    if variant not in table:
        raise ValueError(f"unknown UWAV variant {variant!r}; expected one of {sorted(table)}")
    return table[variant]


def run_config(variant: str, config: UWAVConfig, profile: str, seed: int, root: Path) -> dict:
    """Everything that determines a run's numbers (hashed into results rows and run folders)."""
    _, gen = generator_run_dir(root, profile, 0)
    tc = train_config(profile, seed, "cpu").to_dict()
    tc.pop("device")
    han = {k: p.default for k, p in inspect.signature(HAN.__init__).parameters.items() if k != "self"}
    return {"variant": variant, "uwav": config.to_dict(), "train": tc, "generator": config_hash(gen), "han": han}


def train_variant(root: str | Path, variant: str, profile: str = "quick", seed: int = 0, device: str = "auto",
                  bundle: PseudoLabelBundle | None = None, data: dict | None = None, config: UWAVConfig | None = None,
                  retrain: bool = False, progress: bool = False):
    """Train (or reload from ``runs/uwav/``) one configuration; returns ``(method, fit_result, test_metrics, run_config)``."""
    root = Path(root)
    config = config or variant_config(variant)
    bundle = bundle or pseudo_label_bundle(root, "uwav", config.threshold_rule, profile, 0, device)
    data = data or {s: load_split(root, s) for s in ("train", "val", "test")}
    if bundle.splits["train"].video_ids != data["train"].video_ids:
        raise ValueError(f"the pseudo-labels are for {len(bundle.splits['train'].video_ids)} train videos that do not match "
                         f"the {len(data['train'])} videos of the train split (another root or profile?)")
    rc = run_config(variant, config, profile, seed, root)
    seed_everything(seed)  # HAN's initial weights depend on the seed only, not on what ran before
    method = build_method(bundle, config)
    slug = "".join(ch if ch.isalnum() or ch in "+=.-" else "_" for ch in variant)
    run_dir = RUNS_DIR / "uwav" / f"han-{profile}-{slug}-s{seed}-{config_hash(rc)}"
    with cpu_threads():  # same seed, same numbers on any CPU (see pseudo_labels.CPU_THREADS)
        result = load_or_fit(method, data["train"], data["val"], train_config(profile, seed, device), run_dir,
                             retrain=retrain, progress=progress, extra_train=training_targets(bundle, config))
        test_metrics = evaluate_method(method, data["test"])
    return method, result, test_metrics, rc


PAPER_PART = REPO_ROOT / "data" / "paper_results_parts" / "uwav.csv"


def paper_numbers(table: str) -> "pandas.DataFrame":
    """UWAV's reported numbers (real LLP) of one table, e.g. ``"Table 3"``: ``method, setting, metric, value``.

    Read from ``data/paper_results.csv`` when the lead has merged them there, else from this paper's part file.
    """
    import pandas as pd

    from avvp_lib.results import paper_results

    names = {table, table.replace("Table ", "")}
    try:
        frame = paper_results()
        frame = frame[(frame.paper == "UWAV") & frame.table.astype(str).isin(names)]
    except (FileNotFoundError, ValueError):
        frame = pd.DataFrame()
    if frame.empty:
        frame = pd.read_csv(PAPER_PART, dtype={"table": str})
        frame = frame[frame.table.isin(names)]
    if frame.empty:
        raise KeyError(f"no UWAV numbers for {table!r} in data/paper_results.csv or {PAPER_PART.name}")
    return frame[["method", "setting", "metric", "value"]].reset_index(drop=True)


def default_root(profile: str) -> Path:
    from avvp_lib.data.synth import ensure

    root = REPO_ROOT / "data" / "synthetic" / profile
    ensure(root, profile=profile, seed=0, progress=False)
    return root


def run_ablations(profile: str = "quick", seeds=(0, 1, 2), out_csv: str | Path | None = None,
                  data_root: str | Path | None = None, variants=None, force: bool = False, device: str = "auto",
                  include_sensitivity: bool | None = None, progress: bool = False) -> list[dict]:
    """Train every configuration for every seed; append one results row after each run.

    Default variants: the five Table 4 rows, :data:`CODE_VARIANTS` and :data:`DIAGNOSTIC_VARIANTS`,
    plus the alpha / W sensitivity sweeps when ``profile == "full"``. Rows already in ``out_csv`` with the current ``config_hash`` are skipped
    unless ``force``; the pseudo-label generator (seed 0) is shared by all runs.
    """
    from avvp_lib.data.dataset import data_source_of
    from avvp_lib.results import read_results

    root = Path(data_root) if data_root is not None else default_root(profile)
    out_csv = Path(out_csv) if out_csv is not None else RESULTS_DIR / "06_uwav_ablations.csv"
    if include_sensitivity is None:
        include_sensitivity = profile == "full"
    variants = list(variants or (list(ABLATIONS) + list(CODE_VARIANTS) + list(DIAGNOSTIC_VARIANTS)))
    variants += list(sensitivity_configs()) if include_sensitivity else []
    source, _ = data_source_of(root)
    done = set()
    if out_csv.is_file() and not force:
        old = read_results(out_csv)
        done = {(r.variant, int(r.seed), r.config_hash) for r in old.itertuples()
                if r.method == METHOD and r.data == source and r.profile == profile}
    data = {s: load_split(root, s) for s in ("train", "val", "test")}
    bundles: dict[str, PseudoLabelBundle] = {}
    rows = []
    for variant in variants:
        config = variant_config(variant)
        for seed in seeds:
            rc = run_config(variant, config, profile, seed, root)
            if (variant, int(seed), config_hash(rc)) in done:
                continue
            if config.threshold_rule not in bundles:
                bundles[config.threshold_rule] = pseudo_label_bundle(root, "uwav", config.threshold_rule, profile, 0, device)
            _, result, metrics, rc = train_variant(root, variant, profile, seed, device, bundles[config.threshold_rule],
                                                   data, config, retrain=force, progress=progress)
            row = make_row(METHOD, variant, seed, source, profile, metrics, result.train_seconds, rc,
                           device=str(resolve_device(device)))
            append_rows(out_csv, [row])
            rows.append(row)
            print(f"[uwav] {variant} seed {seed}: segment Type@AV {metrics['segment/Type@AV']:.2f} "
                  f"({result.train_seconds:.0f} s)", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.methods.uwav", description="UWAV ablation sweep (Table 4).")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="*", default=None, help=f"default: {list(ABLATIONS)} (+ sensitivity in full)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default=None, help="results CSV (default results/06_uwav_ablations.csv)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--sensitivity", action="store_true", help="add the alpha / W sweeps (default in full)")
    parser.add_argument("--pseudo-labels", action="store_true",
                        help="also write Table 3 (pseudo-label accuracy) for each seed to results/05_uwav_pseudolabels.csv")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 avoids oversubscription on a shared machine)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.pseudo_labels:
        from avvp_lib.pseudo_labels import run_pseudo_label_accuracy

        run_pseudo_label_accuracy(args.profile, args.seeds, None, args.data_root, args.device)
    run_ablations(args.profile, args.seeds, args.out, args.data_root, args.variants, args.force, args.device,
                  True if args.sensitivity else None)


if __name__ == "__main__":
    main()
