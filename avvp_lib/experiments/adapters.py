"""How one run of each course family is built, trained and scored (the adapters the catalog registers).

An adapter's ``provenance`` is what determines a run's numbers besides its data and seed (hashed into the record's
``config_hash``); ``describe`` is its data-free part (``python -m avvp_lib.experiments --show NAME``).
"""
from __future__ import annotations

import time

import torch

from avvp_lib.experiments.roots import HAN_INPUTS, STANDARD
from avvp_lib.experiments.scoring import Outcome, _score, _train_dict


def _features_key(exp) -> dict:
    """Provenance entry of the feature set (absent for ``standard``, so the standard runs keep their hashes)."""
    return {} if exp.features == STANDARD else {"features": exp.features}


def _recipe_profile(exp, profile: str) -> str:
    """The profile whose recipe a run trains with (an experiment may train the quick data with the full recipe)."""
    return exp.options.get("recipe_profile", profile)


class HANAdapter:
    """HAN + MMIL, notebook 02's model (d = 512 in every profile)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.mmil import train_config

        return train_config(profile, seed, device)

    def han_kwargs(self, exp) -> dict:
        return {**exp.options.get("han_kwargs", {}), **HAN_INPUTS[exp.features]}

    def describe(self, exp, profile, seed=0, device="cpu") -> dict:
        """The configuration and recipe of a run on ``profile`` (all of its provenance: none depends on data)."""
        from avvp_lib.models.han import HAN

        return {"method": "HAN", "han": HAN(**self.han_kwargs(exp)).config, "loss": "mmil",
                "train": _train_dict(self.recipe(_recipe_profile(exp, profile), seed, device)),
                **_features_key(exp)}

    def provenance(self, exp, ctx, seed) -> dict:
        return self.describe(exp, ctx.profile, seed, ctx.device)

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

    def describe(self, exp, profile, seed=0, device="cpu") -> dict:
        from avvp_lib.methods import coleaf as cl

        variant = exp.options["ablation"]
        config = self.config(exp)
        return {"method": cl.method_name(variant), "variant": variant, "size": cl.model_size(profile),
                "han_kwargs": cl.ABLATIONS[variant].han_kwargs,
                "coleaf": cl.coleaf_config_dict(config) if config is not None else None,
                "train": self.recipe(profile, seed, device).to_dict(), **_features_key(exp)}

    def build(self, exp, ctx, seed):
        from avvp_lib.methods import coleaf as cl
        from avvp_lib.methods.mmil import HANMethod
        from avvp_lib.models.han import HAN

        variant = exp.options["ablation"]
        if exp.features == STANDARD and not exp.options.get("coleaf_overrides"):
            return cl.build_method(variant, seed, ctx.profile)
        config = self.config(exp)  # cl.build_method with the feature set's input sizes (the Reference copies them)
        torch.manual_seed(seed)
        anchor = HAN(**cl.model_size(ctx.profile), **cl.ABLATIONS[variant].han_kwargs, **HAN_INPUTS[exp.features])
        return HANMethod(anchor) if config is None else cl.CoLeaFMethod(config, anchor=anchor)

    def config(self, exp):
        """The ablation's configuration, with ``options["coleaf_overrides"]`` applied (the released code's loss
        scales, masks or inference rule: :class:`~avvp_lib.methods.coleaf.CoLeaFConfig`)."""
        from dataclasses import replace

        from avvp_lib.methods import coleaf as cl

        config = cl.ablation(exp.options["ablation"])
        overrides = exp.options.get("coleaf_overrides")
        return replace(config, **overrides) if overrides else config

    def ensemble(self, exp, ctx, seeds) -> list[Outcome]:
        """Every seed of ``seeds`` trained as one vmapped model (:func:`avvp_lib.ensemble.fit_ensemble`)."""
        from avvp_lib.ensemble import fit_ensemble
        from avvp_lib.methods.coleaf import build_method

        if exp.features != STANDARD or exp.options.get("coleaf_overrides"):
            raise ValueError(f"{exp.name}: the seed-ensemble engine runs the standard features and the ablation rows "
                             f"as they are only")
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

    def describe(self, exp, profile, seed=0, device="cpu", generator=None) -> dict:
        """``generator``: the hash of the pretrained generators' configuration on a data root (provenance); without
        a root, their pretraining recipe."""
        from avvp_lib.methods.uwav import stage2_han
        from avvp_lib.pseudo_labels import generator_kwargs, pretrain_config

        tc = self.recipe(_recipe_profile(exp, profile), seed, "cpu").to_dict()
        tc.pop("device")
        han = stage2_han(exp.options.get("han_profile", profile), **self.stage2_kwargs(exp, profile)).config
        if generator is None:
            generator = {"pretrained on": "the data root's UnAV-100 streams", "generator": generator_kwargs(profile),
                         "train": _train_dict(pretrain_config(profile, 0, device)), **self.select_kwargs(exp)}
        labels = self.label_source(exp)
        return {"variant": exp.variant, "uwav": exp.config.to_dict(), "train": tc, "generator": generator,
                "han": han, **_features_key(exp), **({"pseudo_labels": labels} if labels else {})}

    def label_source(self, exp) -> dict:
        """``{}`` for UWAV's own pseudo-labels (the pretrained generators'); ``{"source": ..., "rule": ...}`` when
        ``options["pseudo_labels"]`` trains the same stage 2 on another source (``zero_shot`` + ``val_best_f1``:
        VALOR's per-segment CLIP/CLAP pseudo-labels, the matched comparison of UWAV's idea)."""
        return dict(exp.options.get("pseudo_labels", {}))

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.pseudo_labels import generator_run_dir
        from avvp_lib.results import config_hash

        _, gen = generator_run_dir(ctx.root, ctx.profile, 0, **self.select_kwargs(exp))
        return self.describe(exp, ctx.profile, seed, ctx.device, generator=config_hash(gen))

    def select_kwargs(self, exp) -> dict:
        """``{"select": rule}`` when ``options["generator_select"]`` names a best-epoch rule of the generators'
        pretraining other than the default (:data:`avvp_lib.pseudo_labels.GENERATOR_SELECT_RULES`), else ``{}``."""
        from avvp_lib.pseudo_labels import GENERATOR_SELECT

        select = exp.options.get("generator_select", GENERATOR_SELECT)
        return {} if select == GENERATOR_SELECT else {"select": select}

    def stage2_kwargs(self, exp, profile) -> dict:
        """Keywords of :func:`~avvp_lib.methods.uwav.stage2_han` besides the profile: the feature set's input sizes
        and ``released=True`` wherever the full profile's HAN is built (FFN 2048 and the 2-layer audio MLP, as
        released; ``options["released_han"]`` overrides). The quick profile's HAN is our shrink (README, deviations)."""
        released = exp.options.get("released_han", exp.options.get("han_profile", profile) == "full")
        return {**({"released": True} if released else {}), **HAN_INPUTS[exp.features]}

    def han_profile(self, exp, ctx) -> str:
        """Whose stage-2 HAN size to build (``uwav/uwav@released-han`` trains the full profile's on quick data)."""
        return exp.options.get("han_profile", ctx.profile)

    def bundle(self, exp, ctx):
        from avvp_lib.pseudo_labels import pseudo_label_bundle

        labels = self.label_source(exp)
        source, rule = labels.get("source", "uwav"), labels.get("rule", exp.config.threshold_rule)
        select = self.select_kwargs(exp)
        key = ("uwav-bundle", rule) + tuple(select.values())  # the default key is the one used before the option
        key = key if source == "uwav" else key + (source,)
        return ctx.cached(key, lambda: pseudo_label_bundle(ctx.root, source, rule, ctx.profile, 0, ctx.device,
                                                           **select))

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
        method = build_method(bundle, exp.config, self.han_profile(exp, ctx), **self.stage2_kwargs(exp, ctx.profile))
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
    """LINK's network on a feature set with VALOR's zero-shot CLIP/CLAP segment pseudo-labels (``methods.link``).

    ``exp.options["link_variant"]`` names the LINK variant; ``exp.options["spec"]`` (optional) a named spec and
    recipe of :data:`avvp_lib.methods.link.SPECS` (``"valor-released"``: VALOR as its authors released it,
    :func:`~avvp_lib.methods.link.valor_spec` + :func:`~avvp_lib.methods.link.valor_train_config`). Without
    ``"spec"`` everything (spec, recipe, provenance and its hash) is what it was before the option existed.
    """

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.methods.link import train_config

        return train_config(profile, seed, device)

    def recipe_for(self, exp, profile, seed, device="auto"):
        """The recipe of ``exp`` (its named spec's when ``options["spec"]`` is set, else :meth:`recipe`)."""
        from avvp_lib.methods.link import recipe_named

        name = exp.options.get("spec")
        profile = _recipe_profile(exp, profile)  # valor/main@full-recipe: the full schedule on quick data
        return self.recipe(profile, seed, device) if name is None else recipe_named(name, profile, seed, device)

    def spec(self, exp, profile):
        """The :class:`~avvp_lib.methods.link.LinkSpec` ``exp`` builds on ``profile``."""
        from avvp_lib.methods.link import spec_named

        return spec_named(exp.options.get("spec"), exp.options["link_variant"], profile, exp.features)

    def inputs(self, ctx):
        from avvp_lib.data.features import load_prompt_embeddings
        from avvp_lib.methods.link import calibrated_thresholds, load_link_data

        def load():
            data = load_link_data(ctx.root)
            prompts = load_prompt_embeddings(ctx.root)
            return data, prompts, calibrated_thresholds(data["val"], prompts)

        return ctx.cached("link", load)

    def describe(self, exp, profile, seed=0, device="cpu", thresholds=None) -> dict:
        """``thresholds``: the zero-shot pseudo-label thresholds calibrated on a data root's validation split."""
        shown = ("calibrated on the data root's validation split" if thresholds is None else
                 {k: [round(float(x), 4) for x in v] for k, v in thresholds.items()})
        name = exp.options.get("spec")
        return {"spec": self.spec(exp, profile).to_dict(),
                "train": _train_dict(self.recipe_for(exp, profile, seed, device)), "thresholds": shown,
                **({} if name is None else {"spec_name": name})}

    def provenance(self, exp, ctx, seed) -> dict:
        _, _, thresholds = self.inputs(ctx)
        return self.describe(exp, ctx.profile, seed, ctx.device, thresholds)

    def build(self, exp, ctx, seed):
        from avvp_lib.methods.link import build_method

        _, prompts, thresholds = self.inputs(ctx)
        spec = self.spec(exp, ctx.profile) if exp.options.get("spec") is not None else None
        return build_method(exp.options["link_variant"], prompts, thresholds, ctx.profile, seed, exp.features,
                            spec=spec)

    def train(self, exp, ctx, seed, run_dir, retrain=False, data=None):
        from avvp_lib.train import load_or_fit

        splits = data or self.inputs(ctx)[0]
        method = self.build(exp, ctx, seed)
        result = load_or_fit(method, splits["train"], splits["val"], self.recipe_for(exp, ctx.profile, seed, ctx.device),
                             run_dir, retrain=retrain, progress=None)
        return method, result, splits["test"]


class PseudoLabelAdapter:
    """UWAV Table 3: one pseudo-label source scored on the test split (no model is trained here; the UWAV
    sources use the generators pretrained with the run's seed, cached under ``runs/uwav/``)."""

    def recipe(self, profile, seed, device="auto"):
        from avvp_lib.pseudo_labels import pretrain_config

        return pretrain_config(profile, seed, device)

    def describe(self, exp, profile, seed=0, device="cpu", generator=None) -> dict:
        from avvp_lib.pseudo_labels import generator_kwargs, pretrain_config

        if generator is None and exp.options["source"] == "uwav":
            generator = {"pretrained on": "the data root's UnAV-100 streams", "generator": generator_kwargs(profile),
                         "train": _train_dict(pretrain_config(profile, seed, device))}
        return {"source": exp.options["label"], "rule": exp.options["rule"], "generator": generator}

    def provenance(self, exp, ctx, seed) -> dict:
        from avvp_lib.pseudo_labels import generator_run_dir

        generator = generator_run_dir(ctx.root, ctx.profile, seed)[1] if exp.options["source"] == "uwav" else None
        return self.describe(exp, ctx.profile, seed, ctx.device, generator)

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
#: adapters whose provenance states everything they build (any other adapter class is named in its runs' hash)
COURSE_ADAPTER_TYPES = (HANAdapter, CoLeaFAdapter, UWAVAdapter, LinkAdapter, PseudoLabelAdapter)
