#!/usr/bin/env bash
# The GPU check: what a machine with an NVIDIA GPU runs once (at most about 8 minutes) to show that the course's
# code paths work on CUDA and how fast they are there. Writes benchmarks/results/gpu_check_<device>.csv (one row per
# step: what ran, seconds, exit status) and the benchmark CSVs bench_full_cuda.csv (HAN epoch official loop vs ours,
# evaluation, inference; one epoch of every main-grid cell at the full recipe).
#   bash scripts/gpu_check.sh            # needs `nvidia-smi -L` to list a GPU; exits 3 with a message otherwise
# Steps: (1) make setup (CUDA torch when a GPU is present), (2) the unit tests, CUDA ones included
# (tests/test_cuda.py), (3) the full profile's synthetic root, (4) make smoke on cuda, (5) the speed benchmarks on
# the full profile's data (--max-train 2000 keeps the official loop's epoch short), (6) one epoch of each main-grid
# cell (bench-grid, 20 steps per cell, scaled to an epoch).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "[gpu_check] no NVIDIA GPU here (nvidia-smi -L lists none): nothing to check. Run this on a machine with one." >&2
  exit 3
fi
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
SLUG=$(echo "$GPU" | tr -c 'A-Za-z0-9\n' '_' | tr -s '_' | sed 's/_$//')
OUT=benchmarks/results
LOG="$OUT/gpu_check_${SLUG}.csv"
mkdir -p "$OUT"
TMP="$LOG.tmp"
echo "step,seconds,status,device,timestamp" > "$TMP"
failed=0
step() {  # step NAME COMMAND...: run it, time it, record it; keep going on failure
  local name=$1; shift
  local t0=$(date +%s)
  echo "[gpu_check] $name: $*"
  "$@"
  local status=$?
  [ $status -eq 0 ] || failed=1
  echo "$name,$(( $(date +%s) - t0 )),$status,$GPU,$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$TMP"
  echo "[gpu_check] $name: exit $status after $(( $(date +%s) - t0 )) s"
}
step setup make setup
PY=.venv/bin/python
step unit_tests "$PY" -m pytest tests -q -p no:cacheprovider -x --deselect tests/test_numerics.py
step data_full make data-full
step smoke_cuda env AVVP_SMOKE=1 "$PY" -m avvp_lib.course --profile full --device cuda --out runs/smoke/notebooks-cuda --keep-going
step bench_speed "$PY" -m benchmarks.run --profile full --only han_epoch,eval,inference --device cuda --repeats 2 --max-train 2000
step bench_grid "$PY" -m benchmarks.run --profile full --only grid --grid-steps 20 --device cuda
mv "$TMP" "$LOG"
echo "[gpu_check] steps: $LOG; benchmarks: $OUT/bench_full_cuda.csv"
exit $failed
