"""HAN trained with the official MMIL recipe: the reference example of a *method* for the trainer."""
from __future__ import annotations

import torch
from torch import nn

from avvp_lib.losses.mmil import mmil_video_loss
from avvp_lib.models.han import HAN, MMILOutput


class HANMethod(nn.Module):
    """HAN + the official loss. ``training_loss`` and ``predict`` are all the trainer needs."""

    def __init__(self, han: HAN | None = None, audio_keep: float = 1.0, visual_keep: float = 0.9, **han_kwargs):
        super().__init__()
        self.han = han if han is not None else HAN(**han_kwargs)
        self.audio_keep, self.visual_keep = audio_keep, visual_keep

    def forward(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self.han(batch["audio"], batch["visual_2d"], batch["visual_3d"])

    def training_loss(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        out = self(batch)
        loss = mmil_video_loss(out.video, out.audio, out.visual, batch["labels"], self.audio_keep, self.visual_keep)
        return loss, {"loss": loss.item()}

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return self(batch)


def train_config(profile: str = "quick", seed: int = 0, device: str = "auto") -> "TrainConfig":
    """HAN's recipe per profile.

    ``full``: the official recipe (Adam 3e-4, batch 16, StepLR(10, 0.1), 40 epochs, selection on val
    Type@AV). ``quick`` (CPU/CI, 1500 train videos): the same optimiser and batch size, 12 epochs with
    one LR decay after epoch 6 - a shortened schedule, not the paper's.
    """
    from avvp_lib.train import TrainConfig

    if profile == "full":
        return TrainConfig(epochs=40, batch_size=16, lr=3e-4, step_size=10, gamma=0.1, seed=seed, device=device)
    if profile == "quick":
        return TrainConfig(epochs=12, batch_size=16, lr=3e-4, step_size=6, gamma=0.1, seed=seed, device=device)
    raise ValueError(f"unknown profile {profile!r}; expected 'quick' or 'full'")
