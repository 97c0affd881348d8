"""The main grid of notebook 09: every method x feature set, its intervals and what they conclude.

The grid, its comparisons and the feature effects are registered in :mod:`avvp_lib.experiments.catalog`
(``MAIN_GRID``, ``GRID_COMPARISONS``, ``FEATURE_EFFECTS``); every interval comes from the one rule of
:mod:`avvp_lib.comparisons` (a two-stage bootstrap over seeds and test videos). This module only arranges
the derived results table (``results/09_main.csv``) and the saved predictions: it trains nothing.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from avvp_lib.experiments.catalog import FEATURE_EFFECTS, GRID_COMPARISONS, MAIN_GRID
from avvp_lib.experiments.registry import get

#: the two summary metrics of the grid (segment level: CoLeaF's Table 6 headline; event level: the harder one)
GRID_METRICS = ("segment/Type@AV", "segment/Type@AVo", "event/Type@AV", "event/Type@AVo")
#: the papers' direction for each anchor comparison: every paper reports its method above its anchor
PAPER_DIRECTION = {"CoLeaF - HAN": +1.0, "VALOR - HAN": +1.0, "UWAV - VALOR": +1.0, "LINK - VALOR+": +1.0}


def cell_label(name: str) -> str:
    """``coleaf/full@clip_clap`` -> ``CoLeaF``; the anchors keep their recipe (``HAN (CoLeaF recipe)``)."""
    exp = get(name)
    base = name.split("@")[0]
    return {"coleaf/han": "HAN (CoLeaF recipe)", "valor/main": "VALOR"}.get(base, exp.method)


def grid_table(main: pd.DataFrame, metrics=GRID_METRICS, digits: int = 1) -> pd.DataFrame:
    """Rows: the grid's methods; columns: (metric, feature set) as ``mean ± std`` over seeds, plus seeds and
    each cell's paper counterpart. Cells without rows are ``-``."""
    rows = []
    for name in dict.fromkeys(n.split("@")[0] for n in MAIN_GRID):
        row = {"method": cell_label(name)}
        for features, cell in (("standard", _cell(name, "standard")), ("clip_clap", _cell(name, "clip_clap"))):
            sub = main[main["name"] == cell] if cell else main.iloc[:0]
            row[("seeds", features)] = int(sub["seed"].nunique())
            for m in metrics:
                row[(m, features)] = (f"{sub[m].mean():.{digits}f} ± {sub[m].std(ddof=1):.{digits}f}" if len(sub) > 1
                                      else f"{sub[m].mean():.{digits}f}" if len(sub) else "-")
        row[("paper counterpart", "")] = "; ".join(
            f"{features}: " + ", ".join(dict.fromkeys(f"{r.paper} {r.table} {r.method}" for r in get(c).paper_rows))
            for features in ("standard", "clip_clap") if (c := _cell(name, features)) and get(c).paper_rows) or "-"
        rows.append(row)
    out = pd.DataFrame(rows).set_index("method")
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def _cell(base: str, features: str) -> str | None:
    """The grid's experiment name for a base name on a feature set (None when the grid has no such cell)."""
    for name in MAIN_GRID:
        if name.split("@")[0] == base and get(name).features == features:
            return name
    return None


def comparison_pairs() -> list[tuple[str, str, str, dict | None]]:
    """``(label, experiment, anchor, paper direction)`` for every anchor comparison and feature effect."""
    pairs = []
    for label, name, anchor in GRID_COMPARISONS:
        sign = PAPER_DIRECTION[label.split(" (")[0]]
        pairs.append((label, name, anchor, sign))
    for label, clip, standard in FEATURE_EFFECTS:
        pairs.append((f"{label}: clip_clap - standard", clip, standard, None))
    return pairs


def figure_grid(main: pd.DataFrame, source: str, metric: str = "segment/Type@AV"):
    """Bars: each method's seed mean on both feature sets, whiskers the seed std, dots the seeds."""
    bases = list(dict.fromkeys(n.split("@")[0] for n in MAIN_GRID))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.38
    for k, (features, colour) in enumerate((("standard", "#4c72b0"), ("clip_clap", "#dd8452"))):
        for i, base in enumerate(bases):
            cell = _cell(base, features)
            values = main.loc[main["name"] == cell, metric] if cell else pd.Series(dtype=float)
            x = i + (k - 0.5) * width
            if len(values):
                ax.bar(x, values.mean(), width, color=colour, label=features if i == 0 else None)
                ax.errorbar(x, values.mean(), yerr=values.std(ddof=1) if len(values) > 1 else 0, color="black",
                            capsize=3)
                ax.plot(np.full(len(values), x), values, "k.", markersize=3)
    ax.set_xticks(range(len(bases)), [cell_label(b) for b in bases], rotation=15)
    ax.set_ylabel(f"{metric} (%)")
    ax.set_title(f"The main grid: {metric}, mean ± std over seeds (data: {source})")
    ax.legend(title="features", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    lo = min(v for v in ax.get_ylim())
    ax.set_ylim(max(0, lo), None)
    fig.tight_layout()
    return fig


def figure_intervals(table: pd.DataFrame, source: str, metric: str = "segment/Type@AV"):
    """Forest plot of one metric's intervals: one line per comparison, the zero line dashed."""
    sub = table[table["metric"] == metric].iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(sub) + 1.2))
    y = np.arange(len(sub))
    colours = sub["verdict"].map({"agrees": "#2a9d8f", "contradicts": "#e76f51", "higher": "#2a9d8f",
                                  "lower": "#e76f51"}).fillna("#888888")
    ax.hlines(y, sub["ci_low"], sub["ci_high"], color=colours, linewidth=2.5)
    ax.plot(sub["diff"], y, "k|", markersize=10)
    ax.axvline(0, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, sub["comparison"])
    ax.set_xlabel(f"difference in {metric} (points), 95% two-stage bootstrap interval")
    ax.set_title(f"Which differences are real? (data: {source})")
    fig.tight_layout()
    return fig


#: every place where the quick profile shrinks a model or a schedule: (method, what, quick, paper's size,
#: experiment measuring quick-at-the-paper's-size, the quick experiment it is compared with)
SHRINKS = (
    ("HAN", "schedule", "12 epochs, StepLR(6)", "40 epochs, StepLR(10)", "han/main@full-recipe", "han/main"),
    ("UWAV", "stage-2 HAN", "1 layer, 1 head, FFN 512, linear audio projection",
     "5 layers, 16 heads, audio-then-visual, FFN 2048, audio MLP 128-1024-512", "uwav/uwav@released-han", "uwav/uwav"),
    ("UWAV", "stage-2 schedule", "6 epochs, batch 32", "80 epochs, batch 64", None, None),
    ("UWAV", "generator", "d 64, 4 heads, 10 epochs on 400 videos", "d 1024, 16 heads, 80 epochs on UnAV-100", None, None),
    ("CoLeaF", "width", "d 128, FFN 128, 20 epochs", "d 512, FFN 512, 15 epochs", None, None),
    ("VALOR", "schedule", "12 epochs, batch 32, lr 5e-4 -> 5e-6, 1 warm-up epoch",
     "60 epochs, batch 64, lr 1e-4 -> 1e-6, 10 warm-up epochs", "valor/main@full-recipe", "valor/main"),
    ("VALOR", "width", "d 256, 4 heads, FFN 512, 1 layer", "d 512, 8 heads, FFN 1024, 1 layer", None, None),
    ("VALOR+ / LINK", "width", "d 128, 4 heads, 2 layers, 12 epochs, lr 5e-4",
     "d 256, 8 heads, 4 layers, 60 epochs, lr 3e-4", None, None),
    ("all", "train videos", "1 500", "10 000 (LLP train)", None, None),
)


def shrink_listing() -> pd.DataFrame:
    """:data:`SHRINKS` as a table (which ones are measured, by which experiment)."""
    return pd.DataFrame([{"method": m, "what": w, "quick": q, "paper": p,
                          "measured by": f"{e} vs {b}" if e else "not measured (CPU budget)"}
                         for m, w, q, p, e, b in SHRINKS])


def with_grid_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``method`` replaced by the grid's label (``HAN``, ``HAN (CoLeaF recipe)``, ``VALOR``, ...), with
    `` · clip_clap`` on the CLIP/CLAP cells, so tables grouped by method keep the two feature sets apart.
    Rows of names outside the registry keep their method label."""
    from avvp_lib.experiments.registry import names

    if "name" not in frame.columns:
        return frame
    known = set(names())
    out = frame.copy()
    out["method"] = [(cell_label(n) + ("" if f == "standard" else " · clip_clap")) if n in known else m
                     for n, f, m in zip(out["name"], out["features"], out["method"])]
    return out
