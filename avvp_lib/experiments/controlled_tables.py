"""Notebook 10's derived tables: ``results/10_controlled.csv`` (one row per hypothesis, level, configuration and seed,
with the level's measured properties) and ``results/10_controlled_effects.csv`` (each effect at each level with its
interval, and its trend over the measured x)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from avvp_lib import paths
from avvp_lib.experiments.hypotheses import HYPOTHESES, Hypothesis, frozen_value
from avvp_lib.experiments.levels import read_level

ROWS_TABLE, EFFECTS_TABLE = "10_controlled", "10_controlled_effects"


def level_rows(profile: str = "quick", store=None, folder: Path | None = None) -> pd.DataFrame:
    """``results/10_controlled.csv``: one row per hypothesis, level, configuration and seed (newest record)."""
    from avvp_lib.experiments.derived import newest, record_row
    from avvp_lib.experiments.records import RecordStore

    store = store if store is not None else RecordStore()
    latest = [r for r in newest(store.records) if r["engine"] == "sequential" and r["profile"] == profile]
    rows = []
    for h in HYPOTHESES:
        for value in h.levels:
            level = read_level(profile, h.knob, value, folder if folder is not None else paths.levels_dir())
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
                 verbose: bool = True, folder: Path | None = None) -> dict:
    """Derive both controlled tables (nothing is written unless every level file and record reads)."""
    from avvp_lib.results import write_csv_atomic

    results_dir = Path(results_dir) if results_dir is not None else paths.write_results_dir()
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
            print(f"[tables] {paths.shown(path)}: {len(frame)} rows", flush=True)
    return written
