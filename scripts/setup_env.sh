#!/usr/bin/env bash
# Create the course's virtual environment (.venv) and install avvp_lib with its [dev] extras.
# torch: the CUDA build when an NVIDIA GPU answers `nvidia-smi -L`, else the CPU build
# (TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu picks PyTorch's CPU wheel index where reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "[setup] NVIDIA GPU found: installing the CUDA build of torch"
    "${PIP[@]}" "torch>=2.2"
  else
    echo "[setup] no NVIDIA GPU: installing the CPU build torch==$TORCH_VERSION"
    "${PIP[@]}" ${TORCH_CPU_INDEX:+--index-url "$TORCH_CPU_INDEX"} "torch==$TORCH_VERSION"
  fi
fi
"${PIP[@]}" -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import torch, avvp_lib; print('[setup] ready: torch', torch.__version__, '| cuda', torch.cuda.is_available(), '| avvp_lib', avvp_lib.__version__)"
