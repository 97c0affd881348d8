"""Every runnable configuration of the course, registered by name, and the result tables as lists of names.

Families and their adapters (how one run of the family is built, trained and scored):

* ``han/main``: HAN with the official MMIL loss and recipe (``methods.mmil``), d = 512 (notebook 02);
* ``coleaf/<ablation>``: CoLeaF's ablation rows (``methods.coleaf.ABLATIONS``; Tables 1-5), at the
  profile's width, the HAN rows of those tables included (``coleaf/han``, ``coleaf/han_unimodal``);
* ``uwav/<variant>``: HAN trained on the pretrained generators' pseudo-labels (``methods.uwav``): Table 4,
  the released code's choices, diagnostics and the alpha / W sensitivity points (Fig. A4-A5);
* ``link/<variant>``: LINK's Table II rows and two diagnostics (``methods.link``); ``valor/main`` is the
  VALOR-style baseline (``link/baseline`` under its own label: the same run, trained once);
* ``pseudo-labels/<source>``: UWAV Table 3, the pseudo-labels themselves scored as predictions.

Feature sets (the main grid's second axis, ``<name>@clip_clap`` / ``<name>@standard``): ``standard`` = VGGish /
ResNet-152 / R(2+1)D, ``clip_clap`` = CLAP / CLIP / R(2+1)D (VALOR++'s released inputs). Only the audio and frame
encoders change; the motion stream, the recipe and the pseudo-labels (always CLIP/CLAP zero-shot) stay.
Budget rule: every cell trains with its own paper's recipe for the profile (the same on both feature sets).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from avvp_lib.experiments.registry import Experiment, PaperRow, Table, register, register_table

STANDARD, CLIP_CLAP = "standard", "clip_clap"
#: HAN-family input sizes per feature set (audio, frames); R(2+1)D (512) is fused on both
HAN_INPUTS = {STANDARD: {}, CLIP_CLAP: {"audio_dim": 512, "visual_2d_dim": 768}}


def feature_view(split, features: str):
    """A split as the HAN family reads it: ``standard`` as loaded; ``clip_clap`` with ``audio`` <- CLAP and
    ``visual_2d`` <- CLIP (``visual_3d`` kept). The tensors are shared, not copied."""
    from dataclasses import replace

    if features == STANDARD:
        return split
    t = split.tensors
    missing = {"clip", "clap", "visual_3d"} - set(t)
    if missing:
        raise ValueError(f"split {split.name!r} lacks the streams {sorted(missing)} that feature set {features!r} needs")
    view = {"audio": t["clap"], "visual_2d": t["clip"], "visual_3d": t["visual_3d"], "labels": t["labels"],
            "index": t["index"]}
    return replace(split, tensors=view)


def _features_key(exp) -> dict:
    """Provenance entry of the feature set (absent for ``standard``, so the standard runs keep their hashes)."""
    return {} if exp.features == STANDARD else {"features": exp.features}


def _recipe_profile(exp, profile: str) -> str:
    """The profile whose recipe a run trains with (an experiment may train the quick data with the full recipe)."""
    return exp.options.get("recipe_profile", profile)


@dataclass
class Outcome:
    """What one run produced: test metrics, training time, compute facts and (model runs) test predictions."""

    metrics: dict
    train_seconds: float
    extra: dict
    predictions: tuple | None = None  # (pred_a, pred_v, gt_a, gt_v, filenames)


def _train_dict(config) -> dict:
    return {k: v for k, v in config.to_dict().items() if k not in ("seed", "device")}


def _score(method, result, test, seconds_before_eval: float) -> Outcome:
    """Evaluate a trained method on the test split: the 18 metrics, inference time, size and predictions."""
    from avvp_lib.metrics import inference_rule
    from avvp_lib.train import evaluate_method, predict_split

    cuda = next(method.parameters()).is_cuda
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = predict_split(method, test)
    if cuda:
        torch.cuda.synchronize()
    inference = time.perf_counter() - t0
    metrics = evaluate_method(method, test, output=out)
    pred_a, pred_v = inference_rule(out.segment, out.video)
    epochs = max(1, len(result.history))
    extra = {"params": int(sum(p.numel() for p in method.parameters())), "epochs": epochs,
             "best_epoch": int(result.best_epoch), "inference_seconds": round(inference, 3),
             "test_videos": len(test), "threads": torch.get_num_threads(),
             "wall_seconds": round(time.perf_counter() - seconds_before_eval, 2)}
    return Outcome(metrics, float(result.train_seconds), extra,
                   (pred_a, pred_v, test.gt_audio, test.gt_visual, list(test.filenames)))


class Context:
    """One data root, profile and device, with the splits each family needs loaded once per process."""

    def __init__(self, profile: str, data_root, device: str = "auto"):
        from avvp_lib import course
        from avvp_lib.experiments.fingerprint import data_fingerprint

        cfg = course.setup(profile, data_root, 0, device)
        self.profile, self.device = profile, str(cfg["device"])
        self.root, self.source = Path(cfg["data_root"]), cfg["data_source"]
        self.fingerprint = data_fingerprint(self.root)
        self.default_root = self.root.resolve() == (course.REPO_ROOT / "data" / "synthetic" / profile).resolve()
        #: a root the course generates (the default one and notebook 10's controlled levels, all under
        #: ``data/synthetic/``): its runs' predictions are kept with the results (file names carry the fingerprint)
        self.course_root = (course.REPO_ROOT / "data" / "synthetic").resolve() in self.root.resolve().parents
        self._cache: dict = {}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def han_splits(self, features: str = STANDARD) -> dict:
        """train / val / test as the HAN family reads them on a feature set (:func:`feature_view`)."""
        from avvp_lib.data.dataset import load_split

        if features == STANDARD:
            return self.cached("han", lambda: {s: load_split(self.root, s) for s in ("train", "val", "test")})
        both = self.cached("han+clipclap", lambda: {s: load_split(self.root, s, streams=("han", "clipclap"))
                                                    for s in ("train", "val", "test")})
        return {s: feature_view(d, features) for s, d in both.items()}


# ------------------------------------------------------------------------------------- adapters
class HANAdapter:
    """HAN + MMIL, notebook 02's model (d = 512 in every profile)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.mmil import train_config

        return train_config(profile, seed, device)

    def han_kwargs(self, exp) -> dict:
        return {**exp.options.get("han_kwargs", {}), **HAN_INPUTS[exp.features]}

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.models.han import HAN

        return {"method": "HAN", "han": HAN(**self.han_kwargs(exp)).config, "loss": "mmil",
                "train": _train_dict(self.recipe(_recipe_profile(exp, ctx.profile), seed, ctx.device)),
                **_features_key(exp)}

    def build(self, exp, ctx, seed):
        from avvp_lib.methods.mmil import HANMethod

        torch.manual_seed(seed)
        return HANMethod(**self.han_kwargs(exp))

    def train(self, exp, ctx, seed, run_dir, retrain=False, data=None):
        from avvp_lib.train import load_or_fit

        splits = data or ctx.han_splits(exp.features)
        method = self.build(exp, ctx, seed)
        result = load_or_fit(method, splits["train"], splits["val"],
                             self.recipe(_recipe_profile(exp, ctx.profile), seed, ctx.device),
                             run_dir, retrain=retrain, progress=None)
        return method, result, splits["test"]

    def run(self, exp, ctx, seed, run_dir, retrain=False) -> Outcome:
        t0 = time.perf_counter()
        method, result, test = self.train(exp, ctx, seed, run_dir, retrain)
        return _score(method, result, test, t0)


class CoLeaFAdapter(HANAdapter):
    """CoLeaF's ablation rows (``methods.coleaf``), the HAN baselines of its tables included."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.coleaf import train_config

        return train_config(profile, seed, device)

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.methods import coleaf as cl

        variant = exp.options["ablation"]
        config = cl.ablation(variant)
        return {"method": cl.method_name(variant), "variant": variant, "size": cl.model_size(ctx.profile),
                "han_kwargs": cl.ABLATIONS[variant].han_kwargs,
                "coleaf": asdict(config) if config is not None else None,
                "train": self.recipe(ctx.profile, seed, ctx.device).to_dict(), **_features_key(exp)}

    def build(self, exp, ctx, seed):
        from avvp_lib.methods import coleaf as cl
        from avvp_lib.methods.mmil import HANMethod
        from avvp_lib.models.han import HAN

        variant = exp.options["ablation"]
        if exp.features == STANDARD:
            return cl.build_method(variant, seed, ctx.profile)
        config = cl.ablation(variant)  # cl.build_method with the feature set's input sizes (the Reference copies them)
        torch.manual_seed(seed)
        anchor = HAN(**cl.model_size(ctx.profile), **cl.ABLATIONS[variant].han_kwargs, **HAN_INPUTS[exp.features])
        return HANMethod(anchor) if config is None else cl.CoLeaFMethod(config, anchor=anchor)

    def ensemble(self, exp, ctx, seeds) -> list[Outcome]:
        """Every seed of ``seeds`` trained as one vmapped model (:func:`avvp_lib.ensemble.fit_ensemble`)."""
        from avvp_lib.ensemble import fit_ensemble
        from avvp_lib.methods.coleaf import build_method

        if exp.features != STANDARD:
            raise ValueError(f"{exp.name}: the seed-ensemble engine runs the standard features only")
        splits = ctx.han_splits()
        t0 = time.perf_counter()
        methods, results = fit_ensemble(lambda s: build_method(exp.options["ablation"], s, ctx.profile), list(seeds),
                                        splits["train"], splits["val"], self.recipe(ctx.profile, seeds[0], ctx.device))
        return [_score(m, r, splits["test"], t0) for m, r in zip(methods, results)]


def ensemble_provenance(provenance: dict, seeds) -> dict:
    """A sequential run's provenance plus the engine and the seed group. Member k of an ensemble sees the data
    order and initial weights of its own seed but dropout masks drawn for the whole group, so its numbers
    depend on the group and must not share a hash with a sequential run."""
    return {**provenance, "engine": "seed-ensemble", "ensemble_seeds": [int(s) for s in seeds]}


class UWAVAdapter(HANAdapter):
    """UWAV stage 2: HAN trained on the stage-1 generators' pseudo-labels (generator pretrained with seed 0)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.uwav import train_config

        return train_config(profile, seed, device)

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.pseudo_labels import generator_run_dir
        from avvp_lib.results import config_hash

        from avvp_lib.methods.uwav import stage2_han

        _, gen = generator_run_dir(ctx.root, ctx.profile, 0)
        tc = self.recipe(_recipe_profile(exp, ctx.profile), seed, "cpu").to_dict()
        tc.pop("device")
        han = stage2_han(self.han_profile(exp, ctx), **HAN_INPUTS[exp.features]).config
        return {"variant": exp.variant, "uwav": exp.config.to_dict(), "train": tc, "generator": config_hash(gen),
                "han": han, **_features_key(exp)}

    def han_profile(self, exp, ctx) -> str:
        """Whose stage-2 HAN size to build (``uwav/uwav@released-han`` trains the full profile's on quick data)."""
        return exp.options.get("han_profile", ctx.profile)

    def bundle(self, exp, ctx):
        from avvp_lib.pseudo_labels import pseudo_label_bundle

        rule = exp.config.threshold_rule
        return ctx.cached(("uwav-bundle", rule), lambda: pseudo_label_bundle(ctx.root, "uwav", rule, ctx.profile, 0,
                                                                             ctx.device))

    def train(self, exp, ctx, seed, run_dir, retrain=False, data=None):
        from avvp_lib.methods.uwav import build_method, training_targets
        from avvp_lib.pseudo_labels import cpu_threads
        from avvp_lib.train import load_or_fit, seed_everything

        splits = data or ctx.han_splits(exp.features)
        bundle = self.bundle(exp, ctx)
        if bundle.splits["train"].video_ids != splits["train"].video_ids:
            raise ValueError(f"the pseudo-labels are for {len(bundle.splits['train'].video_ids)} train videos that do "
                             f"not match the {len(splits['train'])} videos of the train split (another root?)")
        seed_everything(seed)  # HAN's initial weights depend on the seed only, not on what ran before
        method = build_method(bundle, exp.config, self.han_profile(exp, ctx), **HAN_INPUTS[exp.features])
        with cpu_threads():  # same seed, same numbers whatever the caller's thread count
            result = load_or_fit(method, splits["train"], splits["val"],
                                 self.recipe(_recipe_profile(exp, ctx.profile), seed, ctx.device),
                                 run_dir, retrain=retrain, progress=None,
                                 extra_train=training_targets(bundle, exp.config))
        return method, result, splits["test"]

    def run(self, exp, ctx, seed, run_dir, retrain=False) -> Outcome:
        from avvp_lib.pseudo_labels import cpu_threads

        t0 = time.perf_counter()
        method, result, test = self.train(exp, ctx, seed, run_dir, retrain)
        with cpu_threads():
            return _score(method, result, test, t0)


class LinkAdapter(HANAdapter):
    """LINK's network on a feature set with VALOR's zero-shot CLIP/CLAP segment pseudo-labels (``methods.link``)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.link import train_config

        return train_config(profile, seed, device)

    def inputs(self, ctx):
        from avvp_lib.data.features import load_prompt_embeddings
        from avvp_lib.methods.link import calibrated_thresholds, load_link_data

        def load():
            data = load_link_data(ctx.root)
            prompts = load_prompt_embeddings(ctx.root)
            return data, prompts, calibrated_thresholds(data["val"], prompts)

        return ctx.cached("link", load)

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.methods.link import spec_for

        _, _, thresholds = self.inputs(ctx)
        return {"spec": spec_for(exp.options["link_variant"], ctx.profile, exp.features).to_dict(),
                "train": _train_dict(self.recipe(ctx.profile, seed, ctx.device)),
                "thresholds": {k: [round(float(x), 4) for x in v] for k, v in thresholds.items()}}

    def build(self, exp, ctx, seed):
        from avvp_lib.methods.link import build_method

        _, prompts, thresholds = self.inputs(ctx)
        return build_method(exp.options["link_variant"], prompts, thresholds, ctx.profile, seed, exp.features)

    def train(self, exp, ctx, seed, run_dir, retrain=False, data=None):
        from avvp_lib.train import load_or_fit

        splits = data or self.inputs(ctx)[0]
        method = self.build(exp, ctx, seed)
        result = load_or_fit(method, splits["train"], splits["val"], self.recipe(ctx.profile, seed, ctx.device),
                             run_dir, retrain=retrain, progress=None)
        return method, result, splits["test"]


class PseudoLabelAdapter:
    """UWAV Table 3: one pseudo-label source scored on the test split (no model is trained here; the UWAV
    sources use the generators pretrained with the run's seed, cached under ``runs/uwav/``)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.pseudo_labels import pretrain_config

        return pretrain_config(profile, seed, device)

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.pseudo_labels import generator_run_dir

        source, rule = exp.options["source"], exp.options["rule"]
        generator = generator_run_dir(ctx.root, ctx.profile, seed)[1] if source == "uwav" else None
        return {"source": exp.options["label"], "rule": rule, "generator": generator}

    def run(self, exp, ctx, seed, run_dir, retrain=False) -> Outcome:
        from avvp_lib.pseudo_labels import load_or_pretrain_generator, pseudo_label_accuracy, pseudo_label_bundle

        t0 = time.perf_counter()
        source, rule = exp.options["source"], exp.options["rule"]
        seconds = 0.0
        if source == "uwav":
            _, info = load_or_pretrain_generator(ctx.root, ctx.profile, seed, ctx.device)
            seconds = float(info["train_seconds"])
        bundle = pseudo_label_bundle(ctx.root, source, rule, ctx.profile, seed, ctx.device, splits=("test",))
        pl_a, pl_v = bundle.hard("test")
        gt_a, gt_v = bundle.info["gt"]["test"]
        metrics = pseudo_label_accuracy(pl_a, pl_v, gt_a, gt_v)
        return Outcome(metrics, seconds, {"wall_seconds": round(time.perf_counter() - t0, 2),
                                          "test_videos": int(gt_a.shape[0])})


HAN_ADAPTER, COLEAF_ADAPTER, UWAV_ADAPTER = HANAdapter(), CoLeaFAdapter(), UWAVAdapter()
LINK_ADAPTER, PSEUDO_LABEL_ADAPTER = LinkAdapter(), PseudoLabelAdapter()


# -------------------------------------------------------------------------------- registrations
#: the main grid (notebook 09): methods x feature sets. Anchors: CoLeaF vs the HAN of its own recipe
#: (``coleaf/han``), VALOR vs ``han/main``, UWAV and LINK vs VALOR on the same features.
MAIN_GRID = ("han/main", "han/main@clip_clap", "coleaf/han", "coleaf/han@clip_clap", "coleaf/full",
             "coleaf/full@clip_clap", "valor/main", "valor/main@clip_clap", "uwav/uwav", "uwav/uwav@clip_clap",
             "link/T+S+P@standard", "link/T+S+P")
#: the grid's comparisons: (label, experiment, anchor)
GRID_COMPARISONS = tuple(
    (f"{label} ({features})", name + suffix, anchor + suffix)
    for features, suffix in ((STANDARD, ""), (CLIP_CLAP, "@clip_clap"))
    for label, name, anchor in (("CoLeaF - HAN", "coleaf/full", "coleaf/han"), ("VALOR - HAN", "valor/main", "han/main"),
                                ("UWAV - VALOR", "uwav/uwav", "valor/main"))) + (
    ("LINK - VALOR (standard)", "link/T+S+P@standard", "valor/main"),
    ("LINK - VALOR (clip_clap)", "link/T+S+P", "valor/main@clip_clap"))
#: the feature effect of each method: (label, clip_clap experiment, standard experiment)
FEATURE_EFFECTS = (("HAN", "han/main@clip_clap", "han/main"), ("HAN (CoLeaF recipe)", "coleaf/han@clip_clap", "coleaf/han"),
                   ("CoLeaF", "coleaf/full@clip_clap", "coleaf/full"), ("VALOR", "valor/main@clip_clap", "valor/main"),
                   ("UWAV", "uwav/uwav@clip_clap", "uwav/uwav"), ("LINK", "link/T+S+P", "link/T+S+P@standard"))
#: quick at the paper's size, against quick as shipped (``han/main``, ``uwav/uwav``)
SHRINK_EXPERIMENTS = ("han/main@full-recipe", "uwav/uwav@released-han")


def _on_features(exp: Experiment, features: str, paper_rows=(), description: str = "") -> Experiment:
    """``exp`` on the other feature set, registered as ``<name>@<features>`` (labels unchanged)."""
    from dataclasses import replace

    return register(replace(exp, name=f"{exp.name}@{features}", features=features, paper_rows=tuple(paper_rows),
                            description=description or f"{exp.description}; on the {features} features"))


def _register_grid() -> None:
    """The main grid's cells on their second feature set, and the shrink measurements."""
    from dataclasses import replace

    from avvp_lib.experiments.registry import get

    _on_features(get("han/main"), CLIP_CLAP)
    _on_features(get("coleaf/han"), CLIP_CLAP)
    _on_features(get("coleaf/full"), CLIP_CLAP)
    _on_features(get("valor/main"), CLIP_CLAP, (PaperRow("LINK", "I", "VALOR++", "LLP test"),
                                                PaperRow("UWAV", "Table A6", "VALOR", "HAN on CLIP+CLAP features")),
                 "VALOR++: VALOR on CLAP / CLIP / R(2+1)D (the same run as link/baseline)")
    _on_features(get("uwav/uwav"), CLIP_CLAP, (PaperRow("UWAV", "Table A6", "UWAV", "HAN on CLIP+CLAP features"),))
    _on_features(get("link/T+S+P"), STANDARD, (), "LINK's modules on VGGish / ResNet-152 / R(2+1)D (not a paper row)")
    han, uwav = get("han/main"), get("uwav/uwav")
    register(replace(han, name="han/main@full-recipe", variant="main (full recipe)", paper_rows=(),
                     description="han/main trained with the full profile's schedule (40 epochs, StepLR 10)",
                     options={**han.options, "recipe_profile": "full"}))
    register(replace(uwav, name="uwav/uwav@released-han", variant="uwav (released HAN)", paper_rows=(),
                     description="uwav/uwav with the released stage-2 HAN (5 layers, 16 heads, sequential)",
                     options={**uwav.options, "han_profile": "full"}))


def _register_all() -> None:
    from avvp_lib.methods import coleaf as cl
    from avvp_lib.methods import link as lk
    from avvp_lib.methods import uwav as uw
    from avvp_lib.pseudo_labels import ACCURACY_SPECS

    register(Experiment("han/main", "HAN", "main", STANDARD, None, HAN_ADAPTER.recipe, HAN_ADAPTER,
                        (PaperRow("CoLeaF", "Table 6", "HAN", "standard threshold"),
                         PaperRow("UWAV", "Table 1", "HAN", "LLP test, VGGish+ResNet-152+R(2+1)D")),
                        "HAN (Tian et al. 2020) with the official MMIL loss and recipe, d = 512"))
    register(Experiment("han/unimodal", "HAN", "unimodal", STANDARD, None, HAN_ADAPTER.recipe, HAN_ADAPTER,
                        (PaperRow("CoLeaF", "Table 1", "CMPAE", "U"),),
                        "han/main without cross-modal attention (CoLeaF Table 1's U at HAN's width; notebook 08)",
                        options={"han_kwargs": {"cross_modal": False}}))

    coleaf_rows = {
        "full": (("Table 2", "CoLeaF", "L_Evt"), ("Table 3", "CoLeaF", "with L_SelfMo"),
                 ("Table 4", "CoLeaF", "Tkn yes, CoCls yes"), ("Table 5", "HAN", "in CoLeaF"),
                 ("Table 6", "CoLeaF", "standard threshold")),
        "evt_nce": (("Table 2", "CoLeaF", "L_NCE"),), "evt_bce": (("Table 2", "CoLeaF", "L_BCE"),),
        "no_evt": (("Table 2", "CoLeaF", "-"),), "no_self_modality": (("Table 3", "CoLeaF", "without L_SelfMo"),),
        "no_co_occurrence": (("Table 4", "CoLeaF", "Tkn yes, CoCls no"),),
        "no_class_tokens": (("Table 4", "CoLeaF", "Tkn no, CoCls yes"),),
        "no_class_tokens_no_co_occurrence": (("Table 4", "CoLeaF", "Tkn no, CoCls no"),),
        "han": (("Table 5", "HAN", "plain"),), "evt_weight_1": (),
        "han_unimodal": (("Table 1", "CMPAE", "U"),),
    }
    missing = sorted(set(cl.ABLATIONS) ^ set(coleaf_rows))
    if missing:
        raise RuntimeError(f"CoLeaF ablations and their paper rows disagree on {missing}")
    for variant, spec in cl.ABLATIONS.items():
        register(Experiment(f"coleaf/{variant}", cl.method_name(variant), variant, STANDARD, spec.config,
                            COLEAF_ADAPTER.recipe, COLEAF_ADAPTER,
                            tuple(PaperRow("CoLeaF", *row) for row in coleaf_rows[variant]), spec.description, options={"ablation": variant}))

    uwav_rows = {name: (PaperRow("UWAV", "Table 4", "UWAV", name),) for name in uw.ABLATIONS}
    uwav_rows["uwav"] += (PaperRow("UWAV", "Table 1", "UWAV", "LLP test, VGGish+ResNet-152+R(2+1)D"),)
    uwav_rows["alpha=1.7"] = (PaperRow("UWAV", "Fig. A4 (text)", "UWAV", "alpha=1.7 (mixup, no re-weighting)"),)
    uwav_rows["alpha=2.0"] = (PaperRow("UWAV", "Fig. A4 (text)", "UWAV", "alpha=2.0 (mixup, no re-weighting)"),)
    uwav_rows["W=0.5"] = (PaperRow("UWAV", "Fig. A5 (text)", "UWAV", "W=0.5 (re-weighting, no mixup)"),)
    descriptions = {**{k: "UWAV Table 4 row" for k in uw.ABLATIONS},
                    **{k: "the released code's choice (not a paper row)" for k in uw.CODE_VARIANTS},
                    **{k: "diagnostic: sharper soft labels (not a paper row)" for k in uw.DIAGNOSTIC_VARIANTS},
                    **{k: "sensitivity point (supplementary Fig. A4-A5)" for k in uw.sensitivity_configs()}}
    for variant, config in {**uw.ABLATIONS, **uw.CODE_VARIANTS, **uw.DIAGNOSTIC_VARIANTS,
                            **uw.sensitivity_configs()}.items():
        register(Experiment(f"uwav/{variant}", uw.METHOD, variant, STANDARD, config, UWAV_ADAPTER.recipe, UWAV_ADAPTER,
                            uwav_rows.get(variant, ()), descriptions[variant]))

    for variant in lk.ALL_VARIANTS:
        rows = (PaperRow("LINK", "II", "LINK", variant),) if variant in lk.ABLATIONS and variant != "T+S+P" else ()
        if variant == "T+S+P":
            rows = (PaperRow("LINK", "I", "LINK", "LLP test"),)
        what = "LINK Table II row" if variant in lk.ABLATIONS else "diagnostic: one module of T alone (not a paper row)"
        register(Experiment(f"link/{variant}", lk.METHOD_NAME, variant, CLIP_CLAP, lk.ALL_VARIANTS[variant],
                            LINK_ADAPTER.recipe, LINK_ADAPTER, rows, what,
                            options={"link_variant": variant}))
    register(Experiment("valor/main", "VALOR", "baseline", STANDARD, lk.ALL_VARIANTS["baseline"], LINK_ADAPTER.recipe,
                        LINK_ADAPTER, (PaperRow("UWAV", "Table 1", "VALOR", "LLP test, VGGish+ResNet-152+R(2+1)D"),
                                       PaperRow("CoLeaF", "Table 7", "VALOR", "video labels + CLIP/CLAP annotations")),
                        "VALOR: HAN layers on VGGish / ResNet-152 / R(2+1)D trained with CLIP/CLAP zero-shot segment "
                        "pseudo-labels (LINK's network with every module off; VALOR's recipe)",
                        options={"link_variant": "baseline"}))
    _register_grid()

    slugs = {("zero_shot", "val_best_f1_agnostic"): "zero-shot", ("zero_shot", "val_best_f1"): "valor-style",
             ("uwav", "val_best_f1"): "uwav", ("uwav", "val_best_f1_agnostic"): "uwav-shared-threshold",
             ("uwav", "fixed"): "uwav-fixed-threshold"}
    paper3 = {"valor-style": PaperRow("UWAV", "Table 3", "VALOR", "pseudo-labels, LLP test"),
              "uwav": PaperRow("UWAV", "Table 3", "UWAV", "pseudo-labels, LLP test")}
    for label, source, rule in ACCURACY_SPECS:
        slug = slugs[(source, rule)]
        register(Experiment(f"pseudo-labels/{slug}", "pseudo-labels", f"{label} [{rule}]", CLIP_CLAP, None,
                            PSEUDO_LABEL_ADAPTER.recipe, PSEUDO_LABEL_ADAPTER,
                            (paper3[slug],) if slug in paper3 else (),
                            f"pseudo-labels of the test videos scored as predictions ({label}, thresholds {rule})",
                            options={"source": source, "rule": rule, "label": label}))

    coleaf_names = tuple(f"coleaf/{v}" for v in cl.ABLATIONS)
    register_table(Table("09_main", MAIN_GRID, description="the main grid: every method x feature set (notebook 09)"))
    register_table(Table("09_shrink", SHRINK_EXPERIMENTS + ("han/main", "uwav/uwav"),
                         description="what the quick profile's shrinks cost: quick as shipped vs at the paper's size"))
    register_table(Table("04_coleaf_ablations", coleaf_names, description="CoLeaF Tables 1-5 (notebook 04)"))
    register_table(Table("04_coleaf_ablations_ensemble", coleaf_names, engine="seed-ensemble",
                         description="CoLeaF's table with each configuration's seeds trained as one model"))
    register_table(Table("05_uwav_pseudolabels", tuple(f"pseudo-labels/{s}" for s in slugs.values()),
                         description="UWAV Table 3: pseudo-label accuracy (notebook 05)"))
    register_table(Table("06_uwav_ablations", tuple(f"uwav/{v}" for v in {**uw.ABLATIONS, **uw.CODE_VARIANTS,
                                                                          **uw.DIAGNOSTIC_VARIANTS}),
                         description="UWAV Table 4, the released code's choices and diagnostics (notebook 06)"))
    register_table(Table("06_uwav_sensitivity", tuple(f"uwav/{v}" for v in uw.sensitivity_configs()),
                         description="UWAV supplementary Fig. A4-A5 (notebook 06)"))
    register_table(Table("07_link_ablations", tuple(f"link/{v}" for v in lk.ALL_VARIANTS),
                         description="LINK Table II and two diagnostics (notebook 07)"))


_register_all()
