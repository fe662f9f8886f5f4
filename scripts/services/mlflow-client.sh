#!/usr/bin/env bash
# The official MLflow client (mlflow-skinny, pinned) in its own virtualenv under .venv-mlflow
# (gitignored), for test/services/mlflow-client.test.ts. With `--server` it also installs the full
# `mlflow` package (pinned, same version) for bench/mlflow.mjs's reference `mlflow server`.
# Idempotent; needs python3 with venv (Debian: python3-venv).
#
#   bash scripts/services/mlflow-client.sh [--server]     # prints the venv's python
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-mlflow"
PY="$VENV/bin/python"
MLFLOW_VERSION=3.17.2
if [[ ! -x "$PY" ]]; then
  python3 -m venv "$VENV" 2>/dev/null || {
    command -v apt-get >/dev/null && (( EUID == 0 )) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
fi
if [[ "$("$PY" -c 'import importlib.metadata as m; print(m.version("mlflow-skinny"))' 2>/dev/null)" != "$MLFLOW_VERSION" ]]; then
  "$VENV/bin/pip" install -q "mlflow-skinny==$MLFLOW_VERSION" >&2
fi
if [[ "${1:-}" == "--server" ]] && ! "$PY" -c 'import importlib.metadata as m; assert m.version("mlflow") == "'"$MLFLOW_VERSION"'"' 2>/dev/null; then
  "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION" >&2
fi
echo "$PY"
