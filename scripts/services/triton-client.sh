#!/usr/bin/env bash
# Triton's official HTTP client (tritonclient[http], pinned) in its own virtualenv under .venv-triton
# (gitignored), for test/services/kserve-tritonclient.test.ts. Idempotent; needs python3 with venv.
#
#   bash scripts/services/triton-client.sh      # prints the venv's python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-triton"
if ! "$VENV/bin/python" -c 'import importlib.metadata as m; assert m.version("tritonclient") == "2.73.0"; import numpy' 2>/dev/null; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" 2>/dev/null || {
    command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q "tritonclient[http]==2.73.0" "numpy==2.4.6" >&2
fi
echo "$VENV/bin/python"
