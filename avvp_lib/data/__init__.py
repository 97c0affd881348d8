"""Data: LLP label files, feature loaders for the official layouts, the synthetic benchmark."""
from avvp_lib.data.annotations import LLP_CLASSES, AnnotationError, load_llp
from avvp_lib.data.dataset import AVVPData, load_split
from avvp_lib.data.features import FeatureError, load_clip_clap, load_features, load_prompt_embeddings

__all__ = ["LLP_CLASSES", "AnnotationError", "load_llp", "AVVPData", "load_split", "FeatureError", "load_features",
           "load_clip_clap", "load_prompt_embeddings"]
