"""Synthetic LLP benchmark written in the official on-disk layouts (the embedded default data).

The real LLP features (VGGish, ResNet-152, R(2+1)D, CLIP, CLAP) cannot be downloaded here, so
the course ships a generator that keeps what the papers argue about and writes the very files a
user with the real features has, read by the same loaders:

* **Labels are real.** Val/test keep their real dense audio and visual events; train videos keep
  their real video-level labels. Each train label gets an (audio track, visual track) pair drawn
  from the real val+test occurrences of the same class, so audible-only / visible-only / both
  shares, durations and onsets follow the real per-class statistics. These sampled train tracks
  are written to ``diagnostics/train_tracks.npz`` for pseudo-label diagnostics only; training
  never sees them.
* **Features** of a segment mix the per-class prototypes of the events active *in that modality*
  (random amplitude per event), a per-video nuisance vector, a shared background, a little
  leakage of the other modality's events (``cross_leak``: the sound of a visible car is faintly
  in the audio features, which is what makes unaligned events hard) and noise. Confusable classes
  share part of their prototype (``confusability``). Streams differ in reliability
  (``amplitude``/``noise`` per stream).
* **CLIP/CLAP-like streams** live in one semantic space with their prompt embeddings (one
  :func:`concept_vector` per concept, shared by LLP and UnAV-100 names that mean the same thing),
  so ``prompt . segment`` zero-shot logits are informative but imperfect (``alignment`` < 1,
  confusable prompts, a modality-gap offset).

Everything is deterministic from ``seed``; ``SynthKnobs`` documents every knob. The knob values
below were frozen after calibrating the HAN baseline once (see README "Synthetic benchmark").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from avvp_lib.data import annotations as ann
from avvp_lib.data.features import CLIPCLAP_STREAMS, HAN_STREAMS, PROMPT_STREAMS, STREAMS

PROFILES = {"quick": 1500, "full": None}  # train videos (None: all 10000); val and test are always complete
STREAM_DIMS = {name: spec.shape[1] for name, spec in STREAMS.items()}  # the layout's table (features.STREAMS)
STREAM_MODALITY = {"audio": "audio", "visual_2d": "visual", "visual_3d": "visual", "clip": "visual", "clap": "audio"}
FRAMES_PER_SEGMENT = 8

# Classes that sound or look alike: they share part of their prototype.
CONFUSABLE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Lawn_mower", "Chainsaw", "Motorcycle"),
    ("Violin_fiddle", "Cello", "Acoustic_guitar", "Banjo"),
    ("Baby_cry_infant_cry", "Baby_laughter"),
)

# The concept each LLP class stands for in the shared semantic space; UnAV-100 names map onto
# the same concepts where they mean the same event (see unav.py), which is what lets UWAV's
# pretraining transfer.
LLP_CONCEPTS = {name: name.lower().replace("_(food)", "").replace("_", " ") for name in ann.LLP_CLASSES}


@dataclass(frozen=True)
class SynthKnobs:
    """Every knob of the generator. Frozen after one calibration of HAN (README)."""

    amplitude: dict = field(default_factory=lambda: {
        "audio": 1.1, "visual_2d": 0.55, "visual_3d": 0.45, "clip": 0.5, "clap": 0.5})
    noise: dict = field(default_factory=lambda: {
        "audio": 1.0, "visual_2d": 1.0, "visual_3d": 1.0, "clip": 2.0, "clap": 2.0})
    amplitude_spread: float = 0.4  # each event's amplitude ~ U(1 - s, 1 + s) x stream amplitude
    nuisance: float = 0.6  # std of the per-video nuisance vector (same for all segments)
    frame_jitter: float = 0.3  # std of per-frame noise on top of the segment feature (res152)
    confusability: float = 0.6  # share of the group component in confusable classes' prototypes
    cross_leak: float = 0.15  # how much of the other modality's events leaks into a stream
    alignment: float = 0.3  # cosine between a class's CLIP/CLAP segment prototype and its prompt
    modality_gap: float = 0.6  # weight of the common offset of CLIP/CLAP segment embeddings
    # added after the freeze (for notebook 10's controlled experiments; at its default the data are unchanged):
    unaligned_weight: float = 1.0  # sampling weight of an unaligned donor occurrence for train tracks (1: uniform)


#: knobs added after the benchmark was frozen, with the value that reproduces the frozen data. A root's metadata
#: lists them only when set otherwise, so the frozen root's metadata (and every record's data fingerprint) is the
#: one it always was.
LATER_KNOBS = {"unaligned_weight": 1.0}
#: the weighted train-track picks draw from a stream of their own (``default_rng([seed, UNALIGNED_STREAM])``)
UNALIGNED_STREAM = 0xA11


#: the range each knob must lie in, ``(low, high, low_open)``: ``low < value`` when ``low_open`` else
#: ``low <= value``, and ``value <= high``; per-stream knobs apply it to every stream. Outside it the generator writes
#: meaningless or non-finite features (``alignment`` > 1 or ``confusability`` > 1 take the square root of a negative
#: number), so it is checked before anything is generated.
KNOB_RANGES = {
    "amplitude": (0.0, float("inf"), False), "noise": (0.0, float("inf"), False),
    "amplitude_spread": (0.0, 1.0, False), "nuisance": (0.0, float("inf"), False),
    "frame_jitter": (0.0, float("inf"), False), "confusability": (0.0, 1.0, False),
    "cross_leak": (0.0, 1.0, False), "alignment": (0.0, 1.0, False), "modality_gap": (0.0, float("inf"), False),
    "unaligned_weight": (0.0, float("inf"), True),
}


def _range_text(name: str) -> str:
    low, high, low_open = KNOB_RANGES[name]
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high == float('inf') else ']'}"


def check_knobs(knobs: "SynthKnobs") -> None:
    """Every knob finite and in :data:`KNOB_RANGES`, else a ``ValueError`` naming the knob, its allowed range and
    the value."""
    for name, value in asdict(knobs).items():
        values = value.items() if isinstance(value, dict) else [(None, value)]
        low, high, low_open = KNOB_RANGES[name]
        for stream, number in values:
            label = name if stream is None else f"{name}.{stream}"
            ok = isinstance(number, (int, float)) and math.isfinite(number) and (
                number > low if low_open else number >= low) and number <= high
            if not ok:
                raise ValueError(f"knob {label}={number!r}: expected a finite number in {_range_text(name)}")


def knob_dict(knobs: "SynthKnobs") -> dict:
    """The knobs as written to ``synth_meta.json``: every knob, less the :data:`LATER_KNOBS` at their default."""
    out = asdict(knobs)
    return {k: v for k, v in out.items() if not (k in LATER_KNOBS and v == LATER_KNOBS[k])}


def knobs_with(overrides: dict | None = None, base: "SynthKnobs | None" = None) -> "SynthKnobs":
    """The frozen knobs (or ``base``) with ``{name: value}`` changed; ``"noise.clip"`` sets one stream of a
    per-stream knob. Unknown names, streams and non-numbers are errors naming what is expected."""
    base = base or SynthKnobs()
    values = asdict(base)
    for key, value in (overrides or {}).items():
        name, _, stream = key.partition(".")
        if name not in values:
            raise KeyError(f"unknown knob {name!r}; expected one of {sorted(values)}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"knob {key}={value!r}: expected a number") from None
        if isinstance(values[name], dict):
            if stream not in values[name]:
                raise KeyError(f"knob {name!r} is per stream: write {name}.<stream> with <stream> one of "
                               f"{sorted(values[name])}; got {key!r}")
            values[name] = {**values[name], stream: number}
        elif stream:
            raise KeyError(f"knob {name!r} is one number, not per stream; got {key!r}")
        else:
            values[name] = number
    knobs = SynthKnobs(**values)
    check_knobs(knobs)
    return knobs


def parse_knob(text: str) -> tuple[str, float]:
    """``"name=value"`` (the CLI's ``--knob``) -> ``(name, value)``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--knob {text!r}: expected name=value, e.g. alignment=0.5 or noise.clip=3")
    return name.strip(), value.strip()


def unaligned_share(audio: np.ndarray, visual: np.ndarray) -> float:
    """Share of event segments that are in one modality only: ``sum |a xor v| / sum |a or v|`` over (N, T, C)
    0/1 tracks (audible-only and visible-only segments among all event segments)."""
    a, v = audio > 0, visual > 0
    either = np.logical_or(a, v).sum()
    return float(np.logical_xor(a, v).sum() / either) if either else 0.0


def concept_vector(concept: str, dim: int, seed: int, space: str = "semantic") -> np.ndarray:
    """A deterministic unit vector for a concept: the shared semantic space of prompts and segments.

    Two names mapped to the same ``concept`` get the same vector, whatever dataset they come from.
    """
    digest = hashlib.sha256(f"{space}|{concept}|{dim}|{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    v = rng.standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _unit(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-12)


def class_prototypes(stream: str, knobs: SynthKnobs, seed: int, classes=ann.LLP_CLASSES) -> np.ndarray:
    """(C, D) prototypes of a HAN-layout stream; confusable classes share a group component."""
    dim = STREAM_DIMS[stream]
    own = np.stack([concept_vector(c, dim, seed, space=f"proto-{stream}") for c in classes])
    protos = own.copy()
    w = knobs.confusability
    for group in CONFUSABLE_GROUPS:
        shared = concept_vector("|".join(group), dim, seed, space=f"group-{stream}")
        for c in group:
            if c in classes:
                i = classes.index(c)
                protos[i] = np.sqrt(w) * shared + np.sqrt(1 - w) * own[i]
    return (_unit(protos) * np.sqrt(dim) / 4).astype(np.float32)


def prompt_embeddings(stream: str, knobs: SynthKnobs, seed: int, concepts: list[str]) -> np.ndarray:
    """(C, D) L2-normalised prompt embeddings ("A photo of <event>" / "This is the sound of <event>")."""
    dim = STREAM_DIMS[stream]
    text = np.stack([concept_vector(c, dim, seed, space=f"text-{stream}") for c in concepts])
    w = knobs.confusability
    for group in CONFUSABLE_GROUPS:
        names = [LLP_CONCEPTS[c] for c in group]
        shared = concept_vector("|".join(group), dim, seed, space=f"textgroup-{stream}")
        for i, c in enumerate(concepts):
            if c in names:
                text[i] = np.sqrt(w) * shared + np.sqrt(1 - w) * text[i]
    return _unit(text).astype(np.float32)


def segment_prototypes(stream: str, knobs: SynthKnobs, seed: int, concepts: list[str]) -> np.ndarray:
    """(C, D) CLIP/CLAP segment-side prototypes: ``alignment`` toward the prompt, the rest private."""
    text = prompt_embeddings(stream, knobs, seed, concepts)
    private = np.stack([concept_vector(c, STREAM_DIMS[stream], seed, space=f"private-{stream}") for c in concepts])
    private = _unit(private - (private * text).sum(-1, keepdims=True) * text)
    a = knobs.alignment
    return (a * text + np.sqrt(1 - a * a) * private).astype(np.float32)


def sample_train_tracks(labels: np.ndarray, gt_audio: np.ndarray, gt_visual: np.ndarray, donor_labels: np.ndarray,
                        rng: np.random.Generator, unaligned_weight: float = 1.0,
                        weighted_rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Segment tracks (N, T, C) for weakly-labelled videos, resampled from real dense occurrences.

    For every (video, class) label, draw one real (audio track, visual track) pair of the same
    class from the donor split(s); occurrences with neither audio nor visual events are not
    donors. This keeps per-class modality shares, durations and onsets as measured.

    ``unaligned_weight`` (knob of the same name; 1 = uniform, the frozen benchmark): a donor occurrence whose
    event segments are a share ``u`` unaligned (in one modality only, :func:`unaligned_share`) is drawn with
    weight ``(1 - u) + unaligned_weight * u``, so > 1 gives more audible-only / visible-only train events and
    < 1 fewer, durations and onsets still real. The weighted picks come from ``weighted_rng`` (required then);
    ``rng`` still makes the frozen uniform draw, so it is consumed identically at every level and everything
    generated after the tracks (the noise of every feature, the val/test features) is the same at every
    level: only the cause changes.
    """
    if unaligned_weight <= 0:
        raise ValueError(f"unaligned_weight={unaligned_weight}: expected a positive sampling weight")
    if unaligned_weight != 1.0 and weighted_rng is None:
        raise ValueError("unaligned_weight != 1 needs weighted_rng (a generator of its own for the weighted picks)")
    n, c = labels.shape
    t = gt_audio.shape[1]
    out_a = np.zeros((n, t, c), dtype=np.float32)
    out_v = np.zeros((n, t, c), dtype=np.float32)
    for k in range(c):
        donors = np.nonzero((donor_labels[:, k] > 0) & ((gt_audio[:, :, k].sum(1) + gt_visual[:, :, k].sum(1)) > 0))[0]
        takers = np.nonzero(labels[:, k] > 0)[0]
        if len(takers) == 0:
            continue
        if len(donors) == 0:
            raise ValueError(f"class {ann.LLP_CLASSES[k]} has no dense occurrence to sample train tracks from")
        pick = donors[rng.integers(0, len(donors), size=len(takers))]  # the frozen benchmark's draw, always made
        if unaligned_weight != 1.0:
            a, v = gt_audio[donors, :, k] > 0, gt_visual[donors, :, k] > 0
            u = np.logical_xor(a, v).sum(1) / np.logical_or(a, v).sum(1)
            weight = (1 - u) + unaligned_weight * u
            pick = weighted_rng.choice(donors, size=len(takers), p=weight / weight.sum())
        out_a[takers, :, k] = gt_audio[pick, :, k]
        out_v[takers, :, k] = gt_visual[pick, :, k]
    return out_a, out_v


def render_stream(stream: str, active_self: np.ndarray, active_other: np.ndarray, prototypes: np.ndarray,
                  knobs: SynthKnobs, rng: np.random.Generator, offset: np.ndarray | None = None) -> np.ndarray:
    """Features (N, T, D) of one stream from its modality's (N, T, C) event activity.

    feature = amp * sum_c a_{c} P_c + cross_leak * amp * sum_c o_{c} P_c + nuisance_video + noise
    (+ ``offset``); CLIP/CLAP streams are then L2-normalised per segment.
    """
    n, t, c = active_self.shape
    dim = prototypes.shape[1]
    amp = knobs.amplitude[stream] * rng.uniform(1 - knobs.amplitude_spread, 1 + knobs.amplitude_spread, size=(n, 1, c))
    weights = (active_self + knobs.cross_leak * active_other) * amp
    x = (weights.reshape(n * t, c) @ prototypes).reshape(n, t, dim)
    scale = 1.0 if stream in HAN_STREAMS else 1.0 / np.sqrt(dim)
    x += knobs.nuisance * scale * rng.standard_normal((n, 1, dim), dtype=np.float32)
    x += knobs.noise[stream] * scale * rng.standard_normal((n, t, dim), dtype=np.float32)
    if offset is not None:
        x += offset
    if stream in CLIPCLAP_STREAMS:
        x = _unit(x)
    return x.astype(np.float32)


def _expand_frames(x: np.ndarray, knobs: SynthKnobs, rng: np.random.Generator) -> np.ndarray:
    """(N, 10, D) segment features -> (N, 80, D) frames: 8 jittered copies per segment."""
    frames = np.repeat(x, FRAMES_PER_SEGMENT, axis=1)
    frames += knobs.frame_jitter * rng.standard_normal(frames.shape, dtype=np.float32)
    return frames


def _save(path: Path, array: np.ndarray, dtype) -> None:
    """``np.save`` beside ``path``, then rename; a failed write (a full disk) removes the partial file and is an
    ``OSError`` naming the file."""
    from avvp_lib.atomic import write_atomic

    write_atomic(path, lambda handle: np.save(handle, array.astype(dtype, copy=False)), fsync=False,
                 what=f"features file ({array.size * np.dtype(dtype).itemsize} bytes)")


def write_annotations(out: Path, labels_dir: Path, keep: dict[str, set[str]] | None = None) -> None:
    """Copy the real label files into ``out/annotations``.

    ``keep`` maps a split to the filenames it keeps (the quick profile's train subset); the eval
    files are copied whole unless val/test are cut too (tests), in which case they are filtered alike.
    """
    dest = out / "annotations"
    dest.mkdir(parents=True, exist_ok=True)
    keep = keep or {}
    files = {name: file for name, file in ann.SPLIT_FILES.items()}
    cut_eval = "val" in keep or "test" in keep
    eval_keep = set().union(*(keep.get(s, set()) for s in ("val", "test"))) if cut_eval else None
    for name, file in list(files.items()) + [(None, f) for f in ann.EVAL_FILES.values()]:
        wanted = keep.get(name) if name is not None else eval_keep
        if wanted is None:
            shutil.copyfile(labels_dir / file, dest / file)
            continue
        lines = (labels_dir / file).read_text().splitlines()
        body = [lines[0]] + [line for line in lines[1:] if line.split("\t", 1)[0] in wanted]
        (dest / file).write_text("\n".join(body) + "\n")


def generate(out: str | Path, profile: str = "quick", seed: int = 0, knobs: SynthKnobs | None = None,
             labels_dir: str | Path | None = None, dtype=np.float16, chunk: int = 512,
             progress: bool = True, max_videos: int | None = None) -> dict:
    """Write a complete synthetic root (all layouts + annotation files); returns its metadata.

    ``profile``: ``quick`` (1500 train videos, all 649 val and 1200 test) or ``full`` (all).
    Features are stored as float16 ``.npy`` (the loaders accept any float dtype) to halve disk use.
    ``max_videos`` keeps only the first videos of every split (tiny roots for tests).

    The root is written into a scratch folder beside ``out`` and renamed into place only when complete: a
    failure or a kill never leaves a half-regenerated root under ``out`` (an old root there stays whole until
    the new one replaces it; a killed run leaves only the scratch folder ``.<name>.partial-<pid>``).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {sorted(PROFILES)}")
    check_knobs(knobs or SynthKnobs())
    final = Path(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    out = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(out, ignore_errors=True)
    try:
        meta = _generate_into(out, profile, seed, knobs or SynthKnobs(), labels_dir, dtype, chunk, progress, max_videos)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(out, final)
    shutil.rmtree(old, ignore_errors=True)
    from avvp_lib.experiments.fingerprint import remember_manifest

    remember_manifest(final)  # the digests just computed serve the first check of the renamed root
    return meta


def _generate_into(out: Path, profile: str, seed: int, knobs: SynthKnobs, labels_dir, dtype, chunk: int,
                   progress: bool, max_videos: int | None) -> dict:
    """The body of :func:`generate`, writing into ``out`` (a fresh scratch folder)."""
    start = time.perf_counter()
    labels = ann.load_llp(labels_dir)
    rng = np.random.default_rng(seed)
    n_train = PROFILES[profile] or len(labels.train)
    train_rows = np.sort(rng.permutation(len(labels.train))[:n_train])
    if max_videos is not None:
        train_rows = train_rows[:max_videos]
    train = labels.train.subset(train_rows)

    donor_labels = np.concatenate([labels.val.labels.numpy(), labels.test.labels.numpy()])
    donor_a = np.concatenate([labels.val.gt_audio.numpy(), labels.test.gt_audio.numpy()])
    donor_v = np.concatenate([labels.val.gt_visual.numpy(), labels.test.gt_visual.numpy()])
    track_a, track_v = sample_train_tracks(train.labels.numpy(), donor_a, donor_v, donor_labels, rng,
                                           knobs.unaligned_weight, np.random.default_rng([seed, UNALIGNED_STREAM]))
    if max_videos is not None:  # donors above come from the complete val/test; the written splits are cut
        labels.val = labels.val.subset(range(min(max_videos, len(labels.val))))
        labels.test = labels.test.subset(range(min(max_videos, len(labels.test))))

    concepts = [LLP_CONCEPTS[c] for c in ann.LLP_CLASSES]
    protos = {s: class_prototypes(s, knobs, seed) for s in HAN_STREAMS}
    protos |= {s: segment_prototypes(s, knobs, seed, concepts) for s in CLIPCLAP_STREAMS}
    gap = {s: knobs.modality_gap * concept_vector("modality-gap", STREAM_DIMS[s], seed, space=s) for s in CLIPCLAP_STREAMS}

    for stream in STREAMS:
        STREAMS[stream].path(out, "-").parent.mkdir(parents=True, exist_ok=True)
    for stream in CLIPCLAP_STREAMS:
        prompt_file = PROMPT_STREAMS[f"{stream}_text"].path(out)
        prompt_file.parent.mkdir(parents=True, exist_ok=True)
        _save(prompt_file, prompt_embeddings(stream, knobs, seed, concepts), np.float32)

    splits = [(train.video_ids, track_a, track_v), (labels.val.video_ids, labels.val.gt_audio.numpy(), labels.val.gt_visual.numpy()),
              (labels.test.video_ids, labels.test.gt_audio.numpy(), labels.test.gt_visual.numpy())]
    total = sum(len(s[0]) for s in splits)
    report = _progress(total, progress)
    for ids, act_a, act_v in splits:
        for lo in range(0, len(ids), chunk):
            hi = min(lo + chunk, len(ids))
            active = {"audio": act_a[lo:hi], "visual": act_v[lo:hi]}
            for stream in STREAM_DIMS:
                own = STREAM_MODALITY[stream]
                other = "visual" if own == "audio" else "audio"
                x = render_stream(stream, active[own], active[other], protos[stream], knobs, rng, gap.get(stream))
                if stream == "visual_2d":
                    x = _expand_frames(x, knobs, rng)
                for j, vid in enumerate(ids[lo:hi]):
                    _save(STREAMS[stream].path(out, vid), x[j], dtype)
            report(hi - lo)
    report(0, close=True)
    (out / "diagnostics").mkdir(exist_ok=True)
    np.savez_compressed(out / "diagnostics" / "train_tracks.npz", audio=track_a.astype(np.uint8),
                        visual=track_v.astype(np.uint8), filenames=np.array(train.filenames))
    keep = {"train": set(train.filenames)}
    if max_videos is not None:
        keep |= {"val": set(labels.val.filenames), "test": set(labels.test.filenames)}
    write_annotations(out, labels.directory, keep)
    meta = {"data": "synthetic", "profile": profile, "seed": seed, "knobs": knob_dict(knobs),
            "n_train": len(train), "n_val": len(labels.val), "n_test": len(labels.test),
            "feature_dtype": np.dtype(dtype).name, "seconds": round(time.perf_counter() - start, 1)}
    from avvp_lib.experiments.fingerprint import write_manifest

    write_manifest(out, use_cache=False)  # content digests beside the metadata (not part of the fingerprint)
    tmp = out / "synth_meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(out / "synth_meta.json")
    return meta


def _progress(total: int, enabled: bool):
    """``report(n)`` after each chunk: a tqdm bar on a terminal; in a log (not a terminal), one plain line per
    quarter of the videos, never carriage returns."""
    import sys

    if not enabled:
        return lambda n, close=False: None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, desc="[synth]", unit="video")

        def report(n, close=False):
            bar.update(n)
            if close:
                bar.close()
        return report
    state = {"done": 0, "next": total / 4, "shown": 0}

    def report(n, close=False):
        state["done"] += n
        if state["done"] >= state["next"] or (close and state["shown"] != state["done"]):
            print(f"[synth] {state['done']}/{total} videos", file=sys.stderr, flush=True)
            state["next"], state["shown"] = state["done"] + total / 4, state["done"]
    return report


def ensure(out: str | Path, profile: str = "quick", seed: int = 0, progress: bool = True,
           knobs: SynthKnobs | None = None) -> dict:
    """Generate the root unless a complete one with the same profile, seed and knobs is already there; an existing
    root's files are checked against its content manifest first (an edited or incomplete root is a
    :class:`avvp_lib.experiments.fingerprint.ContentError` naming the files, never silently reused)."""
    from avvp_lib.data.dataset import read_synth_meta
    from avvp_lib.experiments.fingerprint import check_content

    knobs = knobs or SynthKnobs()
    check_knobs(knobs)
    meta = read_synth_meta(out) if Path(out).is_dir() else None
    if meta is not None:
        if meta.get("profile") == profile and meta.get("seed") == seed and meta.get("knobs") == knob_dict(knobs):
            check_content(out, strict=True)
            return meta
    return generate(out, profile, seed, knobs, progress=progress)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.data.synth", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the synthetic root into")
    parser.add_argument("--profile", default="quick", choices=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="regenerate even if a matching root exists")
    parser.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE",
                        help="change one knob from its frozen value (repeatable), e.g. alignment=0.5, noise.clip=3, "
                             "unaligned_weight=4; the knobs are recorded in synth_meta.json")
    args = parser.parse_args(argv)
    try:
        knobs = knobs_with(dict(parse_knob(k) for k in args.knob))
    except (KeyError, ValueError) as error:
        parser.error(str(error.args[0]))
    meta = (generate(args.out, args.profile, args.seed, knobs) if args.force
            else ensure(args.out, args.profile, args.seed, knobs=knobs))
    print(json.dumps({k: v for k, v in meta.items() if k != "knobs"}))


if __name__ == "__main__":
    main()
