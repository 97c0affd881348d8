"""What any run needs before it reads data: checked parameters, a resolved device, pinned CPU threads, and the data
root (the synthetic benchmark is generated on first use). Notebooks reach it through ``course.setup``; the
registry's runs (:class:`avvp_lib.experiments.roots.Context`) call :func:`prepare` directly.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from avvp_lib import paths

PROFILES = ("quick", "full")


class ParameterError(ValueError):
    """A notebook parameter that cannot work (typo in a profile name, a data root that does not exist)."""


def check_parameters(profile: str, data_root: str | Path | None, seed: int, device: str) -> None:
    """Validate the papermill parameters of a notebook, with a message that names the bad value."""
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r}: expected one of {PROFILES}")
    if data_root is not None and not str(data_root).strip():
        raise ParameterError("data_root='': expected None (the synthetic benchmark) or a folder in the official layout")
    if data_root is not None and not Path(data_root).is_dir():
        raise ParameterError(f"data_root={str(data_root)!r} does not exist; pass None to use the synthetic benchmark "
                             f"(generated on first use under {paths.synthetic_dir()}/<profile>) or a folder in the official layout")
    if not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r}: expected a non-negative integer")
    if device not in ("auto", "cpu") and not str(device).startswith("cuda"):
        raise ParameterError(f"device={device!r}: expected 'auto', 'cpu' or 'cuda[:N]'")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r} but no CUDA device is available; use 'auto' or 'cpu'")


def prepare(profile: str = "quick", data_root: str | Path | None = None, seed: int = 0, device: str = "auto") -> dict:
    """Check the parameters, resolve the device, pin the CPU threads, find (or generate) the data root.

    Returns a dict with ``data_root`` (Path), ``device`` (torch.device), ``data_source``, ``profile``, ``seed``.
    """
    from avvp_lib.data.dataset import data_source_of
    from avvp_lib.data.synth import ensure
    from avvp_lib.train import resolve_device

    check_parameters(profile, data_root, seed, device)
    resolved = resolve_device(device)
    if resolved.type == "cpu":
        # One fixed thread count makes CPU numbers identical on every machine (reduction order can
        # depend on it) and avoids oversubscription on small shared machines; AVVP_NUM_THREADS overrides.
        torch.set_num_threads(int(os.environ.get("AVVP_NUM_THREADS", "1")))
    if data_root is None:
        data_root = paths.synthetic_dir() / profile
        ensure(data_root, profile=profile, seed=0, progress=False)
    data_root = Path(data_root)
    source, _ = data_source_of(data_root)
    return {"data_root": data_root, "device": resolved, "data_source": source, "profile": profile, "seed": seed}
