"""A whole split resident in memory as tensors: features + labels + dense ground truth.

``load_split`` is the single entry point notebooks and the trainer use; it reads a data root in
the official layouts (the real LLP features or our synthetic benchmark alike).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from avvp_lib.data.annotations import LLPAnnotations, load_llp
from avvp_lib.data.features import load_clip_clap, load_features

STREAM_SETS = ("han", "clipclap")


@dataclass
class AVVPData:
    """One split on one device. ``tensors`` share their first dimension (videos)."""

    name: str
    filenames: list[str]
    video_ids: list[str]
    tensors: dict[str, torch.Tensor]
    gt_audio: torch.Tensor | None
    gt_visual: torch.Tensor | None
    data_source: str = "llp"
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.filenames)

    @property
    def labels(self) -> torch.Tensor:
        return self.tensors["labels"]

    def to(self, device) -> "AVVPData":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return AVVPData(self.name, self.filenames, self.video_ids, {k: v.to(device) for k, v in self.tensors.items()},
                        move(self.gt_audio), move(self.gt_visual), self.data_source, self.meta)

    def subset(self, rows) -> "AVVPData":
        rows = torch.as_tensor(rows, dtype=torch.long)
        pick = lambda t: None if t is None else t[rows.to(t.device)]  # noqa: E731
        r = rows.tolist()
        return AVVPData(self.name, [self.filenames[i] for i in r], [self.video_ids[i] for i in r],
                        {k: pick(v) for k, v in self.tensors.items()}, pick(self.gt_audio), pick(self.gt_visual),
                        self.data_source, self.meta)


def data_source_of(root: str | Path) -> tuple[str, dict]:
    """``synthetic`` when the root carries our generator's metadata, else ``llp`` (real features)."""
    meta_path = Path(root) / "synth_meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return meta.get("data", "synthetic"), meta
    return "llp", {}


def annotations_of(root: str | Path) -> LLPAnnotations:
    """The label files of a root: ``<root>/annotations`` when present, else the shipped real ones."""
    folder = Path(root) / "annotations"
    return load_llp(folder if folder.is_dir() else None)


def load_split(root: str | Path, split: str, *, streams: tuple[str, ...] = ("han",), dtype=torch.float32,
               device: str | torch.device = "cpu", annotations: LLPAnnotations | None = None) -> AVVPData:
    """Load one split (train / val / test) as resident tensors.

    ``streams``: ``"han"`` gives ``audio (N,10,128)``, ``visual_2d (N,10,2048)`` (the 8 frames of a
    segment averaged while loading - identical for HAN, whose fc_v is affine), ``visual_3d (N,10,512)``;
    ``"clipclap"`` gives ``clip (N,10,768)`` and ``clap (N,10,512)``. Always: ``labels (N,25)`` and
    ``index (N,)`` (row numbers, so per-video side tensors such as pseudo-labels can be looked up).
    """
    unknown = set(streams) - set(STREAM_SETS)
    if unknown:
        raise ValueError(f"unknown stream set(s) {sorted(unknown)}; expected a subset of {STREAM_SETS}")
    root = Path(root)
    labels = (annotations or annotations_of(root)).split(split)
    tensors: dict[str, torch.Tensor] = {}
    if "han" in streams:
        tensors |= load_features(root, labels.video_ids, dtype=dtype, pool_visual_2d=True)
    if "clipclap" in streams:
        tensors |= load_clip_clap(root, labels.video_ids, dtype=dtype)
    tensors["labels"] = labels.labels.clone()
    tensors["index"] = torch.arange(len(labels))
    source, meta = data_source_of(root)
    data = AVVPData(split, labels.filenames, labels.video_ids, tensors, labels.gt_audio, labels.gt_visual, source, meta)
    return data.to(device)
