#!/usr/bin/env bash
# issue 26 reruns in the worktree (records -> /work/wt26/results/records); one after the other, 2 workers each
set -u
cd /work/wt26
PY=/work/main/.venv/bin/python
export PYTHONPATH=/work/wt26
date
$PY -m avvp_lib.sweeps --no-main --tables 09_main 09_matched --seeds 0 1 2 3 4 --executor local --jobs 2 > /work/notes/sweep26_a.log 2>&1; echo "a rc=$?"
date
$PY -m avvp_lib.sweeps --no-main --tables 09_released 09_shrink --seeds 0 1 2 --executor local --jobs 2 > /work/notes/sweep26_b.log 2>&1; echo "b rc=$?"
date
$PY -m avvp_lib.experiments.controlled --seeds 0 1 2 --jobs 2 > /work/notes/sweep26_c.log 2>&1; echo "c rc=$?"
date
