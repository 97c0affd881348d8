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


class DataRootError(ValueError):
    """A data root that cannot say what data it holds: unreadable metadata, or synthetic files without it."""


META_FILE = "synth_meta.json"
#: files only the synthetic generator writes: a root holding one of them but no ``synth_meta.json`` is a copy of a
#: synthetic root that lost its metadata (never real LLP features)
SYNTHETIC_MARKERS = ("diagnostics/train_tracks.npz", "synth_manifest.json", "unav100/unav_meta.json")


def read_synth_meta(root: str | Path) -> dict | None:
    """The generator's metadata of ``root`` (None when there is no ``synth_meta.json``). A file that is not a JSON
    object (truncated, another encoding) is a :class:`DataRootError` naming it, what was expected and found."""
    path = Path(root) / META_FILE
    if not path.is_file():
        return None
    raw = path.read_bytes()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataRootError(f"{path}: not valid UTF-8 JSON ({error}; the file is {len(raw)} bytes) - expected the "
                            f"generator's metadata (a JSON object with data, profile, seed, knobs); a truncated copy? "
                            f"Regenerate the root (python -m avvp_lib.data.synth --out {Path(root)} --force)") from None
    if not isinstance(meta, dict):
        raise DataRootError(f"{path}: expected a JSON object (the generator's metadata), found a "
                            f"{type(meta).__name__}")
    return meta


def data_source_of(root: str | Path) -> tuple[str, dict]:
    """``synthetic`` when the root carries our generator's metadata, ``llp`` (real features) when it carries no
    trace of the generator. A root with files only the generator writes (:data:`SYNTHETIC_MARKERS`) but no
    ``synth_meta.json`` is a :class:`DataRootError`: its numbers would otherwise be labelled as real LLP."""
    meta = read_synth_meta(root)
    if meta is not None:
        return meta.get("data", "synthetic"), meta
    found = [m for m in SYNTHETIC_MARKERS if (Path(root) / m).exists()]
    if found:
        raise DataRootError(f"{Path(root)}: no {META_FILE}, but {found[0]} is there - expected either a synthetic "
                            f"root with its {META_FILE} (restore it from where the root was copied, or regenerate "
                            f"with python -m avvp_lib.data.synth) or real features without the generator's files "
                            f"(remove {', '.join(found)}); its results would otherwise be labelled as real LLP")
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
