"""Every runnable configuration of the course, registered by name, and the result tables as lists of names.

Families and their adapters (:mod:`avvp_lib.experiments.adapters`: how one run of the family is built, trained
and scored):

* ``han/main``: HAN with the official MMIL loss and recipe (``methods.mmil``), d = 512 (notebook 02);
* ``coleaf/<ablation>``: CoLeaF's ablation rows (``methods.coleaf.ABLATIONS``; Tables 1-5), at the
  profile's width, the HAN rows of those tables included (``coleaf/han``, ``coleaf/han_unimodal``);
* ``uwav/<variant>``: HAN trained on the pretrained generators' pseudo-labels (``methods.uwav``): Table 4,
  the released code's choices, diagnostics and the alpha / W sensitivity points (Fig. A4-A5);
* ``link/<variant>``: LINK's Table II rows and two diagnostics (``methods.link``);
* ``valor/main``: VALOR as its authors released it (``methods.link.valor_spec``: 1 layer, sequential update, mean
  segment loss, lr 1e-4 -> 1e-6, beta1 0.5); ``valor+/main``: VALOR+ (4 layers, hidden 256, lr 3e-4), the network
  LINK builds on, and ``valor+/main@clip_clap`` = VALOR++ (VALOR+ on CLAP / CLIP: ``link/baseline``'s run);
* ``pseudo-labels/<source>``: UWAV Table 3, the pseudo-labels themselves scored as predictions.

Feature sets (the main grid's second axis, ``<name>@clip_clap`` / ``<name>@standard``): ``standard`` = VGGish /
ResNet-152 / R(2+1)D, ``clip_clap`` = CLAP / CLIP / R(2+1)D (the 10 x 512 CLAP and 10 x 768 CLIP segment
embeddings of the UWAV release). Only the audio and frame encoders change; the motion stream, the recipe and the
pseudo-labels (always CLIP/CLAP zero-shot) stay.
Budget rule: every cell trains with its own paper's recipe for the profile (the same on both feature sets).
"""
from __future__ import annotations

from avvp_lib.experiments.adapters import (COLEAF_ADAPTER, HAN_ADAPTER, LINK_ADAPTER, PSEUDO_LABEL_ADAPTER,
                                           UWAV_ADAPTER)
from avvp_lib.experiments.roots import CLIP_CLAP, STANDARD
from avvp_lib.experiments.families import COURSE_FAMILIES  # noqa: F401  (declared on import)
from avvp_lib.experiments.registry import Experiment, PaperRow, Table, register, register_table


def _course_table(name: str, experiments, **kwargs) -> Table:
    """One of the course's own tables (notebooks and the report print these)."""
    return Table(name, tuple(experiments), course=True, **kwargs)


#: the main grid (notebook 09): methods x feature sets, each with its own paper's recipe. Anchors: CoLeaF vs the HAN
#: of its own recipe (``coleaf/han``), VALOR vs ``han/main``, UWAV vs VALOR (UWAV's Table 1 row), LINK vs the VALOR+ /
#: VALOR++ it builds on (LINK's Table I row) on the same features.
MAIN_GRID = ("han/main", "han/main@clip_clap", "coleaf/han", "coleaf/han@clip_clap", "coleaf/full",
             "coleaf/full@clip_clap", "valor/main", "valor/main@clip_clap", "valor+/main", "valor+/main@clip_clap",
             "uwav/uwav", "uwav/uwav@clip_clap", "link/T+S+P@standard", "link/T+S+P")
#: the grid's comparisons: (label, experiment, anchor). Each compares two papers' recipes, not one idea (the matched
#: comparisons below hold the rest fixed). VALOR+ on CLAP / CLIP is what VALOR's authors call VALOR++.
GRID_COMPARISONS = tuple(
    (f"{label} ({features})", name + suffix, anchor + suffix)
    for features, suffix in ((STANDARD, ""), (CLIP_CLAP, "@clip_clap"))
    for label, name, anchor in (("CoLeaF - HAN", "coleaf/full", "coleaf/han"), ("VALOR - HAN", "valor/main", "han/main"),
                                ("UWAV - VALOR", "uwav/uwav", "valor/main"))) + (
    ("LINK - VALOR+ (standard)", "link/T+S+P@standard", "valor+/main"),
    ("LINK - VALOR+ (clip_clap)", "link/T+S+P", "valor+/main@clip_clap"))
#: one matched comparison per paper, the one that isolates its idea: (label, experiment, anchor, what differs).
#: Same features, network, optimiser and epochs on both sides; 5 seeds each (table 09_matched).
MATCHED_COMPARISONS = (
    ("CoLeaF's losses", "coleaf/full", "coleaf/han",
     "L_Evt, L_SelfMo, class tokens and L_CoCls on CoLeaF's HAN and recipe vs that HAN alone"),
    ("VALOR's segment pseudo-labels", "valor/main", "valor/video-labels",
     "VALOR as released trained on its CLIP/CLAP segment pseudo-labels vs the same network and recipe on the video "
     "labels with HAN's loss"),
    ("UWAV's pseudo-labels and losses", "uwav/uwav", "uwav/valor-labels",
     "UWAV's stage-2 HAN and schedule on the pretrained generators' soft, re-weighted, mixed-up labels vs on VALOR's "
     "per-segment zero-shot labels with hard BCE"),
    ("LINK's modules", "link/T+S+P", "valor+/main@clip_clap",
     "TSAM + CMIM, S-LOSS and PLSIM on VALOR++ vs VALOR++ (LINK's Table II baseline), same recipe, CLAP / CLIP"),
)
#: the feature effect of each method: (label, clip_clap experiment, standard experiment)
FEATURE_EFFECTS = (("HAN", "han/main@clip_clap", "han/main"), ("HAN (CoLeaF recipe)", "coleaf/han@clip_clap", "coleaf/han"),
                   ("CoLeaF", "coleaf/full@clip_clap", "coleaf/full"), ("VALOR", "valor/main@clip_clap", "valor/main"),
                   ("VALOR+", "valor+/main@clip_clap", "valor+/main"),
                   ("UWAV", "uwav/uwav@clip_clap", "uwav/uwav"), ("LINK", "link/T+S+P", "link/T+S+P@standard"))
#: quick at the paper's size, against quick as shipped (``han/main``, ``uwav/uwav``)
SHRINK_EXPERIMENTS = ("han/main@full-recipe", "uwav/uwav@released-han", "valor/main@full-recipe")


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
    _on_features(get("valor/main"), CLIP_CLAP, (),
                 "VALOR as released on CLAP / CLIP / R(2+1)D (not a paper row: VALOR's authors ran VALOR+ there)")
    _on_features(get("valor+/main"), CLIP_CLAP, (PaperRow("LINK", "I", "VALOR++", "LLP test"),
                                                 PaperRow("UWAV", "Table A6", "VALOR", "HAN on CLIP+CLAP features")),
                 "VALOR++: VALOR+ on CLAP / CLIP / R(2+1)D (the same run as link/baseline, LINK's Table II baseline)")
    _on_features(get("uwav/uwav"), CLIP_CLAP, (PaperRow("UWAV", "Table A6", "UWAV", "HAN on CLIP+CLAP features"),))
    _on_features(get("link/T+S+P"), STANDARD, (), "LINK's modules on VGGish / ResNet-152 / R(2+1)D (not a paper row)")
    han, uwav = get("han/main"), get("uwav/uwav")
    register(replace(han, name="han/main@full-recipe", variant="main (full recipe)", paper_rows=(),
                     description="han/main trained with the full profile's schedule (40 epochs, StepLR 10)",
                     options={**han.options, "recipe_profile": "full"}))
    register(replace(uwav, name="uwav/uwav@released-han", variant="uwav (released HAN)", paper_rows=(),
                     description="uwav/uwav with the released stage-2 HAN (5 layers, 16 heads, audio then visual, "
                                 "FFN 2048, a 2-layer audio MLP 128 -> 1024 -> 512)",
                     options={**uwav.options, "han_profile": "full"}))
    register(replace(uwav, name="uwav/uwav@released-selection", variant="uwav (released generator selection)",
                     paper_rows=(), description="uwav/uwav whose generators keep the pretraining epoch with the best "
                                                "per-video audio-visual F1 on UnAV's validation split (the released "
                                                "code's rule) instead of the pooled micro F1",
                     options={**uwav.options, "generator_select": "video_av_f1"}))
    # the matched comparisons' anchors (MATCHED_COMPARISONS) and what the released code's choices change
    valor, coleaf = get("valor/main"), get("coleaf/full")
    register(replace(valor, name="valor/video-labels", variant="video labels", paper_rows=(),
                     description="valor/main's network and recipe trained on the video labels with HAN's loss (no "
                                 "pseudo-labels): the matched anchor of VALOR's idea",
                     options={**valor.options, "spec": "valor-released/video-labels"}))
    register(replace(get("uwav/binary"), name="uwav/valor-labels", variant="valor labels", paper_rows=(),
                     description="UWAV's stage-2 HAN and schedule on VALOR's per-segment zero-shot pseudo-labels with "
                                 "hard BCE (no soft labels, re-weighting or mixup): the matched anchor of UWAV's idea",
                     options={"pseudo_labels": {"source": "zero_shot", "rule": "val_best_f1"}}))
    register(replace(valor, name="valor/main@full-recipe", variant="baseline (full recipe)", paper_rows=(),
                     description="valor/main trained with the released schedule (60 epochs, batch 64, lr 1e-4 -> 1e-6, "
                                 "10 warm-up epochs) on the quick data: what the quick recipe's shrink costs",
                     options={**valor.options, "recipe_profile": "full"}))
    for suffix, spec, what in (("parallel-update", "valor-released/parallel-update",
                                "both modalities updated from the un-updated inputs (HAN's order; ours before)"),
                               ("summed-segment-loss", "valor-released/summed-segment-loss",
                                "the segment loss summed over the 10 segments (LINK's Eq. 8 as printed; ours before)")):
        register(replace(valor, name=f"valor/main@{suffix}", variant=f"baseline ({suffix})", paper_rows=(),
                         description=f"valor/main with one released choice switched back: {what}",
                         options={**valor.options, "spec": spec}))
    for suffix, overrides, what in (
            ("released-inference", {"inference": "released"},
             "the released inference rule (segment threshold 0.25, video gates 0.52, 0.7 / 0.3 mix of the outputs "
             "with and without cross-modal attention)"),
            ("released-losses", {"co_cls_scale": "released", "self_mo_video_mask": True},
             "the released loss scales and masks (L_CoCls x 1e-4 summed over classes x B with a confidence-masked "
             "teacher; L_SelfMo positives masked by the video labels)")):
        register(replace(coleaf, name=f"coleaf/full@{suffix}", variant=f"full ({suffix})", paper_rows=(),
                         description=f"coleaf/full with {what}",
                         options={**coleaf.options, "coleaf_overrides": overrides}))


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
    register(Experiment("valor/main", "VALOR", "baseline", STANDARD, lk.ALL_VARIANTS["baseline"], lk.valor_train_config,
                        LINK_ADAPTER, (PaperRow("UWAV", "Table 1", "VALOR", "LLP test, VGGish+ResNet-152+R(2+1)D"),
                                       PaperRow("CoLeaF", "Table 7", "VALOR", "video labels + CLIP/CLAP annotations")),
                        "VALOR as released (scripts/train_valor.sh): one HAN layer (hidden 512, 8 heads, FFN 1024; "
                        "quick: 256 / 4 / 512), audio then visual, on VGGish / ResNet-152 / R(2+1)D with CLIP/CLAP "
                        "zero-shot segment pseudo-labels, the segment loss averaged, AdamW lr 1e-4 -> 1e-6, beta1 0.5",
                        options={"link_variant": "baseline", "spec": "valor-released"}))
    register(Experiment("valor+/main", "VALOR+", "baseline", STANDARD, lk.ALL_VARIANTS["baseline"], LINK_ADAPTER.recipe,
                        LINK_ADAPTER, (),
                        "VALOR+ (scripts/train_valor+.sh): VALOR's network at hidden 256, 4 layers, lr 3e-4, the "
                        "network LINK builds on (LINK's modules off); not a paper row here. Our reading keeps HAN's "
                        "parallel update, the summed segment loss, beta1 0.9 and a cosine floor of 0 (README, "
                        "deviations)",
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
    register_table(_course_table("09_main", MAIN_GRID, description="the main grid: every method x feature set (notebook 09)"))
    register_table(_course_table("09_matched", tuple(dict.fromkeys(n for _, a, b, _ in MATCHED_COMPARISONS for n in (a, b))),
                                 description="one matched comparison per paper: only its idea differs (notebook 09)"))
    register_table(_course_table("09_released", ("valor/main", "valor/main@parallel-update",
                                                 "valor/main@summed-segment-loss", "coleaf/full",
                                                 "coleaf/full@released-inference", "coleaf/full@released-losses",
                                                 "uwav/uwav", "uwav/uwav@released-selection"),
                                 description="what the released code's choices change (notebook 09, README deviations)"))
    register_table(_course_table("09_shrink", SHRINK_EXPERIMENTS + ("han/main", "uwav/uwav", "valor/main"),
                         description="what the quick profile's shrinks cost: quick as shipped vs at the paper's size"))
    register_table(_course_table("04_coleaf_ablations", coleaf_names, description="CoLeaF Tables 1-5 (notebook 04)"))
    register_table(_course_table("04_coleaf_ablations_ensemble", coleaf_names, engine="seed-ensemble",
                         description="CoLeaF's table with each configuration's seeds trained as one model"))
    register_table(_course_table("05_uwav_pseudolabels", tuple(f"pseudo-labels/{s}" for s in slugs.values()),
                         description="UWAV Table 3: pseudo-label accuracy (notebook 05)"))
    register_table(_course_table("06_uwav_ablations", tuple(f"uwav/{v}" for v in {**uw.ABLATIONS, **uw.CODE_VARIANTS,
                                                                          **uw.DIAGNOSTIC_VARIANTS}),
                         description="UWAV Table 4, the released code's choices and diagnostics (notebook 06)"))
    register_table(_course_table("06_uwav_sensitivity", tuple(f"uwav/{v}" for v in uw.sensitivity_configs()),
                         description="UWAV supplementary Fig. A4-A5 (notebook 06)"))
    register_table(_course_table("07_link_ablations", tuple(f"link/{v}" for v in lk.ALL_VARIANTS),
                         description="LINK Table II and two diagnostics (notebook 07)"))


_register_all()
