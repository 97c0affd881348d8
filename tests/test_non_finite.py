"""Features that overflow the model (finite, so the loaders accept them) end in an error that names the split,
the epoch and the first video - never NaN probabilities read as "absent" and scored."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from avvp_lib.data.dataset import load_split
from avvp_lib.methods.mmil import HANMethod, train_config
from avvp_lib.train import evaluate_method, fit


def _scaled(data, factor):
    return dataclasses.replace(data, tensors={k: (v * factor if v.is_floating_point() and k != "labels" else v)
                                              for k, v in data.tensors.items()})


@pytest.fixture(scope="module")
def splits(tiny_root):
    return load_split(tiny_root, "train"), load_split(tiny_root, "val"), load_split(tiny_root, "test")


def test_non_finite_validation_outputs_stop_model_selection_with_the_epoch(splits):
    train, val, _ = splits
    config = train_config("quick", seed=0, device="cpu").replace(epochs=2)
    torch.manual_seed(0)
    with pytest.raises(FloatingPointError, match=r"epoch 0, model selection: HANMethod on the val split: \d+ non-finite"):
        fit(HANMethod(d_model=16, ffn_dim=16), train, _scaled(val, 1e30), config)


def test_non_finite_test_outputs_are_an_error_not_zero_scores(splits):
    train, val, test = splits
    torch.manual_seed(0)
    method = HANMethod(d_model=16, ffn_dim=16)
    fit(method, train, val, train_config("quick", seed=0, device="cpu").replace(epochs=1))
    assert evaluate_method(method, test)["segment/A"] >= 0  # clean features: fine
    with pytest.raises(FloatingPointError, match=rf"on the test split: .*first: {test.video_ids[0]}"):
        evaluate_method(method, _scaled(test, 1e30))
