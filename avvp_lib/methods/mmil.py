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
