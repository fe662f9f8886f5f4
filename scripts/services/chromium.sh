#!/usr/bin/env bash
# Makes Debian's `chromium` available for the dashboard's browser tests
# (test/services/dashboard-browser.test.ts, driven by playwright-core with
# executablePath=/usr/bin/chromium — Playwright never downloads a browser here).
#
#   bash scripts/services/chromium.sh          # install chromium if missing (idempotent)
#   bash scripts/services/chromium.sh path     # print chromium's path (after ensuring it)
#
# Environment:
#   CHROMIUM   explicit chromium binary to use instead of /usr/bin/chromium
set -euo pipefail

log() { printf '[chromium] %s\n' "$*" >&2; }
die() { printf '[chromium] ERROR: %s\n' "$*" >&2; exit 1; }

find_chromium() {
  if [[ -n "${CHROMIUM:-}" ]]; then
    [[ -x "$CHROMIUM" ]] || die "CHROMIUM=$CHROMIUM is not an executable"
    echo "$CHROMIUM"; return 0
  fi
  [[ -x /usr/bin/chromium ]] && echo /usr/bin/chromium
}

install_chromium() {
  command -v apt-get >/dev/null 2>&1 || die "chromium not found and apt-get is unavailable; install Debian's chromium or set CHROMIUM"
  local sudo=()
  if (( EUID != 0 )); then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || die "chromium is missing and installing it needs root or passwordless sudo"
    sudo=(sudo -n)
  fi
  log "installing Debian's chromium (apt-get, no recommends)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2 || log "apt-get update failed; trying the cached lists"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
}

path="$(find_chromium || true)"
if [[ -z "$path" ]]; then
  install_chromium
  path="$(find_chromium || true)"
  [[ -n "$path" ]] || die "chromium is still missing after apt-get install"
fi
log "using $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
if [[ "${1:-}" == "path" ]]; then echo "$path"; fi
