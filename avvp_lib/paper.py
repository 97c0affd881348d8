"""What the papers report, and our numbers beside theirs: the one module that compares with the papers.

* :func:`paper_results` / :func:`paper_results_all` / :func:`paper_row`: the transcribed numbers
  (``data/paper_results.csv`` completed by ``data/paper_results_parts/*.csv``; real LLP, single runs);
* per paper: :func:`coleaf_numbers`, :func:`uwav_numbers`, :func:`link_numbers`;
* CoLeaF's ablation tables beside ours (:func:`compare_with_paper`, :func:`component_effects`, whose paper rows
  come from the registry: ``avvp_lib.experiments``) and LINK's Table II (:func:`link_ablation_comparison`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from avvp_lib.paths import paper_parts_dir, paper_results_file

#: the shipped files (a checkout's ``data/``, or the copy inside an installed package: :mod:`avvp_lib.paths`)
PAPER_PARTS_DIR = paper_parts_dir()
COLEAF_PART = PAPER_PARTS_DIR / "coleaf.csv"
UWAV_PART = PAPER_PARTS_DIR / "uwav.csv"
LINK_PART = PAPER_PARTS_DIR / "link.csv"
PAPER_RESULTS = paper_results_file()


def paper_results(path: str | Path = PAPER_RESULTS) -> pd.DataFrame:
    """Numbers reported in the papers (real LLP data): ``paper, table, method, setting, metric, value``."""
    frame = pd.read_csv(path, dtype={"table": str})
    missing = [c for c in ("paper", "table", "method", "setting", "metric", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: paper results lack columns {missing}")
    return frame


def _paper_key(name: str) -> str:
    """``"CoLeaF (ECCV 2024)"`` -> ``"CoLeaF"``: the paper's short name."""
    return str(name).split(" (")[0].split()[0]


def _table_key(name) -> str:
    """``"Table 6"`` -> ``"6"``, ``"I"`` -> ``"I"``."""
    name = str(name).strip()
    return name[6:].strip() if name.lower().startswith("table ") else name


def paper_results_all(path: str | Path = PAPER_RESULTS, parts_dir: str | Path = PAPER_PARTS_DIR) -> pd.DataFrame:
    """The papers' reported numbers: ``data/paper_results.csv`` completed by ``data/paper_results_parts/*.csv``.

    Adds ``paper_key`` (short paper name) and ``table_key`` (``"Table 6"`` -> ``"6"``). For each
    (paper, table, method) the merged file wins; the part files fill in what it does not have yet.
    """
    frames = []
    merged = paper_results(path) if Path(path).is_file() else pd.DataFrame()
    if len(merged):
        frames.append(merged.assign(origin=Path(path).name))
    for part in sorted(Path(parts_dir).glob("*.csv")) if Path(parts_dir).is_dir() else []:
        frames.append(paper_results(part).assign(origin=f"paper_results_parts/{part.name}"))
    if not frames:
        raise FileNotFoundError(f"no paper results in {path} or {parts_dir}")
    frame = pd.concat(frames, ignore_index=True)
    frame["paper_key"] = frame["paper"].map(_paper_key)
    frame["table_key"] = frame["table"].map(_table_key)
    key = ["paper_key", "table_key", "method"]
    in_merged = set(map(tuple, frame.loc[frame.origin == Path(path).name, key].values))
    keep = (frame.origin == Path(path).name).to_numpy() | np.array([tuple(r) not in in_merged
                                                                    for r in frame[key].values], dtype=bool)
    return frame[keep].reset_index(drop=True)


def paper_row(method: str, table: str, paper: str | None = None, setting: str | None = None) -> pd.Series:
    """One method's reported metrics from one table, indexed by metric key."""
    frame = paper_results_all()
    pick = (frame.method == method) & (frame.table_key == _table_key(table))
    if paper is not None:
        pick &= frame.paper_key == _paper_key(paper)
    if setting is not None:
        pick &= frame.setting == setting
    rows = frame[pick]
    if rows.empty:
        raise KeyError(f"no paper numbers for method={method!r}, table={table!r} in {PAPER_RESULTS.name}")
    return rows.drop_duplicates("metric").set_index("metric")["value"]


def coleaf_numbers(table: str | None = None) -> pd.DataFrame:
    """CoLeaF's published numbers (``paper, table, method, setting, metric, value``), from the merged
    ``data/paper_results.csv`` when it has them, else from ``data/paper_results_parts/coleaf.csv``."""
    frame = None
    if PAPER_RESULTS.is_file():
        merged = pd.read_csv(PAPER_RESULTS)
        merged = merged[merged["paper"] == "CoLeaF"]
        frame = merged if len(merged) else None
    if frame is None:
        frame = pd.read_csv(COLEAF_PART)
    return frame if table is None else frame[frame["table"] == table].reset_index(drop=True)


def link_numbers(paper_csv: str | Path | None = None) -> pd.DataFrame:
    """LINK's transcribed Tables I-II: from ``data/paper_results.csv``, else the part file."""
    candidates = [Path(paper_csv)] if paper_csv else [PAPER_RESULTS, LINK_PART]
    for path in candidates:
        if path.is_file():
            frame = pd.read_csv(path)
            frame = frame[frame["paper"].astype(str).str.startswith("LINK")]
            if len(frame):
                return frame.reset_index(drop=True)
    raise FileNotFoundError(f"no LINK rows in {[str(p) for p in candidates]}")


def coleaf_paper_keys() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """``{ablation variant: ((table, method, setting), ...)}``: the CoLeaF rows each ``coleaf/*`` experiment
    stands for, from the registry."""
    from avvp_lib.experiments import get, names

    out = {}
    for name in names("coleaf"):
        exp = get(name)
        if "@" in name:  # a variant of a configuration (the other feature set, a released-code option): no row
            continue
        out[exp.variant] = tuple((r.table, r.method, r.setting) for r in exp.paper_rows if r.paper == "CoLeaF")
    return out


def uwav_numbers(table: str) -> "pandas.DataFrame":
    """UWAV's reported numbers (real LLP) of one table, e.g. ``"Table 3"``: ``method, setting, metric, value``.

    Read from ``data/paper_results.csv`` when it has them, else from the paper's part file.
    """
    names = {table, table.replace("Table ", "")}
    try:
        frame = paper_results()
        frame = frame[(frame.paper == "UWAV") & frame.table.astype(str).isin(names)]
    except (FileNotFoundError, ValueError):
        frame = pd.DataFrame()
    if frame.empty:
        frame = pd.read_csv(UWAV_PART, dtype={"table": str})
        frame = frame[frame.table.isin(names)]
    if frame.empty:
        raise KeyError(f"no UWAV numbers for {table!r} in data/paper_results.csv or {UWAV_PART.name}")
    return frame[["method", "setting", "metric", "value"]].reset_index(drop=True)



COLEAF_METRICS = ("segment/Ao", "segment/Vo", "segment/AV", "event/Ao", "event/Vo", "event/AV")

#: Each component's effect as (label, with-variant, without-variant); the paper's effect is the difference of
#: the two variants' paper rows in the table where both appear.
COLEAF_EFFECTS: tuple[tuple[str, str, str], ...] = (
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


def compare_with_paper(results: pd.DataFrame, table: str, metrics=COLEAF_METRICS, digits: int = 1) -> pd.DataFrame:
    """One row per paper row of ``table``: the paper's number and our ``mean ± std`` over seeds per metric.

    ``results`` should already be restricted to one data source and profile.
    """
    paper = coleaf_numbers()
    rows = []
    for variant, keys in coleaf_paper_keys().items():
        for key in keys:
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


def component_effects(results: pd.DataFrame, metrics=COLEAF_METRICS, digits: int = 1, n_boot: int = 2000,
                      folder=None) -> pd.DataFrame:
    """``with - without`` for each component of :data:`COLEAF_EFFECTS`: our difference with its 95 % two-stage
    bootstrap interval over seeds and test videos (:func:`avvp_lib.comparisons.compare`), the paper's difference,
    and the verdict of the one rule (agrees / contradicts / inconclusive)."""
    from avvp_lib.comparisons import compare, format_interval
    from avvp_lib.predictions import PREDICTIONS_DIR

    paper = coleaf_numbers()
    keys = coleaf_paper_keys()
    rows = []
    for label, with_v, without_v in COLEAF_EFFECTS:
        tables = {k[0] for k in keys[with_v]} & {k[0] for k in keys[without_v]}
        paper_diff = {}
        for metric in metrics:
            paper_diff[metric] = float("nan")
            if tables:
                t = sorted(tables)[0]
                key_with = next(k for k in keys[with_v] if k[0] == t)
                key_without = next(k for k in keys[without_v] if k[0] == t)
                paper_diff[metric] = _paper_value(paper, key_with, metric) - _paper_value(paper, key_without, metric)
        row = {"component": label}
        try:
            ours = compare(results, f"coleaf/{with_v}", f"coleaf/{without_v}", metrics, paper_diff, n_boot,
                           folder=folder or PREDICTIONS_DIR).set_index("metric")
        except KeyError:
            ours = None
        row["seeds"] = ours["seeds"].iloc[0] if ours is not None else "-"
        for metric in metrics:
            row[(metric, "ours")] = (format_interval(*ours.loc[metric, ["diff", "ci_low", "ci_high"]], digits)
                                     if ours is not None else "-")
            row[(metric, "paper")] = round(paper_diff[metric], digits)
            row[(metric, "verdict")] = ours.loc[metric, "verdict"] if ours is not None else "-"
        rows.append(row)
    return _two_level(pd.DataFrame(rows))


def link_ablation_comparison(results: pd.DataFrame, paper: pd.DataFrame, metrics=("segment/Type@AV", "event/Type@AV"),
                             baseline: str = "baseline", n_boot: int = 2000, folder=None) -> pd.DataFrame:
    """Per variant and metric: our mean and std over seeds, our change vs the baseline with its 95 % two-stage
    bootstrap interval (:func:`avvp_lib.comparisons.compare`), the paper's Table II value and change, and the
    verdict of the one rule. The paper's T+S+P row is Table I's LINK row (Table II stops at pairs)."""
    from avvp_lib.comparisons import compare
    from avvp_lib.predictions import PREDICTIONS_DIR
    from avvp_lib.methods.link import ALL_VARIANTS as link_variants

    ours = results[results["method"] == "LINK"]
    table2 = paper[paper["table"].astype(str) == "II"].set_index(["setting", "metric"])["value"]
    link_row = paper[(paper["table"].astype(str) == "I") & (paper["method"] == "LINK")].set_index("metric")["value"]
    rows = []
    for variant in link_variants:
        sub = ours[ours["variant"] == variant]
        if sub.empty:
            continue
        deltas = {}
        for metric in metrics:
            paper_value = link_row.get(metric) if variant == "T+S+P" else table2.get((variant, metric))
            paper_base = table2.get((baseline, metric))
            deltas[metric] = (paper_value, None if paper_value is None or paper_base is None
                              else float(paper_value - paper_base))
        interval = None
        if variant != baseline:
            interval = compare(ours, f"link/{variant}", f"link/{baseline}", metrics,
                               {m: d for m, (_, d) in deltas.items()}, n_boot,
                               folder=folder or PREDICTIONS_DIR).set_index("metric")
        for metric in metrics:
            paper_value, d_paper = deltas[metric]
            row = {"variant": variant, "metric": metric, "seeds": sub["seed"].nunique(), "ours": sub[metric].mean(),
                   "ours std": sub[metric].std(ddof=1) if len(sub) > 1 else 0.0, "paper": paper_value,
                   "paper Δ": d_paper}
            if interval is None:
                row.update({"ours Δ": 0.0, "95% low": 0.0, "95% high": 0.0, "verdict": "-"})
            else:
                r = interval.loc[metric]
                row.update({"ours Δ": r["diff"], "95% low": r["ci_low"], "95% high": r["ci_high"],
                            "verdict": r["verdict"]})
            rows.append(row)
    return pd.DataFrame(rows)
