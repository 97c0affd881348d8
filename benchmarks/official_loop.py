"""The official HAN data path (YapengTian/AVVP-ECCV20), re-implemented for side-by-side timing.

Written from a reading of the official ``dataloader.py`` and ``main_avvp.py`` (functions ``train``
and ``eval``), keeping every step that costs time, and nothing else:

* :class:`OfficialLLPDataset` - ``LLP_dataset``: a pandas table of the split file; each item does
  ``df.loc[idx, :]``, three ``np.load`` calls (``vggish/``, ``res152/``, ``r2plus1d_18/``), the
  label string split and one-hot encoded in float64 (``ids_to_multinomial``), then ``ToTensor``.
* :func:`official_loader` - ``DataLoader(batch_size=16, shuffle=True, num_workers=12,
  pin_memory=True)`` for training; ``batch_size=1, shuffle=False, num_workers=1`` for evaluation.
  Workers are not persistent: they start again every epoch, as in the official script.
* :func:`official_train_epoch` - ``train``: per batch ``.to(device)``, the label cast with
  ``.type(torch.FloatTensor)``, in-place clamps, label smoothing, ``nn.BCELoss`` three times,
  backward, Adam step, and ``loss.item()`` every ``log_interval`` (50) batches (printing dropped).
* :func:`official_evaluate` - ``eval``: batch 1, per video a ``df.loc[df.filename == name]`` scan of
  each eval CSV to build the (25, 10) ground truth, the per-video ``segment_level`` /
  ``event_level`` of ``utils/eval_metrics.py`` (from ``tests/reference/official_eval.py``, our
  re-implementation checked against the vectorised metrics) and, with ``coleaf=True``, CoLeaF's
  element-by-element audible-only / visible-only matrices (its ``main.py``), giving all 18 numbers.

Two deviations, both forced and neither costing time: the features are cast with ``.float()``
after the transfer (a no-op for the official float32 files; our synthetic files are float16), and
the split row's filename is read with ``row.iloc[0]`` (the official ``row[0]`` is a positional
lookup on a labelled Series, which pandas >= 3 no longer allows).

The model is either the official ``MMIL_Net`` (``tests/reference/official_han.py``: ``fc_v`` on all
80 frames, then 8-frame average pooling; sequence-first attention called once per modality) or our
:class:`~avvp_lib.models.HAN` (pooling first, both modalities in one attention call); both return
``(video, audio, visual, segment)`` probabilities, so the loops do not care which.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from avvp_lib.data.annotations import LLP_CLASSES
from avvp_lib.losses.mmil import mmil_video_loss
from avvp_lib.models.han import MMILOutput

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT / "tests" / "reference"
OFFICIAL_NUM_WORKERS = 12  # main_avvp.py: DataLoader(train_dataset, ..., num_workers=12, pin_memory=True)
OFFICIAL_BATCH_SIZE = 16
OFFICIAL_LOG_INTERVAL = 50


def reference_module(name: str):
    """Import ``tests/reference/<name>.py`` (the re-implementations of the official code) by path."""
    key = f"avvp_reference_{name}"
    if key in sys.modules:
        return sys.modules[key]
    path = REFERENCE_DIR / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the benchmarks need the official re-implementations in tests/reference/")
    spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------- dataset
CATEGORIES = list(LLP_CLASSES)  # the official list, same order
_ID_TO_IDX = {name: i for i, name in enumerate(CATEGORIES)}


def ids_to_multinomial(ids) -> np.ndarray:
    """Official label encoding: a float64 one-hot vector over the 25 classes."""
    y = np.zeros(len(CATEGORIES))
    for name in ids:
        y[_ID_TO_IDX[name]] = 1
    return y


class OfficialLLPDataset(Dataset):
    """``LLP_dataset`` of the official code: one row of the split file -> three ``np.load`` + label."""

    def __init__(self, label: str | Path, audio_dir: str | Path, video_dir: str | Path, st_dir: str | Path):
        self.df = pd.read_csv(label, header=0, sep="\t")
        self.filenames = self.df["filename"]
        self.audio_dir, self.video_dir, self.st_dir = str(audio_dir), str(video_dir), str(st_dir)

    @classmethod
    def from_root(cls, root: str | Path, label_csv: str | Path) -> "OfficialLLPDataset":
        root = Path(root)
        return cls(label_csv, root / "vggish", root / "res152", root / "r2plus1d_18")

    def __len__(self) -> int:
        return len(self.filenames)

    def __getitem__(self, idx):
        row = self.df.loc[idx, :]
        name = row.iloc[0][:11]
        audio = np.load(os.path.join(self.audio_dir, name + ".npy"))
        video_s = np.load(os.path.join(self.video_dir, name + ".npy"))
        video_st = np.load(os.path.join(self.st_dir, name + ".npy"))
        ids = row.iloc[-1].split(",")
        label = ids_to_multinomial(ids)
        # ToTensor
        return {"audio": torch.from_numpy(audio), "video_s": torch.from_numpy(video_s),
                "video_st": torch.from_numpy(video_st), "label": torch.from_numpy(label)}


def official_loader(dataset: Dataset, device: torch.device, train: bool = True,
                    num_workers: int | None = None, seed: int = 0) -> DataLoader:
    """The official DataLoader settings (training: batch 16, shuffle, 12 workers; eval: batch 1, 1 worker).

    ``pin_memory`` as official when the device is CUDA (it has no meaning without a GPU).
    """
    if num_workers is None:
        num_workers = OFFICIAL_NUM_WORKERS if train else 1
    return DataLoader(dataset, batch_size=OFFICIAL_BATCH_SIZE if train else 1, shuffle=train,
                      num_workers=num_workers, pin_memory=device.type == "cuda",
                      generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------- model
class OfficialMethod(nn.Module):
    """The official ``MMIL_Net`` (re-implemented in tests/reference) behind the trainer's method interface.

    Lets our trainer run the official model variant (``fc_v`` on 80 frames before pooling) on
    resident 80-frame tensors with the same loss as :class:`~avvp_lib.methods.HANMethod`.
    """

    def __init__(self, net: nn.Module | None = None):
        super().__init__()
        self.net = net if net is not None else reference_module("official_han").MMIL_Net()

    def forward(self, batch: dict[str, torch.Tensor]) -> MMILOutput:
        return MMILOutput(*self.net(batch["audio"], batch["visual_2d"], batch["visual_3d"]))

    def training_loss(self, batch, epoch):
        out = self(batch)
        loss = mmil_video_loss(out.video, out.audio, out.visual, batch["labels"])
        return loss, {"loss": loss.item()}

    @torch.no_grad()
    def predict(self, batch):
        return self(batch)


def official_net(seed: int = 0) -> nn.Module:
    """A freshly initialised official ``MMIL_Net`` (seeded)."""
    torch.manual_seed(seed)
    return reference_module("official_han").MMIL_Net()


# ------------------------------------------------------------------------------------- training
def official_train_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                         device: torch.device, log_interval: int = OFFICIAL_LOG_INTERVAL) -> int:
    """One epoch of the official ``train`` function; returns the number of optimiser steps."""
    criterion = nn.BCELoss()
    model.train()
    steps = 0
    for batch_idx, sample in enumerate(loader):
        audio = sample["audio"].to(device).float()
        video = sample["video_s"].to(device).float()
        video_st = sample["video_st"].to(device).float()
        target = sample["label"].type(torch.FloatTensor).to(device)

        optimizer.zero_grad()
        output, a_prob, v_prob, _ = model(audio, video, video_st)
        output = output.clamp(min=1e-7, max=1 - 1e-7)  # official: output.clamp_(...) - same values
        a_prob = a_prob.clamp(min=1e-7, max=1 - 1e-7)
        v_prob = v_prob.clamp(min=1e-7, max=1 - 1e-7)

        # label smoothing
        a, v = 1.0, 0.9
        Pa = a * target + (1 - a) * 0.5
        Pv = v * target + (1 - v) * 0.5

        # individual guided learning
        loss = criterion(a_prob, Pa) + criterion(v_prob, Pv) + criterion(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            loss.item()  # the official script prints it here: a device sync every 50 batches
        steps += 1
    return steps


# ------------------------------------------------------------------------------------- evaluation
def _dense_gt(df_eval: pd.DataFrame, name: str) -> np.ndarray:
    """The official per-video ground-truth lookup: a scan of the whole eval table, then slice fills."""
    gt = np.zeros((25, 10))
    df_vid = df_eval.loc[df_eval["filename"] == name]
    filenames = df_vid["filename"]
    events = df_vid["event_labels"]
    onsets = df_vid["onset"]
    offsets = df_vid["offset"]
    num = len(filenames)
    if num > 0:
        for i in range(num):
            x1 = int(onsets[df_vid.index[i]])
            x2 = int(offsets[df_vid.index[i]])
            event = events[df_vid.index[i]]
            idx = _ID_TO_IDX[event]
            gt[idx, x1:x2] = 1
    return gt


def official_evaluate(predictions: Iterable[tuple[np.ndarray, np.ndarray]], split_csv: str | Path,
                      audio_csv: str | Path, visual_csv: str | Path, coleaf: bool = True) -> dict[str, float]:
    """The official per-video evaluation loop over ``predictions`` = (Pa, Pv) per video, each (T, C) binary,
    in the order of ``split_csv``. ``coleaf=False``: HAN's 10 numbers; ``True``: CoLeaF's 18."""
    ref = reference_module("official_eval")
    df = pd.read_csv(split_csv, header=0, sep="\t")
    df_a = pd.read_csv(audio_csv, header=0, sep="\t")
    df_v = pd.read_csv(visual_csv, header=0, sep="\t")
    lists = {k: [] for k in ("seg", "event", "seg_only", "event_only")}
    count = 0
    for batch_idx, (Pa, Pv) in enumerate(predictions):
        name = df.loc[batch_idx, :].iloc[0]
        GT_a = _dense_gt(df_a, name)
        GT_v = _dense_gt(df_v, name)
        GT_av = GT_a * GT_v
        SO_a = np.transpose(Pa)
        SO_v = np.transpose(Pv)
        SO_av = SO_a * SO_v
        lists["seg"].append(ref.segment_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av))
        lists["event"].append(ref.event_level(SO_a, SO_v, SO_av, GT_a, GT_v, GT_av))
        if coleaf:
            new_pa, new_pv = ref._only_matrices(Pa, Pv)
            new_gt_a, new_gt_v = ref._only_matrices(np.transpose(GT_a), np.transpose(GT_v))
            SO_a2, SO_v2 = np.transpose(new_pa), np.transpose(new_pv)
            lists["seg_only"].append(ref.segment_level(SO_a2, SO_v2, SO_av, np.transpose(new_gt_a),
                                                       np.transpose(new_gt_v), GT_av))
            lists["event_only"].append(ref.event_level(SO_a2, SO_v2, SO_av, np.transpose(new_gt_a),
                                                       np.transpose(new_gt_v), GT_av))
        count += 1
    out = {}
    for level, std, only in (("segment", "seg", "seg_only"), ("event", "event", "event_only")):
        a, v, av, type_av, event_av = ref._summary(*zip(*lists[std]))
        out |= {f"{level}/A": a, f"{level}/V": v, f"{level}/AV": av, f"{level}/Type@AV": type_av,
                f"{level}/Event@AV": event_av}
        if coleaf:
            ao, vo, _, type_avo, event_avo = ref._summary(*zip(*lists[only]))
            out |= {f"{level}/Ao": ao, f"{level}/Vo": vo, f"{level}/Type@AVo": type_avo,
                    f"{level}/Event@AVo": event_avo}
    out["videos"] = count
    return out


def array_predictions(pred_a, pred_v) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per-video (Pa, Pv) as the official loop holds them: int arrays (T, C)."""
    pred_a = np.asarray(pred_a).astype(np.int_)
    pred_v = np.asarray(pred_v).astype(np.int_)
    for b in range(pred_a.shape[0]):
        yield pred_a[b], pred_v[b]


@torch.no_grad()
def model_predictions(model: nn.Module, loader: DataLoader, device: torch.device) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The official ``eval`` forward pass, one video per batch, with HAN's inference rule."""
    model.eval()
    for sample in loader:
        audio = sample["audio"].to(device).float()
        video = sample["video_s"].to(device).float()
        video_st = sample["video_st"].to(device).float()
        output, a_prob, v_prob, frame_prob = model(audio, video, video_st)
        o = (output.cpu().detach().numpy() >= 0.5).astype(np.int_)
        Pa = frame_prob[0, :, 0, :].cpu().detach().numpy()
        Pv = frame_prob[0, :, 1, :].cpu().detach().numpy()
        # filter out false positive events with predicted weak labels
        Pa = (Pa >= 0.5).astype(np.int_) * np.repeat(o, repeats=10, axis=0)
        Pv = (Pv >= 0.5).astype(np.int_) * np.repeat(o, repeats=10, axis=0)
        yield Pa, Pv
