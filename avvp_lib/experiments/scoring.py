"""Scoring one trained run: the test split's 18 metrics, inference time, size and the saved predictions."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

@dataclass
class Outcome:
    """What one run produced: test metrics, training time, compute facts and (model runs) test predictions."""

    metrics: dict
    train_seconds: float
    extra: dict
    predictions: tuple | None = None  # (pred_a, pred_v, gt_a, gt_v, filenames)


def _train_dict(config) -> dict:
    return {k: v for k, v in config.to_dict().items() if k not in ("seed", "device")}


def _score(method, result, test, seconds_before_eval: float) -> Outcome:
    """Evaluate a trained method on the test split: the 18 metrics, inference time, size and predictions."""
    from avvp_lib.train import evaluate_method, method_predictions, predict_split

    cuda = next(method.parameters()).is_cuda
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = predict_split(method, test)
    if cuda:
        torch.cuda.synchronize()
    inference = time.perf_counter() - t0
    metrics = evaluate_method(method, test, output=out)
    pred_a, pred_v = method_predictions(method, out)  # the method's own rule if it has one, else HAN's
    epochs = max(1, len(result.history))
    extra = {"params": int(sum(p.numel() for p in method.parameters())), "epochs": epochs,
             "best_epoch": int(result.best_epoch), "inference_seconds": round(inference, 3),
             "test_videos": len(test), "threads": torch.get_num_threads(),
             "wall_seconds": round(time.perf_counter() - seconds_before_eval, 2)}
    return Outcome(metrics, float(result.train_seconds), extra,
                   (pred_a, pred_v, test.gt_audio, test.gt_visual, list(test.filenames)))
