#!/usr/bin/env bash
# Regenerates tests/reference/fixtures/<cell>_f{32,64}.json from the real ngc-learn
# (all cells, or --cells bernoulli,gaussian,laplacian,reward,rate).
# One command from a fresh clone: makes the private venv if needed (venv.sh), runs the
# generator. Needs a Python >= 3.12 (see venv.sh) and PyPI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$(bash "$here/venv.sh")"
exec "$py" "$here/generate.py" "$@"
