"""Trainable methods: an nn.Module with ``training_loss(batch, epoch)`` and ``predict(batch)``."""
from avvp_lib.methods.mmil import HANMethod

__all__ = ["HANMethod"]
