"""nbval, within seed noise where training made the output, exact everywhere else.

A notebook cell whose printed numbers come out of a training (metric tables, best epochs, loss
histories, learned scalars) carries the cell tag ``nbval-tolerance``. Such a cell's outputs pass when

* the text *around* the numbers is identical (runs of whitespace collapsed, since a table re-pads when
  a number gets wider) - a changed word, flag, class name or row count still fails - and
* every number is within the tolerance of its kind (:func:`tolerance_for`):

  ==========  =================================================  ==========================================
  kind        what it is                                         allowed |new - committed|
  ==========  =================================================  ==========================================
  epoch       an integer within 25 characters after "epoch"     ``EPOCH_TOLERANCE`` = 3 epochs
  points      1-2 decimals and |value| >= 1: F-scores, rates     ``points_tolerance()`` = max(0.5, 2 x the
              and their differences, in points                   median seed std of all results/*.csv rows)
  fine        more decimals or |value| < 1: losses, learned      max(2 units of the last printed digit,
              scalars, probabilities                             ``RELATIVE_TOLERANCE`` x |committed|)
  count       any other integer                                  max(2, ``RELATIVE_TOLERANCE`` x |committed|)
  ==========  =================================================  ==========================================

Every untagged cell is compared exactly (after ``tests/nbval_sanitize.cfg``), as nbval does. Images
are not compared (nbval's default). On a pass the new output is replaced by the committed one before
nbval's own comparison runs; on a failure nbval's diff is shown with the numbers that broke the rule.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TAG = "nbval-tolerance"
PROGRESS_MARKER = "avvp_progress"  # avvp_lib.progress.MARKER (this plugin loads without avvp_lib)
EPOCH_TOLERANCE = 3
RELATIVE_TOLERANCE = 0.10
POINTS_FLOOR = 0.5
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"

NUMBER = re.compile(r"(?<![\w.])[-+\u2212]?(?:\d+\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w)")
EPOCH_CONTEXT = re.compile(r"epoch", re.IGNORECASE)


@lru_cache(maxsize=None)
def points_tolerance(results_dir: Path = RESULTS_DIR) -> float:
    """max(0.5, 2 x median over every (file, method, variant, metric) of the seed std in ``results/``)."""
    import pandas as pd

    stds = []
    for path in sorted(Path(results_dir).glob("*.csv")):
        frame = pd.read_csv(path, dtype={"config_hash": str, "code_version": str})
        metrics = [c for c in frame.columns if c.startswith(("segment/", "event/"))]
        if not metrics or "seed" not in frame.columns or "hypothesis" in frame.columns:
            continue  # notebook 10's controlled table mixes data roots (levels) under one method/variant: not seed noise
        grouped = frame.groupby([c for c in ("method", "variant") if c in frame.columns])[metrics].std()
        stds += [v for v in grouped.to_numpy().ravel() if not math.isnan(v)]
    if not stds:
        raise RuntimeError(f"no multi-seed results under {results_dir}: cannot derive the seed-noise tolerance")
    stds.sort()
    median = stds[len(stds) // 2]
    return max(POINTS_FLOOR, 2 * median)


@dataclass(frozen=True)
class Number:
    text: str
    value: float
    decimals: int
    kind: str


def parse_numbers(text: str) -> tuple[list[str], list[Number]]:
    """Split ``text`` into the pieces between numbers and the numbers, each with its kind."""
    pieces, numbers, last = [], [], 0
    for match in NUMBER.finditer(text):
        raw = match.group(0)
        value = float(raw.replace("\u2212", "-"))
        mantissa = re.split(r"[eE]", raw)[0]
        decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
        before = text[max(0, match.start() - 25):match.start()].split("\n")[-1]
        if decimals == 0 and "e" not in raw.lower():
            kind = "epoch" if EPOCH_CONTEXT.search(before) else "count"
        elif decimals <= 2 and abs(value) >= 1:
            kind = "points"
        else:
            kind = "fine"
        pieces.append(text[last:match.start()])
        numbers.append(Number(raw, value, decimals, kind))
        last = match.end()
    pieces.append(text[last:])
    return pieces, numbers


def tolerance_for(number: Number, points: float) -> float:
    if number.kind == "epoch":
        return EPOCH_TOLERANCE
    if number.kind == "points":
        return points
    if number.kind == "count":
        return max(2.0, RELATIVE_TOLERANCE * abs(number.value))
    unit = 10.0 ** (-number.decimals) if number.decimals else 0.0
    return max(2 * unit, RELATIVE_TOLERANCE * abs(number.value))


def _skeleton(pieces: list[str]) -> list[str]:
    return [" ".join(p.split()) for p in pieces]


def compare_text(committed: str, new: str, points: float | None = None) -> list[str]:
    """Why ``new`` is not ``committed`` within tolerance (empty list: it is)."""
    points = points_tolerance() if points is None else points
    ref_pieces, ref_numbers = parse_numbers(committed)
    new_pieces, new_numbers = parse_numbers(new)
    if len(ref_numbers) != len(new_numbers) or _skeleton(ref_pieces) != _skeleton(new_pieces):
        return ["the text around the numbers differs (compared exactly)"]
    problems = []
    for ref, got in zip(ref_numbers, new_numbers):
        allowed = tolerance_for(ref, points)
        if abs(got.value - ref.value) > allowed + 1e-9:
            problems.append(f"{ref.kind} {ref.text} -> {got.text}: |difference| {abs(got.value - ref.value):.4g} "
                            f"> allowed {allowed:.4g}")
    return problems


def _texts(output) -> dict[str, str]:
    found = {}
    if isinstance(output.get("text"), str):
        found["text"] = output["text"]
    for key, value in (output.get("data") or {}).items():
        if isinstance(value, str) and key in ("text/plain", "text/html", "text/markdown"):
            found[key] = value
    return found


def snap_outputs(new_outputs, committed_outputs, sanitize, points: float | None = None) -> list[str]:
    """Replace each new text output that is within tolerance of its committed twin by that twin (in
    place). Returns the reasons of the outputs that are not, for the failure report."""
    problems = []
    for index, (new, ref) in enumerate(zip(new_outputs, committed_outputs)):
        if new.get("output_type") != ref.get("output_type") or new.get("name") != ref.get("name"):
            continue
        ref_texts = _texts(ref)
        for key, text in _texts(new).items():
            if key not in ref_texts:
                continue
            reasons = compare_text(sanitize(ref_texts[key]), sanitize(text), points)
            if not reasons:
                if key == "text":
                    new["text"] = ref_texts[key]
                else:
                    new["data"][key] = ref_texts[key]
            else:
                problems += [f"output {index} {key}: {r}" for r in reasons[:8]]
    return problems


def without_progress(outputs) -> list:
    """The outputs minus training-progress lines (display outputs marked ``avvp_progress``: they exist only where a
    notebook trained, and say how far it got, not what it computed)."""
    return [o for o in outputs if not (o.get("metadata") or {}).get(PROGRESS_MARKER)]


def install() -> None:
    """Wrap nbval's comparison for tagged cells (idempotent)."""
    from nbval import plugin

    cell_class = plugin.IPyNbCell
    if getattr(cell_class.compare_outputs, "_avvp_tolerance", False):
        return
    original = cell_class.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        test, ref = without_progress(test), without_progress(ref)
        if TAG not in (self.cell.metadata.get("tags") or []):
            return original(self, test, ref, skip_compare)
        problems = snap_outputs(test, ref, self.sanitize)
        ok = original(self, test, ref, skip_compare)
        if not ok and problems:
            self.comparison_traceback.append(f"[{TAG}] outside the seed-noise tolerance (tests/nbval_tolerance.py):")
            self.comparison_traceback += problems
        return ok

    compare_outputs._avvp_tolerance = True
    cell_class.compare_outputs = compare_outputs


def pytest_configure(config):
    if getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False):
        install()
