"""CoLeaF as a trainable method: both branches trained together through the shared trainer.

``CoLeaFMethod(CoLeaFConfig())`` is the full framework with a HAN Anchor (Table 5's "HAN x").
Every ablation row of the paper is a named configuration::

    ablation("no_class_tokens")       # -> CoLeaFConfig(class_tokens=False)
    build_method("evt_nce", seed=0)   # -> a fresh, seeded CoLeaFMethod (or HANMethod for "han")
    run_ablations("quick", seeds=(0, 1, 2), out_csv="results/04_coleaf_ablations.csv")

Total loss (CoLeaF Fig. 2; the paper gives no weights, so they default to 1)::

    L = L_video^Anch + L_video^Ref + w_evt L_Evt^Anch + w_selfmo L_SelfMo^Ref + w_cocls L_CoCls^Anch
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from avvp_lib.losses.coleaf import (
    anchor_video_loss,
    co_occurrence_loss,
    event_aware_contrastive_loss,
    event_aware_weights,
    pseudo_label_bce_loss,
    pseudo_labels,
    reference_video_loss,
    self_modality_loss,
)
from avvp_lib.methods.mmil import HANMethod
from avvp_lib.models.coleaf import CoLeaF, CoLeaFOutput
from avvp_lib.models.han import HAN, MMILOutput
from avvp_lib.train import TrainConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = REPO_ROOT / "results" / "04_coleaf_ablations.csv"
PAPER_PART = REPO_ROOT / "data" / "paper_results_parts" / "coleaf.csv"
PAPER_MERGED = REPO_ROOT / "data" / "paper_results.csv"
CONTRASTIVE_MODES = ("event_aware", "nce", "bce", "none")


@dataclass(frozen=True)
class CoLeaFConfig:
    """Which CoLeaF components are on, and their hyper-parameters.

    contrastive: ``event_aware`` (L_Evt, Eq. 8-11), ``nce`` (standard NCE, theta = 1), ``bce`` (BCE of the
        Anchor against the Reference pseudo-labels of Eq. 9) or ``none`` - the four rows of Table 2.
    self_modality: L_SelfMo (Eq. 12, Table 3).   co_occurrence: L_CoCls (Eq. 13, Table 4).
    class_tokens: the Reference's class tokens (Eq. 5, Table 4).
    theta: pseudo-label threshold of Eq. 9 and 12 (not given in the paper; 0.5 as in the released code's
        contrastive weights).   tau: temperature of Eq. 8 (not given; 0.2 as in the released code).
    normalize / include_positive: see :func:`avvp_lib.losses.coleaf.segment_nce`.
    anchor_loss: ``han`` or ``video_only`` (:func:`avvp_lib.losses.coleaf.anchor_video_loss`).
    share_encoder: feed the Reference the Anchor's input tokens instead of its own projections.
    warmup_epochs: epochs trained with the two video-level losses only (0 in the paper; the released
        code waits 1 epoch for L_Evt/L_CoCls and 3 for L_SelfMo).
    w_*: loss weights. The paper gives none. ``w_contrastive = 0.1`` was chosen between 1 and 0.1 on the
        validation split (seed 0, quick profile): with weight 1 the contrastive term dominated and cost the
        Anchor about 8 points of validation segment-level V; row ``evt_weight_1`` of the sweep keeps weight 1.
    """

    contrastive: str = "event_aware"
    self_modality: bool = True
    co_occurrence: bool = True
    class_tokens: bool = True
    theta: float = 0.5
    tau: float = 0.2
    normalize: bool = True
    include_positive: bool = False
    anchor_loss: str = "han"
    share_encoder: bool = False
    warmup_epochs: int = 0
    w_contrastive: float = 0.1
    w_self_modality: float = 1.0
    w_co_occurrence: float = 1.0

    def __post_init__(self):
        if self.contrastive not in CONTRASTIVE_MODES:
            raise ValueError(f"contrastive={self.contrastive!r}; expected one of {CONTRASTIVE_MODES}")
        if self.anchor_loss not in ("han", "video_only"):
            raise ValueError(f"anchor_loss={self.anchor_loss!r}; expected 'han' or 'video_only'")

    def replace(self, **changes) -> "CoLeaFConfig":
        return replace(self, **changes)


class CoLeaFMethod(nn.Module):
    """CoLeaF for the trainer: ``training_loss`` sums both branches' losses, ``predict`` runs the Anchor only."""

    def __init__(self, config: CoLeaFConfig = CoLeaFConfig(), anchor: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.model = CoLeaF(anchor if anchor is not None else HAN(), class_tokens=config.class_tokens,
                            share_encoder=config.share_encoder)

    def forward(self, batch: dict[str, torch.Tensor], need_weights: bool = False) -> CoLeaFOutput:
        return self.model(batch["audio"], batch["visual_2d"], batch["visual_3d"], need_weights=need_weights)

    def losses(self, out: CoLeaFOutput, labels: torch.Tensor, epoch: int = 0) -> dict[str, torch.Tensor]:
        """Every loss term by name (zero-weight or switched-off terms are absent) plus diagnostics
        ``theta_a``/``theta_v`` (mean contrastive weights, Eq. 11)."""
        cfg, anc, ref = self.config, out.anchor, out.reference
        terms = {
            "video_anchor": anchor_video_loss(anc.video, anc.audio, anc.visual, labels, cfg.anchor_loss),
            "video_reference": reference_video_loss(ref.audio, ref.visual, labels, ref.cls_a, ref.cls_v),
        }
        if epoch < cfg.warmup_epochs:
            return terms
        g_a, g_v = pseudo_labels(ref.audio, cfg.theta), pseudo_labels(ref.visual, cfg.theta)  # Eq. 9
        if cfg.contrastive in ("event_aware", "nce"):
            if cfg.contrastive == "event_aware":
                w_a, w_v = event_aware_weights(g_a, g_v)  # Eq. 10-11
            else:
                w_a = w_v = torch.ones(labels.shape[0], device=labels.device)
            terms["contrastive"] = cfg.w_contrastive * event_aware_contrastive_loss(
                out.anchor_tokens_a, out.anchor_tokens_v, ref.tokens_a, ref.tokens_v, w_a, w_v, cfg.tau,
                cfg.normalize, cfg.include_positive)
            terms["theta_a"], terms["theta_v"] = w_a.mean().detach(), w_v.mean().detach()
        elif cfg.contrastive == "bce":
            terms["contrastive"] = cfg.w_contrastive * pseudo_label_bce_loss(anc.audio, anc.visual, g_a, g_v)
        if cfg.self_modality:
            terms["self_modality"] = cfg.w_self_modality * self_modality_loss(
                ref.audio, ref.visual, anc.audio, anc.visual, cfg.theta)
        if cfg.co_occurrence:
            terms["co_occurrence"] = cfg.w_co_occurrence * co_occurrence_loss(
                ref.audio, ref.visual, anc.audio, anc.visual)
        return terms

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        terms = self.losses(self(batch), batch["labels"], epoch)
        loss = sum(v for k, v in terms.items() if not k.startswith("theta_"))
        return loss, {"loss": loss.item(), **{k: float(v.detach()) for k, v in terms.items()}}

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self.model.predict(batch["audio"], batch["visual_2d"], batch["visual_3d"])


# ------------------------------------------------------------------------------------ ablations
@dataclass(frozen=True)
class Ablation:
    """A named configuration and the paper rows it reproduces, as ``(table, method, setting)`` keys of
    ``data/paper_results_parts/coleaf.csv``. ``config=None`` means a plain HAN (``han_kwargs`` for its options)."""

    paper_rows: tuple[tuple[str, str, str], ...]
    config: CoLeaFConfig | None = field(default_factory=CoLeaFConfig)
    description: str = ""
    han_kwargs: dict = field(default_factory=dict)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(table for table, _, _ in self.paper_rows)


ABLATIONS: dict[str, Ablation] = {
    "full": Ablation((("Table 2", "CoLeaF", "L_Evt"), ("Table 3", "CoLeaF", "with L_SelfMo"),
                      ("Table 4", "CoLeaF", "Tkn yes, CoCls yes"), ("Table 5", "HAN", "in CoLeaF")),
                     CoLeaFConfig(), "everything on: L_Evt, L_SelfMo, class tokens, L_CoCls"),
    "evt_nce": Ablation((("Table 2", "CoLeaF", "L_NCE"),), CoLeaFConfig(contrastive="nce"),
                        "L_Evt replaced by the standard NCE (theta^a = theta^v = 1)"),
    "evt_bce": Ablation((("Table 2", "CoLeaF", "L_BCE"),), CoLeaFConfig(contrastive="bce"),
                        "L_Evt replaced by BCE of the Anchor against the Reference pseudo-labels"),
    "no_evt": Ablation((("Table 2", "CoLeaF", "-"),), CoLeaFConfig(contrastive="none"), "no contrastive term"),
    "no_self_modality": Ablation((("Table 3", "CoLeaF", "without L_SelfMo"),), CoLeaFConfig(self_modality=False),
                                 "the Reference learns from video labels only"),
    "no_co_occurrence": Ablation((("Table 4", "CoLeaF", "Tkn yes, CoCls no"),), CoLeaFConfig(co_occurrence=False),
                                 "class tokens kept, L_CoCls off"),
    "no_class_tokens": Ablation((("Table 4", "CoLeaF", "Tkn no, CoCls yes"),), CoLeaFConfig(class_tokens=False),
                                "no class tokens, L_CoCls kept"),
    "no_class_tokens_no_co_occurrence": Ablation((("Table 4", "CoLeaF", "Tkn no, CoCls no"),),
                                                 CoLeaFConfig(class_tokens=False, co_occurrence=False),
                                                 "neither class tokens nor L_CoCls"),
    "han": Ablation((("Table 5", "HAN", "plain"),), None, "the plain HAN baseline (same training recipe)"),
    "evt_weight_1": Ablation((), CoLeaFConfig(w_contrastive=1.0),
                             "not a paper row: the full framework with contrastive weight 1 instead of 0.1"),
    "han_unimodal": Ablation((("Table 1", "CMPAE", "U"),), None,
                             "HAN without cross-modal attention (Table 1's U; the paper measured CMPAE)",
                             {"cross_modal": False}),
}


def ablation(name: str) -> CoLeaFConfig | None:
    """The configuration of a named ablation row (None for a plain HAN baseline)."""
    if name not in ABLATIONS:
        raise KeyError(f"unknown ablation {name!r}; expected one of {sorted(ABLATIONS)}")
    return ABLATIONS[name].config


#: Backbone width per profile. ``full`` is the paper's (d = 512); ``quick`` narrows the tokens so that a
#: CoLeaF run fits a notebook's CPU budget (the architecture is otherwise unchanged).
MODEL_SIZES: dict[str, dict] = {"quick": {"d_model": 128, "ffn_dim": 128}, "full": {}}


def model_size(profile: str) -> dict:
    if profile not in MODEL_SIZES:
        raise ValueError(f"profile={profile!r}; expected one of {sorted(MODEL_SIZES)}")
    return dict(MODEL_SIZES[profile])


def build_method(name: str, seed: int = 0, profile: str = "full") -> nn.Module:
    """A freshly initialised, seeded method for an ablation name (HANMethod for ``han``) at the
    profile's width (:data:`MODEL_SIZES`)."""
    config = ablation(name)
    torch.manual_seed(seed)
    anchor = HAN(**model_size(profile), **ABLATIONS[name].han_kwargs)
    return HANMethod(anchor) if config is None else CoLeaFMethod(config, anchor=anchor)


def method_name(variant: str) -> str:
    return "HAN" if ablation(variant) is None else "CoLeaF"


def train_config(profile: str = "quick", seed: int = 0, device: str = "auto") -> TrainConfig:
    """CoLeaF's recipe. ``full``: the paper (Adam 5e-4, batch 128, 15 epochs, LR x0.25 every 6 epochs).
    ``quick`` (with the narrower backbone of :data:`MODEL_SIZES`): batch 32 on the 1500 quick training videos,
    20 epochs with the LR x0.25 every 8 (two decays, as in the paper) - about 900 updates, like the paper's
    ~1200; one CoLeaF run takes well under a minute on 2 idle CPU cores."""
    if profile == "full":
        return TrainConfig(epochs=15, batch_size=128, lr=5e-4, scheduler="step", step_size=6, gamma=0.25,
                           select_metric="segment/Type@AVo", seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=20, batch_size=32, lr=5e-4, scheduler="step", step_size=8, gamma=0.25,
                           select_metric="segment/Type@AVo", seed=seed, device=device)
    raise ValueError(f"profile={profile!r}; expected 'quick' or 'full'")


def run_config(variant: str, train: TrainConfig, profile: str) -> dict:
    """Everything that determines a run's numbers (hashed into ``config_hash``)."""
    config = ablation(variant)
    return {"method": method_name(variant), "variant": variant, "size": model_size(profile),
            "han_kwargs": ABLATIONS[variant].han_kwargs,
            "coleaf": asdict(config) if config is not None else None, "train": train.to_dict()}


def run_dir(variant: str, profile: str, seed: int, data: str = "synthetic") -> Path:
    """Where a run's checkpoints live (shared by notebooks 03/04 and the sweep)."""
    return REPO_ROOT / "runs" / "coleaf" / f"{data}_{profile}" / variant / f"seed{seed}"


def train_variant(variant: str, seed: int, train, val, profile: str = "quick", device: str = "auto",
                  retrain: bool = False):
    """Build, train (or reload from ``run_dir``) and return ``(method, FitResult, TrainConfig)``."""
    from avvp_lib.train import load_or_fit

    config = train_config(profile, seed, device)
    method = build_method(variant, seed, profile)
    result = load_or_fit(method, train, val, config, run_dir(variant, profile, seed, train.data_source),
                         retrain=retrain, progress=False)
    return method, result, config


def run_ablations(profile: str = "quick", seeds=(0, 1, 2), out_csv: str | Path = DEFAULT_RESULTS,
                  data_root: str | Path | None = None, variants=None, force: bool = False,
                  device: str = "auto", verbose: bool = True, splits: dict | None = None,
                  refresh: bool = False) -> pd.DataFrame:
    """Train every ablation row for every seed; evaluate on test; upsert one results row after each run.

    Runs whose row is already in ``out_csv`` with the current ``config_hash`` are skipped unless
    ``force`` (retrain from scratch) or ``refresh`` (reload the finished checkpoints from ``runs/``, no
    training, and rewrite the rows with the current code version); an interrupted sweep loses nothing
    that finished. ``splits`` (a dict of ``train``/``val``/``test`` AVVPData) bypasses loading ``data_root``.
    """
    from avvp_lib.results import append_rows, config_hash, make_row, read_results
    from avvp_lib.train import evaluate_method, resolve_device

    variants = list(variants or ABLATIONS)
    unknown = [v for v in variants if v not in ABLATIONS]
    if unknown:
        raise KeyError(f"unknown ablation(s) {unknown}; expected names from {sorted(ABLATIONS)}")
    if splits is None:
        from avvp_lib.course import setup
        from avvp_lib.data.dataset import load_split

        root = setup(profile, data_root, 0, device)["data_root"]
        splits = {s: load_split(root, s) for s in ("train", "val", "test")}
    source = splits["train"].data_source
    out_csv = Path(out_csv)
    for seed in seeds:  # seed-major: an interrupted sweep still has every row for the first seeds
        for variant in variants:
            config = train_config(profile, seed, device)
            provenance = run_config(variant, config, profile)
            if not (force or refresh) and _has_row(out_csv, variant, seed, source, profile, config_hash(provenance)):
                continue
            t0 = time.perf_counter()
            method, result, _ = train_variant(variant, seed, splits["train"], splits["val"], profile, device,
                                              retrain=force)
            metrics = evaluate_method(method, splits["test"])
            row = make_row(method_name(variant), variant, seed, source, profile, metrics, result.train_seconds,
                           provenance, str(resolve_device(device)))
            append_rows(out_csv, [row])
            if verbose:
                print(f"[coleaf] {variant} seed {seed}: Ao {metrics['segment/Ao']:.1f} Vo {metrics['segment/Vo']:.1f} "
                      f"AV {metrics['segment/AV']:.1f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return read_results(out_csv)


def _has_row(out_csv: Path, variant: str, seed: int, source: str, profile: str, hashed: str) -> bool:
    """True when ``out_csv`` already holds this run with this configuration hash."""
    from avvp_lib.results import read_results

    if not out_csv.is_file():
        return False
    done = read_results(out_csv)
    hit = ((done["variant"] == variant) & (done["seed"] == seed) & (done["data"] == source)
           & (done["profile"] == profile) & (done["config_hash"] == hashed))
    return bool(hit.any())


# ------------------------------------------------------------------------------ paper numbers
def paper_numbers(table: str | None = None) -> pd.DataFrame:
    """CoLeaF's published numbers (``paper, table, method, setting, metric, value``), from the merged
    ``data/paper_results.csv`` when it has them, else from ``data/paper_results_parts/coleaf.csv``."""
    frame = None
    if PAPER_MERGED.is_file():
        merged = pd.read_csv(PAPER_MERGED)
        merged = merged[merged["paper"] == "CoLeaF"]
        frame = merged if len(merged) else None
    if frame is None:
        frame = pd.read_csv(PAPER_PART)
    return frame if table is None else frame[frame["table"] == table].reset_index(drop=True)



ABLATION_METRICS = ("segment/Ao", "segment/Vo", "segment/AV", "event/Ao", "event/Vo", "event/AV")

#: Each component's effect as (label, with-variant, without-variant); the paper's effect is the difference of
#: the two variants' paper rows in the table where both appear.
EFFECTS: tuple[tuple[str, str, str], ...] = (
    ("L_Evt vs no contrastive term (Table 2)", "full", "no_evt"),
    ("L_Evt vs standard NCE (Table 2)", "full", "evt_nce"),
    ("L_Evt vs BCE on pseudo-labels (Table 2)", "full", "evt_bce"),
    ("L_SelfMo (Table 3)", "full", "no_self_modality"),
    ("class tokens + L_CoCls (Table 4)", "full", "no_class_tokens_no_co_occurrence"),
    ("L_CoCls, with class tokens (Table 4)", "full", "no_co_occurrence"),
    ("class tokens, with L_CoCls (Table 4)", "full", "no_class_tokens"),
    ("CoLeaF around HAN (Table 5)", "full", "han"),
    ("cross-modal attention in HAN (Table 1 idea)", "han", "han_unimodal"),
)


def _paper_value(paper: pd.DataFrame, key: tuple[str, str, str], metric: str) -> float:
    table, method, setting = key
    hit = paper[(paper["table"] == table) & (paper["method"] == method) & (paper["setting"] == setting)
                & (paper["metric"] == metric)]
    return float(hit["value"].iloc[0]) if len(hit) else float("nan")


def _two_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns ``(metric, paper|ours|agree)``; plain columns become ``(name, "")``."""
    frame.columns = pd.MultiIndex.from_tuples([c if isinstance(c, tuple) else (c, "") for c in frame.columns])
    return frame


def compare_with_paper(results: pd.DataFrame, table: str, metrics=ABLATION_METRICS, digits: int = 1) -> pd.DataFrame:
    """One row per paper row of ``table``: the paper's number and our ``mean ± std`` over seeds per metric.

    ``results`` should already be restricted to one data source and profile.
    """
    paper = paper_numbers()
    rows = []
    for variant, spec in ABLATIONS.items():
        for key in spec.paper_rows:
            if key[0] != table:
                continue
            ours = results[results["variant"] == variant]
            row = {"paper row": f"{key[1]}: {key[2]}", "variant": variant, "seeds": int(ours["seed"].nunique())}
            for metric in metrics:
                row[(metric, "paper")] = _paper_value(paper, key, metric)
                mu, sd = ours[metric].mean(), ours[metric].std(ddof=1)
                row[(metric, "ours")] = f"{mu:.{digits}f} ± {0.0 if pd.isna(sd) else sd:.{digits}f}" if len(ours) else "-"
            rows.append(row)
    return _two_level(pd.DataFrame(rows))


def _agreement(mean: float, std: float, paper: float) -> str:
    """``yes``/``no``: our mean difference has / has not the paper's sign; ``noise`` when it is smaller than
    its own seed-to-seed std (no direction can be claimed); ``-`` without a paper number."""
    if paper != paper:  # NaN
        return "-"
    if abs(mean) < std or mean == 0:
        return "noise"
    return "yes" if mean * paper > 0 else "no"


def component_effects(results: pd.DataFrame, metrics=ABLATION_METRICS, digits: int = 1) -> pd.DataFrame:
    """Paired (same seed) differences ``with - without`` for each component of :data:`EFFECTS`, as
    ``mean ± std`` next to the paper's difference and whether the directions agree (:func:`_agreement`)."""
    paper = paper_numbers()
    rows = []
    for label, with_v, without_v in EFFECTS:
        a = results[results["variant"] == with_v].set_index("seed")
        b = results[results["variant"] == without_v].set_index("seed")
        seeds = sorted(set(a.index) & set(b.index))
        tables = {k[0] for k in ABLATIONS[with_v].paper_rows} & {k[0] for k in ABLATIONS[without_v].paper_rows}
        row = {"component": label, "seeds": len(seeds)}
        for metric in metrics:
            diff = (a.loc[seeds, metric] - b.loc[seeds, metric]) if seeds else pd.Series(dtype=float)
            paper_diff = float("nan")
            if tables:
                t = sorted(tables)[0]
                key_with = next(k for k in ABLATIONS[with_v].paper_rows if k[0] == t)
                key_without = next(k for k in ABLATIONS[without_v].paper_rows if k[0] == t)
                paper_diff = _paper_value(paper, key_with, metric) - _paper_value(paper, key_without, metric)
            mu = diff.mean() if len(diff) else float("nan")
            sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
            row[(metric, "ours")] = f"{mu:+.{digits}f} ± {sd:.{digits}f}" if len(diff) else "-"
            row[(metric, "paper")] = round(paper_diff, digits)
            row[(metric, "agree")] = _agreement(mu, sd, paper_diff) if len(diff) else "-"
        rows.append(row)
    return _two_level(pd.DataFrame(rows))

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m avvp_lib.methods.coleaf", description="CoLeaF ablation sweep")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="*", default=None)
    parser.add_argument("--out", default=str(DEFAULT_RESULTS))
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--force", action="store_true", help="retrain every run from scratch")
    parser.add_argument("--refresh", action="store_true", help="re-evaluate finished runs, rewrite their rows")
    args = parser.parse_args()
    run_ablations(args.profile, args.seeds, args.out, args.data_root, args.variants, args.force, args.device,
                  refresh=args.refresh)
