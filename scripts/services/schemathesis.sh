#!/usr/bin/env bash
# Schemathesis (PyPI, pinned) in its own virtualenv under .venv-schemathesis (gitignored), for the
# API conformance test (test/services/schemathesis.test.ts). Idempotent; prints the `st` executable.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-schemathesis"
VERSION=4.32.5
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
echo "$VENV/bin/st"
