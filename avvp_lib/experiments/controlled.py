"""Controlled experiments (notebook 10): each paper's hypothesis tested by turning its cause up and down.

The synthetic benchmark's knobs are causes. A :class:`Hypothesis` names one knob, its levels (the frozen value
among them; every other knob stays frozen), the registered configurations run at every level and the effects
measured there (a configuration minus its anchor, on named metrics, each with the paper's expected sign).

* Each level is a data root of its own: the frozen level is the default root (``data/synthetic/<profile>``), the
  others ``data/synthetic/controlled/<profile>-<knob>=<value>`` (``python -m avvp_lib.data.synth --knob``). The
  changed knob is recorded in ``synth_meta.json`` and so in every record's data fingerprint: levels never mix.
* Runs go through the registry (:func:`avvp_lib.experiments.runner.run`): one record each, skipped when it
  exists, so the sweep resumes; the frozen level re-uses the committed records of notebooks 04-09.
* Each level also gets a *level file* (``results/controlled/<profile>-<knob>=<value>.json``, atomic, checksummed)
  with the properties of its data that serve as the x-axis: the unaligned share of the train tracks, the
  zero-shot segment AUC of the CLIP / CLAP streams, and the test split's own unaligned share.
* ``results/10_controlled.csv`` (one row per hypothesis, level, configuration and seed: the 18 metrics and the
  level's measured properties) and ``results/10_controlled_effects.csv`` (each effect at each level with its
  95 % two-stage bootstrap interval and verdict, and its trend over the measured x with an interval) are
  derived from the records (:func:`write_tables`, also run by ``make results``).

``python -m avvp_lib.experiments.controlled --profile quick --seeds 0 1 2 --jobs 2`` (``make controlled``).

The parts, one job each: :mod:`~avvp_lib.experiments.hypotheses` (what is tested),
:mod:`~avvp_lib.experiments.level_data` (each level's root and measured properties),
:mod:`~avvp_lib.experiments.controlled_runs` (the sweep), :mod:`~avvp_lib.experiments.controlled_tables` (the
derived tables); this module gathers their names and is the command line.
"""
from __future__ import annotations

import argparse

from avvp_lib.experiments.controlled_runs import plan, reuse_unchanged, run_sweep  # noqa: F401
from avvp_lib.experiments.controlled_tables import (EFFECTS_TABLE, ROWS_TABLE, effects_table,  # noqa: F401
                                                    level_rows, write_tables)
from avvp_lib.experiments.hypotheses import (HYPOTHESES, STANDARD_FOLDERS, Effect, Hypothesis,  # noqa: F401
                                             frozen_value, hypothesis, knob_overrides)
from avvp_lib.experiments.level_data import (ensure_level, folders_digest, level_root, levels_present,  # noqa: F401
                                             measure_level, segment_auc, write_level)
from avvp_lib.experiments.levels import level_name, read_level, write_level_file  # noqa: F401


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m avvp_lib.experiments.controlled",
                                     description="notebook 10's controlled experiments: generate every level, "
                                                 "run every configuration and seed, derive the tables")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hypotheses", nargs="+", default=[h.key for h in HYPOTHESES])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per run")
    parser.add_argument("--tables-only", action="store_true", help="derive the tables from the records; run nothing")
    args = parser.parse_args(argv)
    chosen = tuple(hypothesis(k) for k in args.hypotheses)
    if args.tables_only:
        write_tables(profile=args.profile)
        return
    run_sweep(chosen, args.profile, args.seeds, args.device, args.jobs, args.threads)


if __name__ == "__main__":
    main()
