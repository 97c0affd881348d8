"""What data a run saw: a short hash of a data root, part of every record's and checkpoint folder's key.

Covers the generator's metadata (profile, seed, every knob and split size; ``synth_meta.json`` minus its
timing), the label files the root uses, and the listing (name and size) of each official feature folder.
Two roots with the same fingerprint hold the same data for every purpose the course has; a root whose
features were rewritten in place with files of the same size is the one case it does not see (real
features are not rewritten; synthetic ones change only with their metadata).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: fields of ``synth_meta.json`` that vary between two generations of the same data
VOLATILE_META_KEYS = ("seconds",)
#: the feature folders of the official layouts (README, "Official on-disk layouts")
FEATURE_FOLDERS = ("vggish", "res152", "r2plus1d_18", "feats_CLIP/segment_feats", "feats_CLAP/segment_feats",
                   "feats_CLIP/event_feats", "feats_CLAP/event_feats")
SHIPPED_ANNOTATIONS = Path(__file__).resolve().parents[2] / "data" / "annotations"


def data_fingerprint(root: str | Path) -> str:
    """12 hex digits over the root's metadata, label files and feature listings (see the module doc)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist")
    digest = hashlib.sha256()
    meta_path = root / "synth_meta.json"
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{meta_path}: not valid JSON ({error})") from error
        meta = {k: v for k, v in meta.items() if k not in VOLATILE_META_KEYS}
        digest.update(b"meta\0" + json.dumps(meta, sort_keys=True).encode())
    annotations = root / "annotations" if (root / "annotations").is_dir() else SHIPPED_ANNOTATIONS
    for path in sorted(annotations.glob("*.csv")):
        digest.update(f"labels\0{path.name}\0".encode() + path.read_bytes())
    for folder in FEATURE_FOLDERS:
        directory = root / folder
        if directory.is_dir():
            listing = sorted((entry.name, entry.stat().st_size) for entry in os.scandir(directory)
                             if entry.name.endswith(".npy"))
            digest.update(f"features\0{folder}\0".encode() + json.dumps(listing).encode())
    return digest.hexdigest()[:12]
