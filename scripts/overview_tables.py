"""Write the cost and score tables of docs/OVERVIEW.md from the derived results, so they never drift from them.

The two tables sit between ``<!-- overview:costs -->`` / ``<!-- overview:scores -->`` and ``<!-- /overview -->``
markers. Both are computed from ``results/09_main.csv`` and ``results/09_compute.csv`` (the main grid's records,
synthetic benchmark, quick profile) and ``data/paper_results.csv`` (the papers' segment Type@AV).

Usage::

    python scripts/overview_tables.py            # rewrite the tables in docs/OVERVIEW.md
    python scripts/overview_tables.py --check    # exit 1 when docs/OVERVIEW.md differs from the results
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OVERVIEW = REPO / "docs" / "OVERVIEW.md"
#: the papers' main results tables, preferred in this order when a cell stands for several published rows
MAIN_TABLES = ("Table 6", "Table 1", "I", "Table A6")
BLOCK = re.compile(r"(<!-- overview:(?P<name>\w+) -->\n)(?P<body>.*?)(<!-- /overview -->)", re.S)


def _grid_rows(results: Path) -> pd.DataFrame:
    from avvp_lib.experiments.catalog import MAIN_GRID

    main = pd.read_csv(results / "09_main.csv", dtype={"config_hash": str, "code_version": str})
    main = main[(main.data == "synthetic") & (main.profile == "quick") & main.name.isin(MAIN_GRID)]
    return main


def _thousands(n: float) -> str:
    return f"{int(n):,}".replace(",", " ")


def _paper_type_av(name: str, paper: pd.DataFrame) -> str:
    from avvp_lib.experiments import get

    found = []
    for row in get(name).paper_rows:
        hit = paper[(paper.paper == row.paper) & (paper.table == row.table) & (paper.method == row.method)
                    & (paper.setting == row.setting) & (paper.metric == "segment/Type@AV")]
        if len(hit):
            rank = MAIN_TABLES.index(row.table) if row.table in MAIN_TABLES else len(MAIN_TABLES)
            label = f"{row.paper} Table {row.table}" if not row.table.startswith("Table") else f"{row.paper} {row.table}"
            found.append((rank, f"{hit.value.iloc[0]:.1f} ({label})"))
    return min(found)[1] if found else "-"


def _label(name: str) -> str:
    from avvp_lib.grid import cell_label

    return cell_label(name.split("@")[0])


def _grid_table(columns: list[str], frame: pd.DataFrame, cells) -> str:
    """A markdown table with one row per grid cell that has rows in ``frame`` (a ``name`` column): the method, its
    registry name, its features, then ``cells(name, rows)``."""
    from avvp_lib.experiments import get
    from avvp_lib.experiments.catalog import MAIN_GRID

    head = ["method", "registry name", "features"] + columns
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in MAIN_GRID:
        sub = frame[frame.name == name]
        if not sub.empty:
            lines.append("| " + " | ".join([_label(name), f"`{name}`", get(name).features] + cells(name, sub)) + " |")
    return "\n".join(lines) + "\n"


def scores_table(results: Path, paper_csv: Path) -> str:
    """Segment Type@AV (paper and ours), Ao and Vo (ours) of every grid cell: mean ± std over seeds."""
    paper = pd.read_csv(paper_csv)
    return _grid_table(["seeds", "Type@AV, paper", "Type@AV, ours", "Ao, ours", "Vo, ours"], _grid_rows(results),
                       lambda name, sub: [str(sub.seed.nunique()), _paper_type_av(name, paper)] + [
                           f"{sub[m].mean():.1f} ± {sub[m].std(ddof=1):.1f}"
                           for m in ("segment/Type@AV", "segment/Ao", "segment/Vo")])


def costs_table(results: Path) -> str:
    """Parameters, epochs, training seconds per epoch and test inference seconds (medians over seeds) of every grid
    cell, matched to its experiment through the configuration hash."""
    main = _grid_rows(results)
    compute = pd.read_csv(results / "09_compute.csv", dtype={"config_hash": str})
    names = main.drop_duplicates("config_hash").set_index("config_hash")["name"]
    compute = compute[compute.config_hash.isin(names.index)].assign(name=lambda f: f.config_hash.map(names))
    return _grid_table(["parameters", "epochs", "train s / epoch", "inference s (test)"], compute,
                       lambda name, sub: [_thousands(sub.params.median()), str(int(sub.epochs.median())),
                                          f"{sub.train_seconds_per_epoch.median():.2f}",
                                          f"{sub.inference_seconds.median():.2f}"])


def render(text: str, results: Path, paper_csv: Path) -> str:
    """``text`` with every marked block replaced by its table."""
    tables = {"costs": lambda: costs_table(results), "scores": lambda: scores_table(results, paper_csv)}
    names = [m.group("name") for m in BLOCK.finditer(text)]
    missing = sorted(set(tables) - set(names))
    if missing:
        raise SystemExit(f"{OVERVIEW}: no <!-- overview:{missing[0]} --> ... <!-- /overview --> block")
    return BLOCK.sub(lambda m: m.group(1) + tables[m.group("name")]() + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/OVERVIEW.md is not what the results give")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    text = OVERVIEW.read_text()
    new = render(text, REPO / "results", REPO / "data" / "paper_results.csv")
    if args.check:
        if new != text:
            print(f"{OVERVIEW} is out of date with results/: run python scripts/overview_tables.py", file=sys.stderr)
            return 1
        print(f"{OVERVIEW}: tables match results/")
        return 0
    if new != text:
        OVERVIEW.write_text(new)
    print(f"wrote the tables of {OVERVIEW}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
