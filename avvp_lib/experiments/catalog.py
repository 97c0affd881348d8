"""Every runnable configuration of the course, registered by name, and the result tables as lists of names.

Families and their adapters (:mod:`avvp_lib.experiments.adapters`: how one run of the family is built, trained
and scored):

* ``han/main``: HAN with the official MMIL loss and recipe (``methods.mmil``), d = 512 (notebook 02);
* ``coleaf/<ablation>``: CoLeaF's ablation rows (``methods.coleaf.ABLATIONS``; Tables 1-5), at the
  profile's width, the HAN rows of those tables included (``coleaf/han``, ``coleaf/han_unimodal``);
* ``uwav/<variant>``: HAN trained on the pretrained generators' pseudo-labels (``methods.uwav``): Table 4,
  the released code's choices, diagnostics and the alpha / W sensitivity points (Fig. A4-A5);
* ``link/<variant>``: LINK's Table II rows and two diagnostics (``methods.link``); ``valor/main`` is the
  VALOR-style baseline (``link/baseline`` under its own label: the same run, trained once);
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
    register_table(_course_table("09_main", MAIN_GRID, description="the main grid: every method x feature set (notebook 09)"))
    register_table(_course_table("09_shrink", SHRINK_EXPERIMENTS + ("han/main", "uwav/uwav"),
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
