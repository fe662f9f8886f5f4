#!/usr/bin/env bash
# Runs the service-backed integration tests (test/services/**) against real
# services on 127.0.0.1: PostgreSQL (scripts/services/postgres.sh), Orthanc with
# DICOMweb (orthanc.sh), an SMTP server (smtp.sh: aiosmtpd), promtool
# (prometheus.sh), the Python peers pydicom/nibabel (python-peers.sh) and the
# official MLflow client with a reference mlflow server (mlflow-client.sh), the
# Triton and KServe inference clients (triton-client.sh, kserve-client.sh), and
# the real dvc (dvc.sh), and Debian's chromium for the dashboard's browser tests
# (chromium.sh).
#
#   bash scripts/test-services.sh [extra vitest args...]    (npm run test:services)
#
# Exports DATABASE_URL_TEST for the tests. PostgreSQL is stopped on exit, but only
# if this script started it (an already-running dev instance is left alone).
# Exits with vitest's exit code; failing to start PostgreSQL is a failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
PG="$REPO_ROOT/scripts/services/postgres.sh"

STARTED_PG=0
STARTED_ORTHANC=0
ORTHANC="$REPO_ROOT/scripts/services/orthanc.sh"
cleanup() {
  local rc=$?
  if (( STARTED_PG )); then
    bash "$PG" stop || echo "[test-services] WARNING: failed to stop PostgreSQL" >&2
  fi
  if (( STARTED_ORTHANC )); then
    bash "$ORTHANC" stop || echo "[test-services] WARNING: failed to stop Orthanc" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT

if ! bash "$PG" status >/dev/null 2>&1; then
  STARTED_PG=1   # set before start so a half-started server is stopped too
fi
bash "$PG" start >/dev/null   # progress/errors go to stderr; fails the script on error

# Tools and peers the other service tests need (each script is idempotent).
bash "$REPO_ROOT/scripts/services/smtp.sh" >&2
bash "$REPO_ROOT/scripts/services/prometheus.sh" >&2
bash "$REPO_ROOT/scripts/services/chromium.sh" >&2   # the dashboard's browser tests (playwright-core)
bash "$REPO_ROOT/scripts/services/python-peers.sh" >&2
bash "$REPO_ROOT/scripts/services/nannyml.sh" >&2   # CBPE reference (test/services/cbpe-nannyml.test.ts)
bash "$REPO_ROOT/scripts/services/mlflow-client.sh" --server >&2   # the official MLflow client + a reference server
bash "$REPO_ROOT/scripts/services/dvc.sh" >&2                       # the real dvc, for dvc-compat.test.ts
bash "$REPO_ROOT/scripts/services/triton-client.sh" >&2             # tritonclient[http], for kserve-tritonclient.test.ts
bash "$REPO_ROOT/scripts/services/kserve-client.sh" >&2             # kserve's InferenceRESTClient, for kserve-restclient.test.ts
if ! bash "$ORTHANC" status >/dev/null 2>&1; then STARTED_ORTHANC=1; fi
bash "$ORTHANC" start >&2

DATABASE_URL_TEST="$(bash "$PG" url)"
export DATABASE_URL_TEST
echo "[test-services] DATABASE_URL_TEST=$DATABASE_URL_TEST" >&2

set +e
npx vitest run --config vitest.services.config.ts "$@"
rc=$?
set -e
exit "$rc"
