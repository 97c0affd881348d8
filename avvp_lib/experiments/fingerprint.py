"""What data a run saw: a short hash of a data root, part of every record's and checkpoint folder's key.

Two kinds of root, two fingerprints:

* **A root the generator wrote** (it has ``synth_meta.json``): the hash covers the generator's metadata (profile,
  seed, every knob and split size; ``synth_meta.json`` minus its timing), the label files the root uses, and the
  listing (name and size) of each official feature folder - the fingerprint every committed record is keyed by.
  What the listing cannot see (a file rewritten in place with the same size) the root's *content manifest*
  (``synth_manifest.json``, written by the generator beside its metadata and not part of the fingerprint: file ->
  size and SHA-256) does: :func:`data_fingerprint` checks every file the manifest lists that is still there and
  raises :class:`ContentError` naming each one whose content changed. A root generated before manifests existed
  gets one the first time it is fingerprinted (its content as it is then, with a note saying so).
* **Any other root** (real features): the hash covers the label files and, per feature folder, each file's name,
  size and content digest, so features re-extracted in place give a new fingerprint.

Content digests are computed once per file and cached by (path, size, mtime_ns) in
``<runs>/fingerprint-cache/<root hash>.json`` (written atomically): a second call only stats the files.
Measured once on this repository's full synthetic root (59 253 files, 4.35 GB; a 2-core machine, the files
partly in the OS page cache): the first content digest of every file took 15.8 s (about 275 MB/s), a cached call
(stat of each file, the cache read back) 0.44 s. A root read cold from a slower disk is read-bound: count the
disk's read speed for the first call.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from avvp_lib.paths import annotations_dir

#: fields of ``synth_meta.json`` that vary between two generations of the same data
VOLATILE_META_KEYS = ("seconds",)
#: the feature folders of the official layouts (README, "Official on-disk layouts")
FEATURE_FOLDERS = ("vggish", "res152", "r2plus1d_18", "feats_CLIP/segment_feats", "feats_CLAP/segment_feats",
                   "feats_CLIP/event_feats", "feats_CLAP/event_feats")
#: the label files a root without its own ``annotations/`` uses (shipped with the library)
SHIPPED_ANNOTATIONS = annotations_dir()
#: the generator's content manifest, beside ``synth_meta.json`` (not part of the fingerprint)
MANIFEST = "synth_manifest.json"
#: folders of a generated root besides the feature folders whose files the manifest lists
MANIFEST_EXTRA_FOLDERS = ("annotations", "diagnostics")


class ContentError(ValueError):
    """A data root whose files are not what its content manifest says (edited or re-extracted in place)."""


def cache_dir() -> Path:
    """Where content digests are cached (``<runs>/fingerprint-cache``; read at each call)."""
    from avvp_lib.paths import runs_dir

    return runs_dir() / "fingerprint-cache"


def _write_json_atomic(path: Path, body: dict) -> None:
    from avvp_lib.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(body, sort_keys=True, indent=0), fsync=False, what="digest cache")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class DigestCache:
    """Content digests of one root's files, re-computed only for a file whose size or mtime changed."""

    def __init__(self, root: Path, folder: Path | None = None):
        self.root = Path(root).resolve()
        key = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        self.path = Path(folder if folder is not None else cache_dir()) / f"{key}.json"
        self.entries: dict[str, list] = {}
        self.dirty = False
        try:
            body = json.loads(self.path.read_text())
            if body.get("root") == str(self.root):
                self.entries = body["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.entries = {}  # no cache yet, or an unreadable one: digests are computed again

    def digest(self, rel: str, stat: os.stat_result | None = None) -> str:
        """The content digest of ``root/rel`` (``stat``: its ``os.stat``, when the caller has it)."""
        stat = stat or (self.root / rel).stat()
        cached = self.entries.get(rel)
        if cached is not None and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        digest = file_digest(self.root / rel)
        self.entries[rel] = [stat.st_size, stat.st_mtime_ns, digest]
        self.dirty = True
        return digest

    def save(self) -> None:
        if self.dirty:
            try:
                _write_json_atomic(self.path, {"root": str(self.root), "files": self.entries})
            except OSError:
                pass  # the cache only saves time: a read-only runs/ folder costs the next call a re-read
            self.dirty = False


def _feature_files(root: Path, folder: str) -> list[os.DirEntry]:
    directory = root / folder
    if not directory.is_dir():
        return []
    return sorted((e for e in os.scandir(directory) if e.name.endswith(".npy")), key=lambda e: e.name)


def read_meta(root: Path) -> dict | None:
    """The root's ``synth_meta.json`` (None when it has none); unreadable metadata is an error naming it."""
    from avvp_lib.data.dataset import read_synth_meta

    return read_synth_meta(root)


def data_fingerprint(root: str | Path, cache_folder: Path | None = None) -> str:
    """12 hex digits over the root's metadata, label files and feature listings (see the module doc); a generated
    root's files are checked against its content manifest first (:func:`check_content`)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist")
    digest = hashlib.sha256()
    meta = read_meta(root)
    if meta is not None:
        check_content(root, cache_folder=cache_folder)
        meta = {k: v for k, v in meta.items() if k not in VOLATILE_META_KEYS}
        digest.update(b"meta\0" + json.dumps(meta, sort_keys=True).encode())
    annotations = root / "annotations" if (root / "annotations").is_dir() else SHIPPED_ANNOTATIONS
    for path in sorted(annotations.glob("*.csv")):
        digest.update(f"labels\0{path.name}\0".encode() + path.read_bytes())
    cache = None if meta is not None else DigestCache(root, cache_folder)
    for folder in FEATURE_FOLDERS:
        entries = _feature_files(root, folder)
        if not entries and not (root / folder).is_dir():
            continue
        if cache is None:  # a generated root: names and sizes (its content is checked against the manifest)
            listing = [(e.name, e.stat().st_size) for e in entries]
            digest.update(f"features\0{folder}\0".encode() + json.dumps(listing).encode())
        else:  # features of the user's own: names, sizes and content
            listing = [(e.name, e.stat().st_size, cache.digest(f"{folder}/{e.name}", e.stat())) for e in entries]
            digest.update(f"content\0{folder}\0".encode() + json.dumps(listing).encode())
    if cache is not None:
        cache.save()
    return digest.hexdigest()[:12]


# ------------------------------------------------------------------------------------- content manifest
def manifest_files(root: Path) -> list[str]:
    """The files of a generated root the manifest lists (relative POSIX paths): every feature file, the label
    files and the diagnostics (not ``synth_meta.json``, the manifest itself, nor streams added later beside the
    root such as ``unav100/``)."""
    out = [f"{folder}/{e.name}" for folder in FEATURE_FOLDERS for e in _feature_files(root, folder)]
    for folder in MANIFEST_EXTRA_FOLDERS:
        directory = root / folder
        if directory.is_dir():
            out += sorted(f"{folder}/{p.name}" for p in directory.iterdir() if p.is_file())
    return out


def write_manifest(root: str | Path, note: str | None = None, cache_folder: Path | None = None,
                   use_cache: bool = True) -> Path:
    """Write ``root/synth_manifest.json``: ``{"files": {path: [size, sha256]}}`` for :func:`manifest_files`
    (deterministic: the same data give the same bytes), plus ``note`` when given. ``use_cache=False`` (the
    generator's scratch folder, renamed afterwards) digests every file and caches nothing."""
    root = Path(root)
    cache = DigestCache(root, cache_folder) if use_cache else None
    files = {}
    for rel in manifest_files(root):
        stat = (root / rel).stat()
        files[rel] = [stat.st_size, cache.digest(rel, stat) if cache is not None else file_digest(root / rel)]
    if cache is not None:
        cache.save()
    body = {"format": 1, "files": files, **({"note": note} if note else {})}
    path = root / MANIFEST
    _write_json_atomic(path, body)
    return path


def remember_manifest(root: str | Path, cache_folder: Path | None = None) -> None:
    """Seed ``root``'s digest cache from the manifest the generator has just written (the files' sizes and mtimes
    as they are now), so that the first check does not read the root again."""
    root = Path(root)
    try:
        files = json.loads((root / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return
    cache = DigestCache(root, cache_folder)
    for rel, (size, digest) in files.items():
        stat = (root / rel).stat()
        if stat.st_size == size:
            cache.entries[rel] = [size, stat.st_mtime_ns, digest]
            cache.dirty = True
    cache.save()


def check_content(root: str | Path, strict: bool = False, adopt: bool = True,
                  cache_folder: Path | None = None) -> list[str]:
    """Check a generated root's files against its manifest; returns the files checked.

    Every listed file still present must have the listed size and digest, else :class:`ContentError` names
    each changed file, and says to regenerate. With ``strict`` (what :func:`avvp_lib.data.synth.ensure` asks) a
    listed file that is missing is an error too; without it a missing or extra file is left to the fingerprint's
    listing (which changes) and to the loaders (which name a missing file). A root without a manifest (generated
    by older code) gets one now when ``adopt``: its content as it is at this first check, with a note."""
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        if adopt:
            write_manifest(root, note=f"written at the first check ({time.strftime('%Y-%m-%d')}) of a root "
                                      f"generated before content manifests: records the content as it was then",
                           cache_folder=cache_folder)
        return []
    try:
        files = json.loads(path.read_text())["files"]
        assert isinstance(files, dict)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AssertionError) as error:
        raise ContentError(f"{path}: unreadable content manifest (expected a JSON object with 'files': "
                           f"{{path: [size, sha256]}}; {type(error).__name__}: {error}); regenerate the root "
                           f"(python -m avvp_lib.data.synth --out {root} --force)") from error
    cache = DigestCache(root, cache_folder)
    changed, missing = [], []
    for rel, (size, digest) in sorted(files.items()):
        try:
            stat = (root / rel).stat()
        except FileNotFoundError:
            missing.append(rel)
            continue
        if stat.st_size != size:
            changed.append(f"{rel} ({stat.st_size} bytes, expected {size})")
        elif cache.digest(rel, stat) != digest:
            changed.append(f"{rel} (same size, content sha256 {cache.digest(rel, stat)[:12]}..., expected "
                           f"{digest[:12]}...)")
    cache.save()
    if changed or (strict and missing):
        what = [f"{len(changed)} changed: " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")] \
            if changed else []
        if strict and missing:
            what.append(f"{len(missing)} missing: " + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
        raise ContentError(f"{root}: files differ from the content manifest {MANIFEST} written when the root was "
                           f"generated ({'; '.join(what)}); expected the generated data byte for byte - records "
                           f"keyed by this root's fingerprint would describe other data. Regenerate the root "
                           f"(python -m avvp_lib.data.synth --out {root} --force); for features of your own, use a "
                           f"root without synth_meta.json (fingerprinted by content)")
    return sorted(files)
