"""Running notebook 10's sweep: every (configuration, seed) at every level through the registry, after re-using the
frozen level's records where a configuration's inputs are byte-identical at a level."""
from __future__ import annotations

from avvp_lib import paths
from avvp_lib.experiments.hypotheses import HYPOTHESES, Hypothesis, frozen_value
from avvp_lib.experiments.level_data import ensure_level, folders_digest, level_root, write_level

def reuse_unchanged(h: Hypothesis, profile: str, seeds, store=None, verbose: bool = True) -> int:
    """For each experiment of ``h.unchanged``: at every non-frozen level whose folders it reads are byte-identical to
    the frozen root's (and whose labels are the same files), write its frozen-level records under the level's data
    fingerprint instead of training again (``extra["reused_from"]`` names the frozen fingerprint and the checked
    digest; the predictions file is copied). A level whose folders differ is left to the sweep. Returns the number
    of records written."""
    import shutil

    from avvp_lib.experiments.fingerprint import data_fingerprint
    from avvp_lib.experiments.records import RecordStore, make_record
    from avvp_lib.predictions import prediction_path

    store = store if store is not None else RecordStore()
    frozen = level_root(profile, h.knob, frozen_value(h.knob))
    frozen_fp, written = data_fingerprint(frozen), 0
    for name, folders in h.unchanged.items():
        reference = folders_digest(frozen, tuple(folders) + ("annotations",))
        for value in h.levels:
            root = level_root(profile, h.knob, value)
            if root == frozen:
                continue
            fp = data_fingerprint(root)
            if folders_digest(root, tuple(folders) + ("annotations",)) != reference:
                if verbose:
                    print(f"[controlled] {name} at {h.knob}={value:g}: its inputs differ from the frozen root's; trained")
                continue
            for seed in seeds:
                sources = [r for r in store.records if r["name"] == name and r["data_fingerprint"] == frozen_fp
                           and int(r["seed"]) == int(seed) and r["engine"] == "sequential" and r["profile"] == profile]
                if not sources or store.find(sources[0]["config_hash"], fp, seed):
                    continue
                source = max(sources, key=lambda r: r["timestamp"])
                extra = {**source["extra"], "reused_from": {"data_fingerprint": frozen_fp, "inputs": list(folders),
                                                            "sha256": reference}}
                if source["extra"].get("predictions"):
                    target = prediction_path(name, profile, fp, seed, paths.predictions_beside(store.folder),
                                             source["config_hash"])
                    shutil.copyfile(paths.from_record(source["extra"]["predictions"]), target)
                    extra["predictions"] = paths.to_record(target)
                body = {k: v for k, v in source.items() if k not in ("schema", "checksum")}
                store.write(make_record(**{**body, "data_fingerprint": fp, "extra": extra}))
                written += 1
    if verbose and written:
        print(f"[controlled] {h.key}: {written} record(s) re-used from the frozen level (inputs byte-identical)")
    return written


def plan(hypotheses=HYPOTHESES, profile: str = "quick", seeds=(0, 1, 2), device: str = "auto"):
    """``(tasks, levels)``: every (configuration, seed) of every level, seed-major; levels as (knob, value)."""
    from avvp_lib.experiments.executors import Task

    levels = list(dict.fromkeys((h.knob, v) for h in hypotheses for v in h.levels))
    runs = [(str(level_root(profile, k, v)), name) for h in hypotheses for (k, v) in
            ((h.knob, v) for v in h.levels) for name in h.experiments]
    runs = list(dict.fromkeys(runs))  # H2 and H3 share their levels and valor/main
    tasks = [Task(name, int(s), profile, root, device) for s in seeds for root, name in runs]
    return tasks, levels


def run_sweep(hypotheses=HYPOTHESES, profile: str = "quick", seeds=(0, 1, 2), device: str = "auto", jobs: int = 1,
              threads: int = 1) -> None:
    import time

    from avvp_lib.experiments import executors

    t0 = time.perf_counter()
    tasks, levels = plan(hypotheses, profile, seeds, device)
    for knob, value in levels:  # data first (one process): generate, measure, write the level file
        ensure_level(profile, knob, value, progress=False)
        body = write_level(profile, knob, value)
        print(f"[controlled] level {knob}={value:g}: {body['root']} {body['measured']}", flush=True)
    for h in hypotheses:
        reuse_unchanged(h, profile, seeds)
    todo = executors.pending(tasks)
    print(f"[controlled] {len(todo)} run(s) to do of {len(tasks)} ({len(levels)} levels, seeds {list(seeds)})",
          flush=True)
    executors.run_local(todo, jobs, threads)
    from avvp_lib.experiments.controlled_tables import write_tables

    write_tables(profile=profile)
    print(f"[controlled] done in {time.perf_counter() - t0:.0f} s", flush=True)
