"""Models: one method per module (HAN here; CoLeaF, UWAV, LINK reuse its pieces)."""

from avvp_lib.models.han import HAN, HybridAttentionLayer, MMILOutput, attentive_mmil_pooling

__all__ = ["HAN", "HybridAttentionLayer", "MMILOutput", "attentive_mmil_pooling"]
