"""Small building blocks shared by the models."""
from __future__ import annotations

from torch import nn


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    """Linear -> ReLU -> Linear (LINK's Delta MLPs, Eq. 14-15; UWAV's generator heads)."""
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))
