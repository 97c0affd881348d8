"""The data of each controlled level: its root (the frozen level is the default root, every other one a root of its
own under ``data/synthetic/controlled``), its generation, and the measured properties its level file records."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from avvp_lib import paths
from avvp_lib.experiments.hypotheses import HYPOTHESES, frozen_value, knob_overrides
from avvp_lib.experiments.levels import level_name, write_level_file

def level_root(profile: str, knob: str, value: float) -> Path:
    """The frozen level is the default root; every other level a root of its own under ``data/synthetic``."""
    if value == frozen_value(knob):
        return paths.synthetic_dir() / profile
    return paths.synthetic_dir() / "controlled" / level_name(profile, knob, value)


def ensure_level(profile: str, knob: str, value: float, progress: bool = False) -> Path:
    """Generate the level's root unless a complete one with the same knobs is there."""
    from avvp_lib.data import synth

    root = level_root(profile, knob, value)
    synth.ensure(root, profile, seed=0, progress=progress, knobs=synth.knobs_with(knob_overrides(knob, value)))
    return root


def segment_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` against binary ``truth`` over all cells (Mann-Whitney U / n1 n0,
    ties counted one half)."""
    from scipy.stats import rankdata

    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(truth).ravel() > 0
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"AUC needs positive and negative cells; got {n1} positive of {y.size}")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def measure_level(root: str | Path) -> dict:
    """The properties of a root's data that a hypothesis's x-axis reads (see the module doc)."""
    import torch

    from avvp_lib.data.dataset import load_split
    from avvp_lib.data.features import load_prompt_embeddings
    from avvp_lib.data.synth import unaligned_share

    root = Path(root)
    tracks_file = root / "diagnostics" / "train_tracks.npz"
    if not tracks_file.is_file():
        raise FileNotFoundError(f"{tracks_file}: missing (a synthetic root keeps its train tracks there)")
    tracks = np.load(tracks_file)
    test = load_split(root, "test", streams=("clipclap",))
    prompts = load_prompt_embeddings(root)
    clip = torch.einsum("ntd,cd->ntc", test.tensors["clip"], prompts["clip_text"]).numpy()
    clap = torch.einsum("ntd,cd->ntc", test.tensors["clap"], prompts["clap_text"]).numpy()
    auc_v, auc_a = segment_auc(clip, test.gt_visual.numpy()), segment_auc(clap, test.gt_audio.numpy())
    return {"train_unaligned_share": unaligned_share(tracks["audio"], tracks["visual"]),
            "test_unaligned_share": unaligned_share(test.gt_audio.numpy(), test.gt_visual.numpy()),
            "zero_shot_auc_clip": auc_v, "zero_shot_auc_clap": auc_a, "zero_shot_auc": (auc_v + auc_a) / 2}


def write_level(profile: str, knob: str, value: float, folder: Path | None = None) -> dict:
    """Measure a level's root and write its level file (:mod:`avvp_lib.experiments.levels`); returns the body."""
    from avvp_lib.experiments.fingerprint import data_fingerprint

    root = level_root(profile, knob, value)
    body = {"profile": profile, "knob": knob, "value": float(value), "frozen": value == frozen_value(knob),
            "root": paths.to_record(root), "data_fingerprint": data_fingerprint(root),
            "measured": {k: round(float(v), 6) for k, v in measure_level(root).items()}}
    write_level_file(body, folder if folder is not None else paths.levels_dir())
    return body


def folders_digest(root: str | Path, folders) -> str:
    """SHA-256 over the names and bytes of every ``.npy`` file of ``folders`` under ``root``."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((Path(root) / folder).glob("*.npy")):
            digest.update(f"{folder}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def levels_present(profile: str = "quick", folder: Path | None = None) -> bool:
    """Whether every level file of every hypothesis exists (``make results`` derives the tables only then)."""
    folder = Path(folder) if folder is not None else paths.levels_dir()
    return all((folder / f"{level_name(profile, h.knob, v)}.json").is_file() for h in HYPOTHESES for v in h.levels)
