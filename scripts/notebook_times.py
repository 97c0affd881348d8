"""Print how long each course notebook took to execute, as a markdown table.

Sources, any mix of them (later ones win for a notebook named twice):

* executed notebooks (files or folders of ``NN_*.ipynb``): papermill's ``metadata.papermill.duration``, or the sum
  of the cells' ``metadata.papermill.duration`` when only those are there. The committed notebooks carry neither:
  ``avvp_lib.course`` strips papermill's timings from every copy it writes, so pass a copy executed with papermill
  directly (``papermill notebooks/02_han_mmil.ipynb /tmp/02.ipynb``);
* a log of the course runner (``make course 2>&1 | tee runs/course.log``): its lines
  ``[course] 02_han_mmil.ipynb done in 91 s -> ...``;
* ``--rev REV``: the notebooks as committed at git revision ``REV`` (only revisions from before the timings were
  stripped have any).

Usage::

    python scripts/notebook_times.py runs/course.log
    python scripts/notebook_times.py --rev 4c97c54
    python scripts/notebook_times.py /tmp/executed/

A notebook without a recorded time is listed with ``-``; no source at all is an error.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOG_LINE = re.compile(r"\[course\] (?P<name>\d\d_[\w.-]+\.ipynb) done in (?P<seconds>\d+(?:\.\d+)?) s")


def notebook_seconds(nb: dict) -> float | None:
    """The notebook's papermill duration, else the sum of its cells' durations, else None."""
    duration = (nb.get("metadata", {}).get("papermill") or {}).get("duration")
    if duration is not None:
        return float(duration)
    cells = [(c.get("metadata", {}).get("papermill") or {}).get("duration") for c in nb.get("cells", [])]
    cells = [float(d) for d in cells if d is not None]
    return sum(cells) if cells else None


def from_notebooks(path: Path) -> dict[str, float | None]:
    files = sorted(path.glob("[0-9][0-9]_*.ipynb")) if path.is_dir() else [path]
    if not files:
        raise SystemExit(f"{path}: no NN_*.ipynb notebooks in this folder")
    out = {}
    for file in files:
        try:
            out[file.name] = notebook_seconds(json.loads(file.read_text()))
        except json.JSONDecodeError as error:
            raise SystemExit(f"{file}: not a notebook (JSON error: {error})") from error
    return out


def from_log(path: Path) -> dict[str, float | None]:
    found = {m["name"]: float(m["seconds"]) for m in LOG_LINE.finditer(path.read_text(errors="replace"))}
    if not found:
        raise SystemExit(f"{path}: no '[course] NN_name.ipynb done in N s' line (expected a log of make course)")
    return found


def from_revision(rev: str) -> dict[str, float | None]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    names = [n for n in git("ls-tree", "--name-only", f"{rev}:notebooks").split()
             if re.match(r"\d\d_.*\.ipynb$", n)]
    if not names:
        raise SystemExit(f"revision {rev}: no notebooks/NN_*.ipynb")
    return {n: notebook_seconds(json.loads(git("show", f"{rev}:notebooks/{n}"))) for n in names}


def table(times: dict[str, float | None]) -> str:
    rows = ["| notebook | seconds | minutes |", "|---|---|---|"]
    for name in sorted(times):
        s = times[name]
        rows.append(f"| `{name[:-6]}` | {s:.0f} | {s / 60:.1f} |" if s is not None else f"| `{name[:-6]}` | - | - |")
    known = [s for s in times.values() if s is not None]
    rows.append(f"| **all {len(known)} timed** | **{sum(known):.0f}** | **{sum(known) / 60:.1f}** |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/notebook_times.py", description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", type=Path, help="executed notebooks, folders of them, or course logs")
    parser.add_argument("--rev", help="read the notebooks committed at this git revision")
    args = parser.parse_args(argv)
    if not args.sources and not args.rev:
        parser.error("give at least one source: executed notebooks, a folder of them, a course log, or --rev REV")
    times: dict[str, float | None] = {}
    if args.rev:
        times.update(from_revision(args.rev))
    for source in args.sources:
        if not source.exists():
            raise SystemExit(f"{source}: no such file or folder")
        times.update(from_notebooks(source) if source.is_dir() or source.suffix == ".ipynb" else from_log(source))
    print(table(times))
    if all(s is None for s in times.values()):
        print("\nno source recorded a time: the committed notebooks carry none (avvp_lib.course strips papermill's "
              "timings); pass a course log or notebooks executed with papermill directly", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
