"""Figures shared by the notebooks: label statistics, timelines, per-class bars, ablation bars.

Every function takes a ``source`` label (``synthetic`` / ``llp`` + profile) that goes into the title,
so no figure can be mistaken for a paper reproduction.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from avvp_lib.data.annotations import LLP_CLASSES

TYPE_COLORS = {"audible_only": "#1f77b4", "visible_only": "#ff7f0e", "audible_visible": "#2ca02c", "neither": "#bbbbbb"}


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
    ax.legend(fontsize=8, ncol=4, loc="lower right")
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


def ablation_bars(summary, metrics: list[str], label_column: str, source: str):
    """Bars of mean with std error bars per configuration (a ``results.summarize`` frame)."""
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(metrics), 3.4))
    names = list(summary[label_column])
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        row = summary.iloc[k]
        ax.bar(np.arange(len(metrics)) + k * width, [row[f"{m} mean"] for m in metrics], width,
               yerr=[row[f"{m} std"] for m in metrics], capsize=2, label=name)
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, metrics, fontsize=8)
    ax.set_ylabel("F (%)")
    ax.set_title(f"Ablations, mean ± std over seeds ({source})")
    ax.legend(fontsize=7, ncol=2)
    return fig


def sensitivity_curves(panels: list[dict], metric: str, source: str):
    """One column per hyper-parameter (UWAV Fig. A4-A5): top, our mean ± std over seeds against its value;
    bottom, the values the paper reports, on an axis of its own (other data, other scale: compare shapes only;
    "no paper points" where the paper gives none). No twin axes.

    ``panels``: dicts with ``name`` (axis label), ``x``, ``mean``, ``std`` (ours) and ``paper`` (a
    ``{value: score}`` dict, possibly empty).
    """
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 5.4), squeeze=False,
                             gridspec_kw={"height_ratios": (3, 2)})
    for col, panel in enumerate(panels):
        top, bottom = axes[0, col], axes[1, col]
        x, mean, std = (np.asarray(panel[k], dtype=float) for k in ("x", "mean", "std"))
        top.errorbar(x, mean, yerr=std, marker="o", capsize=3)
        top.set_ylabel(f"ours: {metric} (%)")
        top.set_title(f"{panel['name']}: ours ({source})", fontsize=9)
        if panel.get("paper"):
            px = sorted(panel["paper"])
            bottom.plot(px, [panel["paper"][v] for v in px], "s--", color="#d62728")
            bottom.set_ylabel("paper (%)")
            bottom.set_title("the paper (real LLP, text of the figure)", fontsize=9)
        else:
            bottom.text(0.5, 0.5, "no paper points", ha="center", va="center", transform=bottom.transAxes)
            bottom.set_yticks([])
        bottom.set_xlim(top.get_xlim())
        bottom.set_xlabel(panel["name"])
    fig.tight_layout()
    return fig
