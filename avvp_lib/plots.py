"""Figures shared by the notebooks: label statistics, timelines, per-class bars, ablation bars.

Every function takes a ``source`` label (``synthetic`` / ``llp`` + profile) that goes into the title,
so no figure can be mistaken for a paper reproduction.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from avvp_lib.data.annotations import LLP_CLASSES

TYPE_COLORS = {"audible_only": "#1f77b4", "visible_only": "#ff7f0e", "audible_visible": "#2ca02c", "neither": "#bbbbbb"}

#: One hue per method in every figure that compares methods; the feature set is the shade (see :func:`series_style`).
METHOD_COLORS = {"HAN": "#1f77b4", "HAN (CoLeaF recipe)": "#8c564b", "CoLeaF": "#ff7f0e", "UWAV": "#2ca02c",
                 "VALOR": "#9467bd", "LINK": "#d62728"}
#: How a feature set is drawn: ``standard`` (VGGish + ResNet-152 + R(2+1)D) solid and dark, ``clip_clap`` light
#: and hatched, so the two stay apart in colour and in black and white.
FEATURE_STYLES = {"standard": {"lighten": 0.0, "hatch": "", "marker": "o"},
                  "clip_clap": {"lighten": 0.55, "hatch": "////", "marker": "^"}}
FEATURE_SEPARATOR = " · "  # how results.grid labels a CLIP/CLAP cell: "HAN · clip_clap"


def lighten(color, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: ``amount`` 0 keeps it, 1 gives white."""
    rgb = np.asarray(to_rgb(color))
    return tuple(float(c) for c in rgb + (1.0 - rgb) * amount)


def split_series_label(label: str, features: str | None = None) -> tuple[str, str]:
    """``(method, feature set)`` of a series label such as ``"HAN · clip_clap"`` (``"standard"`` when the label
    names none and ``features`` is not given)."""
    method, _, tail = str(label).partition(FEATURE_SEPARATOR)
    return method, (features or tail or "standard")


def series_style(label: str, features: str | None = None, fallback_index: int = 0) -> dict:
    """Face colour, edge colour and hatch of one method-on-a-feature-set series: the method's hue
    (:data:`METHOD_COLORS`; methods outside it take ``tab10`` colours from ``fallback_index``), shaded and hatched
    by feature set (:data:`FEATURE_STYLES`). Unknown feature sets are an error that lists the known ones."""
    method, feats = split_series_label(label, features)
    if feats not in FEATURE_STYLES:
        raise ValueError(f"series {label!r}: unknown feature set {feats!r}; expected one of {sorted(FEATURE_STYLES)}")
    base = METHOD_COLORS.get(method) or sns.color_palette("tab10")[(6 + fallback_index) % 10]
    style = FEATURE_STYLES[feats]
    return {"color": lighten(base, style["lighten"]), "edgecolor": to_rgb(base), "hatch": style["hatch"],
            "marker": style["marker"], "method": method, "features": feats}


def _wrap(text: str, width: int) -> str:
    """``text`` wrapped to lines of at most ``width`` characters (existing line breaks kept)."""
    return "\n".join(textwrap.fill(line, width) if line else "" for line in str(text).split("\n"))


def legend_outside(ax, handles=None, labels=None, **kwargs):
    """A legend to the right of ``ax``, outside the axes, so it never covers data."""
    kwargs = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "fontsize": 8,
              "frameon": False} | kwargs
    if handles is None:
        return ax.legend(**kwargs)
    return ax.legend(handles, labels, **kwargs)


def save(fig, path: str | Path, dpi: int = 90) -> Path:
    """Save a figure as PNG at modest dpi (small repo, readable plots)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def class_frequency(labels_by_split: dict[str, np.ndarray], source: str):
    """Bar chart: number of videos per class in each split (video-level labels)."""
    fig, ax = plt.subplots(figsize=(11, 3.6))
    order = np.argsort(-labels_by_split[next(iter(labels_by_split))].sum(0))
    width = 0.8 / len(labels_by_split)
    for k, (name, labels) in enumerate(labels_by_split.items()):
        ax.bar(np.arange(len(order)) + k * width, labels.sum(0)[order], width, label=name)
    ax.set_xticks(np.arange(len(order)) + 0.4 - width / 2, [LLP_CLASSES[i] for i in order], rotation=75, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("videos")
    ax.set_title(f"Videos per class ({source})")
    ax.legend()
    return fig


def modality_shares(shares: dict[str, np.ndarray], source: str, ax=None):
    """Stacked bars per class: audible-only / visible-only / both / neither shares of labelled occurrences."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 3.6))
    else:
        fig = ax.figure
    bottom = np.zeros(len(LLP_CLASSES))
    for key in ("audible_only", "visible_only", "audible_visible", "neither"):
        ax.bar(range(len(LLP_CLASSES)), shares[key], bottom=bottom, color=TYPE_COLORS[key], label=key.replace("_", "-"))
        bottom += shares[key]
    ax.set_xticks(range(len(LLP_CLASSES)), LLP_CLASSES, rotation=75, fontsize=8)
    ax.set_ylabel("share of labelled occurrences")
    ax.set_title(f"Event types per class ({source})")
    ax.set_ylim(0, 1.18)  # headroom: the legend sits above the bars, never on them
    ax.legend(fontsize=8, ncol=4, loc="upper center", frameon=False)
    return fig


def run_lengths(tracks: np.ndarray) -> np.ndarray:
    """Lengths (segments) of every maximal run of 1s in (N, T, C) binary tracks."""
    x = np.moveaxis(np.asarray(tracks) > 0, 1, -1).reshape(-1, tracks.shape[1]).astype(np.int8)
    padded = np.pad(x, ((0, 0), (1, 1)))
    diff = np.diff(padded, axis=1)
    starts = np.nonzero(diff == 1)
    ends = np.nonzero(diff == -1)
    return ends[1] - starts[1]


def duration_histograms(named_tracks: dict[str, np.ndarray], source: str):
    """Histogram of event durations (seconds = segments) for each named track set."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = np.arange(0.5, 11.5, 1.0)
    for name, tracks in named_tracks.items():
        ax.hist(run_lengths(tracks), bins=bins, histtype="step", density=True, linewidth=2, label=name)
    ax.set_xlabel("event duration (s)")
    ax.set_ylabel("share of events")
    ax.set_title(f"Event durations ({source})")
    ax.legend(fontsize=8)
    return fig


def cooccurrence_heatmap(labels: np.ndarray, source: str):
    """P(class j | class i) from video-level labels."""
    labels = np.asarray(labels, dtype=float)
    counts = labels.T @ labels
    conditional = counts / np.maximum(np.diag(counts)[:, None], 1)
    np.fill_diagonal(conditional, np.nan)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    sns.heatmap(conditional, ax=ax, cmap="mako_r", xticklabels=LLP_CLASSES, yticklabels=LLP_CLASSES, vmin=0,
                cbar_kws={"label": "P(column | row)"})
    ax.tick_params(labelsize=7)
    ax.set_title(f"Class co-occurrence ({source})")
    return fig


def timeline(rows: dict[str, np.ndarray], classes: list[int], title: str):
    """Qualitative timeline like the papers' figures: one panel per class, a bar row per named track.

    ``rows`` maps a row name (e.g. "GT audio", "HAN audio") to a (T, C) binary array.
    """
    fig, axes = plt.subplots(len(classes), 1, figsize=(8, 0.45 * len(rows) * len(classes) + 0.8), sharex=True,
                             squeeze=False)
    palette = sns.color_palette("tab10", len(rows))
    for ax, c in zip(axes[:, 0], classes):
        for r, (name, track) in enumerate(rows.items()):
            on = np.nonzero(np.asarray(track)[:, c] > 0)[0]
            ax.broken_barh([(t, 1) for t in on], (r - 0.4, 0.8), color=palette[r])
        ax.set_yticks(range(len(rows)), list(rows), fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.invert_yaxis()
        ax.set_ylabel(LLP_CLASSES[c], rotation=0, ha="right", va="center", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlim(0, next(iter(rows.values())).shape[0])
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def per_class_bars(scores: dict[str, np.ndarray], source: str, ylabel: str = "F1 (%)"):
    """Grouped bars of per-class scores (e.g. segment-level audio and visual F1)."""
    fig, ax = plt.subplots(figsize=(11, 3.6))
    width = 0.8 / len(scores)
    for k, (name, values) in enumerate(scores.items()):
        ax.bar(np.arange(len(LLP_CLASSES)) + k * width, values, width, label=name)
    ax.set_xticks(np.arange(len(LLP_CLASSES)) + 0.4 - width / 2, LLP_CLASSES, rotation=75, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(f"Per-class scores ({source})")
    ax.legend(fontsize=8)
    return fig


def training_curves(history: list[dict], keys: tuple[str, ...], source: str):
    """Training loss and validation metrics per epoch."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    epochs = [h["epoch"] for h in history]
    left.plot(epochs, [h["loss"] for h in history], marker="o")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss")
    for key in keys:
        right.plot(epochs, [h[key] for h in history], marker="o", label=key)
    right.set_xlabel("epoch")
    right.set_ylabel("val F (%)")
    right.legend(fontsize=8)
    fig.suptitle(f"Training ({source})")
    fig.tight_layout()
    return fig


def distinct_colors(n: int) -> list:
    """``n`` colours no two alike: ``tab10`` up to 10, ``tab20`` up to 20, then ``husl`` hues."""
    if n <= 10:
        return sns.color_palette("tab10", n)
    if n <= 20:
        return sns.color_palette("tab20", n)
    return sns.color_palette("husl", n)


def ablation_bars(summary, metrics: list[str], label_column: str, source: str):
    """Bars of mean with std error bars per configuration (a ``results.summarize`` frame): one colour per
    configuration (:func:`distinct_colors`), the legend outside the axes, the y axis from 0."""
    names = list(summary[label_column])
    fig, ax = plt.subplots(figsize=(2.2 + 0.16 * len(names) * len(metrics) + 1.2 * len(metrics), 3.4))
    width = 0.8 / len(names)
    for k, (name, color) in enumerate(zip(names, distinct_colors(len(names)))):
        row = summary.iloc[k]
        ax.bar(np.arange(len(metrics)) + k * width, [row[f"{m} mean"] for m in metrics], width,
               yerr=[row[f"{m} std"] for m in metrics], capsize=2, label=name, color=color,
               error_kw={"elinewidth": 0.8})
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, metrics, fontsize=8)
    ax.set_ylim(0, None)
    ax.set_ylabel("F (%)")
    ax.set_title(f"Ablations, mean ± std over seeds ({source})")
    legend_outside(ax, fontsize=7)
    fig.tight_layout()
    return fig


def sensitivity_curves(panels: list[dict], metric: str, source: str):
    """One column per hyper-parameter (UWAV Fig. A4-A5): our mean ± std over seeds against its value; below it,
    when the paper reports values for that hyper-parameter, those values on an axis of their own (other data, other
    scale: compare shapes only). A column without paper values is one tall panel that says so. No twin axes.

    ``panels``: dicts with ``name`` (axis label), ``x``, ``mean``, ``std`` (ours) and ``paper`` (a
    ``{value: score}`` dict, possibly empty).
    """
    fig = plt.figure(figsize=(4.3 * len(panels), 5.6))
    grid = fig.add_gridspec(2, len(panels), height_ratios=(3, 2))
    for col, panel in enumerate(panels):
        x, mean, std = (np.asarray(panel[k], dtype=float) for k in ("x", "mean", "std"))
        has_paper = bool(panel.get("paper"))
        top = fig.add_subplot(grid[0, col] if has_paper else grid[:, col])
        top.errorbar(x, mean, yerr=std, marker="o", capsize=3)
        top.set_ylabel(f"ours: {metric} (%)")
        top.set_title(_wrap(f"{panel['name']}: ours", 38), fontsize=9)
        if has_paper:
            bottom = fig.add_subplot(grid[1, col], sharex=top)
            px = sorted(panel["paper"])
            bottom.plot(px, [panel["paper"][v] for v in px], "s--", color="#d62728")
            bottom.set_ylabel("paper (%)")
            bottom.set_title("the paper (real LLP, text of the figure)", fontsize=9)
            bottom.set_xlabel(_wrap(panel["name"], 40))
            top.tick_params(labelbottom=False)
        else:
            top.set_xlabel(_wrap(panel["name"], 40) + "\n(the paper reports no values for this one)")
    fig.suptitle(f"Sensitivity, mean ± std over seeds ({source})", fontsize=10)
    fig.tight_layout()
    return fig


def controlled_effects(effects, hypothesis: str, x_label: str, source: str):
    """Notebook 10: one panel per metric, each effect of a hypothesis (``experiment - anchor``, points with their
    95 % interval) against the measured cause; the frozen benchmark's level is ringed. ``effects``: rows of
    ``results/10_controlled_effects.csv`` (numeric levels only) with a boolean ``frozen`` column. The title
    (``hypothesis``, any length) is wrapped to the figure's width; the legend sits to the right of the panels."""
    metrics = list(dict.fromkeys(effects["metric"]))
    width = max(4.6 * len(metrics), 9.0) + 1.6
    fig, axes = plt.subplots(1, len(metrics), figsize=(width, 3.9), squeeze=False)
    palette = dict(zip(dict.fromkeys(effects["effect"]), sns.color_palette("colorblind")))
    for ax, metric in zip(axes[0], metrics):
        for label, rows in effects[effects["metric"] == metric].groupby("effect", sort=False):
            rows = rows.sort_values("x")
            x, d = rows["x"].to_numpy(float), rows["diff"].to_numpy(float)
            err = np.vstack([d - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - d])
            ax.errorbar(x, d, yerr=err, marker="o", capsize=3, color=palette[label], label=label)
            frozen = rows["frozen"].to_numpy(bool)
            ax.scatter(x[frozen], d[frozen], s=140, facecolors="none", edgecolors="black", zorder=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(metric.replace("segment/", "segment ") + " difference (points)", fontsize=9)
    handles = [Line2D([], [], color=c, marker="o", label=e) for e, c in palette.items()]
    handles.append(Line2D([], [], ls="", marker="o", ms=11, markerfacecolor="none", markeredgecolor="black",
                          label="frozen benchmark"))
    legend_outside(axes[0, -1], handles, [h.get_label() for h in handles], fontsize=8)
    fig.supxlabel(x_label, fontsize=8)  # one x for every panel
    chars = int(width * 72 / 9 * 1.45)  # characters of 9-pt text across the figure
    fig.suptitle(_wrap(hypothesis, chars) + f"\n({source}; ringed: the frozen benchmark; bars: 95 % two-stage "
                 "bootstrap)", fontsize=9)
    fig.tight_layout()
    return fig


def method_bars(summary, columns: list[str], source: str, ylabel: str = "F (%)", title: str | None = None,
                label_column: str = "method"):
    """Grouped bars (mean ± std over seeds) of methods on feature sets, one group per metric in ``columns``.

    ``summary``: a ``results.summarize`` frame with ``<column> mean``/``<column> std``, ``seeds`` and
    ``label_column`` holding labels like ``"HAN"`` / ``"HAN · clip_clap"`` (``grid.with_grid_labels``). Within a group
    the bars go method by method, each method's CLIP/CLAP bar beside its standard one; colours follow
    :func:`series_style` (hue = method, light and hatched = CLIP/CLAP). The legend, outside the axes, lists the
    standard-feature series in its first column and the CLIP/CLAP ones in its second."""
    labels = list(summary[label_column])
    methods = list(dict.fromkeys(split_series_label(label)[0] for label in labels))
    feature_rank = {f: i for i, f in enumerate(FEATURE_STYLES)}

    def rank(label):
        method, feats = split_series_label(label)
        return methods.index(method), feature_rank.get(feats, len(feature_rank))

    order = sorted(range(len(labels)), key=lambda i: rank(labels[i]))
    fig, ax = plt.subplots(figsize=(12.5, 3.8))
    width = 0.84 / max(1, len(order))
    x = np.arange(len(columns))
    handles = {}
    for k, i in enumerate(order):
        row = summary.iloc[i]
        style = series_style(labels[i], fallback_index=methods.index(split_series_label(labels[i])[0]))
        bars = ax.bar(x + k * width, [row[f"{c} mean"] for c in columns], width,
                      yerr=[row[f"{c} std"] for c in columns], capsize=1.5, color=style["color"],
                      edgecolor=style["edgecolor"], hatch=style["hatch"], linewidth=0.6, error_kw={"elinewidth": 0.7},
                      label=f"{labels[i]} (n={int(row['seeds'])})" if "seeds" in row else str(labels[i]))
        handles[labels[i]] = bars
    ax.set_xticks(x + 0.42 - width / 2, [c.split("/")[-1] for c in columns])
    ax.set_xlim(-0.3, len(columns) - 0.1)
    ax.set_ylim(0, None)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"Main results, mean ± std over seeds ({source})")
    by_features = sorted(handles, key=lambda label: (rank(label)[1], rank(label)[0]))
    two = len({split_series_label(label)[1] for label in labels}) > 1
    legend_outside(ax, [handles[label] for label in by_features],
                   [handles[label].get_label() for label in by_features], ncol=2 if two else 1, fontsize=7.5,
                   title="standard features  |  CLIP / CLAP (hatched)" if two else None, title_fontsize=7.5)
    fig.tight_layout()
    return fig


def old_vs_new_scatter(gap, source: str, level: str = "segment"):
    """A vs Ao and V vs Vo per run group (a ``report.old_vs_new_gap`` frame): colour = method
    (:data:`METHOD_COLORS`), marker = feature set (filled circles: standard; light triangles: CLIP/CLAP). The
    distance below the diagonal is what A / V over-count. Both legends sit to the right of the panels."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
    features = gap["features"] if "features" in gap.columns else ["standard"] * len(gap)
    gap = gap.assign(_features=list(features))
    methods = list(dict.fromkeys(gap["method"]))
    for ax, (old, new) in zip(axes, (("A", "Ao"), ("V", "Vo"))):
        x, y = gap[f"{level}/{old}"], gap[f"{level}/{new}"]
        for (method, feats), sub in gap.groupby(["method", "_features"], sort=False):
            style = series_style(method, feats, fallback_index=methods.index(method))
            ax.scatter(sub[f"{level}/{old}"], sub[f"{level}/{new}"], s=30, marker=style["marker"],
                       facecolor=style["color"], edgecolor=style["edgecolor"], linewidth=0.9)
        lo, hi = min(x.min(), y.min()) - 2, max(x.max(), y.max()) + 2
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"{old} (%)")
        ax.set_ylabel(f"{new} (%)")
        ax.set_title(f"{old} vs {new}, {level} level")
    colour_handles = [Patch(facecolor=series_style(m, "standard", methods.index(m))["color"], label=m)
                      for m in methods]
    used = list(dict.fromkeys(gap["_features"]))
    marker_handles = [Line2D([], [], ls="", marker=FEATURE_STYLES[f]["marker"], ms=6,
                             markerfacecolor=lighten("#555555", FEATURE_STYLES[f]["lighten"]),
                             markeredgecolor="#555555", label=f"{f} features") for f in used if f in FEATURE_STYLES]
    first = legend_outside(axes[1], colour_handles, [h.get_label() for h in colour_handles], title="method",
                           title_fontsize=8)
    axes[1].add_artist(first)
    legend_outside(axes[1], marker_handles, [h.get_label() for h in marker_handles], title="feature set",
                   title_fontsize=8, bbox_to_anchor=(1.01, 0.35))
    fig.suptitle(f"Old vs new metrics, every run group ({source})")
    fig.tight_layout()
    return fig


def seed_bars(long, x: str, y: str, hue: str, order: list[str], source: str, title: str, ylabel: str):
    """Bars of the mean over seeds with ± std error bars and one dot per seed (a long frame: one row per
    ``x`` value, ``hue`` value and seed). The y axis starts at 0, so bar heights compare; the legend sits outside."""
    import matplotlib.ticker as mticker

    fig, ax = plt.subplots(figsize=(11.5, 3.8))
    hues = list(dict.fromkeys(long[hue]))
    palette = dict(zip(hues, distinct_colors(len(hues))))
    sns.barplot(data=long, x=x, y=y, hue=hue, order=order, hue_order=hues, palette=palette, errorbar="sd",
                capsize=0.1, err_kws={"linewidth": 1.0}, ax=ax)
    sns.stripplot(data=long, x=x, y=y, hue=hue, order=order, hue_order=hues, dodge=True, palette="dark:k", size=2.5,
                  legend=False, ax=ax)
    ax.set_ylim(0, float(long[y].max()) * 1.08)
    ax.yaxis.set_minor_locator(mticker.AutoMinorLocator(2))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor=palette[h], label=h) for h in hues]
    legend_outside(ax, handles, hues)
    ax.tick_params(axis="x", rotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} ({source})")
    fig.tight_layout()
    return fig


def threshold_bars(theta_a, theta_v, source: str, classes=LLP_CLASSES):
    """Class-wise thresholds (logits) per modality, audio and visual side by side. A threshold of ``+inf`` (no
    positive segment of that class and modality to fit it on: the label never fires) is drawn as a hatched bar to
    the top of the axes marked "never fires"; every finite value also gets a tick at its height, so a value near 0
    reads as a value, not as a missing bar."""
    theta = {"audio": np.asarray(theta_a, dtype=float), "visual": np.asarray(theta_v, dtype=float)}
    for name, t in theta.items():
        if t.shape != (len(classes),):
            raise ValueError(f"theta_{name[0]}: expected {len(classes)} class thresholds, found shape {t.shape}")
        if np.isnan(t).any() or np.isneginf(t).any():
            raise ValueError(f"theta_{name[0]}: NaN or -inf thresholds at classes "
                             f"{[classes[i] for i in np.nonzero(np.isnan(t) | np.isneginf(t))[0]]}")
    finite = np.concatenate([t[np.isfinite(t)] for t in theta.values()] + [np.zeros(1)])
    low, high = float(finite.min()), float(finite.max())
    pad = 0.15 * max(high - low, 1.0)
    top = high + pad
    fig, ax = plt.subplots(figsize=(11, 3.6))
    colors = {"audio": "#1f77b4", "visual": "#ff7f0e"}
    never = []
    for shift, (name, t) in zip((-0.2, 0.2), theta.items()):
        xs = np.arange(len(classes)) + shift
        ok = np.isfinite(t)
        ax.bar(xs[ok], t[ok], width=0.4, color=colors[name], label=rf"{name} $\theta^{name[0]}$")
        ax.scatter(xs[ok], t[ok], marker="_", s=60, color="black", linewidths=1.0, zorder=3)
        if (~ok).any():
            ax.bar(xs[~ok], top - (low - pad), bottom=low - pad, width=0.4, facecolor="white", edgecolor=colors[name],
                   hatch="xxx", linewidth=0.8)  # the whole height: +inf is above any finite cut
            for xi in xs[~ok]:
                ax.text(xi, (top + low - pad) / 2, "never fires (+inf)", ha="center", va="center", rotation=90,
                        fontsize=7, color=colors[name], bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
            never += [f"{classes[i]} ({name})" for i in np.nonzero(~ok)[0]]
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(low - pad, top)
    ax.set_xlim(-0.7, len(classes) - 0.3)
    ax.set_xticks(range(len(classes)), classes, rotation=75, fontsize=8)
    ax.set_ylabel("threshold (logit)")
    handles = [Patch(facecolor=colors[n], label=rf"{n} $\theta^{n[0]}$") for n in theta]
    if never:
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="xxx",
                             label="+inf: no positive segment\nin val, never fires"))
    handles.append(Line2D([], [], ls="", marker="_", ms=8, color="black", label="value (ticks show\nvalues near 0)"))
    legend_outside(ax, handles, [h.get_label() for h in handles])
    note = f"; never fires: {', '.join(never)}" if never else "; every threshold finite"
    ax.set_title(_wrap(f"Class-wise thresholds fitted on the validation split's dense labels ({source}{note})", 130),
                 fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------- architecture figures
#: The notebook figure each method's architecture drawing (:func:`architecture`) is saved as.
ARCHITECTURE_FIGURES = {"han": "02_han_architecture.png", "coleaf": "03_coleaf_architecture.png",
                        "uwav": "05_uwav_architecture.png", "link": "07_link_architecture.png"}

#: Colour code shared by the four drawings: kind -> (fill, edge, legend label).
ARCH_COLORS = {
    "audio": ("#d9e8f6", "#1f6fb4", "audio stream"),
    "visual": ("#fde4cb", "#cf6410", "visual stream"),
    "joint": ("#e1f0db", "#2e7d32", "both modalities / shared"),
    "data": ("#ededed", "#6e6e6e", "labels, prompts, pseudo-labels"),
    "loss": ("#f9d6d6", "#c62828", "loss"),
}
_ARCH_FONT = 8  # box labels (pt)
_ARCH_SMALL = 6.5  # module names, arrow labels, notes
_ARCH_GREY = "#6a6a6a"
_ARCH_INK = "#3c3c3c"  # forward arrows


class _Node:
    """A drawn box: centre ``(x, y)`` and size ``(w, h)`` in data units, and its patch (arrows stop at it)."""

    def __init__(self, x: float, y: float, w: float, h: float, patch) -> None:
        self.x, self.y, self.w, self.h, self.patch = x, y, w, h, patch

    def port(self, side: str, shift: float = 0.0) -> tuple[float, float]:
        """A point on side ``l``/``r``/``t``/``b``, moved along that side by ``shift`` times its length."""
        if side in ("l", "r"):
            return self.x + (self.w if side == "r" else -self.w) / 2, self.y + shift * self.h
        if side in ("t", "b"):
            return self.x + shift * self.w, self.y + (self.h if side == "t" else -self.h) / 2
        raise ValueError(f"side must be one of 'l', 'r', 't', 'b'; got {side!r}")


def _arch_canvas(name: str):
    """A 10 x 4.5 in figure with one frameless axes in data units 0-100 (x) by 0-45 (y)."""
    fig = plt.figure(figsize=(10, 4.5))
    ax = fig.add_axes((0.005, 0.075, 0.99, 0.85))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 45)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_axis_off()
    fig.suptitle(f"{name}: architecture (as implemented in avvp_lib)", fontsize=11, y=0.975)
    return fig, ax


def _box(ax, xy, text: str, kind: str = "joint", size=(10.0, 5.0), module: str | None = None,
         fontsize: float = _ARCH_FONT) -> _Node:
    """A rounded box of colour ``kind`` centred at ``xy`` with ``text`` inside and the ``module`` that
    implements it in small grey text underneath."""
    from matplotlib.patches import FancyBboxPatch

    fill, edge, _ = ARCH_COLORS[kind]
    (x, y), (w, h) = xy, size
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.7",
                           facecolor=fill, edgecolor=edge, linewidth=1.2, zorder=2)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, linespacing=1.2, zorder=4)
    if module:
        _note(ax, (x, y - h / 2 - 0.45), module, va="top")
    return _Node(x, y, w, h, patch)


def _group(ax, corners, title: str, kind: str = "data", module: str | None = None, module_at: str = "bottom",
           title_at: str = "top") -> None:
    """A dashed, lightly filled frame ``corners = (x0, y0, x1, y1)`` around boxes, with a bold title in its
    top (``title_at``) or bottom left corner and the ``module`` name in its bottom (``module_at``) or top right
    corner."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyBboxPatch

    fill, edge, _ = ARCH_COLORS[kind]
    x0, y0, x1, y1 = corners
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=1.0",
                                facecolor=to_rgba(fill, 0.35), edgecolor=edge, linewidth=1.0, linestyle="--",
                                zorder=1))
    top = title_at == "top"
    ax.text(x0 + 0.8, y1 - 0.5 if top else y0 + 0.5, title, ha="left", va="top" if top else "bottom",
            fontsize=_ARCH_FONT, fontweight="bold", zorder=4)
    if module:
        top = module_at == "top"
        _note(ax, (x1 - 0.8, y1 - 0.6 if top else y0 + 0.5), module, ha="right", va="top" if top else "bottom")


def _note(ax, xy, text: str, ha: str = "center", va: str = "center", color: str = _ARCH_GREY,
          fontsize: float = _ARCH_SMALL, **kwargs):
    """Small free text (module names, arrow labels, remarks)."""
    return ax.text(*xy, text, ha=ha, va=va, fontsize=fontsize, color=color, zorder=5, **kwargs)


def _arrow(ax, a, b, kind: str = "flow", label: str | None = None, rad: float = 0.0,
           label_xy: tuple[float, float] | None = None, via: tuple = ()) -> None:
    """An arrow from ``a`` to ``b`` (each a :class:`_Node`, whose border clips it, or an ``(x, y)`` point),
    straight or bent by ``rad``, or a polyline through the ``via`` points.

    ``kind="flow"``: solid dark grey (forward pass); ``kind="loss"``: dashed red (supervision / loss terms).
    ``label`` goes at ``label_xy`` (default: the middle of the straight segment) on a white background.
    """
    start, patch_a = ((a.x, a.y), a.patch) if isinstance(a, _Node) else (a, None)
    end, patch_b = ((b.x, b.y), b.patch) if isinstance(b, _Node) else (b, None)
    color = ARCH_COLORS["loss"][1] if kind == "loss" else _ARCH_INK
    style = "--" if kind == "loss" else "-"
    if via:
        points = [start, *via]
        ax.plot([p[0] for p in points], [p[1] for p in points], color=color, linewidth=1.1, linestyle=style,
                zorder=3)
        start, patch_a = points[-1], None
    ax.annotate("", xy=end, xytext=start, zorder=3,
                arrowprops=dict(arrowstyle="-|>", color=color, linewidth=1.1, mutation_scale=9, linestyle=style,
                                shrinkA=0, shrinkB=0, patchA=patch_a, patchB=patch_b,
                                connectionstyle=f"arc3,rad={rad}"))
    if label:
        xy = label_xy or ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        _note(ax, xy, label, color=color, fontsize=7,
              bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.9))


def _arch_legend(fig, kinds: tuple[str, ...], stop_gradient: bool = False) -> None:
    """The colour code of the boxes used, the two arrow styles and (CoLeaF) the stop-gradient mark."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=ARCH_COLORS[k][0], edgecolor=ARCH_COLORS[k][1], label=ARCH_COLORS[k][2])
               for k in kinds]
    handles.append(Line2D([], [], color=_ARCH_INK, linewidth=1.1, label="forward"))
    handles.append(Line2D([], [], color=ARCH_COLORS["loss"][1], linewidth=1.1, linestyle="--",
                          label="supervision / loss term"))
    if stop_gradient:
        handles.append(Line2D([], [], color=ARCH_COLORS["loss"][1], linestyle="none", marker="$sg$",
                              markersize=11, label="stop-gradient (teacher)"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles),
               fontsize=7, frameon=False, handlelength=1.8, columnspacing=1.4)


def _stop_gradient(ax, xy) -> None:
    """The "sg" mark next to the teacher end of a distillation arrow."""
    _note(ax, xy, "sg", color=ARCH_COLORS["loss"][1], fontsize=7, fontweight="bold", fontstyle="italic")


def _draw_han(ax) -> None:
    """HAN / MMIL_Net: features -> projections -> one hybrid attention layer -> segment classifier -> MMIL -> BCE."""
    a_in = _box(ax, (6.5, 34), "audio\nVGGish\n10 × 128", "audio", (11, 7), module='batch["audio"]')
    f2_in = _box(ax, (6.5, 20), "frames\nResNet-152\n10 × 8 × 2048", "visual", (11, 7), module='batch["visual_2d"]')
    f3_in = _box(ax, (6.5, 7), "motion\nR(2+1)D\n10 × 512", "visual", (11, 7), module='batch["visual_3d"]')

    _group(ax, (13.5, 2.0, 36.5, 42.0), "to d = 512", module="HAN.encode")
    fc_a = _box(ax, (19.5, 34), "fc_a\n128 → 512", "audio", (9, 5))
    fc_v = _box(ax, (19.5, 20), "mean-pool 8 → 1\nfc_v 2048 → 512", "visual", (10.5, 5.5))
    fc_st = _box(ax, (19.5, 7), "fc_st\n512 → 512", "visual", (9, 5))
    fuse = _box(ax, (30.5, 13.5), "fc_fusion\n[·; ·]\n1024 → 512", "visual", (9, 7))
    for src, dst in ((a_in, fc_a), (f2_in, fc_v), (f3_in, fc_st), (fc_v, fuse), (fc_st, fuse)):
        _arrow(ax, src, dst)

    _group(ax, (38.0, 2.0, 69.5, 42.0), "Hybrid Attention Network (Eq. 1-2)", kind="joint",
           module="models/han.py: HybridAttentionLayer")
    sa_a = _box(ax, (45, 33), "self-attn\nq, k, v: F$^a$", "audio", (11, 6))
    cm_a = _box(ax, (61, 33), "cross-modal attn\nq: F$^a$   k, v: F$^v$", "audio", (14, 6))
    sa_v = _box(ax, (45, 14), "self-attn\nq, k, v: F$^v$", "visual", (11, 6))
    cm_v = _box(ax, (61, 14), "cross-modal attn\nq: F$^v$   k, v: F$^a$", "visual", (14, 6))
    _arrow(ax, fc_a, sa_a, label="F$^a$", label_xy=(31.5, 34.9))
    _arrow(ax, fuse, sa_v, label="F$^v$", label_xy=(37.2, 11.3))
    _arrow(ax, fc_a, cm_v)  # the other modality gives keys and values
    _arrow(ax, fuse, cm_a)
    _arrow(ax, sa_a, cm_a, label="+", label_xy=(52.25, 34.7))
    _arrow(ax, sa_v, cm_v, label="+", label_xy=(52.25, 15.7))
    _note(ax, (53.75, 7.0), "$\\hat{f}$ = LN(f + self + cross), then LN(· + FFN)\none layer, same weights for a and v",
          color=_ARCH_INK, fontsize=7)

    cls_a = _box(ax, (77, 33), "segment classifier\np$^a_t$ = σ(FC(·))", "audio", (12.5, 6))
    cls_v = _box(ax, (77, 14), "segment classifier\np$^v_t$ = σ(FC(·))", "visual", (12.5, 6),
                 module="fc_prob (one FC)")
    _arrow(ax, cm_a, cls_a)
    _arrow(ax, cm_v, cls_v)
    mmil = _box(ax, (92, 31.5), "attentive MMIL\npooling (Eq. 3-4)\nsoftmax over t\n× softmax over a/v",
                "joint", (14, 10), module="HAN.mmil_head")
    _arrow(ax, cls_a, mmil)
    _arrow(ax, cls_v.port("r", 0.3), mmil.port("l", -0.35))
    loss = _box(ax, (92, 10.5), "BCE(P, y)\n+ BCE(P$^a$, y)\n+ BCE(P$^v$, $\\tilde{y}$$^v$)", "loss", (14, 8.5),
                module="losses/mmil.py")
    _arrow(ax, mmil.port("b", -0.33), loss.port("t", -0.33), kind="loss", label="P, P$^a$, P$^v$",
           label_xy=(88.5, 20.3))
    label = _box(ax, (76.5, 4.5), "video label y (weak)\n$\\tilde{y}$$^v$ = 0.9 y + 0.05", "data", (14, 5))
    _arrow(ax, label, loss, kind="loss")


def _draw_coleaf(ax) -> None:
    """CoLeaF: the Reference (unimodal self-attention + class tokens, training only) and the Anchor (HAN),
    tied by three collaborative losses whose teacher side is detached."""
    a_in = _box(ax, (6, 27.5), "audio\nVGGish", "audio", (10, 5.5))
    v_in = _box(ax, (6, 15), "visual\nResNet-152\n+ R(2+1)D", "visual", (10, 7))

    _group(ax, (13.0, 25.8, 71.5, 44.8), "Reference (training only): unimodal, class tokens",
           module="models/coleaf.py: Reference", module_at="top")
    r_enc_a = _box(ax, (19.5, 37.5), "own fc_a", "audio", (9, 5))
    r_enc_v = _box(ax, (19.5, 30.5), "own fc_v, fc_st,\nfc_fusion", "visual", (9, 5))
    r_sa_a = _box(ax, (35, 37.5), "self-attn (Eq. 5-6)\n[F$^a$; C class tokens]", "audio", (17, 5))
    r_sa_v = _box(ax, (35, 30.5), "self-attn (Eq. 5-6)\n[F$^v$; C class tokens]", "visual", (17, 5))
    r_head_a = _box(ax, (57, 37.5), "$\\ddot{P}$$^a$: FC + temporal pool (Eq. 7)\nCLS$^a$: σ(mean of class tokens)",
                    "audio", (24, 5))
    r_head_v = _box(ax, (57, 30.5), "$\\ddot{P}$$^v$: FC + temporal pool (Eq. 7)\nCLS$^v$: σ(mean of class tokens)",
                    "visual", (24, 5))
    for src, dst in ((r_enc_a, r_sa_a), (r_enc_v, r_sa_v), (r_sa_a, r_head_a), (r_sa_v, r_head_v)):
        _arrow(ax, src, dst)

    _group(ax, (13.0, 1.0, 71.5, 15.6), "Anchor (training and inference): HAN", kind="joint",
           module="models/han.py: HAN", title_at="bottom")
    a_enc = _box(ax, (19.5, 7.5), "HAN.encode\nfc_a, fc_v,\nfc_st, fc_fusion", "joint", (10, 7))
    a_han = _box(ax, (35, 7.5), "hybrid attention (Eq. 1-2)\nself + cross-modal attn\n→ tokens $\\hat{f}$",
                 "joint", (17, 7))
    a_mmil = _box(ax, (57, 7.5), "MMIL head (Eq. 3-4)\n→ P$^a$, P$^v$, video P", "joint", (16, 7))
    _arrow(ax, a_enc, a_han)
    _arrow(ax, a_han, a_mmil)

    _arrow(ax, a_in, r_enc_a)
    _arrow(ax, v_in.port("r", 0.2), r_enc_v)
    _arrow(ax, a_in.port("r", -0.2), a_enc)
    _arrow(ax, v_in, a_enc)

    evt = _box(ax, (35, 20.7), "$\\mathcal{L}_{Evt}$ (Eq. 8-11)\nevent-aware contrast", "loss", (17, 4.8),
               module="event_aware_contrastive_loss")
    selfmo = _box(ax, (51.5, 20.7), "$\\mathcal{L}_{SelfMo}$ (Eq. 12)\nBCE($\\ddot{P}$, 1[P > θ])", "loss",
                  (13.5, 4.8), module="self_modality_loss")
    cocls = _box(ax, (65.5, 20.7), "$\\mathcal{L}_{CoCls}$ (Eq. 13)\nMSE(P P$^T$, $\\ddot{P}$ $\\ddot{P}$$^T$)", "loss",
                 (12.5, 4.8), module="co_occurrence_loss")
    _arrow(ax, r_sa_v.port("b", -0.38), evt.port("t", -0.38), kind="loss")
    _stop_gradient(ax, (26.8, 25.9))
    _arrow(ax, evt.port("l", -0.2), a_han.port("t", -0.42), kind="loss")
    _arrow(ax, a_mmil.port("t", -0.45), selfmo.port("l", -0.2), kind="loss")
    _stop_gradient(ax, (51.3, 12.6))
    _arrow(ax, selfmo.port("t", -0.1), r_head_v.port("b", -0.25), kind="loss")
    _arrow(ax, r_head_v.port("b", 0.3), cocls.port("t", 0.0), kind="loss")
    _stop_gradient(ax, (67.3, 26.4))
    _arrow(ax, cocls.port("l", -0.25), a_mmil.port("t", 0.3), kind="loss")

    r_loss = _box(ax, (86, 34.5), "$\\mathcal{L}^{Ref}_{video}$\nBCE($\\ddot{P}$$^a$, y) + BCE($\\ddot{P}$$^v$, y)\n"
                  "+ BCE(CLS, y)", "loss", (22, 8), module="reference_video_loss")
    a_loss = _box(ax, (86, 7.5), "$\\mathcal{L}^{Anch}_{video}$\nHAN's BCE losses on y", "loss", (22, 7),
                  module="anchor_video_loss")
    _arrow(ax, r_head_a, r_loss, kind="loss")
    _arrow(ax, r_head_v, r_loss, kind="loss")
    _arrow(ax, a_mmil, a_loss, kind="loss")
    _note(ax, (86, 21), "total loss (methods/coleaf.py):\n$\\mathcal{L}^{Anch}_{video}$ + $\\mathcal{L}^{Ref}_{video}$"
          " + 0.1 $\\mathcal{L}_{Evt}$\n+ $\\mathcal{L}_{SelfMo}$ + $\\mathcal{L}_{CoCls}$\n\ninference: the Anchor only",
          color=_ARCH_INK, fontsize=7.5)


def _draw_uwav(ax) -> None:
    """UWAV: stage 1 pretrains temporal pseudo-label generators; stage 2 trains HAN on LLP with their
    uncertainty-weighted soft labels, class-balanced re-weighting and feature mixup."""
    _group(ax, (0.5, 1.0, 40.0, 44.8), "stage 1: pseudo-label generators", module="pseudo_labels.py")
    a_in = _box(ax, (6.3, 35), "CLAP audio\nT × 512", "audio", (10, 5.5))
    v_in = _box(ax, (6.3, 25), "CLIP frames\nT × 768", "visual", (10, 5.5))
    gen_a = _box(ax, (20.3, 35), "transformer,\n5 blocks\n(Eq. 6-7)", "audio", (12, 6.5))
    gen_v = _box(ax, (20.3, 25), "transformer,\n5 blocks\n(Eq. 6-7)", "visual", (12, 6.5),
                 module="models/uwav.py:\nTemporalTransformer")
    logits = _box(ax, (33.8, 30), "logits\nz$_t$ = E · g$_{L,t}$\n(Eq. 8)", "joint", (9, 9))
    prompts = _box(ax, (33.8, 40.3), "prompts E:\nCLAP / CLIP text", "data", (11, 5))
    pre = _box(ax, (19, 9.5), "$\\mathcal{L}_{temp}$ = BCE(σ(z$^v_t$) σ(z$^a_t$), y$^{av}_t$)\n(Eq. 9) on "
               "UnAV-100-like videos\nwith dense audio-visual labels", "loss", (26, 7.5),
               module="losses/uwav.py: av_pretraining_loss")
    for src, dst in ((a_in, gen_a), (v_in, gen_v), (gen_a, logits), (gen_v, logits), (prompts, logits)):
        _arrow(ax, src, dst)
    _arrow(ax, logits.port("b", 0.2), pre.port("t", 0.38), kind="loss")

    _group(ax, (42.0, 1.0, 99.5, 44.8), "stage 2: HAN trained on LLP with the pseudo-labels\n"
           "$\\mathcal{L}_{total}$ = $\\mathcal{L}_{w-soft}$ + $\\mathcal{L}_{mix}$ + $\\mathcal{L}_{video}$ (Eq. 20)",
           kind="joint", module="methods/uwav.py: UWAVMethod", module_at="top")
    feats = _box(ax, (49.5, 33.5), "LLP video\nVGGish, ResNet-152,\nR(2+1)D", "joint", (12, 7))
    han = _box(ax, (67, 33.5), "HAN (Eq. 1-4)\nself + cross-modal attn\nfull: 5 layers, 16 heads", "joint",
               (17, 7), module="models/uwav.py: StackedHAN")
    outs = _box(ax, (89, 33.5), "segment p$^a_t$, p$^v_t$\nvideo P (MMIL)", "joint", (16, 7))
    _arrow(ax, feats, han)
    _arrow(ax, han, outs)

    wsoft = _box(ax, (52, 19), "$\\mathcal{L}_{w-soft}$ (Eq. 17-19)\nclass-balanced BCE;\nw$_{pos}$, w$_{neg}$: shares of"
                 "\nbinary pseudo-labels", "loss", (18, 8), module="class_balanced_bce")
    mix = _box(ax, (71, 19), "$\\mathcal{L}_{mix}$ (Eq. 14-16)\nmixup of HAN outputs\nand of their labels,\n"
               "λ ~ Beta(1.7, 1.7)", "loss", (17, 8), module="mixup_segments")
    video = _box(ax, (89.5, 19), "$\\mathcal{L}_{video}$\nBCE(P, y)", "loss", (14, 8), module="video_bce")
    _arrow(ax, outs, wsoft, kind="loss", label="p$_t$", label_xy=(80.5, 30.2))
    _arrow(ax, han.port("b", 0.46), mix.port("t", 0.2), kind="loss", label="$\\hat{f}_t$")
    _arrow(ax, outs.port("b", 0.03), video, kind="loss", label="P")

    z_llp = _box(ax, (52, 5.5), "frozen generators on LLP\n(25 prompts) → z$^a_t$, z$^v_t$", "data", (18, 5.5),
                 module="generator_logits")
    soft = _box(ax, (71, 5.5), "soft labels (Eq. 12)\n$\\hat{p}_t$ = σ(z$_t$ − θ) · y", "data", (16, 5.5),
                module="soft_pseudo_labels")
    theta = _box(ax, (89.5, 5.5), "θ$^a$, θ$^v$ per class:\nbest F1 on LLP val", "data", (15, 5.5),
                 module="choose_thresholds")
    _arrow(ax, logits.port("r"), z_llp.port("l"), via=((41.0, 30.0), (41.0, 5.5)))
    _arrow(ax, z_llp, soft)
    _arrow(ax, theta, soft)
    _arrow(ax, soft.port("t", -0.3), wsoft.port("b", 0.3), kind="loss", label="$\\hat{p}_t$")
    _arrow(ax, soft.port("t", 0.3), mix.port("b", 0.35), kind="loss", label="$\\hat{p}_t$")


def _draw_link(ax) -> None:
    """LINK: a VALOR-style HAN on CLAP/CLIP features with TSAM, CMIM and PLSIM in front of the HAN layers,
    trained with VALOR's pseudo-label loss plus S-LOSS."""
    _note(ax, (50, 43.3), "LINK = VALOR (HAN on CLAP / CLIP trained with zero-shot segment pseudo-labels) "
          "+ TSAM, CMIM, PLSIM, S-LOSS;  Table II switches: T = TSAM + CMIM, S = S-LOSS, P = PLSIM",
          color=_ARCH_INK, fontsize=7.5)
    a_in = _box(ax, (6.5, 36.5), "CLAP audio\n10 × 512", "audio", (11, 5.5), module='batch["clap"]')
    v_in = _box(ax, (6.5, 24), "CLIP 10 × 768\n+ R(2+1)D", "visual", (11, 5.5),
                module='batch["clip"],\nbatch["visual_3d"]')
    fc_a = _box(ax, (19, 36.5), "fc_a → d", "audio", (9, 4.5))
    fc_v = _box(ax, (19, 24), "fc_v, fc_st,\nfc_fusion → d", "visual", (9.5, 5.5), module="LinkNet.encode")
    tsam_a = _box(ax, (31, 36.5), "TSAM (Eq. 1-3)\ntime, channel\nweights", "audio", (11, 6.5))
    tsam_v = _box(ax, (31, 24), "TSAM (Eq. 1-3)\ntime, channel\nweights", "visual", (11, 6.5),
                  module="models/link.py: TSAM")
    cmim = _box(ax, (45, 30.25), "CMIM\n(Eq. 4-6)\ncross-modal\nattention,\nscalars α, β", "joint", (11, 18.5),
                module="CMIM")
    plsim = _box(ax, (59, 30.25), "PLSIM\n(Eq. 13-17)\nFiLM per\nmodality:\nf ⊙ γ$_1$ + γ$_2$ + f", "joint",
                 (11.5, 18.5), module="PLSIM")
    han = _box(ax, (73, 30.25), "HAN layers\n× L\nself + cross-\nmodal attn\n(VALOR)", "joint", (11, 18.5),
               module="HybridAttentionLayer")
    head = _box(ax, (88, 30.25), "MMIL head\n(Eq. 3-4 of HAN)\np$^a_t$, p$^v_t$\nP$^a$, P$^v$, P", "joint",
                (12, 18.5), module="LinkNet.head")
    for src, dst in ((a_in, fc_a), (v_in, fc_v), (fc_a, tsam_a), (fc_v, tsam_v), (tsam_a, cmim), (tsam_v, cmim),
                     (cmim, plsim), (plsim, han), (han, head)):
        _arrow(ax, src, dst)

    pl = _box(ax, (17, 7.5), "zero-shot pseudo-labels (VALOR)\n1{cos(segment, prompt) > θ$_c$}\nCLAP audio, CLIP visual",
              "data", (27, 7), module="models/valor.py")
    valor = _box(ax, (51, 7.5), "$\\mathcal{L}_{VALOR}$ (Eq. 7-8)\nBCE(P, y)\n+ Σ$_t$ BCE(p$^m_t$, $\\hat{y}$$^m_t$)",
                 "loss", (19, 7), module="losses/link.py: valor_loss")
    sloss = _box(ax, (83, 7.5), "S-LOSS (Eq. 9-12)\n$\\mathcal{L}_{label}$: BCE(P$^m$, max$_t$ $\\hat{y}$$^m_t$)\n"
                 "λ(s) · MSE(cos s, IoU r)", "loss", (25, 7), module="label_loss, avss_loss")
    _arrow(ax, pl.port("t", 0.42), plsim.port("b", -0.3), kind="loss", label="unmasked: prompt\nembeddings F$_p$ (Eq. 13)",
           label_xy=(42.5, 15.6))
    _arrow(ax, pl, valor, kind="loss", label="× y")
    _arrow(ax, pl.port("b", 0.38), sloss.port("b", -0.3), kind="loss", rad=0.12)
    _arrow(ax, head.port("b", -0.36), valor.port("t", 0.3), kind="loss", label="P, p$_t$",
           label_xy=(71.5, 16.2))
    _arrow(ax, head.port("b", 0.36), sloss.port("t", 0.28), kind="loss", label="P$^m$, features",
           label_xy=(92.3, 15.6))


_ARCHITECTURES = {"han": ("HAN", _draw_han, ("audio", "visual", "joint", "data", "loss")),
                  "coleaf": ("CoLeaF", _draw_coleaf, ("audio", "visual", "joint", "loss")),
                  "uwav": ("UWAV", _draw_uwav, ("audio", "visual", "joint", "data", "loss")),
                  "link": ("LINK", _draw_link, ("audio", "visual", "joint", "data", "loss"))}


def architecture(method: str):
    """One method's architecture as implemented in ``avvp_lib``, drawn in the spirit of the papers' Fig. 2:
    boxes coloured by stream (audio / visual / both / data / loss), solid forward arrows, dashed loss arrows,
    equation numbers of the paper (HAN's are CoLeaF's restatement), and under each box the module that
    implements it. ``method``: ``han``, ``coleaf``, ``uwav`` or ``link``; saved in the notebooks as
    :data:`ARCHITECTURE_FIGURES`."""
    if method not in _ARCHITECTURES:
        raise ValueError(f"unknown method {method!r}; expected one of {sorted(_ARCHITECTURES)}")
    name, draw, kinds = _ARCHITECTURES[method]
    fig, ax = _arch_canvas(name)
    draw(ax)
    _arch_legend(fig, kinds, stop_gradient=method == "coleaf")
    return fig
