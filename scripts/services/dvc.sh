#!/usr/bin/env bash
# The real `dvc` (PyPI, pinned) in its own virtualenv under .venv-dvc (gitignored), for
# test/services/dvc-compat.test.ts. Idempotent; needs python3 with venv (Debian: python3-venv).
#
#   bash scripts/services/dvc.sh        # prints the path of the dvc executable
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-dvc"
DVC_VERSION=3.67.1
if [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("dvc"))' 2>/dev/null)" != "$DVC_VERSION" ]]; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" 2>/dev/null || {
    command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q "dvc==$DVC_VERSION" >&2
fi
echo "$VENV/bin/dvc"
