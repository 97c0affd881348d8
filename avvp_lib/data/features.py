"""Pre-extracted features: the official on-disk layouts -> stacked in-memory tensors.

Nobody trains AVVP models on raw video. The papers share *features* extracted once
per video by frozen networks, one ``.npy`` file per video and stream:

=========  ==============================================  ==========  ==============
stream     file                                            shape       extractor
=========  ==============================================  ==========  ==============
audio      ``<root>/vggish/<id>.npy``                      (10, 128)   VGGish, 1 s
visual_2d  ``<root>/res152/<id>.npy``                      (80, 2048)  ResNet-152, 8 fps
visual_3d  ``<root>/r2plus1d_18/<id>.npy``                 (10, 512)   R(2+1)D-18, 1 s
clip       ``<root>/feats_CLIP/segment_feats/<id>.npy``    (10, 768)   CLIP image
clap       ``<root>/feats_CLAP/segment_feats/<id>.npy``    (10, 512)   CLAP audio
=========  ==============================================  ==========  ==============

The first three are HAN's release (Tian et al., ECCV 2020), the last two UWAV's
(also used by LINK), which also ships the 25 prompt embeddings
``<root>/feats_CLIP/event_feats/all_event_feats.npy`` (25, 768) and its CLAP twin
(25, 512). ``<id>`` is the YouTube id, the first 11 characters of the LLP filename
(``'BjCEufrlXm4_20_30'`` -> ``'BjCEufrlXm4'``); see :func:`video_id`.

:data:`STREAMS` is the single table of these paths and shapes: the loaders, the
synthetic writer (:mod:`avvp_lib.data.synth`) and every error message read it.

Loading strategy
----------------
A split is read once into *preallocated* tensors: each file is ``np.load``-ed and
copied (and cast) straight into its row, so there is never a list of arrays plus a
``torch.stack`` copy of the biggest stream. Every problem is reported as a
:class:`FeatureError` naming the file and what was expected versus found; all
requested files are checked for existence before anything is read.

Memory
------
``visual_2d`` dominates: 80 x 2048 values per video, 655 KB in float32. For the
3349 LLP train+val+test videos (see :func:`resident_bytes`):

* float32, 80 frames: 2.28 GB  (the official HAN input)
* float16, 80 frames: 1.14 GB  (``dtype=torch.float16``)
* float32, pooled to 10 segments: 0.36 GB  (``pool_visual_2d=True``)

``pool_visual_2d=True`` averages each segment's 8 consecutive frames while loading,
per file, so the 80-frame array is never stacked. For HAN this is exact, not an
approximation: the official ``MMIL_Net`` applies the affine layer ``fc_v`` and then
``avg_pool`` over the 8 frames, and an affine map commutes with the mean.

``mmap=True`` opens each file with ``np.load(mmap_mode='r')`` and copies from the
mapping into the preallocated tensor, which skips the temporary per-file array. The
stacked result (and so the resident memory) is identical; for a genuinely
memory-light load pass ``dtype=torch.float16`` and/or ``pool_visual_2d=True``.
From a warm page cache ``mmap=True`` is about 25 % slower (one mapping and its page
faults per file), so it is off by default.

Speed (1500 videos of the three HAN streams stored as float16, 499 MB, warm page
cache, 2 CPU cores shared with other jobs): ``dtype=torch.float16`` 0.56-1.27 s,
float32 0.75-1.7 s, pooled 0.56-1.2 s (the spread is the machine's load), which is
about 2.7x a bare ``np.load`` loop and 7x merely ``read()``-ing the bytes measured in
the same run. The remainder is inherent: first-touching the freshly allocated output
(~0.2 s per 500 MB), the cast and the NaN/Inf check.
"""
from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "FeatureError",
    "StreamSpec",
    "STREAMS",
    "PROMPT_STREAMS",
    "HAN_STREAMS",
    "CLIPCLAP_STREAMS",
    "FRAMES_PER_SEGMENT",
    "VIDEO_ID_LENGTH",
    "video_id",
    "stream_path",
    "load_features",
    "load_clip_clap",
    "load_prompt_embeddings",
    "save_array_atomic",
    "resident_bytes",
]

VIDEO_ID_LENGTH = 11  # YouTube ids are 11 characters
FRAMES_PER_SEGMENT = 8  # res152 features: 8 frames per 1-second segment
_MAX_MISSING_LISTED = 5


class FeatureError(ValueError):
    """A feature file or folder is missing, unreadable or not what the layout promises."""


@dataclass(frozen=True)
class StreamSpec:
    """One stream of the on-disk layout.

    ``subdir`` is relative to the feature root. Per-video streams store
    ``<subdir>/<id>.npy``; a stream with a fixed ``filename`` (the prompt
    embeddings) stores exactly one file ``<subdir>/<filename>``.
    """

    name: str
    subdir: str
    shape: tuple[int, int]
    description: str
    filename: str | None = None

    def path(self, root: str | os.PathLike, vid: str | None = None) -> Path:
        if self.filename is not None:
            return Path(root) / self.subdir / self.filename
        if vid is None:
            raise FeatureError(f"stream {self.name!r} stores one file per video: pass a video id")
        return Path(root) / self.subdir / f"{vid}.npy"

    def layout(self) -> str:
        """e.g. ``'<root>/vggish/<id>.npy (10x128)'``, used in error messages."""
        leaf = self.filename or "<id>.npy"
        return f"<root>/{self.subdir}/{leaf} ({self.shape[0]}x{self.shape[1]})"


STREAMS: dict[str, StreamSpec] = {
    s.name: s
    for s in (
        StreamSpec("audio", "vggish", (10, 128), "VGGish audio, one vector per 1-s segment"),
        StreamSpec("visual_2d", "res152", (80, 2048), "ResNet-152 frames, 8 per segment"),
        StreamSpec("visual_3d", "r2plus1d_18", (10, 512), "R(2+1)D-18 clip features per segment"),
        StreamSpec("clip", "feats_CLIP/segment_feats", (10, 768), "CLIP image features per segment"),
        StreamSpec("clap", "feats_CLAP/segment_feats", (10, 512), "CLAP audio features per segment"),
    )
}
"""Per-video streams: name -> :class:`StreamSpec` (subfolder, expected shape)."""

PROMPT_STREAMS: dict[str, StreamSpec] = {
    s.name: s
    for s in (
        StreamSpec("clip_text", "feats_CLIP/event_feats", (25, 768),
                   "CLIP text embeddings of 'A photo of <event>'", "all_event_feats.npy"),
        StreamSpec("clap_text", "feats_CLAP/event_feats", (25, 512),
                   "CLAP text embeddings of 'This is the sound of <event>'", "all_event_feats.npy"),
    )
}
"""The two per-dataset prompt-embedding files (25 LLP classes, HAN class order)."""

HAN_STREAMS = ("audio", "visual_2d", "visual_3d")
CLIPCLAP_STREAMS = ("clip", "clap")


def _spec(name: str) -> StreamSpec:
    try:
        return STREAMS[name] if name in STREAMS else PROMPT_STREAMS[name]
    except KeyError:
        known = ", ".join([*STREAMS, *PROMPT_STREAMS])
        raise FeatureError(f"unknown stream {name!r}; known streams: {known}") from None


def stream_path(root: str | os.PathLike, stream: str, vid: str | None = None) -> Path:
    """Where ``stream`` of video ``vid`` lives under ``root`` (what the synthetic writer uses)."""
    return _spec(stream).path(root, vid)


def video_id(filename: str) -> str:
    """The YouTube id of an LLP filename: its first 11 characters.

    >>> video_id("BjCEufrlXm4_20_30")
    'BjCEufrlXm4'
    """
    if not isinstance(filename, str):
        raise FeatureError(f"expected an LLP filename (str), got {type(filename).__name__}: {filename!r}")
    if len(filename) < VIDEO_ID_LENGTH:
        raise FeatureError(
            f"{filename!r} is {len(filename)} characters long; an LLP filename starts with an "
            f"{VIDEO_ID_LENGTH}-character YouTube id (e.g. 'BjCEufrlXm4_20_30' -> 'BjCEufrlXm4')"
        )
    return filename[:VIDEO_ID_LENGTH]


# ---------------------------------------------------------------------------- dtypes
_FLOAT_TORCH = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_dtype(dtype: torch.dtype) -> torch.dtype:
    if dtype not in _FLOAT_TORCH:
        raise FeatureError(f"dtype must be one of {', '.join(map(str, _FLOAT_TORCH))}, got {dtype!r}")
    return dtype


def _itemsize(dtype) -> int:
    if isinstance(dtype, torch.dtype):
        return torch.empty((), dtype=dtype).element_size()
    return np.dtype(dtype).itemsize


def resident_bytes(
    n_videos: int,
    dtype=torch.float32,
    pool_visual_2d: bool = False,
    *,
    streams: Sequence[str] = HAN_STREAMS,
) -> int:
    """Bytes taken by the stacked tensors of ``n_videos`` videos (HAN streams by default).

    >>> round(resident_bytes(3349, torch.float32) / 1e9, 2)
    2.28
    >>> round(resident_bytes(3349, torch.float32, pool_visual_2d=True) / 1e9, 2)
    0.36
    """
    per_video = 0
    for name in streams:
        rows, cols = _spec(name).shape
        if name == "visual_2d" and pool_visual_2d:
            rows //= FRAMES_PER_SEGMENT
        per_video += rows * cols
    return int(n_videos) * per_video * _itemsize(dtype)


# ---------------------------------------------------------------------------- checks
def _normalise_ids(video_ids: Iterable[str]) -> list[str]:
    if isinstance(video_ids, str):
        raise FeatureError(
            f"video_ids must be a list of ids, got the single string {video_ids!r}; wrap it in a list"
        )
    ids = [video_id(v) for v in video_ids]
    if not ids:
        raise FeatureError("video_ids is empty: nothing to load (did the split filter remove every video?)")
    return ids


def _check_root(root: Path, specs: Sequence[StreamSpec]) -> None:
    if not root.is_dir():
        expected = ", ".join(f"{s.subdir}/" for s in specs)
        what = "is not a folder" if root.exists() else "does not exist"
        raise FeatureError(
            f"feature root '{root}' {what}; expected a folder containing {expected} "
            f"(layout: {'; '.join(s.layout() for s in specs)}). Generate a synthetic root with "
            f"`python -m avvp_lib.data.synth --out DIR` or point to the downloaded features."
        )


def _check_all_present(root: Path, specs: Sequence[StreamSpec], ids: Sequence[str]) -> None:
    """Check every requested file before reading any: one listing per folder, no per-file stat."""
    missing: list[Path] = []
    per_stream: list[str] = []
    for spec in specs:
        folder = root / spec.subdir
        try:
            with os.scandir(folder) as it:
                present = {e.name for e in it}
            note = ""
        except (FileNotFoundError, NotADirectoryError):
            present, note = set(), ", folder missing"
        lost = [spec.path(root, v) for v in ids if f"{v}.npy" not in present]
        if lost or note:
            per_stream.append(f"{spec.subdir}: {len(lost)}{note}")
        missing.extend(lost)
    if missing:
        total = len(ids) * len(specs)
        first = ", ".join(str(p) for p in missing[:_MAX_MISSING_LISTED])
        raise FeatureError(
            f"{len(missing)} of {total} feature files are missing under '{root}' "
            f"({'; '.join(per_stream)}). First {min(len(missing), _MAX_MISSING_LISTED)}: {first}. "
            f"Expected layout: {'; '.join(s.layout() for s in specs)}"
        )


def _read_header(path: Path):
    """(shape, fortran_order, dtype) from a .npy header, or raise."""
    fmt = np.lib.format
    with open(path, "rb") as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            return fmt.read_array_header_1_0(f)
        return fmt.read_array_header_2_0(f)  # (3, 0) differs only in the header's text encoding


def _unreadable(path: Path, spec: StreamSpec, exc: BaseException) -> FeatureError:
    """Explain why np.load failed: non-float (object) dtype, truncation, or not a .npy at all."""
    if isinstance(exc, OSError):  # permissions, a folder named like a file, a broken link...
        return FeatureError(f"{path}: cannot open the feature file ({type(exc).__name__}: {exc})")
    try:
        shape, _, dtype = _read_header(path)
    except Exception as header_exc:  # the header itself is broken
        size = path.stat().st_size if path.exists() else 0
        return FeatureError(
            f"{path}: not a readable .npy file ({size} bytes; header error: {header_exc}); "
            f"expected a float array of shape {spec.shape} for stream {spec.name!r}. "
            f"The file is corrupt or truncated: re-download or regenerate it."
        )
    if dtype.kind != "f":
        return _bad_dtype(path, spec, dtype)
    size = path.stat().st_size
    need = int(np.prod(shape)) * dtype.itemsize
    return FeatureError(
        f"{path}: truncated or corrupt .npy file: its header declares {dtype} {tuple(shape)} "
        f"({need} data bytes) but the file is {size} bytes in total "
        f"(numpy: {type(exc).__name__}: {exc}). Re-download or regenerate it."
    )


def _bad_dtype(path: Path, spec: StreamSpec, dtype: np.dtype) -> FeatureError:
    return FeatureError(
        f"{path}: dtype {dtype} is not a floating-point type; expected float16/float32/float64 "
        f"features of shape {spec.shape} for stream {spec.name!r}"
    )


def _nonfinite_error(path: Path, spec: StreamSpec, out_dtype) -> FeatureError:
    """Called only once a row was found non-finite: locate the culprit in the source file."""
    arr = np.load(path, allow_pickle=False)
    bad = ~np.isfinite(arr)
    count = int(bad.sum())
    if count:
        r, c = (int(i) for i in np.argwhere(bad)[0])
        return FeatureError(
            f"{path}: {count} non-finite value(s) (NaN/Inf) in the {arr.shape} array of stream "
            f"{spec.name!r}; first at (row {r}, col {c}) = {arr[r, c]}; expected all values finite"
        )
    # finite on disk, infinite after the cast: the values overflow the requested dtype
    limit = torch.finfo(out_dtype).max
    over = np.abs(arr.astype(np.float64)) > limit
    hit = np.argwhere(over)
    where = f"; first at (row {int(hit[0][0])}, col {int(hit[0][1])})" if len(hit) else ""
    return FeatureError(
        f"{path}: {int(over.sum())} value(s) overflow {out_dtype} (max |x| = "
        f"{float(np.abs(arr).max()):.4g} > {float(limit):.4g}){where}; load with a wider dtype"
    )


# ---------------------------------------------------------------------------- loading
def _probably_finite(row: torch.Tensor, acc: torch.dtype) -> bool:
    """A fast test that is never wrong when it says True.

    NaN and Inf propagate through reductions, so if the sum (float32/64 rows) or the
    min and max (half-precision rows, where they are cheaper than an upcasting sum) are
    finite, every element is. A False may be a false alarm (finite values whose sum
    overflows) and is re-checked exactly by the caller. Either is 4-10x cheaper than
    building an elementwise ``isfinite`` mask.
    """
    if row.element_size() == 2:
        lo, hi = torch.aminmax(row)
        return math.isfinite(lo.item()) and math.isfinite(hi.item())
    return math.isfinite(row.sum(dtype=acc).item())


def _fill_stream(
    root: Path,
    spec: StreamSpec,
    ids: Sequence[str],
    out: torch.Tensor,
    *,
    mmap: bool,
    pool: bool,
    progress: bool,
) -> None:
    """Read every file of one stream into its row of the preallocated ``out``.

    The per-file work is: ``np.load``, three cheap checks on the header-level facts
    (ndarray, float dtype, shape), one ``copy_`` into the row (torch casts float16 ->
    float32 about 8x faster than numpy's assignment), and a finiteness test (see
    :func:`_probably_finite`).
    """
    rows, cols = spec.shape
    acc = torch.float64 if out.dtype == torch.float64 else torch.float32  # pooling/sum accumulator
    mmap_mode = "r" if mmap else None
    iterator = ids
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(ids, desc=f"{spec.name} ({spec.subdir})", unit="file", leave=False)
    with warnings.catch_warnings():
        # torch.from_numpy warns about read-only memory maps; we only ever read from them
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        for i, vid in enumerate(iterator):
            path = spec.path(root, vid)
            try:
                arr = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise _unreadable(path, spec, exc) from exc
            if not isinstance(arr, np.ndarray):  # an .npz archive saved under a .npy name
                arr.close()
                raise FeatureError(
                    f"{path}: is an .npz archive, expected a single .npy array of shape {spec.shape}"
                )
            if arr.dtype.kind != "f":
                raise _bad_dtype(path, spec, arr.dtype)
            if arr.shape != spec.shape:
                raise FeatureError(
                    f"{path}: expected shape {spec.shape} for stream {spec.name!r} "
                    f"({spec.layout()}), got {arr.shape}"
                )
            if not arr.dtype.isnative or arr.dtype.itemsize > 8:
                arr = arr.astype(np.float64)  # torch wants native byte order and has no float128
            src = torch.from_numpy(arr)  # C- or Fortran-ordered, torch follows the strides
            row = out[i]
            if pool:
                src = src.reshape(rows // FRAMES_PER_SEGMENT, FRAMES_PER_SEGMENT, cols).mean(dim=1, dtype=acc)
            row.copy_(src)
            if not _probably_finite(row, acc) and not bool(torch.isfinite(row).all()):
                raise _nonfinite_error(path, spec, out.dtype)


def _load_streams(
    root, video_ids, names: Sequence[str], *, dtype, mmap, pool_visual_2d, progress
) -> dict[str, torch.Tensor]:
    dtype = _check_dtype(dtype)
    root = Path(os.path.expanduser(os.fspath(root)))
    specs = [STREAMS[n] for n in names]
    _check_root(root, specs)
    ids = _normalise_ids(video_ids)
    _check_all_present(root, specs, ids)
    result: dict[str, torch.Tensor] = {}
    with _one_torch_thread():
        for spec in specs:
            rows, cols = spec.shape
            pool = pool_visual_2d and spec.name == "visual_2d"
            if pool:
                rows //= FRAMES_PER_SEGMENT
            out = torch.empty((len(ids), rows, cols), dtype=dtype)
            _fill_stream(root, spec, ids, out, mmap=mmap, pool=pool, progress=progress)
            result[spec.name] = out
    return result


@contextlib.contextmanager
def _one_torch_thread():
    """Run the per-file tensor ops on one intra-op thread, then restore the setting.

    Each file is a few hundred KB, too little to gain from splitting across threads, and
    on a busy machine (more runnable processes than cores) every small parallel region
    waits for a descheduled OpenMP worker: measured on 2 shared cores, loading 1500 videos
    took 13-55 s with torch's default 2 threads against 0.6 s with one. The setting is
    process-wide, so torch ops in other Python threads also run single-threaded meanwhile.
    """
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def load_features(
    root: str | os.PathLike,
    video_ids: Iterable[str],
    *,
    dtype: torch.dtype = torch.float32,
    mmap: bool = False,
    pool_visual_2d: bool = False,
    progress: bool = False,
) -> dict[str, torch.Tensor]:
    """Load HAN's three feature streams for ``video_ids`` (ids or LLP filenames), in order.

    Returns ``{"audio": (N,10,128), "visual_2d": (N,80,2048), "visual_3d": (N,10,512)}``;
    with ``pool_visual_2d=True`` ``visual_2d`` is ``(N,10,2048)``, the mean of each
    segment's 8 consecutive frames, computed per file while loading. Files may be float16,
    float32 or float64 on disk; they are cast to ``dtype`` (``torch.float16`` halves the
    memory; see :func:`resident_bytes`). ``mmap=True`` reads through ``np.load(mmap_mode='r')``
    into the preallocated tensors (no per-file temporary; same result).

    Raises :class:`FeatureError` for a missing root, missing files (all checked first; the
    count and first 5 paths are reported), unreadable/truncated files, non-float dtypes,
    wrong shapes and NaN/Inf values, each naming the file and expected vs actual.
    """
    return _load_streams(root, video_ids, HAN_STREAMS, dtype=dtype, mmap=mmap,
                         pool_visual_2d=pool_visual_2d, progress=progress)


def load_clip_clap(
    root: str | os.PathLike,
    video_ids: Iterable[str],
    *,
    dtype: torch.dtype = torch.float32,
    mmap: bool = False,
    progress: bool = False,
) -> dict[str, torch.Tensor]:
    """Load UWAV's CLIP (N,10,768) and CLAP (N,10,512) segment features as ``clip``/``clap``."""
    return _load_streams(root, video_ids, CLIPCLAP_STREAMS, dtype=dtype, mmap=mmap,
                         pool_visual_2d=False, progress=progress)


def load_prompt_embeddings(
    root: str | os.PathLike, *, dtype: torch.dtype = torch.float32
) -> dict[str, torch.Tensor]:
    """Load the prompt embeddings: ``clip_text`` (25,768) and ``clap_text`` (25,512).

    Rows follow the 25 LLP classes in HAN's order. They are returned as stored (UWAV's
    release stores them L2-normalised); nothing is renormalised here.
    """
    dtype = _check_dtype(dtype)
    root = Path(os.path.expanduser(os.fspath(root)))
    specs = list(PROMPT_STREAMS.values())
    _check_root(root, specs)
    missing = [s.path(root) for s in specs if not s.path(root).is_file()]
    if missing:
        raise FeatureError(
            f"{len(missing)} of {len(specs)} prompt-embedding files are missing under '{root}': "
            f"{', '.join(map(str, missing))}. Expected layout: {'; '.join(s.layout() for s in specs)}"
        )
    result = {}
    for spec in specs:
        out = torch.empty(spec.shape, dtype=dtype).unsqueeze(0)
        # reuse the per-file checks: a fixed-name spec ignores the id, so this reads one file
        _fill_stream(root, spec, [""], out, mmap=False, pool=False, progress=False)
        result[spec.name] = out[0]
    return result


# ---------------------------------------------------------------------------- writing
def save_array_atomic(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as ``.npy`` at ``path`` atomically: a reader sees the old file or the new one.

    :func:`avvp_lib.atomic.write_atomic` without fsync: this protects against crashes of the
    process, not of the machine, which is what a regenerable synthetic root needs.
    """
    from avvp_lib.atomic import write_atomic

    array = np.asarray(array)
    return write_atomic(path, lambda handle: np.save(handle, array, allow_pickle=False), fsync=False,
                        what="feature file")
