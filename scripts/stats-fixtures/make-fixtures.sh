#!/usr/bin/env bash
# Regenerates test/fixtures/stats/*.json from SciPy / statsmodels.
# Makes (or reuses) a virtualenv in .venv/stats (git-ignored), installs the pinned
# requirements and runs make_fixtures.py. The TypeScript tests only read the JSON.
#
# Usage: bash scripts/stats-fixtures/make-fixtures.sh   (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv/stats"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$ROOT/scripts/stats-fixtures/requirements.txt"
"$VENV/bin/python" "$ROOT/scripts/stats-fixtures/make_fixtures.py" "$ROOT/test/fixtures/stats"
