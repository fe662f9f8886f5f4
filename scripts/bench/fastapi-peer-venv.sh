#!/usr/bin/env bash
# The FastAPI + onnxruntime peer of bench/serving.mjs (and, with Pillow + python-multipart, of
# bench/image-serving.mjs), in a virtualenv under .venv-bench-fastapi
# (gitignored), every package pinned. Idempotent; needs python3 with venv (Debian: python3-venv).
#
#   bash scripts/bench/fastapi-peer-venv.sh      # make it if missing; prints its python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-bench-fastapi"
PY="$VENV/bin/python"
PINS=(fastapi==0.163.2 pydantic==2.14.3 uvicorn==0.54.0 uvloop==0.23.0 httptools==0.9.0 onnxruntime==1.31.1 numpy==2.4.6 pillow==13.0.0 python-multipart==0.0.34)
if ! "$PY" -c 'import fastapi, uvicorn, uvloop, httptools, onnxruntime, numpy, PIL, python_multipart' 2>/dev/null; then
  [[ -x "$PY" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
echo "$PY"
