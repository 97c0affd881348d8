"""The data a run reads: one root, profile and device, with each family's splits loaded once per process.

Feature sets: ``standard`` = VGGish / ResNet-152 / R(2+1)D, ``clip_clap`` = CLAP / CLIP / R(2+1)D (the segment
embeddings of the UWAV release; only the audio and frame encoders change, the motion stream stays).
"""
from __future__ import annotations

from pathlib import Path

STANDARD, CLIP_CLAP = "standard", "clip_clap"
#: HAN-family input sizes per feature set (audio, frames); R(2+1)D (512) is fused on both
HAN_INPUTS = {STANDARD: {}, CLIP_CLAP: {"audio_dim": 512, "visual_2d_dim": 768}}


def feature_view(split, features: str):
    """A split as the HAN family reads it: ``standard`` as loaded; ``clip_clap`` with ``audio`` <- CLAP and
    ``visual_2d`` <- CLIP (``visual_3d`` kept). The tensors are shared, not copied."""
    from dataclasses import replace

    if features == STANDARD:
        return split
    t = split.tensors
    missing = {"clip", "clap", "visual_3d"} - set(t)
    if missing:
        raise ValueError(f"split {split.name!r} lacks the streams {sorted(missing)} that feature set {features!r} needs")
    view = {"audio": t["clap"], "visual_2d": t["clip"], "visual_3d": t["visual_3d"], "labels": t["labels"],
            "index": t["index"]}
    return replace(split, tensors=view)


class Context:
    """One data root, profile and device, with the splits each family needs loaded once per process."""

    def __init__(self, profile: str, data_root, device: str = "auto"):
        from avvp_lib import paths
        from avvp_lib.experiments.fingerprint import data_fingerprint
        from avvp_lib.runtime import prepare

        cfg = prepare(profile, data_root, 0, device)
        self.profile, self.device = profile, str(cfg["device"])
        self.root, self.source = Path(cfg["data_root"]), cfg["data_source"]
        self.fingerprint = data_fingerprint(self.root)
        self.default_root = self.root.resolve() == (paths.synthetic_dir() / profile).resolve()
        #: a root the course generates (the default one and notebook 10's controlled levels, all under
        #: ``data/synthetic/``): its runs' predictions are kept with the results (file names carry the fingerprint)
        self.course_root = paths.synthetic_dir().resolve() in self.root.resolve().parents
        self._cache: dict = {}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def han_splits(self, features: str = STANDARD) -> dict:
        """train / val / test as the HAN family reads them on a feature set (:func:`feature_view`)."""
        from avvp_lib.data.dataset import load_split

        if features == STANDARD:
            return self.cached("han", lambda: {s: load_split(self.root, s) for s in ("train", "val", "test")})
        both = self.cached("han+clipclap", lambda: {s: load_split(self.root, s, streams=("han", "clipclap"))
                                                    for s in ("train", "val", "test")})
        return {s: feature_view(d, features) for s, d in both.items()}
