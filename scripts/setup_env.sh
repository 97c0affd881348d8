#!/usr/bin/env bash
# Create the course's virtual environment (.venv) and install avvp_lib[dev,cluster] at the locked versions.
# torch: with an NVIDIA GPU (`nvidia-smi -L` answers), torch==TORCH_VERSION from the default index (a CUDA
# build). Without one, the CPU build: from PyTorch's CPU wheel index (TORCH_CPU_INDEX, default
# https://download.pytorch.org/whl/cpu) when it answers within 5 s, else torch==TORCH_VERSION from the
# configured index (which, on plain PyPI, is a CUDA build of several GB that runs on the CPU too).
# Versions: constraints.txt (written by scripts/lock.sh); AVVP_UNLOCKED=1 installs the newest in range.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
LOCK=()
if [ "${AVVP_UNLOCKED:-0}" != "1" ] && [ -f constraints.txt ]; then
  LOCK=(-c constraints.txt)
  echo "[setup] locked versions: constraints.txt (AVVP_UNLOCKED=1 to skip)"
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "[setup] NVIDIA GPU found: installing torch==$TORCH_VERSION (CUDA build)"
    "${PIP[@]}" "torch==$TORCH_VERSION"
  elif "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)" \
       "$TORCH_CPU_INDEX/torch/" >/dev/null 2>&1; then
    echo "[setup] no NVIDIA GPU: installing torch==$TORCH_VERSION from the CPU wheel index $TORCH_CPU_INDEX"
    "${PIP[@]}" --index-url "$TORCH_CPU_INDEX" "torch==$TORCH_VERSION"
  else
    echo "[setup] no NVIDIA GPU and $TORCH_CPU_INDEX unreachable: installing torch==$TORCH_VERSION from the configured index"
    "${PIP[@]}" "torch==$TORCH_VERSION"
  fi
fi
"${PIP[@]}" "${LOCK[@]}" -e ".[dev,cluster]" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import torch, avvp_lib; print('[setup] ready: torch', torch.__version__, '| cuda', torch.cuda.is_available(), '| avvp_lib', avvp_lib.__version__)"
