"""The interval rule applied to results rows: load each run's saved test predictions, bootstrap, give a verdict.

A results row (``results/*.csv``, derived from the records) names its predictions file by its experiment name,
profile, data fingerprint and seed (:func:`avvp_lib.predictions.prediction_path`); the file's
``meta["config_hash"]`` must be the row's, otherwise it holds another run's predictions and that is an error.
:func:`compare` turns two configurations' rows into intervals (:func:`avvp_lib.stats.two_stage_bootstrap`) and
verdicts (:func:`avvp_lib.stats.verdict`); every notebook's "does A beat B?" goes through it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from avvp_lib.predictions import PREDICTIONS_DIR, find_predictions, load_predictions, prediction_path
from avvp_lib.metrics import METRIC_KEYS, exclusive_streams, per_video_scores
from avvp_lib.stats import two_stage_bootstrap, verdict

__all__ = ["scores_for_rows", "compare", "comparison_table", "format_bound", "format_interval", "claim_sentence",
           "claims_markdown", "range_sentence", "VIDEO_SUBSETS"]

#: ground-truth streams a comparison can be restricted to: the test videos whose truth holds an event of it
VIDEO_SUBSETS = {"A": lambda a, v: a, "V": lambda a, v: v, "AV": lambda a, v: a & v,
                 "Ao": lambda a, v: exclusive_streams(a, v)[0], "Vo": lambda a, v: exclusive_streams(a, v)[1]}

_CACHE: dict = {}


def _scores_of_file(path: Path, config_hash: str) -> tuple[dict, list]:
    key = (str(path), path.stat().st_mtime_ns, config_hash)
    if key not in _CACHE:
        p = load_predictions(path)
        if str(p["meta"].get("config_hash")) != str(config_hash):
            raise ValueError(f"{path}: predictions of config {p['meta'].get('config_hash')}, but the results row has "
                             f"config {config_hash} (another run's predictions; re-run the sweep)")
        gt_a, gt_v = np.asarray(p["gt_a"]).astype(bool), np.asarray(p["gt_v"]).astype(bool)
        present = {k: f(gt_a, gt_v).any(axis=(1, 2)) for k, f in VIDEO_SUBSETS.items()}
        _CACHE[key] = (per_video_scores(p["pred_a"], p["pred_v"], p["gt_a"], p["gt_v"]), p["filenames"], present)
    return _CACHE[key]


def scores_for_rows(rows: pd.DataFrame, folder: str | Path = PREDICTIONS_DIR) -> dict:
    """``{metric: (S, N)}`` per-video scores of the rows' runs (sorted by seed), plus ``"_seeds"`` and
    ``"_filenames"`` and ``"_present"`` (``{stream: (N,) bool}``: the videos whose ground truth holds an event of
    each :data:`VIDEO_SUBSETS` stream). A missing, damaged or mismatched predictions file is an error naming it."""
    if rows.empty:
        raise ValueError("no results rows to load predictions for")
    per_seed, names, seeds = [], None, []
    for row in rows.sort_values("seed").itertuples(index=False):
        path = find_predictions(row.name, row.profile, str(row.data_fingerprint), int(row.seed), str(row.config_hash),
                                Path(folder))
        if not path.is_file():
            legacy = prediction_path(row.name, row.profile, str(row.data_fingerprint), int(row.seed), Path(folder))
            raise FileNotFoundError(f"{path}: no saved predictions for {row.name} seed {row.seed} (nor {legacy.name}: "
                                    f"its run predates saved predictions, or ran on another root): re-run it with "
                                    f"--force")
        scores, filenames, present = _scores_of_file(path, str(row.config_hash))
        if names is not None and filenames != names:
            raise ValueError(f"{path}: test videos differ from the other seeds of {row.name}")
        names = filenames
        per_seed.append(scores)
        seeds.append(int(row.seed))
    out = {k: np.stack([s[k] for s in per_seed]) for k in METRIC_KEYS}
    return {**out, "_seeds": seeds, "_filenames": names, "_present": present}


def _rows(frame: pd.DataFrame, name: str, features: str | None = None) -> pd.DataFrame:
    pick = frame["name"] == name
    if features is not None:
        pick &= frame["features"] == features
    rows = frame[pick]
    if rows.empty:
        what = name if features is None else f"{name} on {features} features"
        raise KeyError(f"no results rows of {what!r}; names present: {sorted(frame['name'].unique())}")
    if rows["seed"].duplicated().any():
        raise ValueError(f"{name}: several rows per seed (filter the frame to one profile and data root first)")
    return rows


def compare(frame: pd.DataFrame, name: str, base: str, metrics=("segment/Type@AV",), paper=None,
            n_boot: int = 2000, seed: int = 0, folder: str | Path = PREDICTIONS_DIR, features: str | None = None,
            base_features: str | None = None, videos_with: str | None = None) -> pd.DataFrame:
    """``name`` minus ``base`` (experiment names) on their rows of ``frame``: one row per metric with ``diff,
    ci_low, ci_high, seeds, videos, paper, verdict``.

    Seeds are paired on the seeds both configurations have (a seed fixes the data order) when there are at least
    two; otherwise each side's seeds are resampled on their own. ``paper``: the paper's difference, one number for every metric or
    ``{metric: number}``; None when there is none (then the verdict is higher / lower / inconclusive).
    ``features`` / ``base_features`` (default: ``features``) also filter the rows on their ``features`` column,
    for frames whose names do not say the feature set. ``videos_with`` (a key of :data:`VIDEO_SUBSETS`, e.g.
    ``"Vo"``): score only the test videos whose ground truth holds an event of that stream (the same videos on both
    sides), so that the "all true negatives" rule of empty videos (notebook 08 section 6) does not enter.
    """
    a_rows = _rows(frame, name, features)
    b_rows = _rows(frame, base, features if base_features is None else base_features)
    common = sorted(set(a_rows["seed"]) & set(b_rows["seed"]))
    paired = len(common) >= 2
    if paired:  # pair on the common seeds (a seed fixes the data order); the others are left out
        a_rows, b_rows = a_rows[a_rows["seed"].isin(common)], b_rows[b_rows["seed"].isin(common)]
    a, b = scores_for_rows(a_rows, folder), scores_for_rows(b_rows, folder)
    if a["_filenames"] != b["_filenames"]:
        raise ValueError(f"{name} and {base} were scored on different test videos")
    if videos_with is not None:
        keep = a["_present"][videos_with]
        a, b = ({k: v[:, keep] if k in METRIC_KEYS else v for k, v in side.items()} for side in (a, b))
    boot = two_stage_bootstrap(a, b, list(metrics), n_boot, seed, paired_seeds=paired)
    out = []
    for r in boot.itertuples(index=False):
        p = paper.get(r.metric) if isinstance(paper, dict) else paper
        p = None if p is None or p != p else float(p)
        out.append({"metric": r.metric, "diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high,
                    "seeds": r.n_seeds, "videos": r.n_videos, "paper": p, "verdict": verdict(r.ci_low, r.ci_high, p)})
    return pd.DataFrame(out)


def comparison_table(frame: pd.DataFrame, pairs, metrics=("segment/Type@AV",), n_boot: int = 2000, seed: int = 0,
                     folder: str | Path = PREDICTIONS_DIR, features: str | None = None) -> pd.DataFrame:
    """:func:`compare` for each ``(label, name, base, paper)`` of ``pairs``, as one tidy frame (``comparison``
    first). Pairs whose rows are missing are left out; the frame's ``attrs["missing"]`` lists them."""
    parts, missing = [], []
    for label, name, base, paper in pairs:
        try:
            result = compare(frame, name, base, metrics, paper, n_boot, seed, folder, features)
        except KeyError:
            missing.append(label)
            continue
        parts.append(result.assign(comparison=label, name=name, base=base))
    columns = ["comparison", "name", "base", "metric", "diff", "ci_low", "ci_high", "seeds", "videos", "paper",
               "verdict"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    table.attrs["missing"] = missing
    return table


def format_bound(x: float, digits: int = 1, max_digits: int = 4) -> str:
    """``x`` signed with ``digits`` decimals, or with more (up to ``max_digits``) when it is not 0 but would print
    as 0 (``-0.03`` stays ``-0.03``, not ``-0.0``): a printed bound shows on which side of 0 it lies."""
    x = float(x) + 0.0  # -0.0 -> 0.0
    d = digits
    while x != 0 and d < max_digits and float(f"{x:.{d}f}") == 0:
        d += 1
    return f"{x:+.{d}f}"


def format_interval(diff: float, low: float, high: float, digits: int = 1) -> str:
    """``+1.2 [-0.3, +2.8]``. The bounds go through :func:`format_bound`, so an interval that excludes 0 never
    prints a bound of 0 (``-0.5 [-1.0, -0.03]``); the verdict is decided on the unrounded bounds
    (:func:`avvp_lib.stats.verdict`)."""
    return f"{diff:+.{digits}f} [{format_bound(low, digits)}, {format_bound(high, digits)}]"


def claim_sentence(label: str, rows: pd.DataFrame, verdict_words: dict | None = None,
                   metric_names: dict | None = None) -> str:
    """One Markdown sentence for one comparison: ``label: metric interval (verdict); ...``, from rows of
    :func:`compare` (``metric, diff, ci_low, ci_high, verdict``). ``verdict_words`` renames verdicts (e.g.
    ``{"agrees": "supports"}``); ``metric_names`` shortens metric keys (default: the part after ``/``)."""
    words, names = verdict_words or {}, metric_names or {}
    parts = [f"{names.get(r.metric, r.metric.split('/')[-1])} {format_interval(r.diff, r.ci_low, r.ci_high)} "
             f"({words.get(r.verdict, r.verdict)})" for r in rows.itertuples(index=False)]
    return f"{label}: " + "; ".join(parts) + "."


def claims_markdown(items) -> str:
    """Markdown bullets, one per ``(label, rows, note)`` of ``items``: :func:`claim_sentence` of the rows (verdicts
    "agrees" / "contradicts" read as "supports" / "contradicts", anything else as "inconclusive"), then ``note``
    (what the comparison holds fixed and what it does not)."""
    words = {"agrees": "supports", "contradicts": "contradicts", "higher": "higher", "lower": "lower"}
    lines = []
    for label, rows, note in items:
        rows = rows.assign(verdict=[words.get(v, "inconclusive") for v in rows["verdict"]])
        lines.append(f"* {claim_sentence(label, rows)}" + (f" {note}" if note else ""))
    return "\n".join(lines)



def range_sentence(label: str, rows: pd.DataFrame, trend: pd.Series | None = None, x_name: str = "x") -> str:
    """One effect over the levels of a cause, in one sentence: the smallest and largest difference, how many
    levels each verdict has (in order of first appearance), and (``trend``: a row with ``diff, ci_low, ci_high, verdict``) the slope with its
    interval. ``rows``: one row per level with ``diff, verdict``."""
    counts = rows["verdict"].value_counts()
    n = len(rows)
    said = ", ".join(f"{v} at {counts[v]} of {n}" for v in dict.fromkeys(rows["verdict"]))
    lo, hi = float(rows["diff"].min()), float(rows["diff"].max())
    text = f"{label}: {lo:+.1f} to {hi:+.1f} over the {n} levels ({said})"
    if trend is not None:
        text += (f"; slope {format_interval(trend['diff'], trend['ci_low'], trend['ci_high'])} per unit of {x_name} "
                 f"({trend['verdict']})")
    return text + "."
