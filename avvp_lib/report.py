"""Results tables, paper blocks and figures, regenerated from ``results/*.csv`` without training.

The main tables in the papers' layouts (CoLeaF Table 6, UWAV Table 1 / LINK Table I), the papers' own numbers as
a separate block, the compute table, old-vs-new metric gaps, per-class F1 and the grid's intervals from the saved test
predictions, and their figures. :func:`regenerate` writes them all; ``python -m avvp_lib.report`` (``make results``)
runs it. The rows themselves (schema, atomic writes,
staleness, mean +- std) live in :mod:`avvp_lib.results`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from avvp_lib import paths
from avvp_lib.metrics import METRIC_KEYS
from avvp_lib.paper import component_effects, paper_results_all
from avvp_lib.results import (RESULT_COLUMNS, RESULTS_DIR, TABLE6_COLUMNS, flag_stale, mean_std_table, read_results,
                              run_group_keys, summarize, write_csv_atomic)


# =============================================================================================
# Main tables, paper blocks and figures regenerated from results/*.csv
# =============================================================================================
#: UWAV Table 1 / LINK Table I: the five classic metrics at segment and event level
TABLE1_COLUMNS = ("A", "V", "AV", "Type@AV", "Event@AV")
LAYOUTS = {"coleaf6": TABLE6_COLUMNS, "table1": TABLE1_COLUMNS}
#: which paper tables use each layout: (paper key, table) pairs of data/paper_results*.csv
PAPER_TABLES = {"coleaf6": (("CoLeaF", "6"),), "table1": (("UWAV", "1"), ("LINK", "I"))}
#: display order of the methods of the main sweep
METHOD_ORDER = ("HAN", "CoLeaF", "UWAV", "VALOR", "LINK")
TABLES_DIR = RESULTS_DIR / "tables"
FIGURES_DIR = paths.COMMITTED_FIGURE_DIR


def read_all_results(results_dir: str | Path = RESULTS_DIR) -> dict[str, pd.DataFrame]:
    """Every course table of the registry present in ``results_dir``, by name (stale rows flagged). Tables of
    methods registered outside the course catalog are left out, so a method of your own never changes what the
    notebooks print.

    A table that is there but cannot be read (not CSV, empty, a missing column or field) is an error naming
    the file - never skipped: a report that leaves a table out must not look complete."""
    from avvp_lib.experiments import tables

    out = {}
    for name in tables(course_only=True):
        path = Path(results_dir) / f"{name}.csv"
        if path.exists():
            out[name] = flag_stale(read_results(path))
    return out


def _order(frame: pd.DataFrame, column: str = "method") -> pd.DataFrame:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return frame.assign(_o=frame[column].map(lambda m: rank.get(m, len(rank)))).sort_values(
        ["_o"], kind="stable").drop(columns="_o")


def main_table(frame: pd.DataFrame, layout: str = "coleaf6", by=("method",), digits: int = 1,
               bold: bool = True, show_stale: bool = True) -> pd.DataFrame:
    """A paper-format table of our runs: ``mean ± std`` over seeds, the best mean of each column in bold.

    ``layout``: ``"coleaf6"`` (CoLeaF Table 6: A, Ao, V, Vo, AV, Type@, Type@o, Event@, Event@o) or
    ``"table1"`` (UWAV Table 1 / LINK Table I: A, V, AV, Type@, Event@), each at segment and event
    level (two-level columns). Rows: one per ``by`` group and data source/profile; the ``source``
    column labels every row's data (``ours: <data>, <profile>, n seeds``). Bold (``**x**``) marks the
    best mean per column among rows of the same data source and profile. With ``show_stale`` and a
    ``stale`` column (:func:`flag_stale`), the source also says how many of a row's runs are stale.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r}; expected one of {sorted(LAYOUTS)}")
    metrics = [f"{lvl}/{c}" for lvl in ("segment", "event") for c in LAYOUTS[layout]]
    summary = _order(summarize(frame, metrics, by=tuple(by) + ("data", "profile")), by[0])
    out = pd.DataFrame(index=pd.Index([" / ".join(str(r[b]) for b in by) for _, r in summary.iterrows()],
                                      name=" / ".join(by)))
    stale = (frame.groupby(list(by) + ["data", "profile"], sort=False)["stale"].sum()
             if show_stale and "stale" in frame.columns else None)
    labels = []
    for r in summary.itertuples():
        label = f"ours: {r.data}, {r.profile}, {int(r.seeds)} seed{'s' if r.seeds != 1 else ''}"
        n_stale = 0 if stale is None else int(stale.loc[tuple(getattr(r, b) for b in by) + (r.data, r.profile)])
        labels.append(label + (f", {n_stale} stale" if n_stale else ""))
    out[("", "source")] = labels
    for m in metrics:
        mean, std = summary[f"{m} mean"].to_numpy(), summary[f"{m} std"].to_numpy()
        cells = [f"{mu:.{digits}f}" if n == 1 else f"{mu:.{digits}f} ± {sd:.{digits}f}"  # one seed: no spread to show
                 for mu, sd, n in zip(mean, std, summary["seeds"])]
        if bold:
            for _, idx in summary.reset_index(drop=True).groupby(["data", "profile"]).groups.items():
                idx = list(idx)
                best = max(round(mean[i], digits) for i in idx)
                for i in idx:
                    if len(idx) > 1 and round(mean[i], digits) == best:
                        cells[i] = f"**{cells[i]}**"
        level, name = m.split("/")
        out[(level, name)] = cells
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def paper_table(layout: str = "coleaf6", paper: pd.DataFrame | None = None, digits: int = 1) -> pd.DataFrame:
    """The papers' reported numbers in the same layout (a separate block: real LLP, single runs).

    Rows: ``<method> (<paper> Table <t>[, setting])``; the ``source`` column names the paper and table.
    Metrics a paper does not report are empty.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r}; expected one of {sorted(LAYOUTS)}")
    paper = paper_results_all() if paper is None else paper
    metrics = [f"{lvl}/{c}" for lvl in ("segment", "event") for c in LAYOUTS[layout]]
    blocks = []
    for key, table in PAPER_TABLES[layout]:
        sub = paper[(paper.paper_key == key) & (paper.table_key == table) & paper.metric.isin(metrics)]
        if sub.empty:
            continue
        wide = sub.pivot_table(index=["method", "setting"], columns="metric", values="value", aggfunc="first",
                               sort=False)
        many_settings = wide.reset_index().groupby("method").size().max() > 1
        for (method, setting), values in wide.iterrows():
            name = f"{method} ({key} Table {table}" + (f", {setting})" if many_settings else ")")
            row = {("", "source"): f"paper: {key} Table {table}, real LLP (reported)"}
            for m in metrics:
                v = values.get(m)
                row[tuple(m.split("/"))] = "" if v is None or pd.isna(v) else f"{v:.{digits}f}"
            blocks.append(pd.Series(row, name=name))
    if not blocks:
        return pd.DataFrame()
    out = pd.DataFrame(blocks)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    out.index.name = "paper row"
    return out


def compute_table(compute: pd.DataFrame, paper: pd.DataFrame | None = None, digits: int = 2) -> pd.DataFrame:
    """Parameters, training seconds per epoch and test-split inference seconds (median over seeds: robust to
    a run that shared the machine with other jobs), with
    UWAV Table A5's reported numbers (RTX 3090, real LLP) as separately labelled rows."""
    group = ["method", "variant", "data", "profile", "device"]
    ours = compute.groupby(group, sort=False).agg(params=("params", "first"), seeds=("seed", "nunique"),
                                                  epochs=("epochs", "first"),
                                                  train_seconds_per_epoch=("train_seconds_per_epoch", "median"),
                                                  inference_seconds=("inference_seconds", "median"),
                                                  test_videos=("test_videos", "first")).reset_index()
    ours = _order(ours)
    rows = [{"method": r.method, "source": f"ours: {r.data}, {r.profile}, {r.device}, "
                                           f"{r.seeds} seed{'s' if r.seeds != 1 else ''}",
             "params (M)": round(r.params / 1e6, 2), "epochs": int(r.epochs),
             "train s / epoch": round(r.train_seconds_per_epoch, digits),
             "inference s (test)": round(r.inference_seconds, digits), "test videos": int(r.test_videos)}
            for r in ours.itertuples()]
    paper = paper_results_all() if paper is None else paper
    a5 = paper[(paper.paper_key == "UWAV") & (paper.table_key == "A5")]
    for (method, setting), sub in a5.groupby(["method", "setting"], sort=False):
        v = sub.set_index("metric")["value"]
        rows.append({"method": method, "source": f"paper: UWAV Table A5 ({setting}, reported)",
                     "params (M)": v.get("params_millions", float("nan")), "epochs": float("nan"),
                     "train s / epoch": v.get("train_seconds_per_epoch", float("nan")),
                     "inference s (test)": v.get("inference_seconds", float("nan")),
                     "test videos": float("nan")})
    out = pd.DataFrame(rows).set_index("method")
    return out.astype({"epochs": "Int64", "test videos": "Int64"})


def to_markdown(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured markdown table (two-level columns joined as ``level metric``), no extra dependency."""
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(str(x) for x in c if str(x)) for c in frame.columns]
    if index:
        frame = frame.reset_index()
    cells = [[("" if pd.isna(v) else str(v)) for v in row] for row in frame.astype(object).values]
    head = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def write_table(frame: pd.DataFrame, name: str, title: str, out_dir: str | Path = TABLES_DIR) -> tuple[Path, Path]:
    """``<out_dir>/<name>.md`` (title + table) and ``<out_dir>/<name>.csv`` (flattened columns)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"{name}.md"
    md.write_text(f"### {title}\n\n{to_markdown(frame)}")
    flat = frame.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [" ".join(str(x) for x in c if str(x)) for c in flat.columns]
    csv = out_dir / f"{name}.csv"
    write_csv_atomic(flat.reset_index(), csv)
    return md, csv


def stale_summary(all_results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per results file and how many were written by other code versions than the current one."""
    return pd.DataFrame([{"file": f"results/{stem}.csv", "rows": len(f), "stale rows": int(f.stale.sum()),
                          "code versions": f.code_version.nunique()} for stem, f in all_results.items()])


def old_vs_new_gap(frame: pd.DataFrame, by=("method", "variant"), level: str = "segment") -> pd.DataFrame:
    """Seed means of A, Ao, V, Vo and the gaps A - Ao, V - Vo (CoLeaF Sec. 4) per group (and feature set)."""
    cols = [f"{level}/{c}" for c in ("A", "Ao", "V", "Vo")]
    s = frame.groupby(list(run_group_keys(frame, by)) + ["data", "profile"], sort=False, dropna=False)[cols].mean()
    s[f"{level}/A - Ao"] = s[cols[0]] - s[cols[1]]
    s[f"{level}/V - Vo"] = s[cols[2]] - s[cols[3]]
    return s.reset_index()



def metric_disagreements(table: pd.DataFrame, old: str, new: str, name_column: str = "name",
                         tol: float = 1.0) -> pd.DataFrame:
    """CoLeaF's "Analysis of Metrics" on any set of runs: pairs that look alike on ``old`` but not on ``new``.

    ``table``: one row per run group (or paper method) with a ``name_column`` and the two metric columns.
    Returns every pair ``(x, y)`` with ``|old_x - old_y| <= tol`` or whose order flips between the two
    metrics, with both differences and ``flip`` (True when ``old`` and ``new`` rank them oppositely),
    sorted by ``|new_x - new_y|`` (largest first).
    """
    rows = []
    recs = table[[name_column, old, new]].dropna().to_dict("records")
    for i, x in enumerate(recs):
        for y in recs[i + 1:]:
            d_old, d_new = x[old] - y[old], x[new] - y[new]
            flip = d_old * d_new < 0
            if abs(d_old) <= tol or flip:
                if d_new < 0:  # orient each pair so that x is the better one on the new metric
                    x_, y_, d_old, d_new = y, x, -d_old, -d_new
                else:
                    x_, y_ = x, y
                rows.append({"x": x_[name_column], "y": y_[name_column], f"{old} x - y": round(d_old, 2),
                             f"{new} x - y": round(d_new, 2), "flip": bool(flip)})
    out = pd.DataFrame(rows, columns=["x", "y", f"{old} x - y", f"{new} x - y", "flip"])
    return out.sort_values(f"{new} x - y", ascending=False, key=abs, kind="stable").reset_index(drop=True)

# ------------------------------------------------------------------------ predictions -> numbers
def prediction_runs(profile: str | None = None, data: str | None = None, current_rows: pd.DataFrame | None = None,
                    folder: str | Path = paths.PREDICTIONS_DIR) -> pd.DataFrame:
    """Saved test predictions (``results/predictions``): one row per file (``name, method, variant, features,
    seed, ..., path``); with ``current_rows``, only files whose (name, seed, config_hash) has a row there, with
    the row's ``method`` label."""
    from avvp_lib.predictions import saved_predictions

    index = saved_predictions(profile, data, folder)
    if current_rows is not None and len(index):
        labels = {(str(n), str(s), str(h)): m for n, s, h, m in
                  current_rows[["name", "seed", "config_hash", "method"]].astype(str).values}
        keys = [(str(n), str(s), str(h)) for n, s, h in index[["name", "seed", "config_hash"]].values]
        index = index[np.array([k in labels for k in keys], dtype=bool)].copy()
        index["method"] = [labels[k] for k in keys if k in labels]
    return _order(index.reset_index(drop=True))


def per_class_f1_by_method(index: pd.DataFrame, level: str = "segment") -> pd.DataFrame:
    """Per-class F1 (pooled over the test split, mean over seeds) per method and modality: rows
    ``<method> audio`` / ``<method> visual``, columns the 25 classes."""
    from avvp_lib.data.annotations import LLP_CLASSES
    from avvp_lib.metrics import per_class_f1
    from avvp_lib.predictions import load_predictions

    rows = {}
    for method, sub in index.groupby("method", sort=False):
        per_seed = []
        for path in sub.path:
            p = load_predictions(path)
            per_seed.append([per_class_f1(p["pred_a"], p["gt_a"], level), per_class_f1(p["pred_v"], p["gt_v"], level)])
        mean = np.nanmean(np.array(per_seed), axis=0)
        rows[f"{method} audio"], rows[f"{method} visual"] = mean[0], mean[1]
    return pd.DataFrame(rows, index=list(LLP_CLASSES)).T


# --------------------------------------------------------------------------------------- figures
def figure_main_bars(frame: pd.DataFrame, source: str, level: str = "segment"):
    """Seed mean and spread (std) of the classic and CoLeaF metrics per method (and feature set):
    :func:`avvp_lib.plots.method_bars`."""
    from avvp_lib import plots

    cols = [f"{level}/{c}" for c in ("A", "Ao", "V", "Vo", "AV", "Type@AV", "Type@AVo")]
    s = _order(summarize(frame, cols, by=("method",)))
    return plots.method_bars(s, cols, source, ylabel=f"{level}-level F (%)")


def figure_old_vs_new(gap: pd.DataFrame, source: str, level: str = "segment"):
    """A vs Ao and V vs Vo per run group: the distance to the diagonal is what A / V over-count
    (:func:`avvp_lib.plots.old_vs_new_scatter`: colour = method, marker = feature set)."""
    from avvp_lib import plots

    return plots.old_vs_new_scatter(gap, source, level)


def figure_per_class_heatmap(f1: pd.DataFrame, source: str):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(11, 0.35 * len(f1) + 1.8))
    sns.heatmap(f1, ax=ax, cmap="viridis", vmin=0, vmax=100, cbar_kws={"label": "F1 (%)"}, annot=False)
    ax.tick_params(labelsize=7)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(f"Per-class segment-level F1 on test, mean over seeds ({source})")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------- engine agreement
ENGINE_METRICS = ("segment/Ao", "segment/Vo", "segment/AV", "segment/Type@AV")


def engine_agreement(sequential: pd.DataFrame, ensemble: pd.DataFrame, metrics=ENGINE_METRICS,
                     alpha: float = 0.05, digits: int = 1) -> pd.DataFrame:
    """Does training the seeds as one batched model reproduce the sequential table? Per variant and metric:
    both engines' mean ± std over seeds, the difference of the means (ensemble - sequential) and Welch's
    test over seeds (:func:`avvp_lib.stats.seed_noise_test`). Only the dropout masks differ between the
    engines, so a faithful ensemble leaves about ``alpha`` of the cells ``distinguishable`` by chance.

    Both frames: results rows of one data source and profile; variants present in only one are left out.
    """
    from avvp_lib.stats import seed_noise_test

    for name, frame in (("sequential", sequential), ("ensemble", ensemble)):
        if frame[["data", "profile"]].drop_duplicates().shape[0] > 1:
            raise ValueError(f"engine_agreement compares one data source and profile; the {name} rows mix several")
    rows = []
    for variant in [v for v in sequential.variant.unique() if v in set(ensemble.variant)]:
        a, b = sequential[sequential.variant == variant], ensemble[ensemble.variant == variant]
        for m in metrics:
            test = seed_noise_test(b[m], a[m], alpha)
            rows.append({"variant": variant, "metric": m,
                         "sequential": f"{a[m].mean():.{digits}f} ± {a[m].std(ddof=1):.{digits}f}",
                         "ensemble": f"{b[m].mean():.{digits}f} ± {b[m].std(ddof=1):.{digits}f}",
                         "diff": round(test["diff"], 2), "p": round(test["p"], 3),
                         "distinguishable": test["distinguishable"], "seeds": f"{len(a)}/{len(b)}"})
    return pd.DataFrame(rows, columns=["variant", "metric", "sequential", "ensemble", "diff", "p", "distinguishable",
                                       "seeds"])


# ------------------------------------------------------------------------------- regenerate all
def regenerate(results_dir: str | Path = RESULTS_DIR, tables_dir: str | Path | None = None,
               figures_dir: str | Path = FIGURES_DIR, main_stem: str = "09_main", n_boot: int = 1000,
               verbose: bool = True) -> dict:
    """Every results table (markdown + CSV under ``results/tables/``) and ``figures/09_*.png`` from the
    results CSVs and saved predictions alone - no training. Returns ``{name: DataFrame}``.

    Everything is built in a staging folder under ``runs/`` and moved over the existing files only once the whole
    derivation succeeded: a failure (a bad record, a full disk, Ctrl-C) leaves every table and figure as it was."""
    import shutil
    import tempfile

    results_dir = Path(results_dir)
    final = {"tables": Path(tables_dir) if tables_dir is not None else results_dir / "tables",
             "figures": Path(figures_dir)}
    paths.runs_dir().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-report-", dir=paths.runs_dir()))
    try:
        made = _regenerate_into(results_dir, staging / "tables", staging / "figures", main_stem, n_boot, verbose,
                                shown_tables=final["tables"])
        for kind, target in final.items():
            target.mkdir(parents=True, exist_ok=True)
            for path in sorted((staging / kind).glob("*")):
                shutil.move(str(path), str(target / path.name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return made


def _regenerate_into(results_dir: Path, tables_dir: Path, figures_dir: Path, main_stem: str, n_boot: int,
                     verbose: bool, shown_tables: Path | None = None) -> dict:
    """The body of :func:`regenerate`, writing into ``tables_dir`` and ``figures_dir`` (log lines name
    ``shown_tables``, where the tables end up)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    tables_dir.mkdir(parents=True, exist_ok=True)
    figures_dir.mkdir(parents=True, exist_ok=True)
    say = print if verbose else (lambda *a, **k: None)
    everything = read_all_results(results_dir)
    paper = paper_results_all()
    made: dict[str, pd.DataFrame] = {}

    def put(frame, name, title):
        made[name] = frame
        write_table(frame, name, title, tables_dir)
        say(f"[results] {paths.shown(Path(shown_tables or tables_dir) / f'{name}.md')}  ({title})")

    put(stale_summary(everything), "stale", "Results files and stale rows (written by other code versions)")
    for stem, frame in everything.items():  # every sweep CSV: mean ± std per method/variant/features, all 18 metrics
        for (data, profile), sub in frame.groupby(["data", "profile"], sort=False):
            put(mean_std_table(sub, METRIC_KEYS, by=run_group_keys(sub)), f"{stem}_{data}_{profile}",
                f"results/{stem}.csv: mean ± std over seeds ({data}, {profile} profile)")
    for (data, profile), sub in everything.get("04_coleaf_ablations", pd.DataFrame(columns=["data", "profile"])).groupby(
            ["data", "profile"], sort=False):  # notebook 04 shows the segment level of this one
        put(component_effects(sub, n_boot=n_boot, folder=results_dir / "predictions"),
            f"04_component_effects_{data}_{profile}",
            f"CoLeaF: effect of each component, with - without, 95 % two-stage bootstrap ({data}, {profile} profile)")
    for layout, label in (("coleaf6", "CoLeaF Table 6 layout"), ("table1", "UWAV Table 1 / LINK Table I layout")):
        put(paper_table(layout, paper), f"paper_{layout}",
            f"Reported in the papers ({label}; real LLP, single runs) - not our runs")
    main = everything.get(main_stem)
    if main is None:
        say(f"[results] no {paths.shown(results_dir / f'{main_stem}.csv')} yet: run python -m avvp_lib.sweeps first")
        return made
    from avvp_lib.comparisons import comparison_table
    from avvp_lib.grid import GRID_METRICS, comparison_pairs, figure_intervals, with_grid_labels

    raw, main = main, with_grid_labels(main)
    for (data, profile), sub in main.groupby(["data", "profile"], sort=False):
        tag = f"{data}_{profile}"
        source = f"{data}, {profile} profile"
        for layout, label in (("coleaf6", "CoLeaF Table 6 layout"), ("table1", "UWAV Table 1 / LINK Table I layout")):
            put(main_table(sub, layout), f"main_{layout}_{tag}",
                f"Our runs, {label} ({source}; mean ± std over seeds; best in bold)")
        gap = old_vs_new_gap(everything_frame(everything, data, profile))
        put(gap.round(2), f"old_vs_new_{tag}", f"A vs Ao and V vs Vo, every run group ({source})")
        fig = figure_main_bars(sub, source)
        fig.savefig(figures_dir / "09_main_bars.png", dpi=90, bbox_inches="tight"); plt.close(fig)
        fig = figure_old_vs_new(gap, source)
        fig.savefig(figures_dir / "09_old_vs_new.png", dpi=90, bbox_inches="tight"); plt.close(fig)
        compute_csv = results_dir / "09_compute.csv"
        if compute_csv.is_file():
            comp = read_compute(compute_csv)
            comp = comp[(comp.data == data) & (comp.profile == profile)]
            put(compute_table(comp, paper), f"compute_{tag}",
                f"Compute ({source}, our device) beside UWAV Table A5 (reported, RTX 3090, real LLP)")
        index = prediction_runs(profile, data, current_rows=sub, folder=results_dir / "predictions")
        if index.empty:
            continue
        f1 = per_class_f1_by_method(index)
        put(f1.round(1), f"per_class_f1_{tag}", f"Per-class segment F1, pooled over test, seed mean ({source})")
        fig = figure_per_class_heatmap(f1, source)
        fig.savefig(figures_dir / "09_per_class_f1.png", dpi=90, bbox_inches="tight"); plt.close(fig)
        intervals = comparison_table(raw[(raw.data == data) & (raw.profile == profile)], comparison_pairs(),
                                     GRID_METRICS, n_boot=n_boot, folder=results_dir / "predictions")
        if len(intervals):
            put(intervals.round(2), f"intervals_{tag}", f"The grid's comparisons: 95% two-stage bootstrap intervals "
                                                        f"over seeds and test videos, and verdicts ({source})")
            fig = figure_intervals(intervals, source)
            fig.savefig(figures_dir / "09_intervals.png", dpi=90, bbox_inches="tight"); plt.close(fig)
    return made


#: rows that score something other than a trained model (UWAV's pseudo-labels evaluated as predictions)
NOT_MODELS = ("pseudo-labels",)


def everything_frame(everything: dict[str, pd.DataFrame], data: str, profile: str,
                     exclude_methods=NOT_MODELS, exclude_files=None) -> pd.DataFrame:
    """All results rows of one data source and profile, across files (duplicates of a run kept once);
    rows whose ``method`` is in ``exclude_methods`` (default: pseudo-label accuracy rows) and the files
    (stems) in ``exclude_files`` are left out. The default leaves out the seed-ensemble re-run of CoLeaF's
    table (``sweeps.ENSEMBLE_TABLES``): pooled with the sequential rows it would count every configuration twice."""
    if exclude_files is None:
        from avvp_lib.sweeps import ENSEMBLE_TABLES

        exclude_files = tuple(ENSEMBLE_TABLES.values())
    frames = [f[(f.data == data) & (f.profile == profile) & ~f.method.isin(list(exclude_methods))]
              for stem, f in everything.items() if stem not in exclude_files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    allrows = pd.concat(frames, ignore_index=True)
    return allrows.drop_duplicates(["method", "variant", "seed", "config_hash"])


def read_compute(path: str | Path) -> pd.DataFrame:
    """``09_compute.csv`` (derived from the main table's records), checked like a results file."""
    from avvp_lib.experiments.derived import COMPUTE_COLUMNS

    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={"config_hash": str, "code_version": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise ValueError(f"{path}: not a well-formed compute table ({error})") from error
    missing = [c for c in COMPUTE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: compute table lacks columns {missing}")
    return frame


def main(argv: list[str] | None = None) -> int:
    """``make results``: derive ``results/*.csv`` from the records, then every table and figure. Exits non-zero
    (naming the file) when a record or table cannot be read."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m avvp_lib.report",
                                     description="Derive results/*.csv from the run records, then regenerate every "
                                                 "results table and figure, without training.")
    parser.add_argument("--results-dir", default=None,
                        help=f"default: the parent of --records-dir when given, else {paths.shown(paths.RESULTS_DIR)}")
    parser.add_argument("--figures-dir", default=str(FIGURES_DIR))
    parser.add_argument("--records-dir", default=None, help="default <results-dir>/records")
    parser.add_argument("--no-derive", action="store_true", help="use results/*.csv as they are")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (a positive integer)")
    args = parser.parse_args(argv)
    if args.results_dir is None:  # tables are derived beside their records
        args.results_dir = str(paths.tables_beside(args.records_dir) if args.records_dir else paths.RESULTS_DIR)
    if args.n_boot < 1:
        parser.error(f"--n-boot {args.n_boot}: expected a positive number of bootstrap replicates")
    if args.records_dir and not Path(args.records_dir).is_dir():
        parser.error(f"--records-dir {args.records_dir}: no such folder")
    if not Path(args.results_dir).is_dir():
        parser.error(f"--results-dir {args.results_dir}: no such folder (expected a results folder with records/ or *.csv)")
    try:
        if not args.no_derive:
            from avvp_lib.experiments.records import RecordStore
            from avvp_lib.experiments.derived import write_tables

            records = Path(args.records_dir) if args.records_dir else Path(args.results_dir) / "records"
            write_tables(RecordStore(records), args.results_dir)
            from avvp_lib.experiments import controlled

            if controlled.levels_present(folder=Path(args.results_dir) / "controlled"):  # notebook 10's tables
                controlled.write_tables(store=RecordStore(records), results_dir=args.results_dir,
                                        folder=Path(args.results_dir) / "controlled")
        else:  # the tables as they are, once they agree with the records they were derived from
            from avvp_lib.experiments.derived import check_tables
            from avvp_lib.experiments.records import RecordStore

            records = Path(args.records_dir) if args.records_dir else Path(args.results_dir) / "records"
            if records.is_dir():
                check_tables(RecordStore(records), args.results_dir)
            else:
                print(f"[results] no records folder {records}: the tables are shown as they are, not checked "
                      f"against the records they came from", file=sys.stderr)
        regenerate(args.results_dir, None, args.figures_dir, n_boot=args.n_boot)
    except ValueError as error:  # RecordError is a ValueError: a damaged record or table, named in the message
        print(f"[results] ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
