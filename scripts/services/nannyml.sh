#!/usr/bin/env bash
# NannyML (pinned, with its dependencies pinned in nannyml/requirements.txt) in .venv/nannyml
# (gitignored): the reference implementation test/services/cbpe-nannyml.test.ts compares CBPE with.
# Idempotent; prints the venv's python.
#
#   bash scripts/services/nannyml.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv/nannyml"
PY="$VENV/bin/python"
if ! "$PY" -c 'import nannyml, sys; sys.exit(0 if nannyml.__version__ == "0.13.1" else 1)' 2>/dev/null; then
  [[ -x "$PY" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/scripts/services/nannyml/requirements.txt" >&2
fi
echo "$PY"
