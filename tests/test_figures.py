"""The comparison figures of :mod:`avvp_lib.plots` read at a glance: legends outside the axes, one colour per
series, feature sets told apart, y axes from 0, no empty panel, titles that fit, infinite thresholds marked.

Every input is a small hand-made frame, so each expectation can be checked by hand."""
from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from avvp_lib import plots  # noqa: E402
from avvp_lib.data.annotations import LLP_CLASSES  # noqa: E402

METHODS = ("HAN", "CoLeaF", "UWAV", "VALOR", "LINK", "HAN (CoLeaF recipe)")
COLUMNS = ["segment/A", "segment/Ao", "segment/V"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def bbox(artist):
    fig = artist.figure
    fig.canvas.draw()
    return artist.get_window_extent(fig.canvas.get_renderer())


def outside(legend, ax) -> bool:
    """True when the legend's box and the axes' box do not overlap (the legend covers no data)."""
    return not bbox(legend).overlaps(bbox(ax))


def bars_of(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]


def main_summary() -> pd.DataFrame:
    """12 series: 6 methods x 2 feature sets, mean = 10 * (series index + 1) on every column, std 1, 5 seeds."""
    labels = list(METHODS) + [f"{m} · clip_clap" for m in METHODS]
    rows = []
    for k, label in enumerate(labels):
        row = {"method": label, "seeds": 5}
        for c in COLUMNS:
            row[f"{c} mean"], row[f"{c} std"] = 10.0 * (k + 1) / 2, 1.0
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ main bars (09)
def test_main_bars_legend_lies_outside_the_axes():
    fig = plots.method_bars(main_summary(), COLUMNS, "synthetic, quick profile")
    ax = fig.axes[0]
    assert outside(ax.get_legend(), ax)


def test_main_bars_give_each_series_its_own_look():
    summary = main_summary()
    series = len(summary)  # one series per grid cell (method x feature set) of the committed table
    fig = plots.method_bars(summary, COLUMNS, "synthetic, quick profile")
    ax = fig.axes[0]
    bars = bars_of(ax)
    assert series >= 12 and len(bars) == series * len(COLUMNS)
    looks = {(tuple(np.round(b.get_facecolor()[:3], 3)), b.get_hatch() or "") for b in bars}
    assert len(looks) == series  # one look per series, the same look on every metric
    faces = {tuple(np.round(b.get_facecolor()[:3], 3)) for b in bars}
    assert len(faces) == series  # distinct colours even without the hatching


def test_main_bars_same_hue_per_method_light_and_hatched_for_clip_clap():
    fig = plots.method_bars(main_summary(), COLUMNS, "synthetic, quick profile")
    legend = fig.axes[0].get_legend()
    by_label = {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles)}
    han, han_clip = by_label["HAN (n=5)"], by_label["HAN · clip_clap (n=5)"]
    assert to_rgb(han.get_facecolor()) == pytest.approx(to_rgb(plots.METHOD_COLORS["HAN"]))
    # lightened 55 % towards white: 0x1f = 31 -> 31 + (255 - 31) * 0.55 = 154.2
    assert han_clip.get_facecolor()[0] == pytest.approx(154.2 / 255, abs=1e-3)
    assert han_clip.get_hatch() and not han.get_hatch()
    # the legend's first column is the standard features, its second the CLIP/CLAP ones (column-major order)
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:6] == [f"{m} (n=5)" for m in METHODS]
    assert all("clip_clap" in t for t in texts[6:])


def test_main_bars_put_each_clip_clap_bar_beside_its_method():
    fig = plots.method_bars(main_summary(), COLUMNS, "synthetic, quick profile")
    first_group = sorted(bars_of(fig.axes[0]), key=lambda b: b.get_x())[:12]
    heights = [b.get_height() for b in first_group]
    # HAN (5), HAN · clip_clap (35), CoLeaF (10), CoLeaF · clip_clap (40), ...
    assert heights[:4] == pytest.approx([5.0, 35.0, 10.0, 40.0])


def test_unknown_feature_set_is_an_error_that_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'HAN · wav2vec'.*unknown feature set 'wav2vec'.*clip_clap"):
        plots.series_style("HAN · wav2vec")


# -------------------------------------------------------------------------------------- old vs new (08, 09)
def test_old_vs_new_tells_the_feature_sets_apart():
    gap = pd.DataFrame({"method": ["HAN", "HAN", "LINK", "LINK"],
                        "features": ["standard", "clip_clap", "standard", "clip_clap"],
                        "segment/A": [50.0, 60.0, 55.0, 70.0], "segment/Ao": [40.0, 45.0, 45.0, 60.0],
                        "segment/V": [50.0, 60.0, 55.0, 70.0], "segment/Vo": [40.0, 45.0, 45.0, 60.0]})
    fig = plots.old_vs_new_scatter(gap, "synthetic, quick profile")
    ax = fig.axes[0]
    collections = ax.collections
    assert len(collections) == 4  # one per (method, feature set)
    paths = {tuple(np.round(c.get_paths()[0].vertices.ravel(), 3)) for c in collections}
    assert len(paths) == 2  # two marker shapes: one per feature set
    faces = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in collections}
    assert len(faces) == 4
    right = fig.axes[1]
    legends = [a for a in right.get_children() if isinstance(a, matplotlib.legend.Legend)]
    assert len(legends) == 2 and all(not bbox(lg).overlaps(bbox(ax)) and not bbox(lg).overlaps(bbox(right))
                                     for lg in legends)


# ------------------------------------------------------------------------------------- ablation bars (06)
def test_ablation_bars_distinct_colours_legend_outside_y_from_zero():
    names = [f"variant {k}" for k in range(10)]
    summary = pd.DataFrame({"variant": names, "segment/A mean": np.linspace(60, 69, 10), "segment/A std": 0.5,
                            "segment/V mean": np.linspace(70, 61, 10), "segment/V std": 0.5})
    fig = plots.ablation_bars(summary, ["segment/A", "segment/V"], "variant", "synthetic, quick profile")
    ax = fig.axes[0]
    assert outside(ax.get_legend(), ax)
    assert len({tuple(np.round(b.get_facecolor()[:3], 3)) for b in bars_of(ax)}) == 10
    assert ax.get_ylim()[0] == 0


@pytest.mark.parametrize("n", [3, 10, 15, 24])
def test_distinct_colors_are_distinct(n):
    assert len({tuple(np.round(c, 3)) for c in plots.distinct_colors(n)}) == n


# ------------------------------------------------------------------------------------ sensitivity (06)
def sensitivity_panels():
    return [{"name": "alpha", "x": [0.5, 1.0, 2.0], "mean": [62.0, 63.0, 64.0], "std": [0.5, 0.5, 0.5],
             "paper": {1.7: 65.2, 2.0: 64.5}},
            {"name": "W (code scale: Eq. 18-19 x C, the default)", "x": [0.1, 0.5, 1.0], "mean": [62.5, 64.0, 64.2],
             "std": [0.1, 0.3, 0.3], "paper": {0.5: 65.3}},
            {"name": "W (printed scale: Eq. 18-19)", "x": [0.1, 0.5, 1.0], "mean": [54.0, 61.0, 62.0],
             "std": [0.5, 0.3, 0.2], "paper": {}}]


def test_sensitivity_draws_no_empty_panel():
    fig = plots.sensitivity_curves(sensitivity_panels(), "segment Type@AV", "synthetic, quick profile")
    assert len(fig.axes) == 5  # 2 columns with the paper's points (2 panels each) + 1 tall panel
    texts = "\n".join(t.get_text() for t in fig.findobj(Text))
    assert "no paper points" not in texts
    assert "the paper reports no values for this one" in texts
    for ax in fig.axes:
        assert ax.lines or ax.collections, f"panel {ax.get_title()!r} draws nothing"


def test_sensitivity_panel_titles_do_not_overlap():
    fig = plots.sensitivity_curves(sensitivity_panels(), "segment Type@AV", "synthetic, quick profile")
    titles = [ax.title for ax in fig.axes if ax.get_title()] + [fig._suptitle]
    for a, b in itertools.combinations(titles, 2):
        assert not bbox(a).overlaps(bbox(b)), f"{a.get_text()!r} overlaps {b.get_text()!r}"


# ----------------------------------------------------------------------------- controlled effects (10)
def test_controlled_effects_title_is_wrapped_inside_the_figure_and_legend_is_outside():
    effects = pd.DataFrame({"metric": ["segment/AV"] * 4 + ["segment/Ao"] * 4, "effect": (["X - Y"] * 2 + ["Z - Y"] * 2) * 2,
                            "x": [0.1, 0.5] * 4, "diff": [1.0, 2.0, -1.0, 0.5] * 2, "ci_low": [0.0, 1.0, -2.0, 0.0] * 2,
                            "ci_high": [2.0, 3.0, 0.0, 1.0] * 2, "frozen": [False, True] * 4})
    claim = "H9: " + " ".join(["a long hypothesis that no single line of a two-panel figure can hold"] * 3)
    fig = plots.controlled_effects(effects, claim, "measured cause", "synthetic, quick profile")
    title = fig._suptitle
    assert title.get_text().replace("\n", " ").startswith(claim)  # the whole claim, nothing cut
    assert title.get_text().count("\n") >= 2  # wrapped, then the source line
    figure_box = fig.bbox
    box = bbox(title)
    assert box.x0 >= figure_box.x0 and box.x1 <= figure_box.x1
    last = fig.axes[-1]
    assert all(outside(last.get_legend(), ax) for ax in fig.axes)


# ----------------------------------------------------------------------------------- seed bars (04)
def test_seed_bars_start_at_zero_and_keep_the_legend_outside():
    long = pd.DataFrame({"variant": ["full"] * 4 + ["han"] * 4, "seed": [0, 1] * 4,
                         "metric": (["segment/Ao"] * 2 + ["segment/Vo"] * 2) * 2,
                         "F1": [34.0, 35.0, 52.0, 53.0, 39.0, 40.0, 41.0, 42.0]})
    fig = plots.seed_bars(long, "variant", "F1", "metric", ["full", "han"], "synthetic, quick profile",
                          "CoLeaF ablations", "segment-level F1 (%)")
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0
    assert ax.get_ylim()[1] == pytest.approx(53.0 * 1.08)
    assert outside(ax.get_legend(), ax)
    heights = sorted(round(b.get_height(), 3) for b in bars_of(ax))
    assert heights == [34.5, 39.5, 41.5, 52.5]  # the seed means


# ----------------------------------------------------------------------------------- thresholds (05)
def test_infinite_thresholds_are_drawn_to_the_top_and_named():
    theta_a = np.linspace(-3.0, 2.0, 25)
    theta_v = np.linspace(2.0, -3.0, 25)
    theta_a[1], theta_v[24] = np.inf, np.inf
    fig = plots.threshold_bars(theta_a, theta_v, "synthetic, quick profile")
    ax = fig.axes[0]
    top = ax.get_ylim()[1]
    hatched = [b for b in bars_of(ax) if b.get_hatch()]
    assert len(hatched) == 2
    assert all(b.get_y() + b.get_height() == pytest.approx(top) for b in hatched)
    # audio bars sit at class - 0.2, visual at class + 0.2: class 1 (audio) and class 24 (visual)
    assert sorted(round(b.get_x() + b.get_width() / 2, 2) for b in hatched) == [0.8, 24.2]
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert sum("never fires" in t for t in texts) >= 2
    title = ax.get_title().replace("\n", " ")
    assert f"{LLP_CLASSES[1]} (audio)" in title and f"{LLP_CLASSES[24]} (visual)" in title
    assert outside(ax.get_legend(), ax)


def test_finite_thresholds_say_so_and_draw_no_hatched_bar():
    fig = plots.threshold_bars(np.full(25, -1.0), np.full(25, 0.01), "synthetic, quick profile")
    ax = fig.axes[0]
    assert not [b for b in bars_of(ax) if b.get_hatch()]
    assert "every threshold finite" in ax.get_title()


def test_threshold_bars_reject_a_wrong_shape_naming_the_argument():
    with pytest.raises(ValueError, match=r"theta_v: expected 25 class thresholds, found shape \(24,\)"):
        plots.threshold_bars(np.zeros(25), np.zeros(24), "synthetic, quick profile")
