#!/usr/bin/env bash
# The Python peers of the multimodal services tests (pydicom with pylibjpeg codecs, nibabel) in a
# virtualenv under .venv (gitignored). Idempotent; needs python3 with venv (Debian: python3-venv).
#
#   bash scripts/services/python-peers.sh        # make or update .venv; prints its python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$ROOT/.venv/bin/python"
if ! "$PY" -c 'import pydicom, nibabel, numpy, pylibjpeg, openjpeg, libjpeg' 2>/dev/null; then
  if [[ ! -x "$PY" ]]; then
    python3 -m venv "$ROOT/.venv" 2>/dev/null || {
      command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
      python3 -m venv "$ROOT/.venv"
    }
  fi
  "$ROOT/.venv/bin/pip" install -q pydicom nibabel numpy pylibjpeg pylibjpeg-openjpeg pylibjpeg-libjpeg pillow >&2
fi
echo "$PY"
