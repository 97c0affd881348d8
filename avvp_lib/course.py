"""The course runner: notebook parameters, profiles, data roots, and headless execution with papermill.

``python -m avvp_lib.course --profile quick`` executes every numbered notebook in order into
``runs/notebooks/<profile>/`` and stops at the first failure with a non-zero exit code.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
FIGURE_DIR = REPO_ROOT / "figures"
RESULTS_DIR = REPO_ROOT / "results"
RUNS_DIR = REPO_ROOT / "runs"
PROFILES = ("quick", "full")


class ParameterError(ValueError):
    """A notebook parameter that cannot work (typo in a profile name, a data root that does not exist)."""


def check_parameters(profile: str, data_root: str | Path | None, seed: int, device: str) -> None:
    """Validate the papermill parameters of a notebook, with a message that names the bad value."""
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r}: expected one of {PROFILES}")
    if data_root is not None and not Path(data_root).is_dir():
        raise ParameterError(f"data_root={str(data_root)!r} does not exist; pass None to use the synthetic benchmark "
                             f"(generated on first use under data/synthetic/<profile>) or a folder in the official layout")
    if not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r}: expected a non-negative integer")
    if device not in ("auto", "cpu") and not str(device).startswith("cuda"):
        raise ParameterError(f"device={device!r}: expected 'auto', 'cpu' or 'cuda[:N]'")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r} but no CUDA device is available; use 'auto' or 'cpu'")


def setup(profile: str = "quick", data_root: str | Path | None = None, seed: int = 0, device: str = "auto") -> dict:
    """What every notebook's first cell calls: checks parameters, finds or generates data, fixes threads.

    Returns a dict with ``data_root`` (Path), ``device`` (torch.device), ``data_source``, ``profile``, ``seed``.
    """
    from avvp_lib.data.dataset import data_source_of
    from avvp_lib.data.synth import ensure
    from avvp_lib.train import resolve_device

    check_parameters(profile, data_root, seed, device)
    resolved = resolve_device(device)
    if resolved.type == "cpu":
        # One fixed thread count makes CPU numbers identical on every machine (reduction order can
        # depend on it) and avoids oversubscription on small shared machines; AVVP_NUM_THREADS overrides.
        torch.set_num_threads(int(os.environ.get("AVVP_NUM_THREADS", "1")))
    if data_root is None:
        data_root = REPO_ROOT / "data" / "synthetic" / profile
        ensure(data_root, profile=profile, seed=0, progress=False)
    data_root = Path(data_root)
    source, _ = data_source_of(data_root)
    FIGURE_DIR.mkdir(exist_ok=True)
    return {"data_root": data_root, "device": resolved, "data_source": source,
            "profile": profile, "seed": seed}


def notebooks() -> list[Path]:
    """The numbered notebooks, in course order."""
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def run_course(profile: str, out: Path | None, in_place: bool, only: list[str] | None = None, device: str = "auto") -> int:
    import papermill as pm

    paths = [p for p in notebooks() if not only or any(p.name.startswith(o) for o in only)]
    if not paths:
        print("[course] no notebooks matched", file=sys.stderr)
        return 2
    for path in paths:
        target = path if in_place else Path(out) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        print(f"[course] {path.name} (profile={profile}) ...", flush=True)
        try:
            pm.execute_notebook(str(path), str(target), parameters={"profile": profile, "device": device},
                                cwd=str(NOTEBOOK_DIR), progress_bar=False, kernel_name="python3")
        except Exception as error:  # papermill raises PapermillExecutionError with the cell's traceback
            print(f"[course] FAILED {path.name} after {time.perf_counter() - t0:.0f} s: {error}", file=sys.stderr)
            return 1
        strip_volatile_metadata(target)
        print(f"[course] {path.name} done in {time.perf_counter() - t0:.0f} s -> {target}", flush=True)
    return 0


def strip_volatile_metadata(path: Path) -> None:
    """Drop what changes from run to run without changing a result - papermill's per-cell timings,
    the kernel's execution timestamps and absolute paths - so committed notebooks diff cleanly and
    name no one's home folder. Outputs are kept (nbval compares them)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    meta = nb.metadata.get("papermill")
    if meta is not None:
        for key in ("start_time", "end_time", "duration", "exception"):
            meta.pop(key, None)
        for key in ("input_path", "output_path"):
            if meta.get(key):
                meta[key] = f"notebooks/{Path(meta[key]).name}"
        meta.pop("environment_variables", None)
    tmp = path.with_name(f".{path.name}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.course", description="Execute the course notebooks headlessly.")
    parser.add_argument("--profile", default="quick", choices=PROFILES)
    parser.add_argument("--out", default=None, help="folder for executed copies (default runs/notebooks/<profile>)")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks in notebooks/ (refresh committed outputs)")
    parser.add_argument("--only", nargs="*", help="notebook number prefixes to run, e.g. 01 02")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else RUNS_DIR / "notebooks" / args.profile
    sys.exit(run_course(args.profile, out, args.in_place, args.only, args.device))


if __name__ == "__main__":
    main()
