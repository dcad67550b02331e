#!/usr/bin/env bash
# Creates the private Python environment the benchmark times ngc-learn and jax.jit in.
# Usage: bench/venv.sh [VENV_DIR]   (default: bench/.venv, git-ignored)
# Pins match the reference the library reproduces (ngc-learn 3.2.3, ngcsimlib 3.1.1).
# If the conformance suite's environment exists (tests/reference/.venv), run.sh uses that instead.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/.venv}"
py="${PYTHON:-}"
if [ -z "$py" ]; then
    for c in /root/.pyenv/versions/3.12.1/bin/python3.12 python3.12 python3.13 python3; do
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
            py="$c"; break
        fi
    done
fi
[ -n "$py" ] || { echo "venv.sh: need Python >= 3.12 (ngclearn 3.2.3 needs numpy >= 2.5)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "ngclearn==3.2.3" "ngcsimlib==3.1.1" jax matplotlib
"$venv/bin/python" -c 'import jax, ngclearn, matplotlib; print("venv ok: jax", jax.__version__)'
