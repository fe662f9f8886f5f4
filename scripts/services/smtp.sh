#!/usr/bin/env bash
# Python virtualenv with aiosmtpd, the real SMTP server used by the e-mail
# notifier test (test/services/notifier-email.test.ts via
# test/helpers/smtp-server.ts, which spawns `.venv/smtp/bin/python -m aiosmtpd`).
#
#   bash scripts/services/smtp.sh          # create .venv/smtp + install aiosmtpd (idempotent)
#   bash scripts/services/smtp.sh python   # print the venv's python path (after ensuring it)
#
# Environment:
#   VITALS_SMTP_PYTHON   interpreter used to create the venv (default: python3)
#
# The venv lives in <repo>/.venv/smtp (gitignored via .venv/). Re-running is
# cheap: if aiosmtpd already imports in the venv nothing is installed. A broken
# venv (e.g. created by a Python that has since been removed) is recreated.
# On Debian/Ubuntu system Pythons without the venv module, install
# python3-venv first (apt-get install -y python3-venv).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="$REPO_ROOT/.venv/smtp"
PY="$VENV/bin/python"
BASE_PYTHON="${VITALS_SMTP_PYTHON:-python3}"

log() { printf '[smtp] %s\n' "$*" >&2; }
die() { printf '[smtp] ERROR: %s\n' "$*" >&2; exit 1; }

have_aiosmtpd() { [[ -x "$PY" ]] && "$PY" -c 'import aiosmtpd' >/dev/null 2>&1; }

ensure() {
  if have_aiosmtpd; then
    return 0
  fi
  command -v "$BASE_PYTHON" >/dev/null 2>&1 || die "'$BASE_PYTHON' not found; install Python 3 (>= 3.8)"
  if [[ -d "$VENV" ]] && ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    log "removing broken virtualenv $VENV"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$PY" ]]; then
    log "creating virtualenv $VENV ($("$BASE_PYTHON" --version 2>&1))"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV" \
      || die "'$BASE_PYTHON -m venv' failed; on Debian/Ubuntu: apt-get install -y python3-venv"
  fi
  log "installing aiosmtpd into $VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 \
    || die "pip install aiosmtpd failed"
  have_aiosmtpd || die "aiosmtpd installed but does not import in $VENV"
  log "ready: $("$PY" -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)')"
}

case "${1:-}" in
  ""|ensure) ensure ;;
  python)    ensure; echo "$PY" ;;
  *)         echo "usage: $0 [ensure|python]" >&2; exit 2 ;;
esac
