#!/usr/bin/env bash
# The Python peers of the multimodal services tests (pydicom with pylibjpeg codecs, nibabel) in a
# virtualenv under .venv (gitignored). Idempotent; needs python3 with venv (Debian: python3-venv).
# pydicom-data is the outside DICOM corpus of test/services/imaging-conformance.test.ts: its files
# are installed with the package (data_store/data), so the test never downloads anything.
#
#   bash scripts/services/python-peers.sh        # make or update .venv; prints its python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$ROOT/.venv/bin/python"
if ! "$PY" -c 'import pydicom, nibabel, numpy, pylibjpeg, openjpeg, libjpeg, data_store' 2>/dev/null; then
  if [[ ! -x "$PY" ]]; then
    python3 -m venv "$ROOT/.venv" 2>/dev/null || {
      command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
      python3 -m venv "$ROOT/.venv"
    }
  fi
  # pinned: the versions the multimodal service tests last passed with (bump on purpose, not by resolution)
  "$ROOT/.venv/bin/pip" install -q pydicom==3.0.2 nibabel==5.4.2 numpy==2.4.6 pylibjpeg==2.1.0 pylibjpeg-openjpeg==2.6.0 pylibjpeg-libjpeg==2.5.0 pillow==13.0.0 pydicom-data==1.0.0 >&2
fi
echo "$PY"
