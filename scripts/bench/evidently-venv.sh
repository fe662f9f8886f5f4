#!/usr/bin/env bash
# Evidently (the drift peer of bench/drift.mjs) in a virtualenv under .venv-evidently (gitignored):
# evidently 0.7.23 with pandas 2.3.3 (Evidently needs pandas < 3), numpy 2.4.6, scipy 1.17.1, and
# every other package pinned in scripts/bench/evidently-requirements.txt. Idempotent: it installs
# only when the venv is missing or holds other versions. Needs python3 with venv (Debian: python3-venv).
#
#   bash scripts/bench/evidently-venv.sh      # make it if missing; prints what it did (stderr) and its python (stdout)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-evidently"
PY="$VENV/bin/python"
REQS="$ROOT/scripts/bench/evidently-requirements.txt"
CHECK='import importlib.metadata as m, sys
want = {"evidently": "0.7.23", "pandas": "2.3.3", "numpy": "2.4.6", "scipy": "1.17.1"}
bad = [f"{k} {m.version(k)}" for k in want if m.version(k) != want[k]]
sys.exit(1 if bad else 0)'
if "$PY" -c "$CHECK" 2>/dev/null; then
  echo "evidently-venv: $VENV is up to date (evidently 0.7.23, pandas 2.3.3)" >&2
else
  if [[ -x "$PY" ]]; then echo "evidently-venv: reinstalling the pins into $VENV" >&2; else
    echo "evidently-venv: creating $VENV" >&2
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS" >&2
  "$PY" -c "$CHECK"
  echo "evidently-venv: installed $(grep -c '==' "$REQS") pinned packages into $VENV" >&2
fi
echo "$PY"
