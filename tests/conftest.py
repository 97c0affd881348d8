"""Shared fixtures: a tiny synthetic root in the official layout (generated once per test session)."""
from __future__ import annotations

import avvp_lib  # noqa: F401  (pins the CPU numerics before torch loads; see avvp_lib.numerics)
import pytest
import torch

torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    """A synthetic root with 48 videos per split (real labels, official layouts, all streams)."""
    from avvp_lib.data.synth import generate

    root = tmp_path_factory.mktemp("tiny_root")
    generate(root, profile="quick", seed=0, max_videos=48, progress=False)
    return root
