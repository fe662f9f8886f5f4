#!/usr/bin/env bash
# KServe's official Python client (the `kserve` package's InferenceRESTClient, pinned) in its own
# virtualenv under .venv-kserve (gitignored), for test/services/kserve-restclient.test.ts.
# The whole package is installed: `from kserve import InferenceRESTClient` runs kserve/__init__.py,
# which imports the model server and the Kubernetes API client too, so no smaller set imports it
# (tried: 43 of the 67 packages are needed, 370 of the 449 MB). Idempotent; needs python3 with venv.
#
#   bash scripts/services/kserve-client.sh      # prints the venv's python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-kserve"
KSERVE_VERSION=0.21.0
if ! "$VENV/bin/python" -c 'import importlib.metadata as m; assert m.version("kserve") == "'"$KSERVE_VERSION"'"; import numpy' 2>/dev/null; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" 2>/dev/null || {
    command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q "kserve==$KSERVE_VERSION" "numpy==2.4.6" >&2
fi
echo "$VENV/bin/python"
