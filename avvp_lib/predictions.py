"""Saved test predictions of every trained run: binary (N, T, C) arrays as packed bits.

Intervals (:mod:`avvp_lib.comparisons`) bootstrap over these test videos; notebooks 08-09 also draw
per-class heatmaps and timelines from them without retraining. A file is named by its run's experiment
name, profile, data fingerprint and seed, and carries its keys (name, method, variant, features, seed, data,
profile, config hash, data fingerprint, code version) in ``meta``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from avvp_lib.atomic import write_atomic
from avvp_lib.paths import PREDICTIONS_DIR  # noqa: E402  (the committed results/predictions, read)
INDEX_COLUMNS = ["name", "method", "variant", "features", "seed", "data", "profile", "data_fingerprint",
                 "config_hash", "code_version", "path"]


def prediction_path(name: str, profile: str, data_fingerprint: str, seed: int, folder: Path = PREDICTIONS_DIR,
                    config_hash: str | None = None) -> Path:
    """``<folder>/<name with / as -->_<profile>_<data fingerprint>[_<config hash>]_seed<seed>.npz``.

    Every run saved since the file name carries its configuration hash: a name whose configuration changes (a recipe
    brought to its released form) gets new files and never overwrites the predictions its older records point to.
    Without ``config_hash``: the name files of runs saved before that (:func:`find_predictions` tries both)."""
    slug = "".join(ch if ch.isalnum() or ch in "+-=." else "_" for ch in name.replace("/", "--").lower())
    middle = f"{data_fingerprint}_{config_hash}" if config_hash else data_fingerprint
    return Path(folder) / f"{slug}_{profile}_{middle}_seed{int(seed)}.npz"


def find_predictions(name: str, profile: str, data_fingerprint: str, seed: int, config_hash: str,
                     folder: Path = PREDICTIONS_DIR) -> Path:
    """The predictions file of one run: the one named with its configuration hash, else the older name without it
    (whose contents the reader checks against ``config_hash``). Returns the first path tried when neither exists."""
    hashed = prediction_path(name, profile, data_fingerprint, seed, folder, config_hash)
    legacy = prediction_path(name, profile, data_fingerprint, seed, folder)
    return hashed if hashed.is_file() or not legacy.is_file() else legacy


def save_predictions(path: str | Path, pred_a, pred_v, gt_a, gt_v, filenames, meta: dict) -> Path:
    """Binary (N, T, C) arrays as packed bits in a compressed .npz (written atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v.cpu() if isinstance(v, torch.Tensor) else v).astype(bool)
              for k, v in dict(pred_a=pred_a, pred_v=pred_v, gt_a=gt_a, gt_v=gt_v).items()}
    shape = arrays["pred_a"].shape
    return write_atomic(path, lambda handle: np.savez_compressed(
        handle, shape=np.array(shape), filenames=np.array(filenames), meta=np.array(json.dumps(meta, sort_keys=True)),
        **{k: np.packbits(v.reshape(-1)) for k, v in arrays.items()}), what="predictions file")


def load_predictions(path: str | Path) -> dict:
    """``{"pred_a", "pred_v", "gt_a", "gt_v": (N, T, C) uint8, "filenames": list, "meta": dict}``; a damaged
    file is an error naming it."""
    try:
        with np.load(path) as z:
            shape = tuple(int(x) for x in z["shape"])
            size = int(np.prod(shape))
            out = {k: np.unpackbits(z[k])[:size].reshape(shape) for k in ("pred_a", "pred_v", "gt_a", "gt_v")}
            out["filenames"] = [str(f) for f in z["filenames"]]
            out["meta"] = json.loads(str(z["meta"]))
    except Exception as error:  # zipfile/pickle/KeyError/ValueError: all mean a damaged or foreign file
        raise ValueError(f"{path}: not a readable predictions file ({type(error).__name__}: {error})") from error
    return out


def saved_predictions(profile: str | None = None, data: str | None = None,
                      folder: Path = PREDICTIONS_DIR) -> pd.DataFrame:
    """Index of the saved prediction files: one row per file with the columns of :data:`INDEX_COLUMNS`."""
    rows = []
    for path in sorted(Path(folder).glob("*.npz")):
        try:
            with np.load(path) as z:
                meta = json.loads(str(z["meta"]))
        except Exception as error:
            raise ValueError(f"{path}: not a readable predictions file ({type(error).__name__}: {error})") from error
        rows.append({**{k: meta.get(k) for k in INDEX_COLUMNS[:-1]}, "path": path})
    frame = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    for column in ("config_hash", "data_fingerprint"):
        frame[column] = frame[column].astype(str)
    if profile is not None:
        frame = frame[frame.profile == profile]
    if data is not None:
        frame = frame[frame.data == data]
    return frame.reset_index(drop=True)
