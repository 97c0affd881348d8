"""UnAV-100: the pretraining set of UWAV's pseudo-label generators (UWAV Sec. 4.1).

Two halves:

**Real annotations -> per-second labels.** ``data/unav100/unav100_annotations.json`` (real
UnAV-100 annotations: 100 classes, untrimmed videos of 10-60 s, dense audio-visual events with
fractional boundaries) becomes per-second multi-hot labels exactly as UWAV's loader builds them:

* a video of duration ``d`` seconds has ``T' = ceil(d)`` one-second segments
  (:func:`quantize_duration`; an integral duration stays as it is);
* an event ``[start, end]`` covers the shortest whole-second span that contains it,
  ``[floor(start), ceil(end))`` (:func:`quantize_event`), so durations are rounded *up*;
* videos of a split are padded to the longest one, with a boolean ``mask`` (True = real second).

:func:`load_unav` also checks the file (inverted or zero-length events, events outside the video,
label/label_id disagreements, unknown subsets, videos without events) and reports every case in
``quirks`` instead of hiding it; :func:`validation_report` counts each check, zeros included.

**Synthetic CLIP/CLAP streams in LLP's semantic space.** UnAV-100 features are not available,
so :func:`generate_unav` renders CLIP-like (768-d) and CLAP-like (512-d) per-second features with
the *same* generator, knobs, modality-gap offset and concept vectors as the LLP root
(:mod:`avvp_lib.data.synth`). A UnAV class that names an LLP event (``'dog barking'`` ~ Dog,
``'playing cello'`` ~ Cello, ``'helicopter'`` ~ Helicopter, ...; :data:`UNAV_TO_LLP`) shares
the LLP concept vector, prompt embedding and segment prototype (``share`` 1) or part of them
(``share`` < 1, e.g. the three "... speaking" classes ~ Speech); the others get their own
concepts. That shared space is what lets UWAV's pretraining transfer to LLP. UnAV events are
audio-visual by definition, so an event is active in both streams.

On-disk layout (UWAV's release layout, under the synthetic root; beside real LLP features, a real ``unav100/``
in the same layout is used as it is, :func:`real_unav_meta`)::

    <root>/unav100/unav100_annotations.json                  the subset of the real annotations used
    <root>/unav100/feats_CLIP/segment_feats/<id>.npy          (T', 768) float16, L2-normalised rows
    <root>/unav100/feats_CLAP/segment_feats/<id>.npy          (T', 512)
    <root>/unav100/feats_CLIP/event_feats/all_event_feats.npy (100, 768) "A photo of <event>"
    <root>/unav100/feats_CLAP/event_feats/all_event_feats.npy (100, 512) "This is the sound of <event>"
    <root>/unav100/unav_meta.json                             profile, seed, knobs, counts

``python -m avvp_lib.data.unav --root data/synthetic/quick --profile quick`` writes it (or
:func:`ensure_unav`); ``--report`` prints the validation report of the real annotation file.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from avvp_lib.data import annotations as ann
from avvp_lib.data import synth
from avvp_lib.data.features import PROMPT_STREAMS, save_array_atomic
from avvp_lib.data.features import STREAMS as FEATURE_STREAMS
from avvp_lib.paths import unav_annotations_file

UNAV_CLASSES: tuple[str, ...] = (
    'man speaking', 'woman speaking', 'kid speaking', 'male singing', 'people laughing', 'car passing by',
    'baby laughter', 'wind noise', 'people clapping', 'people shouting', 'people crowd', 'female singing',
    'dog barking', 'playing acoustic guitar', 'people eating', 'people cheering', 'basketball bounce',
    'engine knocking', 'playing tennis', 'baby babbling', 'striking bowling', 'playing badminton',
    'cat meowing', 'people slapping', 'playing piano', 'baby crying', 'people burping', 'orchestra',
    'playing drum kit', 'playing violin', 'machine gun shooting', 'child singing', 'people nose blowing',
    'playing electronic organ', 'people sneezing', 'dog howling', 'skateboarding', 'playing base guitar',
    'auto racing', 'sea waves', 'playing table tennis', 'people coughing', 'people whispering',
    'playing ukulele', 'sheep bleating', 'playing tabla', 'fire truck siren', 'playing volleyball',
    'beat boxing', 'playing trumpet', 'thunder', 'playing cello', 'playing harp', 'hammering nails',
    'people running', 'sailing', 'telephone bell ringing', 'frog croaking', 'driving motorcycle',
    'playing cornet', 'playing clarinet', 'train wheels squealing', 'playing flute', 'playing trombone',
    'playing erhu', 'bull bellowing', 'raining', 'skidding', 'chainsawing trees', 'police car siren',
    'playing saxophone', 'fireworks banging', 'driving buses', 'tap dancing', 'airplane flyby',
    'people whistling', 'train horning', 'vacuum cleaner cleaning floors', 'playing accordion',
    'bird chirping', 'vehicle honking', 'church bell ringing', 'playing snare drum', 'playing synthesizer',
    'typing on computer keyboard', 'singing choir', 'lions roaring', 'people slurping', 'helicopter',
    'horse clip-clop', 'water burbling', 'lawn mowing', 'playing banjo', 'playing zither', 'playing harmonica',
    'people battle cry', 'people sobbing', 'ambulance siren', 'rope skipping', 'hair dryer drying',
)  # label_id order of the annotation file (= UWAV's UNAV_CATEGORIES)
NUM_UNAV_CLASSES = len(UNAV_CLASSES)
UNAV_SUBSETS = ("train", "validation", "test")
MAX_SECONDS = 60  # longest UnAV-100 video
DEFAULT_UNAV_JSON = unav_annotations_file()  # shipped (a checkout's data/unav100, or inside an installed package)
UNAV_DIR = "unav100"
#: the two streams and their width; files follow the LLP CLIP/CLAP layout (features.STREAMS) under ``unav100/``
STREAMS = {s: FEATURE_STREAMS[s].shape[1] for s in ("clip", "clap")}

#: videos rendered per subset (None: all). The quick profile pretrains on a random subset.
UNAV_PROFILES = {"quick": {"train": 400, "validation": 150}, "full": {"train": None, "validation": None}}

#: UnAV class -> (LLP class, share of the LLP concept). share 1: the same concept vector, prompt
#: embedding and segment prototype as the LLP class; share s < 1: sqrt(s) of the LLP vector plus
#: sqrt(1 - s) of the class's own. 19 exact matches, 10 partial ones; Frying_(food), Fire_alarm,
#: Chicken_rooster and Blender have no UnAV counterpart (no transfer for them).
UNAV_TO_LLP: dict[str, tuple[str, float]] = {
    "dog barking": ("Dog", 1.0), "cat meowing": ("Cat", 1.0), "baby laughter": ("Baby_laughter", 1.0),
    "baby crying": ("Baby_cry_infant_cry", 1.0), "basketball bounce": ("Basketball_bounce", 1.0),
    "playing acoustic guitar": ("Acoustic_guitar", 1.0), "playing violin": ("Violin_fiddle", 1.0),
    "playing cello": ("Cello", 1.0), "playing banjo": ("Banjo", 1.0), "playing accordion": ("Accordion", 1.0),
    "telephone bell ringing": ("Telephone_bell_ringing", 1.0), "driving motorcycle": ("Motorcycle", 1.0),
    "chainsawing trees": ("Chainsaw", 1.0), "vacuum cleaner cleaning floors": ("Vacuum_cleaner", 1.0),
    "helicopter": ("Helicopter", 1.0), "lawn mowing": ("Lawn_mower", 1.0), "people clapping": ("Clapping", 1.0),
    "people cheering": ("Cheering", 1.0), "car passing by": ("Car", 1.0),
    "man speaking": ("Speech", 0.5), "woman speaking": ("Speech", 0.5), "kid speaking": ("Speech", 0.5),
    "male singing": ("Singing", 0.5), "female singing": ("Singing", 0.5), "child singing": ("Singing", 0.5),
    "singing choir": ("Singing", 0.5), "dog howling": ("Dog", 0.5), "people crowd": ("Cheering", 0.5),
    "vehicle honking": ("Car", 0.5),
}

QUIRK_KINDS = ("no_annotations", "inverted", "zero_length", "negative_start", "end_after_duration",
               "label_id_mismatch", "unknown_label", "unknown_subset", "duplicate_event")


class UnAVError(ValueError):
    """An UnAV-100 file or folder that cannot be read as the documented layout."""


@dataclass(frozen=True)
class UnAVQuirk:
    """One oddity of the annotation file (kept or dropped as UWAV's loader would, and reported)."""

    video_id: str
    kind: str  # one of QUIRK_KINDS
    detail: str


@dataclass
class UnAVSplit:
    """Per-second labels of one subset, padded to its longest video."""

    name: str
    video_ids: list[str]
    durations: torch.Tensor  # (N,) int64, quantized duration T' = ceil(duration)
    labels: torch.Tensor  # (N, Tmax, 100) float32, audio-visual events per second
    mask: torch.Tensor  # (N, Tmax) bool, True on real seconds
    raw_durations: np.ndarray | None = None  # (N,) float, as in the file

    def __len__(self) -> int:
        return len(self.video_ids)


@dataclass
class UnAVAnnotations:
    splits: dict[str, UnAVSplit]
    quirks: list[UnAVQuirk] = field(default_factory=list)
    path: Path | None = None
    rounding: dict = field(default_factory=dict)

    def split(self, name: str) -> UnAVSplit:
        if name not in self.splits:
            raise UnAVError(f"subset {name!r} not loaded; loaded: {sorted(self.splits)}")
        return self.splits[name]

    def quirk_table(self):
        import pandas as pd

        return pd.DataFrame([asdict(q) for q in self.quirks], columns=["video_id", "kind", "detail"])


# --------------------------------------------------------------------------- rounding
def quantize_duration(duration: float) -> int:
    """Number of one-second segments of a video: ``ceil(duration)`` (UWAV's loader)."""
    if not math.isfinite(duration) or duration <= 0:
        raise UnAVError(f"duration must be a positive number of seconds; got {duration!r}")
    return int(math.ceil(duration))


def quantize_event(start: float, end: float) -> tuple[int, int]:
    """The shortest whole-second span containing ``[start, end]``: ``(floor(start), ceil(end))``.

    The span is half-open, ``labels[floor(start):ceil(end)] = 1``; e.g. ``[13.01, 15.78]`` -> ``(13, 16)``:
    seconds 13, 14 and 15.
    """
    return int(math.floor(start)), int(math.ceil(end))


def per_second_labels(events: list[tuple[int, float, float]], seconds: int,
                      num_classes: int = NUM_UNAV_CLASSES) -> np.ndarray:
    """``(seconds, C)`` multi-hot labels from ``(label_id, start, end)`` events (spans clipped to the video)."""
    out = np.zeros((seconds, num_classes), dtype=np.float32)
    for label_id, start, end in events:
        lo, hi = quantize_event(start, end)
        lo, hi = max(lo, 0), min(hi, seconds)
        if hi > lo:
            out[lo:hi, label_id] = 1.0
    return out


# --------------------------------------------------------------------------- reading
def read_unav_json(path: str | Path | None = None) -> dict:
    """The ``database`` dict of an UnAV-100 annotation file, with its structure checked."""
    path = Path(path) if path is not None else DEFAULT_UNAV_JSON
    if not path.is_file():
        raise UnAVError(f"UnAV-100 annotation file not found: {path} (expected the real file shipped in data/unav100)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UnAVError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise UnAVError(f"{path}: expected {{'database': {{video_id: {{...}}}}}}; got top-level keys "
                        f"{sorted(data) if isinstance(data, dict) else type(data).__name__}")
    for vid, item in data["database"].items():
        missing = [k for k in ("duration", "subset", "annotations") if k not in item]
        if missing:
            raise UnAVError(f"{path}: video {vid!r} lacks {missing}; expected keys duration, subset, annotations")
    return data["database"]


def _video_events(vid: str, item: dict, quirks: list[UnAVQuirk]) -> list[tuple[int, float, float]]:
    """Events kept for one video (as UWAV's loader keeps them) and the quirks found on the way."""
    duration = float(item["duration"])
    events, seen = [], set()
    if not item["annotations"]:
        quirks.append(UnAVQuirk(vid, "no_annotations", "video has no event: all its seconds are background"))
    for act in item["annotations"]:
        start, end = (float(x) for x in act["segment"])
        label, label_id = act.get("label"), int(act["label_id"])
        if not 0 <= label_id < NUM_UNAV_CLASSES:
            raise UnAVError(f"video {vid!r}: label_id {label_id} outside 0..{NUM_UNAV_CLASSES - 1}")
        if label not in UNAV_CLASSES:
            quirks.append(UnAVQuirk(vid, "unknown_label", f"label {label!r} is not one of the 100 class names"))
        elif UNAV_CLASSES.index(label) != label_id:
            quirks.append(UnAVQuirk(vid, "label_id_mismatch",
                                    f"label {label!r} has id {UNAV_CLASSES.index(label)}, file says {label_id}"))
        if end < start:
            quirks.append(UnAVQuirk(vid, "inverted", f"[{start}, {end}] ends before it starts: dropped"))
            continue
        if end == start:
            quirks.append(UnAVQuirk(vid, "zero_length", f"[{start}, {end}] has zero length (kept: covers the whole seconds around it)"))
        if start < 0:
            quirks.append(UnAVQuirk(vid, "negative_start", f"[{start}, {end}] starts before 0: clipped"))
        if end > duration:
            quirks.append(UnAVQuirk(vid, "end_after_duration", f"[{start}, {end}] ends after the video ({duration} s): clipped"))
        key = (label_id, start, end)
        if key in seen:
            quirks.append(UnAVQuirk(vid, "duplicate_event", f"{label!r} [{start}, {end}] appears twice"))
        seen.add(key)
        events.append((label_id, start, end))
    return events


def load_unav(path: str | Path | None = None, subsets: tuple[str, ...] = UNAV_SUBSETS,
              video_ids: dict[str, list[str]] | None = None) -> UnAVAnnotations:
    """Per-second labels for the requested subsets (default: all three), plus a quirk report.

    ``video_ids`` restricts a subset to the listed ids (in that order); otherwise file order.
    """
    unknown = set(subsets) - set(UNAV_SUBSETS)
    if unknown:
        raise UnAVError(f"unknown subset(s) {sorted(unknown)}; expected some of {UNAV_SUBSETS}")
    db = read_unav_json(path)
    quirks: list[UnAVQuirk] = []
    for vid, item in db.items():
        if str(item["subset"]).lower() not in UNAV_SUBSETS:
            quirks.append(UnAVQuirk(vid, "unknown_subset", f"subset {item['subset']!r} is none of {UNAV_SUBSETS}"))
    splits, added, labelled = {}, 0, 0
    for name in subsets:
        ids = [v for v, item in db.items() if str(item["subset"]).lower() == name]
        if video_ids is not None and name in video_ids:
            missing = [v for v in video_ids[name] if v not in db or str(db[v]["subset"]).lower() != name]
            if missing:
                raise UnAVError(f"{len(missing)} requested {name} ids are not {name} videos of the file, e.g. {missing[:3]}")
            ids = list(video_ids[name])
        seconds = np.array([quantize_duration(float(db[v]["duration"])) for v in ids], dtype=np.int64)
        t_max = int(seconds.max()) if len(ids) else 0
        labels = np.zeros((len(ids), t_max, NUM_UNAV_CLASSES), dtype=np.float32)
        for i, vid in enumerate(ids):
            events = _video_events(vid, db[vid], quirks)
            labels[i, :seconds[i]] = per_second_labels(events, int(seconds[i]))
            for label_id, start, end in events:  # how many labelled seconds the rounding adds
                lo, hi = quantize_event(start, end)
                added_here = (min(hi, seconds[i]) - max(lo, 0)) - (min(end, float(db[vid]["duration"])) - max(start, 0.0))
                added += max(added_here, 0.0)
                labelled += max(min(end, float(db[vid]["duration"])) - max(start, 0.0), 0.0)
        mask = np.arange(t_max)[None, :] < seconds[:, None]
        splits[name] = UnAVSplit(name, ids, torch.from_numpy(seconds), torch.from_numpy(labels), torch.from_numpy(mask),
                                 np.array([float(db[v]["duration"]) for v in ids]))
    rounding = {"event_seconds_annotated": round(labelled, 1), "event_seconds_added_by_rounding": round(added, 1)}
    return UnAVAnnotations(splits, quirks, Path(path) if path is not None else DEFAULT_UNAV_JSON, rounding)


def validation_report(annotations: UnAVAnnotations):
    """One row per check (zeros included) and per subset statistics, as pandas DataFrames."""
    import pandas as pd

    kinds = [q.kind for q in annotations.quirks]
    checks = pd.DataFrame({"check": QUIRK_KINDS, "count": [kinds.count(k) for k in QUIRK_KINDS]})
    rows = []
    for name, split in annotations.splits.items():
        real = split.mask.sum().item()
        events = split.labels.sum(-1)[split.mask]
        rows.append({"subset": name, "videos": len(split), "seconds": int(real),
                     "mean_duration_s": round(float(split.durations.float().mean()), 1),
                     "max_duration_s": int(split.durations.max()),
                     "labelled_seconds_%": round(100.0 * float((events > 0).float().mean()), 1),
                     "classes_present": int((split.labels.amax(dim=(0, 1)) > 0).sum())})
    return checks, pd.DataFrame(rows)


# --------------------------------------------------------------------------- semantic space
def unav_embeddings(stream: str, knobs: synth.SynthKnobs, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(100, D) prompt embeddings and (100, D) segment prototypes of UnAV-100 in LLP's semantic space.

    For a UnAV class mapped to an LLP class with share ``s`` (:data:`UNAV_TO_LLP`):
    ``text = unit(sqrt(s) text_LLP + sqrt(1 - s) text_own)`` and likewise for the prototype; with
    ``s = 1`` both are exactly the LLP class's vectors (as written in the LLP root). Unmapped
    classes use their own concept (:func:`synth.prompt_embeddings` / :func:`synth.segment_prototypes`).
    """
    if stream not in STREAMS:
        raise ValueError(f"stream {stream!r}; expected one of {sorted(STREAMS)}")
    llp_concepts = [synth.LLP_CONCEPTS[c] for c in ann.LLP_CLASSES]
    llp_text = synth.prompt_embeddings(stream, knobs, seed, llp_concepts)
    llp_proto = synth.segment_prototypes(stream, knobs, seed, llp_concepts)
    text = synth.prompt_embeddings(stream, knobs, seed, list(UNAV_CLASSES)).astype(np.float64)
    proto = synth.segment_prototypes(stream, knobs, seed, list(UNAV_CLASSES)).astype(np.float64)
    for i, name in enumerate(UNAV_CLASSES):
        if name not in UNAV_TO_LLP:
            continue
        llp, share = UNAV_TO_LLP[name]
        k = ann.LLP_CLASSES.index(llp)
        if share >= 1.0:
            text[i], proto[i] = llp_text[k], llp_proto[k]
        else:
            text[i] = np.sqrt(share) * llp_text[k] + np.sqrt(1 - share) * text[i]
            proto[i] = np.sqrt(share) * llp_proto[k] + np.sqrt(1 - share) * proto[i]
            text[i] /= np.linalg.norm(text[i])
            proto[i] /= np.linalg.norm(proto[i])
    return text.astype(np.float32), proto.astype(np.float32)


def render_unav_streams(labels: np.ndarray, knobs: synth.SynthKnobs, seed: int, rng: np.random.Generator,
                        embeddings: dict | None = None) -> dict[str, np.ndarray]:
    """CLIP/CLAP features ``(N, T, D)`` for per-second audio-visual labels ``(N, T, 100)``.

    The LLP renderer (:func:`synth.render_stream`) with the UnAV prototypes: an event is active in
    both streams (UnAV events are audio-visual), plus per-video nuisance, noise and the same
    modality-gap offset as LLP's CLIP/CLAP streams; rows are L2-normalised.
    """
    out = {}
    for stream, dim in STREAMS.items():
        protos = (embeddings or {}).get(stream)
        if protos is None:
            protos = unav_embeddings(stream, knobs, seed)[1]
        gap = knobs.modality_gap * synth.concept_vector("modality-gap", dim, seed, space=stream)
        out[stream] = synth.render_stream(stream, labels, np.zeros_like(labels), protos, knobs, rng, gap)
    return out


# --------------------------------------------------------------------------- writing
def unav_knobs(knobs: synth.SynthKnobs) -> dict:
    """The knobs the CLIP/CLAP streams depend on (HAN-stream knobs can change without touching UnAV)."""
    k = asdict(knobs)
    return {"amplitude": {s: k["amplitude"][s] for s in STREAMS}, "noise": {s: k["noise"][s] for s in STREAMS},
            **{name: k[name] for name in ("amplitude_spread", "nuisance", "confusability", "alignment", "modality_gap")}}


def _root_space(root: Path) -> tuple[synth.SynthKnobs, int]:
    """Knobs and seed of the LLP synthetic root, so UnAV lands in the same semantic space."""
    meta_path = root / "synth_meta.json"
    if not meta_path.is_file():
        raise UnAVError(f"{root} has no synth_meta.json: synthetic UnAV streams are generated only beside a synthetic "
                        f"LLP root. With real LLP features, put real UnAV CLIP/CLAP features in {root / UNAV_DIR} "
                        f"using the layout documented in avvp_lib.data.unav")
    meta = json.loads(meta_path.read_text())
    return synth.SynthKnobs(**meta["knobs"]), int(meta["seed"])


def pick_subset(db: dict, subset: str, n: int | None, seed: int) -> list[str]:
    """``n`` random ids of a subset (file order kept), or all of them when ``n`` is None."""
    ids = [v for v, item in db.items() if str(item["subset"]).lower() == subset]
    if n is None or n >= len(ids):
        return ids
    rng = np.random.default_rng([seed, UNAV_SUBSETS.index(subset), 4])
    keep = np.sort(rng.permutation(len(ids))[:n])
    return [ids[i] for i in keep]


def generate_unav(root: str | Path, profile: str = "quick", seed: int = 0, json_path: str | Path | None = None,
                  chunk: int = 256, progress: bool = False) -> dict:
    """Write ``<root>/unav100`` (layout in the module docstring) beside a synthetic LLP root.

    ``seed`` drives the subset and the noise; the semantic space (concept vectors) is the root's,
    read from its ``synth_meta.json``. Returns the metadata written to ``unav_meta.json``.
    """
    if profile not in UNAV_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {sorted(UNAV_PROFILES)}")
    start = time.perf_counter()
    root = Path(root)
    knobs, space_seed = _root_space(root)
    out = root / UNAV_DIR
    db = read_unav_json(json_path)
    chosen = {s: pick_subset(db, s, n, seed) for s, n in UNAV_PROFILES[profile].items()}
    labels = load_unav(json_path, subsets=tuple(chosen), video_ids=chosen)
    embeddings = {}
    for stream in STREAMS:
        text, protos = unav_embeddings(stream, knobs, space_seed)
        embeddings[stream] = protos
        save_array_atomic(PROMPT_STREAMS[f"{stream}_text"].path(out), text)
    rng = np.random.default_rng([seed, 7])
    for name, split in labels.splits.items():
        y = split.labels.numpy()
        for lo in range(0, len(split), chunk):
            block = np.zeros((min(chunk, len(split) - lo), MAX_SECONDS, NUM_UNAV_CLASSES), dtype=np.float32)
            part = y[lo:lo + chunk]
            block[:, :part.shape[1]] = part  # always render 60 s so the noise does not depend on the subset
            feats = render_unav_streams(block, knobs, space_seed, rng, embeddings)
            for j, vid in enumerate(split.video_ids[lo:lo + chunk]):
                t = int(split.durations[lo + j])
                for stream in STREAMS:
                    save_array_atomic(FEATURE_STREAMS[stream].path(out, vid), feats[stream][j, :t].astype(np.float16))
            if progress:
                print(f"\r[unav] {name}: {min(lo + chunk, len(split))}/{len(split)} videos", end="", flush=True)
        if progress:
            print()
    subset_db = {v: db[v] for ids in chosen.values() for v in ids}
    (out / "unav100_annotations.json").write_text(json.dumps({"version": "subset", "database": subset_db}))
    meta = {"data": "synthetic", "profile": profile, "seed": seed, "space_seed": space_seed, "knobs": unav_knobs(knobs),
            "counts": {s: len(v) for s, v in chosen.items()}, "seconds": round(time.perf_counter() - start, 1)}
    tmp = out / "unav_meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(out / "unav_meta.json")
    return meta


def real_unav_meta(root: str | Path) -> dict:
    """The description of a real ``<root>/unav100`` (features extracted from the UnAV-100 videos, layout in the
    module docstring) used as it is: ``data`` "unav100", the videos per subset of its annotation file, and a content
    fingerprint of the folder (annotation file and every feature file), so a generator pretrained on it is
    retrained when its features change. The files themselves are checked when they are loaded
    (:func:`load_unav_split`, :func:`load_unav_prompts`)."""
    from avvp_lib.experiments.fingerprint import data_fingerprint, file_digest

    folder = Path(root) / UNAV_DIR
    json_path = folder / "unav100_annotations.json"
    if not json_path.is_file():
        raise UnAVError(f"{root} has no synth_meta.json (a root of real LLP features) and no {json_path}: UWAV's "
                        f"stage 1 needs real UnAV-100 CLIP/CLAP features there, in the layout of avvp_lib.data.unav "
                        f"(docs/REAL_FEATURES.md); synthetic UnAV streams are generated only beside a synthetic root")
    db = read_unav_json(json_path)
    counts = {s: sum(str(item["subset"]).lower() == s for item in db.values()) for s in UNAV_SUBSETS}
    if not counts["train"] or not counts["validation"]:
        raise UnAVError(f"{json_path}: expected train and validation videos for pretraining; got {counts}")
    return {"data": "unav100", "profile": "real", "seed": None, "space_seed": None, "knobs": None,
            "counts": counts, "fingerprint": data_fingerprint(folder), "annotations": file_digest(json_path)[:16]}


def ensure_unav(root: str | Path, profile: str = "quick", seed: int = 0, progress: bool = False) -> dict:
    """Generate ``<root>/unav100`` unless a complete one with the same profile, seed and CLIP/CLAP knobs exists.
    Beside a root of real LLP features (no ``synth_meta.json``) nothing is generated: its real ``unav100/`` is used
    as it is, whatever the profile (:func:`real_unav_meta`)."""
    root = Path(root)
    if not (root / "synth_meta.json").is_file():
        return real_unav_meta(root)
    meta_path = root / UNAV_DIR / "unav_meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        knobs, space_seed = _root_space(root)
        if (meta.get("profile"), meta.get("seed"), meta.get("space_seed"), meta.get("knobs")) == (
                profile, seed, space_seed, unav_knobs(knobs)):
            return meta
    return generate_unav(root, profile, seed, progress=progress)


# --------------------------------------------------------------------------- loading
@dataclass
class UnAVData:
    """One subset's features and labels as padded tensors (the pretraining input)."""

    name: str
    video_ids: list[str]
    clip: torch.Tensor  # (N, Tmax, 768), zeros on padded seconds
    clap: torch.Tensor  # (N, Tmax, 512)
    labels: torch.Tensor  # (N, Tmax, 100)
    mask: torch.Tensor  # (N, Tmax) bool

    def __len__(self) -> int:
        return len(self.video_ids)


def load_unav_split(root: str | Path, subset: str, dtype=torch.float32) -> UnAVData:
    """Read ``<root>/unav100``'s features and labels for ``subset``; errors name file, expected vs actual."""
    folder = Path(root) / UNAV_DIR
    json_path = folder / "unav100_annotations.json"
    if not json_path.is_file():
        raise UnAVError(f"{json_path} not found: run ensure_unav(root) or `python -m avvp_lib.data.unav --root {root}`")
    labels = load_unav(json_path, subsets=(subset,)).split(subset)
    n, t_max = labels.labels.shape[:2]
    feats = {s: torch.zeros((n, t_max, dim), dtype=dtype) for s, dim in STREAMS.items()}
    for i, vid in enumerate(labels.video_ids):
        t = int(labels.durations[i])
        for stream, dim in STREAMS.items():
            path = FEATURE_STREAMS[stream].path(folder, vid)
            if not path.is_file():
                raise UnAVError(f"missing feature file {path}: expected ({t}, {dim}) for video {vid} ({subset})")
            x = np.load(path)
            if x.shape != (t, dim):
                raise UnAVError(f"{path}: expected shape ({t}, {dim}) (ceil(duration) seconds x {dim}); got {x.shape}")
            if not np.isfinite(x).all():
                raise UnAVError(f"{path}: contains NaN or Inf")
            feats[stream][i, :t] = torch.from_numpy(x.astype(np.float32)).to(dtype)
    return UnAVData(subset, labels.video_ids, feats["clip"], feats["clap"], labels.labels, labels.mask)


def load_unav_prompts(root: str | Path, dtype=torch.float32) -> dict[str, torch.Tensor]:
    """``clip_text`` (100, 768) and ``clap_text`` (100, 512) prompt embeddings of UnAV-100."""
    out = {}
    for stream, dim in STREAMS.items():
        path = PROMPT_STREAMS[f"{stream}_text"].path(Path(root) / UNAV_DIR)
        if not path.is_file():
            raise UnAVError(f"missing prompt embeddings {path}: expected ({NUM_UNAV_CLASSES}, {dim})")
        x = np.load(path)
        if x.shape != (NUM_UNAV_CLASSES, dim):
            raise UnAVError(f"{path}: expected shape ({NUM_UNAV_CLASSES}, {dim}); got {x.shape}")
        out[f"{stream}_text"] = torch.from_numpy(x.astype(np.float32)).to(dtype)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.data.unav", description=__doc__.split("\n")[0])
    parser.add_argument("--root", help="synthetic LLP root to write <root>/unav100 into")
    parser.add_argument("--profile", default="quick", choices=sorted(UNAV_PROFILES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="regenerate even if a matching one exists")
    parser.add_argument("--report", action="store_true", help="print the validation report of the real annotation file")
    args = parser.parse_args(argv)
    if args.report or not args.root:
        checks, stats = validation_report(load_unav())
        print(checks.to_string(index=False))
        print(stats.to_string(index=False))
    if args.root:
        meta = (generate_unav(args.root, args.profile, args.seed, progress=True) if args.force
                else ensure_unav(args.root, args.profile, args.seed, progress=True))
        print(json.dumps({k: v for k, v in meta.items() if k != "knobs"}))


if __name__ == "__main__":
    main()
