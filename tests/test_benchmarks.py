"""Smoke run of the speed benchmarks on the tiny root: every side-by-side comparison reports the same numbers.

No timing is asserted (timings belong to ``benchmarks/results``); what is checked is that the official
re-implementations and ours agree, and that every benchmark writes its rows and the figure.
"""
from __future__ import annotations

import re

import pandas as pd

from benchmarks import run


def test_benchmarks_agree_with_the_official_loops(tiny_root, tmp_path):
    out = tmp_path / "bench"
    run.main(["--data-root", str(tiny_root), "--only", "han_epoch,eval,inference,seeds", "--repeats", "1",
              "--max-train", "32", "--eval-videos", "48", "--seeds-k", "1,2", "--num-workers", "0",
              "--threads", "1", "--out", str(out)])
    frame = pd.read_csv(out / "bench_quick_cpu.csv")
    assert (out / "bench_quick_cpu.png").is_file()
    assert set(frame.benchmark) == {"han_epoch", "eval", "inference", "seeds"}
    assert (frame.seconds.dropna() > 0).all()
    checks = frame.dropna(subset=["check"])
    metric_checks = checks[checks.benchmark.isin(["eval", "inference"])].check
    assert len(metric_checks) == 4 and metric_checks.str.startswith("identical").all(), metric_checks.tolist()
    outputs = checks[checks.benchmark == "han_epoch"].check
    assert len(outputs) == 4
    for text in outputs:  # same initial weights, official model vs ours: outputs agree to float rounding
        assert float(re.search(r"max\|diff\|=([0-9.e+-]+)", text).group(1)) < 1e-5, text
    seeds = frame[frame.benchmark == "seeds"]
    for model in ("HAN", "CoLeaF"):
        for case in ("one run (1 seed)", "K=1 ensemble (vmap)", "K=2 sequential", "K=2 ensemble (vmap)"):
            assert f"{model}: {case}" in set(seeds.case), (model, case)
    ensemble = seeds[seeds.loop == "ensemble"]
    assert (ensemble.speedup > 0).all()
    assert ((ensemble.throughput - ensemble.k / ensemble.seconds).abs() < 1e-3 * ensemble.throughput).all()


def test_grid_benchmark_times_every_cell_and_projects_the_grid(tiny_root, tmp_path):
    """One (scaled) epoch of each of the 12 main-grid cells plus the generator pretraining, and a projected total
    that is the sum of the per-cell projections (epochs x 5 seeds; the generator once)."""
    from avvp_lib.experiments.catalog import MAIN_GRID

    out = tmp_path / "bench"
    assert run.main(["--data-root", str(tiny_root), "--only", "grid", "--grid-steps", "1", "--threads", "1",
                     "--out", str(out)]) == 0
    frame = pd.read_csv(out / "bench_quick_cpu.csv")
    grid = frame[frame.benchmark == "grid"].set_index("case")
    assert list(grid.index[:len(MAIN_GRID)]) == list(MAIN_GRID)
    cells = grid.iloc[:-1]
    assert (cells.seconds > 0).all() and cells.peak_mb.notna().all()
    hours = cells.note.str.extract(r"= ([0-9.]+) h projected")[0].astype(float)
    assert abs(hours.sum() - grid.loc["whole grid (projected)", "seconds"] / 3600) < 0.01 * len(cells)
