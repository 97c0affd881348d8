"""Controlled experiments (notebook 10): each paper's hypothesis tested by turning its cause up and down.

The synthetic benchmark's knobs are causes. A :class:`Hypothesis` names one knob, its levels (the frozen value
among them; every other knob stays frozen), the registered configurations run at every level and the effects
measured there (a configuration minus its anchor, on named metrics, each with the paper's expected sign).

* Each level is a data root of its own: the frozen level is the default root (``data/synthetic/<profile>``), the
  others ``data/synthetic/controlled/<profile>-<knob>=<value>`` (``python -m avvp_lib.data.synth --knob``). The
  changed knob is recorded in ``synth_meta.json`` and so in every record's data fingerprint: levels never mix.
* Runs go through the registry (:func:`avvp_lib.experiments.runner.run`): one record each, skipped when it
  exists, so the sweep resumes; the frozen level re-uses the committed records of notebooks 04-09.
* Each level also gets a *level file* (``results/controlled/<profile>-<knob>=<value>.json``, atomic, checksummed)
  with the properties of its data that serve as the x-axis: the unaligned share of the train tracks, the
  zero-shot segment AUC of the CLIP / CLAP streams, and the test split's own unaligned share.
* ``results/10_controlled.csv`` (one row per hypothesis, level, configuration and seed: the 18 metrics and the
  level's measured properties) and ``results/10_controlled_effects.csv`` (each effect at each level with its
  95 % two-stage bootstrap interval and verdict, and its trend over the measured x with an interval) are
  derived from the records (:func:`write_tables`, also run by ``make results``).

``python -m avvp_lib.experiments.controlled --profile quick --seeds 0 1 2 --jobs 2`` (``make controlled``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from avvp_lib.experiments.levels import LEVELS_DIR, level_name, read_level, write_level_file  # noqa: F401 (re-exported)
from avvp_lib.experiments.records import RECORDS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS_TABLE, EFFECTS_TABLE = "10_controlled", "10_controlled_effects"


@dataclass(frozen=True)
class Effect:
    """``experiment - anchor`` on ``metrics``; ``expected``: the sign the paper's claim predicts per metric."""

    label: str
    experiment: str
    anchor: str
    expected: dict


@dataclass(frozen=True)
class Hypothesis:
    """``knob``: one knob of :class:`avvp_lib.data.synth.SynthKnobs`, or several joined by ``+`` set to the same value
    (``noise.clip+noise.clap``). ``unchanged``: experiments whose inputs the knob does not touch, with the feature
    folders they read: at every level their runs are the frozen level's, re-used once those folders are checked
    byte-identical (:func:`reuse_unchanged`)."""

    key: str
    claim: str
    source: str
    knob: str
    levels: tuple[float, ...]
    experiments: tuple[str, ...]
    effects: tuple[Effect, ...]
    x: str  # the measured property of a level that is the x-axis
    x_label: str
    unchanged: dict = field(default_factory=dict)


#: the feature folders a standard-feature HAN reads (VGGish, ResNet-152, R(2+1)D)
STANDARD_FOLDERS = ("vggish", "res152", "r2plus1d_18")


HYPOTHESES = (
    Hypothesis(
        "H1", "cross-modal attention hurts unaligned (audible-only / visible-only) events, the more so the more of "
              "them there are; CoLeaF's losses recover them", "CoLeaF Sec. 3, Table 1",
        "unaligned_weight", (0.1, 1.0, 4.0, 16.0), ("coleaf/han", "coleaf/han_unimodal", "coleaf/full"),
        (Effect("U+C - U", "coleaf/han", "coleaf/han_unimodal",
                {"segment/Ao": -1, "segment/Vo": -1, "segment/AV": +1, "segment/Type@AVo": -1}),
         Effect("CoLeaF - HAN", "coleaf/full", "coleaf/han", {k: +1 for k in ("segment/Ao", "segment/Vo",
                                                                             "segment/AV", "segment/Type@AVo")})),
        "train_unaligned_share", "unaligned share of the train events (measured)"),
    Hypothesis(
        "H2", "uncertainty-weighted soft pseudo-labels beat hard ones, the more so the less reliable the "
              "pseudo-labels are; the full UWAV beats VALOR", "UWAV Sec. 4",
        "noise.clip+noise.clap", (1.0, 2.0, 3.5, 6.0),
        ("pseudo-labels/uwav", "pseudo-labels/valor-style", "uwav/binary", "uwav/soft", "uwav/uwav", "valor/main"),
        (Effect("soft - hard", "uwav/soft", "uwav/binary", {"segment/Type@AV": +1, "segment/Type@AVo": +1}),
         Effect("UWAV - VALOR", "uwav/uwav", "valor/main", {"segment/Type@AV": +1, "segment/Type@AVo": +1})),
        "pseudo_label_type_av", "UWAV pseudo-labels' segment Type@AV F1 on test, as a fraction (measured)"),
    Hypothesis(
        "H3", "segment pseudo-labels help in proportion to the zero-shot quality of CLIP / CLAP, and LINK's modules "
              "add to them", "VALOR; LINK Sec. II",
        "alignment", (0.1, 0.2, 0.3, 0.45),
        ("han/main", "valor/main", "link/baseline", "link/T+S+P", "pseudo-labels/valor-style", "pseudo-labels/uwav"),
        (Effect("VALOR - HAN", "valor/main", "han/main", {"segment/Type@AV": +1, "segment/Type@AVo": +1}),
         Effect("LINK - VALOR++", "link/T+S+P", "link/baseline", {"segment/Type@AV": +1, "segment/Type@AVo": +1})),
        "zero_shot_auc", "zero-shot segment AUC of CLIP / CLAP on test (measured)",
        unchanged={"han/main": STANDARD_FOLDERS}),
)


def hypothesis(key: str) -> Hypothesis:
    for h in HYPOTHESES:
        if h.key == key:
            return h
    raise KeyError(f"unknown hypothesis {key!r}; expected one of {[h.key for h in HYPOTHESES]}")


def knob_overrides(knob: str, value: float) -> dict:
    """``{name: value}`` for each knob of ``knob`` (``a+b`` sets both)."""
    return {name: value for name in knob.split("+")}


def frozen_value(knob: str) -> float:
    """The frozen benchmark's value of ``knob`` (every knob of an ``a+b`` must share it)."""
    from dataclasses import asdict

    from avvp_lib.data.synth import SynthKnobs

    frozen = asdict(SynthKnobs())
    values = set()
    for name in knob.split("+"):
        base, _, stream = name.partition(".")
        value = frozen[base][stream] if stream else frozen[base]
        if isinstance(value, dict):
            raise ValueError(f"knob {name!r} is per stream: name one stream ({base}.<stream>)")
        values.add(float(value))
    if len(values) != 1:
        raise ValueError(f"knobs {knob!r} have different frozen values {sorted(values)}: one level cannot set them all")
    return values.pop()


def level_root(profile: str, knob: str, value: float) -> Path:
    """The frozen level is the default root; every other level a root of its own under ``data/synthetic``."""
    if value == frozen_value(knob):
        return REPO_ROOT / "data" / "synthetic" / profile
    return REPO_ROOT / "data" / "synthetic" / "controlled" / level_name(profile, knob, value)


def ensure_level(profile: str, knob: str, value: float, progress: bool = False) -> Path:
    """Generate the level's root unless a complete one with the same knobs is there."""
    from avvp_lib.data import synth

    root = level_root(profile, knob, value)
    synth.ensure(root, profile, seed=0, progress=progress, knobs=synth.knobs_with(knob_overrides(knob, value)))
    return root


# ------------------------------------------------------------------------------- measured properties
def segment_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` against binary ``truth`` over all cells (Mann-Whitney U / n1 n0,
    ties counted one half)."""
    from scipy.stats import rankdata

    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(truth).ravel() > 0
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"AUC needs positive and negative cells; got {n1} positive of {y.size}")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def measure_level(root: str | Path) -> dict:
    """The properties of a root's data that a hypothesis's x-axis reads (see the module doc)."""
    import torch

    from avvp_lib.data.dataset import load_split
    from avvp_lib.data.features import load_prompt_embeddings
    from avvp_lib.data.synth import unaligned_share

    root = Path(root)
    tracks_file = root / "diagnostics" / "train_tracks.npz"
    if not tracks_file.is_file():
        raise FileNotFoundError(f"{tracks_file}: missing (a synthetic root keeps its train tracks there)")
    tracks = np.load(tracks_file)
    test = load_split(root, "test", streams=("clipclap",))
    prompts = load_prompt_embeddings(root)
    clip = torch.einsum("ntd,cd->ntc", test.tensors["clip"], prompts["clip_text"]).numpy()
    clap = torch.einsum("ntd,cd->ntc", test.tensors["clap"], prompts["clap_text"]).numpy()
    auc_v, auc_a = segment_auc(clip, test.gt_visual.numpy()), segment_auc(clap, test.gt_audio.numpy())
    return {"train_unaligned_share": unaligned_share(tracks["audio"], tracks["visual"]),
            "test_unaligned_share": unaligned_share(test.gt_audio.numpy(), test.gt_visual.numpy()),
            "zero_shot_auc_clip": auc_v, "zero_shot_auc_clap": auc_a, "zero_shot_auc": (auc_v + auc_a) / 2}


def write_level(profile: str, knob: str, value: float, folder: Path = LEVELS_DIR) -> dict:
    """Measure a level's root and write its level file (:mod:`avvp_lib.experiments.levels`); returns the body."""
    from avvp_lib.experiments.fingerprint import data_fingerprint

    root = level_root(profile, knob, value)
    body = {"profile": profile, "knob": knob, "value": float(value), "frozen": value == frozen_value(knob),
            "root": os.path.relpath(root, REPO_ROOT), "data_fingerprint": data_fingerprint(root),
            "measured": {k: round(float(v), 6) for k, v in measure_level(root).items()}}
    write_level_file(body, folder)
    return body


def folders_digest(root: str | Path, folders) -> str:
    """SHA-256 over the names and bytes of every ``.npy`` file of ``folders`` under ``root``."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((Path(root) / folder).glob("*.npy")):
            digest.update(f"{folder}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def reuse_unchanged(h: Hypothesis, profile: str, seeds, store=None, verbose: bool = True) -> int:
    """For each experiment of ``h.unchanged``: at every non-frozen level whose folders it reads are byte-identical to
    the frozen root's (and whose labels are the same files), write its frozen-level records under the level's data
    fingerprint instead of training again (``extra["reused_from"]`` names the frozen fingerprint and the checked
    digest; the predictions file is copied). A level whose folders differ is left to the sweep. Returns the number
    of records written."""
    import shutil

    from avvp_lib.experiments.fingerprint import data_fingerprint
    from avvp_lib.experiments.predictions import PREDICTIONS_DIR, prediction_path
    from avvp_lib.experiments.records import RecordStore, make_record

    store = store if store is not None else RecordStore()
    frozen = level_root(profile, h.knob, frozen_value(h.knob))
    frozen_fp, written = data_fingerprint(frozen), 0
    for name, folders in h.unchanged.items():
        reference = folders_digest(frozen, tuple(folders) + ("annotations",))
        for value in h.levels:
            root = level_root(profile, h.knob, value)
            if root == frozen:
                continue
            fp = data_fingerprint(root)
            if folders_digest(root, tuple(folders) + ("annotations",)) != reference:
                if verbose:
                    print(f"[controlled] {name} at {h.knob}={value:g}: its inputs differ from the frozen root's; trained")
                continue
            for seed in seeds:
                sources = [r for r in store.records if r["name"] == name and r["data_fingerprint"] == frozen_fp
                           and int(r["seed"]) == int(seed) and r["engine"] == "sequential" and r["profile"] == profile]
                if not sources or store.find(sources[0]["config_hash"], fp, seed):
                    continue
                source = max(sources, key=lambda r: r["timestamp"])
                extra = {**source["extra"], "reused_from": {"data_fingerprint": frozen_fp, "inputs": list(folders),
                                                            "sha256": reference}}
                if source["extra"].get("predictions"):
                    target = prediction_path(name, profile, fp, seed, PREDICTIONS_DIR)
                    shutil.copyfile(REPO_ROOT / source["extra"]["predictions"], target)
                    extra["predictions"] = os.path.relpath(target, REPO_ROOT)
                body = {k: v for k, v in source.items() if k not in ("schema", "checksum")}
                store.write(make_record(**{**body, "data_fingerprint": fp, "extra": extra}))
                written += 1
    if verbose and written:
        print(f"[controlled] {h.key}: {written} record(s) re-used from the frozen level (inputs byte-identical)")
    return written


# ----------------------------------------------------------------------------------------- sweep
def plan(hypotheses=HYPOTHESES, profile: str = "quick", seeds=(0, 1, 2), device: str = "auto"):
    """``(tasks, levels)``: every (configuration, seed) of every level, seed-major; levels as (knob, value)."""
    from avvp_lib.experiments.executors import Task

    levels = list(dict.fromkeys((h.knob, v) for h in hypotheses for v in h.levels))
    runs = [(str(level_root(profile, k, v)), name) for h in hypotheses for (k, v) in
            ((h.knob, v) for v in h.levels) for name in h.experiments]
    runs = list(dict.fromkeys(runs))  # H2 and H3 share their levels and valor/main
    tasks = [Task(name, int(s), profile, root, device) for s in seeds for root, name in runs]
    return tasks, levels


def run_sweep(hypotheses=HYPOTHESES, profile: str = "quick", seeds=(0, 1, 2), device: str = "auto", jobs: int = 1,
              threads: int = 1) -> None:
    import time

    from avvp_lib.experiments import executors

    t0 = time.perf_counter()
    tasks, levels = plan(hypotheses, profile, seeds, device)
    for knob, value in levels:  # data first (one process): generate, measure, write the level file
        ensure_level(profile, knob, value, progress=False)
        body = write_level(profile, knob, value)
        print(f"[controlled] level {knob}={value:g}: {body['root']} {body['measured']}", flush=True)
    for h in hypotheses:
        reuse_unchanged(h, profile, seeds)
    todo = executors.pending(tasks)
    print(f"[controlled] {len(todo)} run(s) to do of {len(tasks)} ({len(levels)} levels, seeds {list(seeds)})",
          flush=True)
    executors.run_local(todo, jobs, threads)
    write_tables(profile=profile)
    print(f"[controlled] done in {time.perf_counter() - t0:.0f} s", flush=True)


# ------------------------------------------------------------------------------------ derived tables
def level_rows(profile: str = "quick", store=None, folder: Path = LEVELS_DIR) -> pd.DataFrame:
    """``results/10_controlled.csv``: one row per hypothesis, level, configuration and seed (newest record)."""
    from avvp_lib.experiments.derived import newest, record_row
    from avvp_lib.experiments.records import RecordStore

    store = store if store is not None else RecordStore()
    latest = [r for r in newest(store.records) if r["engine"] == "sequential" and r["profile"] == profile]
    rows = []
    for h in HYPOTHESES:
        for value in h.levels:
            level = read_level(profile, h.knob, value, folder)
            for r in latest:
                if r["data_fingerprint"] == level["data_fingerprint"] and r["name"] in h.experiments:
                    rows.append({"hypothesis": h.key, "knob": h.knob, "level": float(value),
                                 "frozen": bool(level["frozen"]), **level["measured"], **record_row(r)})
    return pd.DataFrame(rows)


def _x_values(rows: pd.DataFrame, h: Hypothesis) -> dict:
    """The measured x of each level: a data property, or (H2) the seed mean of the UWAV pseudo-labels' F1 as a fraction
    (every x is then in [0, 1], so every slope reads as points per unit of a share, an AUC or an F1)."""
    mine = rows[rows["hypothesis"] == h.key]
    if h.x == "pseudo_label_type_av":
        pl = mine[mine["name"] == "pseudo-labels/uwav"]
        return (pl.groupby("level")["segment/Type@AV"].mean() / 100).to_dict()
    return mine.groupby("level")[h.x].first().to_dict()


def effects_table(rows: pd.DataFrame, n_boot: int = 2000) -> pd.DataFrame:
    """Each effect at each level (two-stage bootstrap, :func:`avvp_lib.comparisons.compare`) and its trend over
    the measured x (:func:`avvp_lib.stats.trend_bootstrap`), one row per (hypothesis, effect, metric, level)
    plus a ``level = "trend"`` row (slope per unit of x and its interval)."""
    from avvp_lib.comparisons import compare, scores_for_rows
    from avvp_lib.stats import trend_bootstrap, verdict

    out = []
    for h in HYPOTHESES:
        mine = rows[rows["hypothesis"] == h.key]
        xs = _x_values(rows, h)
        for effect in h.effects:
            metrics = list(effect.expected)
            per_level, x_used = [], []
            for value in h.levels:
                at = mine[mine["level"] == value]
                if not ({effect.experiment, effect.anchor} <= set(at["name"])):
                    continue
                result = compare(at, effect.experiment, effect.anchor, metrics, paper=effect.expected, n_boot=n_boot)
                for r in result.itertuples(index=False):
                    out.append({"hypothesis": h.key, "effect": effect.label, "metric": r.metric, "level": f"{value:g}",
                                "frozen": value == frozen_value(h.knob), "x": xs.get(value), "diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high,
                                "seeds": r.seeds, "expected_sign": effect.expected[r.metric], "verdict": r.verdict})
                a = at[at["name"] == effect.experiment]
                b = at[at["name"] == effect.anchor]
                common = sorted(set(a["seed"]) & set(b["seed"]))
                per_level.append((scores_for_rows(a[a["seed"].isin(common)]),
                                  scores_for_rows(b[b["seed"].isin(common)])))
                x_used.append(xs.get(value))
            if len(per_level) >= 3 and all(x is not None for x in x_used):
                trend = trend_bootstrap(per_level, x_used, metrics, n_boot=n_boot)
                for r in trend.itertuples(index=False):
                    out.append({"hypothesis": h.key, "effect": effect.label, "metric": r.metric, "level": "trend",
                                "frozen": False, "x": None, "diff": r.slope, "ci_low": r.ci_low, "ci_high": r.ci_high,
                                "seeds": r.n_seeds, "expected_sign": None,
                                "verdict": verdict(r.ci_low, r.ci_high, None)})
    return pd.DataFrame(out)


def write_tables(profile: str = "quick", store=None, results_dir: Path | None = None, n_boot: int = 2000,
                 verbose: bool = True, folder: Path = LEVELS_DIR) -> dict:
    """Derive both controlled tables (nothing is written unless every level file and record reads)."""
    from avvp_lib.results import write_csv_atomic

    results_dir = Path(results_dir) if results_dir is not None else RECORDS_DIR.parent
    rows = level_rows(profile, store, folder)
    if rows.empty:
        return {}
    effects = effects_table(rows, n_boot)
    written = {}
    for name, frame in ((ROWS_TABLE, rows), (EFFECTS_TABLE, effects)):
        path = results_dir / f"{name}.csv"
        write_csv_atomic(frame, path)
        written[name] = path
        if verbose:
            print(f"[tables] results/{name}.csv: {len(frame)} rows", flush=True)
    return written


def levels_present(profile: str = "quick", folder: Path = LEVELS_DIR) -> bool:
    """Whether every level file of every hypothesis exists (``make results`` derives the tables only then)."""
    return all((Path(folder) / f"{level_name(profile, h.knob, v)}.json").is_file() for h in HYPOTHESES
               for v in h.levels)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.experiments.controlled",
                                     description="notebook 10's controlled experiments: generate every level, "
                                                 "run every configuration and seed, derive the tables")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hypotheses", nargs="+", default=[h.key for h in HYPOTHESES])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per run")
    parser.add_argument("--tables-only", action="store_true", help="derive the tables from the records; run nothing")
    args = parser.parse_args(argv)
    chosen = tuple(hypothesis(k) for k in args.hypotheses)
    if args.tables_only:
        write_tables(profile=args.profile)
        return
    run_sweep(chosen, args.profile, args.seeds, args.device, args.jobs, args.threads)


if __name__ == "__main__":
    main()
