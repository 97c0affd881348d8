"""Every loss of the papers, one small function per equation (one module per paper)."""
from avvp_lib.losses.mmil import mmil_video_loss, smooth_targets

__all__ = ["mmil_video_loss", "smooth_targets"]

# LINK (Wang et al., Sec. II-C)
from avvp_lib.losses.link import (avss_loss, avss_weight, event_iou, label_loss, segment_cosine,  # noqa: E402
                                  segment_pseudo_label_loss, valor_loss, video_loss, video_pseudo_labels)

__all__ += ["avss_loss", "avss_weight", "event_iou", "label_loss", "segment_cosine", "segment_pseudo_label_loss",
            "valor_loss", "video_loss", "video_pseudo_labels"]

# UWAV (Lai et al., Sec. 4, Eq. 9-20)
from avvp_lib.losses.uwav import (av_pretraining_loss, class_balance_weights, class_balanced_bce,  # noqa: E402
                                  hard_pseudo_labels, mixup_bce, mixup_segments, pseudo_label_bce, sample_mixup,
                                  soft_pseudo_labels, uwav_total_loss, video_bce)

__all__ += ["av_pretraining_loss", "class_balance_weights", "class_balanced_bce", "hard_pseudo_labels", "mixup_bce",
            "mixup_segments", "pseudo_label_bce", "sample_mixup", "soft_pseudo_labels", "uwav_total_loss", "video_bce"]

# CoLeaF (Sardari et al., ECCV 2024, Sec. 3.2, Eq. 8-13)
from avvp_lib.losses.coleaf import (anchor_video_loss, class_correlation, co_occurrence_loss,  # noqa: E402
                                    event_aware_contrastive_loss, event_aware_weights, event_type_counts,
                                    pseudo_label_bce_loss, pseudo_labels, reference_video_loss, segment_nce,
                                    self_modality_loss)

__all__ += ["anchor_video_loss", "class_correlation", "co_occurrence_loss", "event_aware_contrastive_loss",
            "event_aware_weights", "event_type_counts", "pseudo_label_bce_loss", "pseudo_labels",
            "reference_video_loss", "segment_nce", "self_modality_loss"]
