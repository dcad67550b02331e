#!/usr/bin/env bash
# Creates (once) the private virtual environment holding the pinned reference,
# ngc-learn 3.2.3 / ngcsimlib 3.1.1 with JAX, and prints its python's path.
#
#   PY=$(bash tests/reference/venv.sh)   # then: "$PY" your_script.py
#
# Reusable by anything that needs the reference (the fixture generator, the
# ngc-learn/JAX benchmark). The venv lives in tests/reference/.venv (git-ignored);
# set NGC_REF_VENV to put it elsewhere. Re-running is cheap: an existing venv whose
# pins match is kept (delete the folder to rebuild it).
#
# ngclearn 3.2.3 needs numpy >= 2.5.2, which needs Python >= 3.12. The interpreter is
# the first of: $NGC_REF_PYTHON, python3.12/python3.13 on PATH, pyenv's 3.12.x/3.13.x,
# python3 if it is >= 3.12. All progress goes to stderr; stdout is only the path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${NGC_REF_VENV:-$here/.venv}"
req="$here/requirements.txt"

py_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

find_python() {
    local c
    for c in "${NGC_REF_PYTHON:-}" python3.12 python3.13 \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3 \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin/python3 python3; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

stamp="$venv/.ngc-ref-stamp"
want="$(cat "$req")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "$venv/bin/python"
    exit 0
fi

if ! base="$(find_python)"; then
    echo "venv.sh: no Python >= 3.12 found (ngclearn 3.2.3 needs numpy >= 2.5.2, which needs it)." >&2
    echo "  Install one (e.g. 'pyenv install 3.12', or your distribution's python3.12) or point" >&2
    echo "  NGC_REF_PYTHON at it." >&2
    exit 1
fi
echo "venv.sh: creating $venv with $base ($("$base" --version 2>&1))" >&2
rm -rf "$venv"
"$base" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet -r "$req" >&2
printf '%s' "$want" >"$stamp"
echo "$venv/bin/python"
