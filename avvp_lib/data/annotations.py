"""LLP label files -> tensors, exactly as the official HAN evaluation builds them, plus a quirk report.

The official files (``data/annotations/``, from YapengTian/AVVP-ECCV20) are tab-separated:

* ``AVVP_train.csv``, ``AVVP_val_pd.csv``, ``AVVP_test_pd.csv``: ``filename  event_labels``
  (comma-separated class names) - the video-level labels of each split;
* ``AVVP_eval_audio.csv``, ``AVVP_eval_visual.csv``: ``filename  onset  offset  event_labels``,
  one dense event per row, whole seconds, offset exclusive: the official evaluation fills
  ``GT[class, onset:offset] = 1`` with Python slice semantics.

Slice semantics decide the quirks: a zero-length interval (onset == offset) and an inverted one
(onset > offset) give an empty slice, so the official evaluation silently ignores them; rows whose
filename is in no split are never looked up. We reproduce that (same ground truth, same numbers)
and *report* each case in :attr:`LLPAnnotations.quirks` instead of hiding it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from avvp_lib.paths import annotations_dir

LLP_CLASSES: tuple[str, ...] = (
    "Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)", "Basketball_bounce",
    "Fire_alarm", "Chainsaw", "Cello", "Banjo", "Singing", "Chicken_rooster", "Violin_fiddle",
    "Vacuum_cleaner", "Baby_laughter", "Accordion", "Lawn_mower", "Motorcycle", "Helicopter",
    "Acoustic_guitar", "Telephone_bell_ringing", "Baby_cry_infant_cry", "Blender", "Clapping",
)
NUM_CLASSES = len(LLP_CLASSES)
NUM_SEGMENTS = 10
CLASS_TO_INDEX = {name: i for i, name in enumerate(LLP_CLASSES)}

SPLIT_FILES = {"train": "AVVP_train.csv", "val": "AVVP_val_pd.csv", "test": "AVVP_test_pd.csv"}
EVAL_FILES = {"audio": "AVVP_eval_audio.csv", "visual": "AVVP_eval_visual.csv"}
LABEL_COLUMNS = ("filename", "event_labels")
EVENT_COLUMNS = ("filename", "onset", "offset", "event_labels")

#: the shipped label files (a checkout's ``data/annotations``, or the copy inside an installed package)
DEFAULT_ANNOTATION_DIR = annotations_dir()


class AnnotationError(ValueError):
    """A label file that cannot be read as the official format; the message names file and row."""


@dataclass(frozen=True)
class Quirk:
    """One oddity of a label file that the official evaluation passes over silently."""

    file: str
    line: int  # 1-based line number in the file (the header is line 1)
    filename: str
    kind: str  # zero_length | inverted | not_in_split | event_not_in_video_labels | no_audio_events | no_visual_events
    detail: str


@dataclass
class LLPSplit:
    """One split: video-level labels and, for val/test, the dense audio and visual ground truth."""

    name: str
    filenames: list[str]
    video_ids: list[str]
    labels: torch.Tensor  # (N, C) float32
    gt_audio: torch.Tensor | None = None  # (N, T, C) float32
    gt_visual: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.filenames)

    def subset(self, rows: np.ndarray | list[int]) -> "LLPSplit":
        """The same split restricted to ``rows`` (positions), e.g. the quick profile's train subset."""
        rows = torch.as_tensor(np.asarray(rows, dtype=np.int64))
        pick = lambda t: None if t is None else t[rows]  # noqa: E731
        return LLPSplit(self.name, [self.filenames[i] for i in rows.tolist()],
                        [self.video_ids[i] for i in rows.tolist()], self.labels[rows],
                        pick(self.gt_audio), pick(self.gt_visual))


@dataclass
class LLPAnnotations:
    train: LLPSplit
    val: LLPSplit
    test: LLPSplit
    quirks: list[Quirk] = field(default_factory=list)
    directory: Path | None = None

    def split(self, name: str) -> LLPSplit:
        if name not in SPLIT_FILES:
            raise ValueError(f"unknown split {name!r}; expected one of {sorted(SPLIT_FILES)}")
        return getattr(self, name)

    def quirk_table(self):
        """The quirks as a pandas DataFrame (one row per quirk)."""
        import pandas as pd

        return pd.DataFrame([q.__dict__ for q in self.quirks], columns=["file", "line", "filename", "kind", "detail"])


def class_index(name: str, *, source: str = "") -> int:
    """Index of an LLP class name; an unknown name raises an error listing the 25 known ones."""
    try:
        return CLASS_TO_INDEX[name]
    except KeyError:
        where = f"{source}: " if source else ""
        raise AnnotationError(
            f"{where}unknown class name {name!r}; expected one of the {NUM_CLASSES} LLP classes: "
            + ", ".join(LLP_CLASSES)
        ) from None


def video_id_of(filename: str) -> str:
    """The YouTube id an LLP filename starts with (its first 11 characters), as the official loader uses."""
    return filename[:11]


def _read_table(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Rows of a tab-separated file as (line number, fields), after checking the header."""
    if not path.is_file():
        raise AnnotationError(f"{path}: label file not found")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter="\t"))
    except UnicodeDecodeError:
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
            start = 0
        except UnicodeDecodeError as whole:  # the position in the file (the reader's is within one chunk)
            start = whole.start
        kind = "UTF-16 (it starts with a byte-order mark)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else \
            "another encoding (latin-1?)"
        line = raw[:start].count(b"\n") + 1
        raise AnnotationError(f"{path}, line {line}: not UTF-8 text (byte {raw[start:start + 1]!r} at byte "
                              f"{start}); expected the official files' UTF-8, found {kind} - re-save the file as "
                              f"UTF-8") from None
    if not lines:
        raise AnnotationError(f"{path}: empty file; expected a tab-separated header {list(columns)}")
    header = [h.strip() for h in lines[0]]
    if header != list(columns):
        hint = " (is the file comma-separated? the official files use tabs)" if len(header) == 1 and "," in header[0] else ""
        raise AnnotationError(f"{path}: header is {header}; expected the tab-separated columns {list(columns)}{hint}")
    rows = []
    for number, fields in enumerate(lines[1:], start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(columns):
            raise AnnotationError(
                f"{path}, line {number}: {len(fields)} tab-separated fields {fields}; expected {len(columns)} {list(columns)}"
            )
        rows.append((number, [f.strip() for f in fields]))
    return rows


def _parse_labels(text: str, *, source: str) -> list[int]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise AnnotationError(f"{source}: empty event_labels; expected at least one of the {NUM_CLASSES} LLP classes")
    return [class_index(n, source=source) for n in names]


def read_split_labels(path: Path) -> tuple[list[str], torch.Tensor]:
    """A split file -> (filenames in file order, video-level labels (N, C) float32)."""
    rows = _read_table(path, LABEL_COLUMNS)
    if not rows:
        raise AnnotationError(f"{path}: no videos; a split needs at least one row")
    filenames = [fields[0] for _, fields in rows]
    seen: dict[str, int] = {}
    for number, fields in rows:
        if fields[0] in seen:
            raise AnnotationError(f"{path}, line {number}: filename {fields[0]!r} repeats line {seen[fields[0]]}")
        seen[fields[0]] = number
    labels = np.zeros((len(rows), NUM_CLASSES), dtype=np.float32)
    for i, (number, fields) in enumerate(rows):
        labels[i, _parse_labels(fields[1], source=f"{path}, line {number}")] = 1.0
    return filenames, torch.from_numpy(labels)


def read_dense_events(path: Path, *, strict: bool = False) -> tuple[np.ndarray, list[str], list[Quirk]]:
    """An eval file -> structured events (line, onset, offset, class) + filenames, and its interval quirks.

    Zero-length and inverted intervals are kept as quirks (they fill nothing, as in the official
    evaluation); ``strict=True`` turns them into errors. Onsets below 0 or offsets above 10 are
    always errors: the official slicing would silently wrap or clip them.
    """
    rows = _read_table(path, EVENT_COLUMNS)
    if not rows:
        raise AnnotationError(f"{path}: no events (a header only); expected at least one row "
                              f"{list(EVENT_COLUMNS)} - the dense labels of val and test")
    quirks: list[Quirk] = []
    records = np.zeros(len(rows), dtype=[("line", "i4"), ("onset", "i4"), ("offset", "i4"), ("cls", "i4")])
    filenames = []
    for i, (number, (filename, onset_s, offset_s, label)) in enumerate(rows):
        source = f"{path}, line {number}"
        try:
            onset, offset = int(onset_s), int(offset_s)
        except ValueError:
            raise AnnotationError(f"{source}: onset/offset {onset_s!r}/{offset_s!r} are not whole seconds") from None
        if onset < 0 or offset > NUM_SEGMENTS or onset > NUM_SEGMENTS or offset < 0:
            raise AnnotationError(
                f"{source}: interval [{onset}, {offset}) for {filename} {label} lies outside [0, {NUM_SEGMENTS}]"
            )
        if onset >= offset:
            kind = "zero_length" if onset == offset else "inverted"
            if strict:
                raise AnnotationError(f"{source}: {kind} interval [{onset}, {offset}) for {filename} {label}")
            quirks.append(Quirk(path.name, number, filename, kind,
                                f"[{onset}, {offset}) {label}: empty slice, fills nothing (as the official evaluation)"))
        records[i] = (number, onset, offset, class_index(label, source=source))
        filenames.append(filename)
    return records, filenames, quirks


def dense_ground_truth(records: np.ndarray, rows: np.ndarray, n_videos: int) -> np.ndarray:
    """Fill (N, T, C) with ``gt[row, onset:offset, class] = 1`` for every event, vectorised.

    Rows < 0 (events of videos outside the split) are skipped; empty intervals fill nothing.
    """
    gt = np.zeros((n_videos, NUM_SEGMENTS, NUM_CLASSES), dtype=np.float32)
    keep = rows >= 0
    seg = np.arange(NUM_SEGMENTS)
    active = (seg[None, :] >= records["onset"][keep, None]) & (seg[None, :] < records["offset"][keep, None])
    event, t = np.nonzero(active)
    gt[rows[keep][event], t, records["cls"][keep][event]] = 1.0
    return gt


def load_llp(directory: str | Path | None = None, *, strict: bool = False) -> LLPAnnotations:
    """Read the five official LLP label files into tensors plus a quirk report.

    ``directory`` defaults to the real files shipped in ``data/annotations``; a synthetic root's
    ``annotations/`` folder has the same layout (its train file may be a subset).
    """
    directory = Path(directory) if directory is not None else DEFAULT_ANNOTATION_DIR
    splits = {}
    for name, file in SPLIT_FILES.items():
        filenames, labels = read_split_labels(directory / file)
        splits[name] = LLPSplit(name, filenames, [video_id_of(f) for f in filenames], labels)
    quirks: list[Quirk] = []
    position = {}
    for name in ("val", "test"):
        position.update({f: (name, i) for i, f in enumerate(splits[name].filenames)})
    every_split = set(position) | set(splits["train"].filenames)
    for modality, file in EVAL_FILES.items():
        records, filenames, interval_quirks = read_dense_events(directory / file, strict=strict)
        quirks += interval_quirks
        for name in ("val", "test"):
            rows = np.array([position[f][1] if position.get(f, ("", -1))[0] == name else -1 for f in filenames])
            split = splits[name]
            gt = torch.from_numpy(dense_ground_truth(records, rows, len(split)))
            setattr(split, f"gt_{modality}", gt)
            # events whose class is not among the video's labels (kept, as the official evaluation keeps them)
            keep = np.nonzero(rows >= 0)[0]
            outside = split.labels.numpy()[rows[keep], records["cls"][keep]] == 0
            for k in keep[outside]:
                quirks.append(Quirk(file, int(records["line"][k]), filenames[k], "event_not_in_video_labels",
                                    f"{modality} event {LLP_CLASSES[records['cls'][k]]} is not a video-level label"))
        for k, f in enumerate(filenames):
            if f not in every_split:
                quirks.append(Quirk(file, int(records["line"][k]), f, "not_in_split",
                                    "filename is in no split list; the official evaluation never reads this row"))
        for name in ("val", "test"):
            split = splits[name]
            empty = np.nonzero(getattr(split, f"gt_{modality}").sum(dim=(1, 2)).numpy() == 0)[0]
            for i in empty:
                quirks.append(Quirk(file, 0, split.filenames[i], f"no_{modality}_events",
                                    f"{name} video has no {modality} event: its {modality} ground truth is empty"))
    return LLPAnnotations(splits["train"], splits["val"], splits["test"], quirks, directory)


def modality_type_shares(gt_audio: torch.Tensor, gt_visual: torch.Tensor, labels: torch.Tensor) -> dict[str, np.ndarray]:
    """Per class, the share of (video, class) occurrences that are audible-only, visible-only or both.

    An occurrence is a video-level label whose class has audio events, visual events, or both
    anywhere in the video; labels with neither are counted as ``neither``.
    """
    has_a = gt_audio.amax(dim=1).numpy() > 0
    has_v = gt_visual.amax(dim=1).numpy() > 0
    present = labels.numpy() > 0
    counts = {
        "audible_only": (present & has_a & ~has_v).sum(0),
        "visible_only": (present & has_v & ~has_a).sum(0),
        "audible_visible": (present & has_a & has_v).sum(0),
        "neither": (present & ~has_a & ~has_v).sum(0),
    }
    total = np.maximum(present.sum(0), 1)
    return {k: v / total for k, v in counts.items()} | {"count": present.sum(0)}
