#!/usr/bin/env bash
# Runs the service-backed integration tests (test/services/**) against a real
# PostgreSQL started on 127.0.0.1 by scripts/services/postgres.sh.
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
cleanup() {
  local rc=$?
  if (( STARTED_PG )); then
    bash "$PG" stop || echo "[test-services] WARNING: failed to stop PostgreSQL" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT

if ! bash "$PG" status >/dev/null 2>&1; then
  STARTED_PG=1   # set before start so a half-started server is stopped too
fi
bash "$PG" start >/dev/null   # progress/errors go to stderr; fails the script on error

DATABASE_URL_TEST="$(bash "$PG" url)"
export DATABASE_URL_TEST
echo "[test-services] DATABASE_URL_TEST=$DATABASE_URL_TEST" >&2

set +e
npx vitest run --config vitest.services.config.ts "$@"
rc=$?
set -e
exit "$rc"
