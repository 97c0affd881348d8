"""The course runner: notebook parameters, profiles, data roots, and headless execution with papermill.

``python -m avvp_lib.course --profile quick`` executes every numbered notebook in order into
``runs/notebooks/<profile>/`` and stops at the first failure with a non-zero exit code.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from avvp_lib import paths
from avvp_lib.runtime import PROFILES, ParameterError, check_parameters, prepare  # noqa: F401  (notebooks, tests)
from avvp_lib.paths import COMMITTED_FIGURE_DIR, REPO_ROOT, RESULTS_DIR, RUNS_DIR  # noqa: F401  (notebooks read course.RESULTS_DIR)

#: the numbered notebooks: a checkout's ``notebooks/`` (an installed package has none; ``AVVP_HOME`` does not move them)
NOTEBOOK_DIR = (paths.checkout_root() or REPO_ROOT) / "notebooks"
#: where notebooks save figures: ``runs/figures`` (git-ignored) unless ``AVVP_FIGURE_DIR`` says otherwise.
#: Only ``make notebooks`` (``--in-place``) points it at the committed ``figures/``, so tests and
#: ``make course`` never rewrite tracked files.
FIGURE_DIR = Path(os.environ.get("AVVP_FIGURE_DIR") or RUNS_DIR / "figures").resolve()
#: the papermill parameters every notebook declares in its ``parameters`` cell
PARAMETERS = ("profile", "data_root", "seed", "device")


def injected_parameter_names() -> list[str] | None:
    """Names papermill injected into the running kernel (its ``# Parameters`` cell), or ``None`` outside
    IPython / without injected parameters. Read from the kernel's input history, so a misspelled
    ``papermill ... -p proflie quick`` is seen even when papermill is called directly."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    names: list[str] = []
    found = False
    for source in shell.user_ns.get("In", []):
        if not isinstance(source, str) or not source.lstrip().startswith("# Parameters"):
            continue
        found = True
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        names += [target.id for node in tree.body if isinstance(node, ast.Assign)
                  for target in node.targets if isinstance(target, ast.Name)]
    return names if found else None


def check_injected_parameters(names: list[str] | None) -> None:
    """Reject papermill parameters that no notebook declares (a typo would otherwise run on defaults)."""
    unknown = sorted(set(names or ()) - set(PARAMETERS))
    if unknown:
        raise ParameterError(f"unknown notebook parameter(s) {unknown}: the course notebooks take {list(PARAMETERS)} "
                             f"(papermill -p NAME VALUE)")


def setup(profile: str = "quick", data_root: str | Path | None = None, seed: int = 0, device: str = "auto") -> dict:
    """What every notebook's first cell calls: checks the papermill parameters (names and values), finds or generates
    data, fixes threads (:func:`avvp_lib.runtime.prepare`), and makes the figure folder.

    Returns a dict with ``data_root`` (Path), ``device`` (torch.device), ``data_source``, ``profile``, ``seed``.
    """
    check_injected_parameters(injected_parameter_names())
    cfg = prepare(profile, data_root, seed, device)
    FIGURE_DIR.mkdir(parents=True, exist_ok=True)
    return cfg


def ipc_kernel_manager():
    """A kernel manager class whose kernel talks over local (IPC) sockets in the temporary folder instead of
    TCP ports: nothing listens on the network, and ipykernel's "running over TCP without encryption"
    warning does not appear."""
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.transport = "ipc"
            self.ip = str(Path(tempfile.gettempdir()) / f"avvp-kernel-{uuid.uuid4().hex[:12]}")

    return IPCKernelManager


def notebooks() -> list[Path]:
    """The numbered notebooks, in course order."""
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


#: notebooks whose data are the synthetic generator's own levels (their ``data_root`` parameter is unused), left
#: out of a run on another data root
SYNTHETIC_ONLY = ("10_",)


def run_course(profile: str, out: Path | None, in_place: bool, only: list[str] | None = None, device: str = "auto",
               keep_going: bool = False, data_root: str | Path | None = None) -> int:
    """Execute the notebooks in order; 0 when all ran, 1 at the first failure (``keep_going``: after all).
    ``data_root``: every notebook's ``data_root`` parameter (None: the synthetic benchmark); the notebooks of
    :data:`SYNTHETIC_ONLY` are left out, and a run on another root never replaces the committed notebooks."""
    import papermill as pm

    if data_root is not None and in_place:
        raise ParameterError("--in-place with --data-root: the committed notebooks show the synthetic benchmark; "
                             "execute copies (--out) on another data root")
    paths = [p for p in notebooks() if not only or any(p.name.startswith(o) for o in only)]
    parameters = {"profile": profile, "device": device}
    if data_root is not None:
        parameters["data_root"] = str(Path(data_root).resolve())
        skipped = [p.name for p in paths if p.name.startswith(SYNTHETIC_ONLY)]
        paths = [p for p in paths if not p.name.startswith(SYNTHETIC_ONLY)]
        if skipped:
            print(f"[course] left out on {data_root}: {', '.join(skipped)} (the synthetic generator's levels)", flush=True)
    if in_place:  # refreshing the committed notebooks refreshes the committed figures too (kernels inherit this)
        os.environ["AVVP_FIGURE_DIR"] = str(COMMITTED_FIGURE_DIR)
    else:
        os.environ.setdefault("AVVP_FIGURE_DIR", str(Path(out).resolve() / "figures"))
    if not paths:
        print("[course] no notebooks matched", file=sys.stderr)
        return 2
    failed = []
    for number, path in enumerate(paths, 1):
        final = path if in_place else Path(out) / path.name
        final.parent.mkdir(parents=True, exist_ok=True)
        # executed into a scratch file beside the target; it replaces the target only once it ran to the end,
        # so a failure or Ctrl-C never leaves a half-executed notebook in place of a committed one
        scratch = final.with_name(f".{final.stem}.running.ipynb")
        t0 = time.perf_counter()
        where = f", data_root={parameters['data_root']}" if data_root is not None else ""
        print(f"[course] {number}/{len(paths)} {path.name} (profile={profile}{where}) ...", flush=True)
        try:
            pm.execute_notebook(str(path), str(scratch), parameters=parameters,
                                cwd=str(NOTEBOOK_DIR), progress_bar=False, kernel_name="python3",
                                kernel_manager_class=ipc_kernel_manager())
            strip_volatile_metadata(scratch, drop_injected_parameters=in_place, name=final.name)
            os.replace(scratch, final)
        except Exception as error:  # papermill raises PapermillExecutionError with the cell's traceback
            kept = final.with_name(f"{final.stem}.failed.ipynb") if not in_place else RUNS_DIR / "failed" / path.name
            if scratch.exists():
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.replace(scratch, kept)
            print(f"[course] FAILED {path.name} after {time.perf_counter() - t0:.0f} s (left unchanged: {final}; "
                  f"the failed execution: {kept}): {error}", file=sys.stderr, flush=True)
            failed.append(path.name)
            if not keep_going:
                return 1
            continue
        finally:
            scratch.unlink(missing_ok=True)
        print(f"[course] {path.name} done in {time.perf_counter() - t0:.0f} s -> {final}", flush=True)
    if failed:
        print(f"[course] {len(failed)} of {len(paths)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def strip_volatile_metadata(path: Path, drop_injected_parameters: bool = False, name: str | None = None) -> None:
    """Drop what changes from run to run without changing a result - papermill's per-cell timings,
    the kernel's execution timestamps and absolute paths - so committed notebooks diff cleanly and
    name no one's home folder. Outputs are kept (nbval compares them). ``drop_injected_parameters``
    (committed copies): remove papermill's injected-parameters cell, so readers see the parameters
    once, and renumber the execution counts 1..N. ``name``: the notebook's file name to record (default
    ``path``'s; the runner executes into a scratch file first)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if drop_injected_parameters:
        nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        count = 0
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.get("execution_count") is not None:
                count += 1
                cell.execution_count = count
                for output in cell.get("outputs", []):
                    if "execution_count" in output:
                        output["execution_count"] = count
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    meta = nb.metadata.get("papermill")
    if meta is not None:
        for key in ("start_time", "end_time", "duration", "exception"):
            meta.pop(key, None)
        for key in ("input_path", "output_path"):
            if meta.get(key):
                meta[key] = f"notebooks/{name or Path(meta[key]).name}"
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
    parser.add_argument("--keep-going", action="store_true", help="run the remaining notebooks after a failure")
    parser.add_argument("--data-root", default=None,
                        help="a folder in the official layout (real features: docs/REAL_FEATURES.md); default: the "
                             "synthetic benchmark. Copies go to runs/notebooks/<profile>-<folder name>")
    args = parser.parse_args(argv)
    try:
        check_parameters(args.profile, args.data_root, 0, args.device)  # before any notebook is touched
        default = args.profile if args.data_root is None else f"{args.profile}-{Path(args.data_root).resolve().name}"
        out = Path(args.out) if args.out else RUNS_DIR / "notebooks" / default
        code = run_course(args.profile, out, args.in_place, args.only, args.device, args.keep_going, args.data_root)
    except ParameterError as error:  # run_course refuses --in-place with --data-root before touching a notebook
        parser.error(str(error))
    sys.exit(code)


if __name__ == "__main__":
    main()
