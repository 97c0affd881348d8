"""Speed benchmarks: our resident-tensor pipeline against the official per-file / per-video loops.

    python -m benchmarks.run --profile quick [--out benchmarks/results] [--only han_epoch,eval] [--repeats 3]

Benchmarks (``--only`` takes a comma-separated subset; default all):

``han_epoch``       one HAN training epoch at batch 16: the official loop (Dataset reading three .npy per
                    item + DataLoader) vs our trainer (``avvp_lib.train.fit``, resident tensors, index
                    batches), each with the official model (``fc_v`` on 80 frames, then pooling) and ours
                    (pooling first); same weights, same loss.
``eval``            the 18 metrics of the test videos: ``avvp_lib.metrics.evaluate`` vs the official
                    per-video loop with its per-video pandas ground-truth lookup (HAN's 10 numbers and
                    CoLeaF's 18); the numbers must agree.
``inference``       the whole test evaluation with a model: official (DataLoader batch 1, model per
                    video, pandas lookup, per-video metrics) vs ours (``load_split`` + ``evaluate_method``).
``methods``         one training epoch of CoLeaF, UWAV and LINK with their own recipes (skipped with a
                    note when a method's module is missing or cannot be built).
``scaling_videos``  our epoch time, ``evaluate`` time and peak memory vs the number of videos (train
                    tensors replicated in memory).
``scaling_batch``   our epoch time and peak memory vs the batch size.
``seeds``           K seeds of HAN and of CoLeaF as one vmapped model (``avvp_lib.ensemble``) vs K sequential runs.
``grid``            one training epoch of every cell of notebook 09's main grid (registry adapters, each cell's own
                    recipe and size) with peak memory, plus UWAV's generator pretraining, and the projected time
                    of the whole grid (epochs x 5 seeds); ``--grid-steps N`` times N steps per cell and scales.

Each row records the device (and the GPU's name), torch threads, DataLoader workers and the 1-minute
load average when it was measured; CSV -> ``<out>/bench_<profile>_<cpu|cuda>.csv`` (written atomically
after every benchmark, rows of benchmarks not re-run are kept) and a figure ``<out>/bench_<profile>_<cpu|cuda>.png``.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from avvp_lib.data.annotations import EVAL_FILES, SPLIT_FILES, load_llp
from avvp_lib.data.dataset import AVVPData, load_split
from avvp_lib.data.features import load_features
from avvp_lib.metrics import METRIC_KEYS, evaluate
from avvp_lib.methods import HANMethod
from avvp_lib.models.han import HAN
from avvp_lib.results import write_csv_atomic
from avvp_lib.train import TrainConfig, evaluate_method, fit, resolve_device
from avvp_lib.version import code_version
from benchmarks.official_loop import (OFFICIAL_BATCH_SIZE, OFFICIAL_NUM_WORKERS, OfficialLLPDataset, OfficialMethod,
                                      array_predictions, model_predictions, official_evaluate, official_loader,
                                      official_net, official_train_epoch)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
BENCHMARKS = ("han_epoch", "eval", "inference", "methods", "scaling_videos", "scaling_batch", "seeds", "grid")
COLUMNS = ["benchmark", "case", "loop", "model", "n_videos", "batch_size", "k", "steps", "repeats", "seconds",
           "seconds_min", "ms_per_step", "throughput", "throughput_unit", "speedup", "peak_mb", "resident_mb",
           "check", "note", "profile", "data", "device", "device_name", "torch_threads", "num_workers", "load1",
           "torch", "code_version", "timestamp"]
HAN_METRICS = [k for k in METRIC_KEYS if k.split("/")[1] in ("A", "V", "AV", "Type@AV", "Event@AV")]


# ------------------------------------------------------------------------------------------ helpers
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device):
    """(seconds, result) of ``fn()``, with the device synchronised on both sides."""
    sync(device)
    t0 = time.perf_counter()
    result = fn()
    sync(device)
    return time.perf_counter() - t0, result


def _rss_mb(field_name: str) -> float:
    try:
        text = Path("/proc/self/status").read_text()
        return int(re.search(rf"{field_name}:\s+(\d+)", text).group(1)) / 1024
    except (OSError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class PeakMemory:
    """Peak memory of a block: GPU ``max_memory_allocated`` on CUDA; on CPU the process's peak resident set
    (Linux VmHWM, reset at entry through ``/proc/self/clear_refs``) minus the resident set at entry.

    Where the peak cannot be reset (not Linux), ``getrusage``'s lifetime maximum is used and ``exact`` is False.
    """

    def __init__(self, device: torch.device):
        self.device, self.peak_mb, self.exact = device, float("nan"), True

    def __enter__(self):
        if self.device.type == "cuda":
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device) / 2**20
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                self.exact = False
            self.base = _rss_mb("VmRSS")
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            sync(self.device)
            self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20 - self.base
        else:
            self.peak_mb = _rss_mb("VmHWM") - self.base
        return False


def release_memory() -> None:
    """Hand freed memory back (Python objects, the CUDA cache, glibc's heap) so the next peak starts clean."""
    import ctypes
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def tensor_mb(tensors: dict[str, torch.Tensor]) -> float:
    return sum(t.numel() * t.element_size() for t in tensors.values()) / 2**20


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        text = Path("/proc/cpuinfo").read_text()
        name = re.search(r"model name\s*:\s*(.+)", text).group(1).strip()
    except (OSError, AttributeError):
        name = platform.processor() or platform.machine()
    return f"{name} ({os.cpu_count()} logical CPUs)"


def subset_root(root: Path, tmp: Path, n_train: int | None = None, n_val: int | None = None,
                n_test: int | None = None) -> Path:
    """A root whose split files keep only their first rows (features linked, eval files whole).

    Both loops then read the same, smaller split the same way they read a full one.
    """
    if n_train is None and n_val is None and n_test is None:
        return root
    out = tmp / f"root_{n_train}_{n_val}_{n_test}"
    if out.exists():
        return out
    out.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name != "annotations":
            (out / entry.name).symlink_to(entry.resolve())
    ann_src = root / "annotations" if (root / "annotations").is_dir() else REPO_ROOT / "data" / "annotations"
    (out / "annotations").mkdir()
    keep = {"train": n_train, "val": n_val, "test": n_test}
    for split, file in SPLIT_FILES.items():
        lines = (ann_src / file).read_text().splitlines()
        n = keep[split]
        (out / "annotations" / file).write_text("\n".join(lines[:1 + n] if n is not None else lines) + "\n")
    for file in EVAL_FILES.values():
        shutil.copyfile(ann_src / file, out / "annotations" / file)
    return out


def noisy_predictions(gt_a: torch.Tensor, gt_v: torch.Tensor, seed: int = 0):
    """Deterministic stand-in predictions: the ground truth with 3 % of its entries flipped and 10 % of the
    (video, class) tracks shifted by one segment, so that events are missed, split and invented."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for gt in (gt_a, gt_v):
        pred = gt.clone()
        shift = torch.rand(gt.shape[0], 1, gt.shape[2], generator=g) < 0.1
        pred = torch.where(shift, torch.roll(pred, 1, dims=1), pred)
        flip = torch.rand(gt.shape, generator=g) < 0.03
        out.append(torch.where(flip, 1 - pred, pred))
    return out


def max_abs_diff(a: dict, b: dict, keys) -> float:
    return max(abs(float(a[k]) - float(b[k])) for k in keys)


# ------------------------------------------------------------------------------------------ context
@dataclass
class Bench:
    args: argparse.Namespace
    device: torch.device
    root: Path
    tmp: Path
    out_csv: Path
    out_png: Path
    rows: list = field(default_factory=list)
    data_source: str = "synthetic"

    @property
    def repeats(self) -> int:
        return self.args.repeats

    def add(self, benchmark: str, case: str, **fields) -> dict:
        row = {c: None for c in COLUMNS}
        row.update(benchmark=benchmark, case=case, profile=self.args.profile, data=self.data_source,
                   device=self.device.type, device_name=device_name(self.device),
                   torch_threads=torch.get_num_threads(), load1=round(os.getloadavg()[0], 2),
                   torch=torch.__version__, code_version=code_version(),
                   timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
        row.update(fields)
        self.rows.append(row)
        shown = {k: v for k, v in fields.items() if v is not None and k in
                 ("loop", "model", "n_videos", "batch_size", "k", "seconds", "ms_per_step", "throughput", "speedup",
                  "peak_mb", "check", "note")}
        print(f"[bench] {benchmark:14s} {case:38s} " + " ".join(f"{k}={_fmt(v)}" for k, v in shown.items()),
              flush=True)
        return row

    def save(self, done: list[str]) -> None:
        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        if self.out_csv.is_file():
            old = pd.read_csv(self.out_csv)
            old = old[~old["benchmark"].isin(done)]
            frame = pd.concat([old, frame[frame["benchmark"].isin(done)]], ignore_index=True)
        write_csv_atomic(frame, self.out_csv)
        try:
            plot(frame, self.out_png)
        except Exception as error:  # a figure problem must not lose the numbers
            print(f"[bench] figure not written: {error}", file=sys.stderr)


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _median_min(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), min(times)


def _warm_up(model: torch.nn.Module, device: torch.device, frames: int) -> None:
    """One forward/backward on random data (allocator, BLAS handles) before anything is timed."""
    x = (torch.randn(2, 10, 128, device=device), torch.randn(2, frames, 2048, device=device),
         torch.randn(2, 10, 512, device=device))
    model.train()
    out = model(*x)
    out[0].clamp(1e-7, 1 - 1e-7).sum().backward()
    model.zero_grad(set_to_none=True)
    sync(device)


def _fit_epoch_seconds(method, train: AVVPData, val: AVVPData, config: TrainConfig, repeats: int, **kwargs):
    """Per-epoch train seconds of ``fit`` (validation excluded), one fresh ``fit`` call per repeat."""
    times = []
    for r in range(repeats):
        result = fit(method, train, val, config.replace(epochs=1, seed=r), progress=False, **kwargs)
        times.append(result.train_seconds)
    return times


# ------------------------------------------------------------------------------------------ (a) HAN epoch
def _with_frames(data: AVVPData, root: Path, device: torch.device) -> AVVPData:
    """``data`` with the unpooled 80-frame ResNet stream, as the official model consumes it."""
    frames = load_features(root, data.video_ids, pool_visual_2d=False)["visual_2d"].to(device)
    return AVVPData(data.name, data.filenames, data.video_ids, data.tensors | {"visual_2d": frames},
                    data.gt_audio, data.gt_visual, data.data_source)


def bench_han_epoch(b: Bench) -> None:
    args, device = b.args, b.device
    root = subset_root(b.root, b.tmp, n_train=args.max_train, n_val=16)
    train_csv = root / "annotations" / SPLIT_FILES["train"]
    n = len(pd.read_csv(train_csv, sep="\t"))
    steps = math.ceil(n / OFFICIAL_BATCH_SIZE)
    workers = args.num_workers
    note_workers = f"DataLoader num_workers={workers} (official {OFFICIAL_NUM_WORKERS}; this machine has {os.cpu_count()} CPUs)"

    initial = official_net(seed=0).state_dict()
    make = {
        "official": lambda: official_net(seed=0),
        "ours": lambda: HAN.from_official_state_dict(initial),
    }
    # identical model math: both variants on one batch, eval mode
    with torch.no_grad():
        net_o, net_h = make["official"]().eval(), make["ours"]().eval()
        sample = OfficialLLPDataset.from_root(root, train_csv)[0]
        x = [sample[k][None].float() for k in ("audio", "video_s", "video_st")]
        diff = max((a - c).abs().max().item() for a, c in zip(net_o(*x), net_h(*x)))
        check_text = f"official vs ours outputs max|diff|={diff:.1e}"

    dataset = OfficialLLPDataset.from_root(root, train_csv)
    times_official = {}
    for model_name, factory in make.items():
        model = factory().to(device)
        _warm_up(model, device, frames=80)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        times = []
        for r in range(b.repeats):
            loader = official_loader(dataset, device, train=True, num_workers=workers, seed=r)
            seconds, done = timed(lambda: official_train_epoch(model, loader, optimizer, device), device)
            assert done == steps, (done, steps)
            times.append(seconds)
        med, low = _median_min(times)
        times_official[model_name] = med
        b.add("han_epoch", f"official loop, {model_name} model", loop="official", model=model_name, n_videos=n,
              batch_size=OFFICIAL_BATCH_SIZE, steps=steps, repeats=b.repeats, seconds=med, seconds_min=low,
              ms_per_step=1000 * med / steps, throughput=n / med, throughput_unit="videos/s",
              num_workers=workers, check=check_text, note=note_workers + "; workers restart every epoch as official")
        del model, optimizer

    seconds, train = timed(lambda: load_split(root, "train", device=device), device)
    b.add("han_epoch", "ours: load_split train (once per run)", loop="ours", n_videos=n, seconds=seconds,
          resident_mb=tensor_mb(train.tensors), note="resident, visual_2d pooled while loading")
    val = load_split(root, "val", device=device)
    config = TrainConfig(epochs=1, batch_size=OFFICIAL_BATCH_SIZE, lr=3e-4, device=str(device))
    for model_name in ("official", "ours"):
        if model_name == "ours":
            method, data, extra = HANMethod(make["ours"]()), train, "pooled visual_2d (N,10,2048)"
            val_data = val
        else:
            data, val_data = _with_frames(train, root, device), _with_frames(val, root, device)
            method, extra = OfficialMethod(make["official"]()), "80-frame visual_2d (N,80,2048) resident"
        method.to(device)
        _warm_up(method.net if model_name == "official" else method.han, device, 80 if model_name == "official" else 10)
        times = _fit_epoch_seconds(method, data, val_data, config, b.repeats)
        med, low = _median_min(times)
        b.add("han_epoch", f"our trainer, {model_name} model", loop="ours", model=model_name, n_videos=n,
              batch_size=OFFICIAL_BATCH_SIZE, steps=steps, repeats=b.repeats, seconds=med, seconds_min=low,
              ms_per_step=1000 * med / steps, throughput=n / med, throughput_unit="videos/s",
              speedup=times_official[model_name] / med, resident_mb=tensor_mb(data.tensors), check=check_text,
              note=f"speedup vs official loop with the same model; {extra}")
        del method, data
    ours = [r for r in b.rows if r["benchmark"] == "han_epoch" and r["case"] == "our trainer, ours model"][-1]
    b.add("han_epoch", "official loop+model -> our trainer+model", n_videos=n, batch_size=OFFICIAL_BATCH_SIZE,
          speedup=times_official["official"] / ours["seconds"], note="the whole change: data path and model")


# ------------------------------------------------------------------------------------------ (b) evaluation
def _eval_files(root: Path) -> tuple[Path, Path, Path]:
    ann = root / "annotations"
    return ann / SPLIT_FILES["test"], ann / EVAL_FILES["audio"], ann / EVAL_FILES["visual"]


def bench_eval(b: Bench) -> None:
    root = subset_root(b.root, b.tmp, n_test=b.args.eval_videos)
    test_csv, audio_csv, visual_csv = _eval_files(root)
    cpu = torch.device("cpu")
    test = load_llp(root / "annotations").test
    n = len(test)
    pred_a, pred_v = noisy_predictions(test.gt_audio, test.gt_visual)

    from avvp_lib import metrics as metrics_module

    metrics_module._PAIR_TABLES.clear()  # the first call fills the event-count pattern table: time it on its own
    t_cold = timed(lambda: evaluate(pred_a, pred_v, test.gt_audio, test.gt_visual), cpu)[0]
    b.add("eval", "ours: evaluate() first call (empty pattern table)", loop="ours", n_videos=n, repeats=1,
          seconds=t_cold, seconds_min=t_cold, throughput=n / t_cold, throughput_unit="videos/s",
          note="includes filling the memo table of event counts (metrics._event_counts_by_table)")
    times = [timed(lambda: evaluate(pred_a, pred_v, test.gt_audio, test.gt_visual), cpu)[0] for _ in range(b.repeats)]
    ours = evaluate(pred_a, pred_v, test.gt_audio, test.gt_visual)
    t_ours, t_low = _median_min(times)
    b.add("eval", "ours: evaluate() (18 metrics)", loop="ours", n_videos=n, repeats=b.repeats, seconds=t_ours,
          seconds_min=t_low, throughput=n / t_ours, throughput_unit="videos/s", note="ground truth resident")

    def from_files():
        split = load_llp(root / "annotations").test
        return evaluate(pred_a, pred_v, split.gt_audio, split.gt_visual)

    times = [timed(from_files, cpu)[0] for _ in range(b.repeats)]
    t_files, t_files_low = _median_min(times)
    b.add("eval", "ours: load_llp + evaluate() (18 metrics)", loop="ours", n_videos=n, repeats=b.repeats,
          seconds=t_files, seconds_min=t_files_low, throughput=n / t_files, throughput_unit="videos/s",
          note="ground truth parsed from the five label files")

    for coleaf, label in ((False, "official HAN loop (10 metrics)"), (True, "official CoLeaF loop (18 metrics)")):
        seconds, theirs = timed(lambda: official_evaluate(array_predictions(pred_a, pred_v), test_csv, audio_csv,
                                                          visual_csv, coleaf=coleaf), cpu)
        keys = METRIC_KEYS if coleaf else HAN_METRICS
        diff = max_abs_diff(ours, theirs, keys)
        b.add("eval", label, loop="official", n_videos=n, repeats=1, seconds=seconds, seconds_min=seconds,
              throughput=n / seconds, throughput_unit="videos/s", speedup=seconds / t_ours,
              check=f"{'identical' if diff < 1e-9 else 'DIFFERENT'}: max|diff| over {len(keys)} metrics = {diff:.1e}",
              note=f"per-video pandas lookup + per-video metrics; speedup = this / evaluate() "
                   f"({seconds / t_files:.1f}x vs load_llp + evaluate(), {seconds / t_cold:.0f}x vs a first call)")
        if diff > 1e-6:
            print(f"[bench] WARNING: official loop and evaluate() disagree by {diff}", file=sys.stderr)


def bench_inference(b: Bench) -> None:
    device = b.device
    root = subset_root(b.root, b.tmp, n_test=b.args.eval_videos)
    test_csv, audio_csv, visual_csv = _eval_files(root)
    net = official_net(seed=0).to(device)
    _warm_up(net, device, 80)
    dataset = OfficialLLPDataset.from_root(root, test_csv)
    n = len(dataset)

    def official():
        loader = official_loader(dataset, device, train=False)
        return official_evaluate(model_predictions(net, loader, device), test_csv, audio_csv, visual_csv, coleaf=False)

    t_official, theirs = timed(official, device)
    b.add("inference", "official: DataLoader(batch 1) + model + loop", loop="official", model="official",
          n_videos=n, batch_size=1, repeats=1, seconds=t_official, throughput=n / t_official,
          throughput_unit="videos/s", num_workers=1, note="HAN's eval(): 10 metrics")

    method = HANMethod(HAN.from_official_state_dict(net.state_dict())).to(device)
    _warm_up(method.han, device, 10)
    t_load, data = timed(lambda: load_split(root, "test", device=device), device)
    times = [timed(lambda: evaluate_method(method, data), device)[0] for _ in range(b.repeats)]
    ours = evaluate_method(method, data)
    t_eval, t_low = _median_min(times)
    diff = max_abs_diff(ours, theirs, HAN_METRICS)
    check = f"{'identical' if diff < 1e-9 else 'DIFFERENT'}: max|diff| over 10 metrics = {diff:.1e}"
    b.add("inference", "ours: load_split + evaluate_method", loop="ours", model="ours", n_videos=n, batch_size=512,
          repeats=1, seconds=t_load + t_eval, throughput=n / (t_load + t_eval), throughput_unit="videos/s",
          speedup=t_official / (t_load + t_eval), check=check, note=f"load_split {t_load:.2f} s (once) + evaluation")
    b.add("inference", "ours: evaluate_method (resident)", loop="ours", model="ours", n_videos=n, batch_size=512,
          repeats=b.repeats, seconds=t_eval, seconds_min=t_low, throughput=n / t_eval, throughput_unit="videos/s",
          speedup=t_official / t_eval, check=check, note="per epoch of validation during training")


# ------------------------------------------------------------------------------------------ (c) methods
def _build_coleaf(b: Bench, root: Path):
    from avvp_lib.methods import coleaf

    data = {s: load_split(root, s, device=b.device) for s in ("train", "val")}
    return coleaf.build_method("full", seed=0, profile=b.args.profile), data, coleaf.train_config(b.args.profile), None, ""


def _build_uwav(b: Bench, root: Path):
    from avvp_lib.losses.uwav import class_balance_weights
    from avvp_lib.methods import uwav

    data = {s: load_split(root, s, device=b.device) for s in ("train", "val")}
    n = len(data["train"])
    g = torch.Generator().manual_seed(0)
    soft = {m: torch.rand(n, 10, 25, generator=g) * data["train"].labels.cpu()[:, None] for m in ("a", "v")}
    config = uwav.UWAVConfig()
    weights = {m: class_balance_weights((soft[m] > 0.5).float(), config.W) for m in ("a", "v")}
    extra = {"uwav_target_a": soft["a"], "uwav_target_v": soft["v"], "uwav_mix_a": soft["a"], "uwav_mix_v": soft["v"]}
    torch.manual_seed(0)
    method = uwav.UWAVMethod(config, weights)
    return method, data, uwav.train_config(b.args.profile), extra, "random soft pseudo-labels (timing only; same shapes)"


def _build_link(b: Bench, root: Path):
    from avvp_lib.data.features import load_prompt_embeddings
    from avvp_lib.methods import link

    data = {s: v.to(b.device) for s, v in link.load_link_data(root, ("train", "val")).items()}
    prompts = load_prompt_embeddings(root)
    thresholds = link.calibrated_thresholds(data["val"].to("cpu"), prompts)
    method = link.build_method("T+S+P", prompts, thresholds, profile=b.args.profile, seed=0)
    return method, data, link.train_config(b.args.profile), None, "variant T+S+P (full LINK)"


def _build_han(b: Bench, root: Path):
    from avvp_lib.methods.mmil import train_config

    data = {s: load_split(root, s, device=b.device) for s in ("train", "val")}
    torch.manual_seed(0)
    return HANMethod(), data, train_config(b.args.profile), None, "reference: the HAN recipe"


METHOD_BUILDERS = {"HAN": _build_han, "CoLeaF": _build_coleaf, "UWAV": _build_uwav, "LINK": _build_link}


def bench_methods(b: Bench) -> None:
    root = subset_root(b.root, b.tmp, n_train=b.args.max_train, n_val=64)
    for name, builder in METHOD_BUILDERS.items():
        try:
            method, data, recipe, extra, note = builder(b, root)
        except Exception as error:  # a method still being written: skip, say why
            b.add("methods", f"{name} epoch", model=name,
                  note=f"skipped: {type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}")
            continue
        config = recipe.replace(device=str(b.device))
        train = data["train"]
        steps = math.ceil(len(train) / config.batch_size)
        try:
            method.to(b.device)
            times = _fit_epoch_seconds(method, train, data["val"], config, b.repeats, extra_train=extra)
        except Exception as error:
            traceback.print_exc()
            b.add("methods", f"{name} epoch", model=name, note=f"failed: {type(error).__name__}: {error}"[:200])
            continue
        med, low = _median_min(times)
        params = sum(p.numel() for p in method.parameters())
        b.add("methods", f"{name} epoch", loop="ours", model=name, n_videos=len(train), batch_size=config.batch_size,
              steps=steps, repeats=b.repeats, seconds=med, seconds_min=low, ms_per_step=1000 * med / steps,
              throughput=len(train) / med, throughput_unit="videos/s",
              note=f"{b.args.profile} recipe ({config.optimizer}, batch {config.batch_size}); {params / 1e6:.2f} M parameters"
                   + (f"; {note}" if note else ""))
        del method, data


# ------------------------------------------------------------------------------------------ (d) scaling
def bench_scaling_videos(b: Bench) -> None:
    device = b.device
    root = subset_root(b.root, b.tmp, n_val=16)
    base = load_split(root, "train")
    val = load_split(root, "val", device=device)
    test = load_llp(b.root / "annotations" if (b.root / "annotations").is_dir() else None).test
    pred_a, pred_v = noisy_predictions(test.gt_audio, test.gt_visual)
    config = TrainConfig(epochs=1, batch_size=16, lr=3e-4, device=str(device))
    torch.manual_seed(0)
    fit(HANMethod().to(device), base.subset(range(32)).to(device), val, config, progress=False)  # one-time allocations
    for n in b.args.videos:
        rows = torch.arange(n) % len(base)
        release_memory()
        with PeakMemory(device) as memory:
            data = base.subset(rows).to(device)
            torch.manual_seed(0)
            method = HANMethod().to(device)
            seconds = fit(method, data, val, config, progress=False).train_seconds
        steps = math.ceil(n / config.batch_size)
        b.add("scaling_videos", "our HAN epoch", loop="ours", model="ours", n_videos=n, batch_size=16, steps=steps,
              repeats=1, seconds=seconds, ms_per_step=1000 * seconds / steps, throughput=n / seconds,
              throughput_unit="videos/s", peak_mb=memory.peak_mb, resident_mb=tensor_mb(data.tensors),
              note=f"train tensors of {len(base)} videos replicated to {n}; peak = "
                   + ("GPU max_memory_allocated above the start" if device.type == "cuda" else
                      "peak resident set above the start (data + model + optimiser + activations)"))
        del data, method
        reps = torch.arange(n) % len(test)
        args = (pred_a[reps], pred_v[reps], test.gt_audio[reps], test.gt_visual[reps])
        release_memory()
        with PeakMemory(torch.device("cpu")) as memory:
            seconds, _ = timed(lambda: evaluate(*args), torch.device("cpu"))
        b.add("scaling_videos", "evaluate() 18 metrics", loop="ours", n_videos=n, repeats=1, seconds=seconds,
              throughput=n / seconds, throughput_unit="videos/s", peak_mb=memory.peak_mb,
              note="test ground truth/predictions replicated; CPU (NumPy)")


def _resident_train_val(b: Bench):
    """The train split (first ``--max-train`` videos) and 16 val videos, resident on the benchmark's device."""
    root = subset_root(b.root, b.tmp, n_train=b.args.max_train, n_val=16)
    return load_split(root, "train", device=b.device), load_split(root, "val", device=b.device)


def bench_scaling_batch(b: Bench) -> None:
    device = b.device
    train, val = _resident_train_val(b)
    n = len(train)
    for batch_size in b.args.batch_sizes:
        config = TrainConfig(epochs=1, batch_size=batch_size, lr=3e-4, device=str(device))
        torch.manual_seed(0)
        method = HANMethod().to(device)
        release_memory()
        with PeakMemory(device) as memory:
            times = _fit_epoch_seconds(method, train, val, config, b.repeats)
        med, low = _median_min(times)
        steps = math.ceil(n / batch_size)
        b.add("scaling_batch", "our HAN epoch", loop="ours", model="ours", n_videos=n, batch_size=batch_size,
              steps=steps, repeats=b.repeats, seconds=med, seconds_min=low, ms_per_step=1000 * med / steps,
              throughput=n / med, throughput_unit="videos/s", peak_mb=memory.peak_mb,
              resident_mb=tensor_mb(train.tensors), note="peak above the resident data")
        del method


# ------------------------------------------------------------------------------------------ (e) seeds
def _seed_models(profile: str) -> dict:
    """model name -> (make(seed) -> method, the recipe's TrainConfig) for the seeds benchmark: HAN at batch 16
    (the official recipe) and CoLeaF (the ablation sweep's ``full`` configuration and recipe)."""
    from avvp_lib.methods import coleaf

    def han(seed: int):
        torch.manual_seed(seed)
        return HANMethod()

    return {"HAN": (han, TrainConfig(epochs=1, batch_size=16, lr=3e-4)),
            "CoLeaF": (lambda seed: coleaf.build_method("full", seed, profile), coleaf.train_config(profile))}


def bench_seeds(b: Bench) -> None:
    from avvp_lib.ensemble import fit_ensemble

    device = b.device
    train, val = _resident_train_val(b)
    n = len(train)
    models = _seed_models(b.args.profile)
    for name in b.args.seeds_models:
        if name not in models:
            raise SystemExit(f"--seeds-models: unknown model {name!r}; expected some of {sorted(models)}")
        make, recipe = models[name]
        config = recipe.replace(epochs=1, device=str(device))
        steps = math.ceil(n / config.batch_size)
        single = _fit_epoch_seconds(make(0).to(device), train, val, config, b.repeats)
        t1, t1_low = _median_min(single)
        common = dict(model=name, n_videos=n, batch_size=config.batch_size, throughput_unit="seed-epochs/s")
        b.add("seeds", f"{name}: one run (1 seed)", loop="sequential", k=1, steps=steps, repeats=b.repeats,
              seconds=t1, seconds_min=t1_low, throughput=1 / t1, **common)
        for k in b.args.seeds_k:
            times = []
            for r in range(b.repeats):
                _, results = fit_ensemble(make, list(range(k)), train, val, config.replace(seed=r))
                times.append(results[0].train_seconds * k)
            med, low = _median_min(times)
            b.add("seeds", f"{name}: K={k} sequential", loop="sequential", k=k, steps=steps * k, seconds=k * t1,
                  throughput=1 / t1, note="K x the measured single-run epoch", **common)
            b.add("seeds", f"{name}: K={k} ensemble (vmap)", loop="ensemble", k=k, steps=steps, repeats=b.repeats,
                  seconds=med, seconds_min=low, throughput=k / med, speedup=k * t1 / med, **common,
                  note="avvp_lib.ensemble.fit_ensemble: each member its own data order; speedup vs sequential")


# ------------------------------------------------------------------------------------------ (f) the main grid
#: seeds per grid cell (notebook 09's protocol), for the projection
GRID_SEEDS = 5


def _grid_cell(exp, ctx, seed: int = 0):
    """``(method, train, val, recipe, extra_train, note)`` of one main-grid cell, built by its registry adapter.
    UWAV's stage 2 trains on random soft pseudo-labels of the right shape (timing only: the real ones need the
    pretrained generators, whose cost is its own row)."""
    from avvp_lib.experiments.adapters import HAN_INPUTS, UWAVAdapter

    adapter = exp.adapter
    recipe = adapter.recipe(exp.options.get("recipe_profile", ctx.profile), seed, ctx.device)
    if isinstance(adapter, UWAVAdapter):
        from avvp_lib.losses.uwav import class_balance_weights
        from avvp_lib.methods import uwav

        splits = ctx.han_splits(exp.features)
        n = len(splits["train"])
        g = torch.Generator().manual_seed(seed)
        soft = {m: torch.rand(n, 10, 25, generator=g) * splits["train"].labels.cpu()[:, None] for m in ("a", "v")}
        config = exp.config
        weights = ({m: class_balance_weights((soft[m] > 0.5).float(), config.W, config.reweight_scale)
                    for m in ("a", "v")} if config.reweight else None)
        torch.manual_seed(seed)
        method = uwav.UWAVMethod(config, weights, han=uwav.stage2_han(adapter.han_profile(exp, ctx),
                                                                        **HAN_INPUTS[exp.features]))
        extra = {"uwav_target_a": soft["a"], "uwav_target_v": soft["v"], "uwav_mix_a": soft["a"], "uwav_mix_v": soft["v"]}
        return method, splits["train"], splits["val"], recipe, extra, "random soft pseudo-labels (timing only)"
    splits = adapter.inputs(ctx)[0] if hasattr(adapter, "inputs") else ctx.han_splits(exp.features)
    return adapter.build(exp, ctx, seed), splits["train"], splits["val"], recipe, None, ""


def _timed_steps(method, train, val, recipe, extra, steps: int | None):
    """Seconds of one epoch of ``fit`` (validation excluded): the whole epoch, or its first ``steps`` batches
    after two warm-up batches, scaled to the epoch's step count. Returns ``(epoch_seconds, steps_timed, steps)``."""
    n = len(train)
    per_epoch = math.ceil(n / recipe.batch_size)
    config = recipe.replace(epochs=1, warmup_epochs=0)
    if steps is None or steps >= per_epoch:
        result = fit(method, train, val, config, progress=False, extra_train=extra)
        return result.train_seconds, per_epoch, per_epoch

    def first(k):
        rows = range(min(n, k * recipe.batch_size))
        return train.subset(rows), ({key: v[: len(rows)] for key, v in extra.items()} if extra else None)

    warm, warm_extra = first(min(2, steps))
    fit(method, warm, val, config, progress=False, extra_train=warm_extra)
    part, part_extra = first(steps)
    seconds = fit(method, part, val, config, progress=False, extra_train=part_extra).train_seconds
    return seconds * per_epoch / steps, steps, per_epoch


def bench_grid(b: Bench) -> None:
    """One training epoch of every cell of notebook 09's main grid on the profile's data, each with its own
    recipe and model size (the registry's adapters), with peak memory, and the projected time of the whole grid
    (epochs x 5 seeds, plus UWAV's generator pretraining once per data root)."""
    from avvp_lib.experiments.catalog import MAIN_GRID
    from avvp_lib.experiments.roots import Context
    from avvp_lib.experiments.registry import get
    from avvp_lib.pseudo_labels import (PseudoLabelGenerator, generator_betas, generator_kwargs, pretrain_config,
                                        pretrain_generator)
    from avvp_lib.data.unav import ensure_unav, load_unav_prompts, load_unav_split

    args, device = b.args, b.device
    root = subset_root(b.root, b.tmp, n_val=64)
    ctx = Context(args.profile, root, str(device))
    steps = args.grid_steps or None
    total = 0.0
    for name in MAIN_GRID:
        exp = get(name)
        release_memory()
        method, train, val, recipe, extra, note = _grid_cell(exp, ctx)
        with PeakMemory(device) as memory:
            method.to(device)
            seconds, timed_steps, per_epoch = _timed_steps(method, train.to(device), val.to(device), recipe, extra,
                                                           steps)
        projected = seconds * recipe.epochs * GRID_SEEDS
        total += projected
        b.add("grid", name, loop="ours", model=exp.method, n_videos=len(train), batch_size=recipe.batch_size,
              steps=per_epoch, repeats=1, seconds=seconds, ms_per_step=1000 * seconds / per_epoch,
              throughput=len(train) / seconds, throughput_unit="videos/s", peak_mb=memory.peak_mb,
              resident_mb=tensor_mb(train.tensors),
              note=f"{exp.features}; {recipe.epochs} epochs x {GRID_SEEDS} seeds = {projected / 3600:.2f} h projected"
                   + (f"; timed {timed_steps} of {per_epoch} steps, scaled" if timed_steps < per_epoch else "")
                   + (f"; {note}" if note else ""))
        del method, train, val
    ensure_unav(root, args.profile, seed=0)
    gen_train, gen_val = load_unav_split(root, "train"), load_unav_split(root, "validation")
    gen_val = type(gen_val)(gen_val.name, gen_val.video_ids[:32], gen_val.clip[:32], gen_val.clap[:32],
                            gen_val.labels[:32], gen_val.mask[:32])
    recipe = pretrain_config(args.profile, 0, str(device))
    per_epoch = math.ceil(len(gen_train) / recipe.batch_size)
    k = per_epoch if steps is None else min(steps, per_epoch)
    part = type(gen_train)(gen_train.name, gen_train.video_ids[: k * recipe.batch_size],
                           gen_train.clip[: k * recipe.batch_size], gen_train.clap[: k * recipe.batch_size],
                           gen_train.labels[: k * recipe.batch_size], gen_train.mask[: k * recipe.batch_size])
    torch.manual_seed(0)
    generator = PseudoLabelGenerator(**generator_kwargs(args.profile))
    release_memory()
    with PeakMemory(device) as memory:
        info = pretrain_generator(generator, part, gen_val, load_unav_prompts(root),
                                  recipe.replace(epochs=1, warmup_epochs=0), betas=generator_betas())
    seconds = info["train_seconds"] * per_epoch / k
    projected = seconds * recipe.epochs  # once per data root (stage 2 of both feature sets reads the same labels)
    total += projected
    b.add("grid", "uwav stage 1 (generator pretraining)", loop="ours", model="UWAV generator", n_videos=len(gen_train),
          batch_size=recipe.batch_size, steps=per_epoch, repeats=1, seconds=seconds, ms_per_step=1000 * seconds / per_epoch,
          throughput=len(gen_train) / seconds, throughput_unit="videos/s", peak_mb=memory.peak_mb,
          note=f"UnAV-100-like train; {recipe.epochs} epochs once per root = {projected / 3600:.2f} h projected"
               + (f"; timed {k} of {per_epoch} steps, scaled" if k < per_epoch else ""))
    b.add("grid", "whole grid (projected)", loop="ours", n_videos=None, repeats=1, seconds=total,
          note=f"{len(MAIN_GRID)} cells x {GRID_SEEDS} seeds x their epochs + generator pretraining = "
               f"{total / 3600:.1f} h of one worker on this {device.type} ({device_name(device)}, "
               f"{torch.get_num_threads()} thread per run, as the sweeps run; on a CPU `--jobs <cores>` divides the "
               "wall time by about the cores); validation and test passes excluded")


RUNNERS = {"han_epoch": bench_han_epoch, "eval": bench_eval, "inference": bench_inference, "methods": bench_methods,
           "scaling_videos": bench_scaling_videos, "scaling_batch": bench_scaling_batch, "seeds": bench_seeds,
           "grid": bench_grid}


# ------------------------------------------------------------------------------------------ figure
def _peak_memory_axis(ax, x, peak_mb) -> None:
    """Peak memory on a second y axis of a scaling panel, with both legends."""
    ax2 = ax.twinx()
    ax2.plot(x, peak_mb, "^:", color="#55a868", label="peak memory (MB)")
    ax2.set_ylabel("peak MB")
    ax.legend(loc="upper left", fontsize=8), ax2.legend(loc="lower right", fontsize=8)


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(18, 9))
    device = frame["device_name"].dropna().iloc[0] if frame["device_name"].notna().any() else "?"
    fig.suptitle(f"avvp-course benchmarks ({frame['profile'].iloc[0]} profile, {device})", fontsize=11)

    def empty(ax, title):
        ax.set_title(title, fontsize=10)
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([]), ax.set_yticks([])

    def bars(ax, sel, label_col, value_col, title, xlabel, log=False):
        if sel.empty:
            return empty(ax, title)
        labels = sel[label_col].astype(str).tolist()
        values = sel[value_col].astype(float).tolist()
        colors = ["#c44e52" if str(lo) == "official" else "#4c72b0" for lo in sel["loop"]]
        ax.barh(range(len(values)), values, color=colors)
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        for i, (v, s) in enumerate(zip(values, sel["speedup"])):
            text = f"{v:.3g}" + (f"  ({float(s):.1f}x)" if pd.notna(s) else "")
            ax.text(v, i, " " + text, va="center", fontsize=8)
        top = max(values) if values else 1.0
        if log:
            ax.set_xlim(min(v for v in values if v > 0) / 2 if any(v > 0 for v in values) else 1e-3, top * 8)
        else:
            ax.set_xlim(0, top * 1.4 if top > 0 else 1.0)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)

    han = frame[(frame.benchmark == "han_epoch") & frame.ms_per_step.notna()]
    bars(axes[0, 0], han, "case", "ms_per_step", "(a) HAN training step, batch 16", "ms / step (speedup vs official loop)")
    ev = frame[frame.benchmark.isin(["eval", "inference"]) & frame.seconds.notna()]
    ev = ev.assign(label=ev.benchmark + ": " + ev.case)
    bars(axes[0, 1], ev, "label", "seconds", "(b) evaluating the test videos", "seconds (log)", log=True)
    me = frame[(frame.benchmark == "methods")]
    me = me.assign(label=me.case + me.note.fillna("").map(lambda s: "  [skipped]" if s.startswith(("skipped", "failed")) else ""))
    me = me.assign(seconds=me.seconds.fillna(0.0))
    bars(axes[0, 2], me, "label", "seconds", "(c) one training epoch per method", "seconds / epoch")

    ax = axes[1, 0]
    sv = frame[(frame.benchmark == "scaling_videos") & (frame.case == "our HAN epoch")]
    if sv.empty:
        empty(ax, "(d) scaling with the number of videos")
    else:
        ax.plot(sv.n_videos, sv.seconds, "o-", label="HAN epoch (s)")
        se = frame[(frame.benchmark == "scaling_videos") & (frame.case != "our HAN epoch")]
        if not se.empty:
            ax.plot(se.n_videos, se.seconds, "s--", label="evaluate() (s)")
        ax.set_xlabel("videos"), ax.set_ylabel("seconds")
        _peak_memory_axis(ax, sv.n_videos, sv.peak_mb)
        ax.set_title("(d) scaling with the number of videos", fontsize=10)

    ax = axes[1, 1]
    sb = frame[frame.benchmark == "scaling_batch"]
    if sb.empty:
        empty(ax, "(d) scaling with the batch size")
    else:
        ax.plot(sb.batch_size, sb.throughput, "o-", label="videos / s")
        ax.set_xscale("log", base=2), ax.set_xlabel("batch size"), ax.set_ylabel("videos / s")
        _peak_memory_axis(ax, sb.batch_size, sb.peak_mb)
        ax.set_title("(d) scaling with the batch size", fontsize=10)

    ax = axes[1, 2]
    sd = frame[(frame.benchmark == "seeds") & frame.k.notna()]
    if sd.empty:
        empty(ax, "(e) seeds in parallel")
    else:
        for (model, loop), part in sd.groupby(["model", "loop"], sort=False):
            part = part[~part.case.str.endswith("one run (1 seed)")].sort_values("k")
            if not part.empty:
                ax.plot(part.k, part.throughput, "o--" if loop == "sequential" else "s-", label=f"{model} {loop}")
        ax.set_xlabel("seeds K"), ax.set_ylabel("seed-epochs / s"), ax.legend(fontsize=8)
        ax.set_title("(e) K seeds: vmapped vs sequential", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------ main
def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--data-root", default=None, help="root in the official layout (default data/synthetic/<profile>, generated if absent)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the CSV and the figure")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (median reported; official eval loops run once)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--num-workers", type=int, default=min(OFFICIAL_NUM_WORKERS, os.cpu_count() or 1),
                        help="official training DataLoader workers (official: 12; default min(12, CPUs))")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--max-train", type=int, default=None, help="first N train videos only (default: the whole split)")
    parser.add_argument("--eval-videos", type=int, default=None, help="first N test videos only (default: all)")
    parser.add_argument("--videos", type=_ints, default=[1000, 2000, 5000, 10000], help="scaling_videos sizes")
    parser.add_argument("--batch-sizes", type=_ints, default=[16, 32, 64, 128, 256], help="scaling_batch sizes")
    parser.add_argument("--seeds-k", type=_ints, default=[1, 2, 4, 8], help="ensemble sizes for the seeds benchmark")
    parser.add_argument("--grid-steps", type=int, default=0,
                        help="grid: time the first N steps of each cell's epoch and scale (0: the whole epoch)")
    parser.add_argument("--seeds-models", type=lambda v: [m.strip() for m in v.split(",") if m.strip()],
                        default=["HAN", "CoLeaF"], help="models of the seeds benchmark (HAN, CoLeaF)")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.only if s not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; expected a subset of {list(BENCHMARKS)}")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.data_root is None:
        from avvp_lib.data.synth import ensure

        root = REPO_ROOT / "data" / "synthetic" / args.profile
        ensure(root, profile=args.profile, seed=0, progress=True)
    else:
        root = Path(args.data_root)
        if not root.is_dir():
            print(f"[bench] --data-root {root} does not exist", file=sys.stderr)
            return 2
    from avvp_lib.data.dataset import data_source_of

    out = Path(args.out)
    tag = f"bench_{args.profile}_{device.type}"
    failures = []
    with tempfile.TemporaryDirectory(prefix="avvp_bench_") as tmp:
        bench = Bench(args, device, root, Path(tmp), out / f"{tag}.csv", out / f"{tag}.png",
                      data_source=data_source_of(root)[0])
        print(f"[bench] device {device} ({device_name(device)}), torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}, root {root}", flush=True)
        done = []
        for name in args.only:
            t0 = time.perf_counter()
            try:
                RUNNERS[name](bench)
            except Exception:
                traceback.print_exc()
                failures.append(name)
            done.append(name)
            bench.save(done)
            print(f"[bench] {name} finished in {time.perf_counter() - t0:.1f} s -> {bench.out_csv}", flush=True)
    if failures:
        print(f"[bench] FAILED: {failures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
