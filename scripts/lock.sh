#!/usr/bin/env bash
# Re-lock constraints.txt: upgrade every dependency of avvp_lib[dev,cluster] within pyproject.toml's
# ranges in a fresh virtual environment, then write what was installed (pip freeze) to constraints.txt.
#   bash scripts/lock.sh            # torch stays at TORCH_VERSION (default 2.13.0)
#   bash scripts/lock.sh --freeze   # no upgrade: record what .venv has now (how the first lock was made)
# After locking, re-run `make notebooks` and `make test`: the committed outputs were made with the old
# lock, and nbval says whether the new versions change them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if [ "${1:-}" = "--freeze" ]; then
  ENV_PY=${VENV:-.venv}/bin/python
else
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  "$PY" -m venv "$TMP/venv"
  ENV_PY=$TMP/venv/bin/python
  PIP=("$ENV_PY" -m pip install --disable-pip-version-check -q)
  "${PIP[@]}" "torch==$TORCH_VERSION"
  "${PIP[@]}" --upgrade -e ".[dev,cluster]"
fi
{
  echo "# avvp-course lock: the versions the committed notebooks and results were produced with."
  echo "# make setup installs with -c constraints.txt (AVVP_UNLOCKED=1 skips it). Re-lock: bash scripts/lock.sh"
  echo "# Written by scripts/lock.sh with $("$ENV_PY" --version) on $(date -u +%Y-%m-%d)."
  "$ENV_PY" -m pip freeze --exclude-editable --disable-pip-version-check \
    | sed -E 's/^(torch==[^+]+)\+.*/\1/' | grep -v -i -E '^(nvidia-|triton==|avvp[-_]lib)' | LC_ALL=C sort -f
} > constraints.txt
echo "[lock] wrote constraints.txt ($(grep -c '==' constraints.txt) pins)"
