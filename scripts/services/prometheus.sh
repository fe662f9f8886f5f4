#!/usr/bin/env bash
# Makes `promtool` available for test/services/prometheus-rules.test.ts, which
# runs `promtool check rules` / `promtool test rules` on
# deploy/prometheus/vitals-alerts.yml. Only promtool is needed: no Prometheus
# server is run.
#
#   bash scripts/services/prometheus.sh          # install promtool if missing (idempotent)
#   bash scripts/services/prometheus.sh path     # print promtool's path (after ensuring it)
#
# Environment:
#   PROMTOOL   explicit promtool binary to use instead of the one on PATH
#
# If promtool is missing it is installed from Debian/Ubuntu's `prometheus`
# package with apt-get (needs root or passwordless sudo), without recommends
# (no node exporter). The package's maintainer scripts may try to start a
# `prometheus` service on :9090; while installing, a policy-rc.d that denies
# service starts is put in place (only if the system has none), and if a
# prometheus daemon is running afterwards that was not running before, it is
# stopped through the package's own init script.
set -euo pipefail

log() { printf '[prometheus] %s\n' "$*" >&2; }
die() { printf '[prometheus] ERROR: %s\n' "$*" >&2; exit 1; }

find_promtool() {
  if [[ -n "${PROMTOOL:-}" ]]; then
    [[ -x "$PROMTOOL" ]] || die "PROMTOOL=$PROMTOOL is not an executable"
    echo "$PROMTOOL"; return 0
  fi
  command -v promtool 2>/dev/null
}

prometheus_running() { pgrep -x prometheus >/dev/null 2>&1; }

install_promtool() {
  command -v apt-get >/dev/null 2>&1 \
    || die "promtool not found and apt-get is unavailable; install Prometheus' promtool manually (https://prometheus.io/download/) or set PROMTOOL"
  local sudo=()
  if (( EUID != 0 )); then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
      || die "promtool not found; run as root or: sudo apt-get install -y --no-install-recommends prometheus"
    sudo=(sudo -n)
  fi

  local was_running=0 policy=/usr/sbin/policy-rc.d added_policy=0
  prometheus_running && was_running=1
  if [[ ! -e "$policy" ]]; then
    # Deny service starts from maintainer scripts (exit 101 = action forbidden).
    printf '#!/bin/sh\n# temporary, scripts/services/prometheus.sh\nexit 101\n' \
      | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 0755 "$policy"
    added_policy=1
    # shellcheck disable=SC2064
    trap "${sudo[*]} rm -f '$policy'" EXIT
  fi

  log "promtool not found; installing Debian package 'prometheus' with apt-get (no recommends)..."
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
    || die "apt-get install -y --no-install-recommends prometheus failed"

  if (( added_policy )); then
    "${sudo[@]}" rm -f "$policy"
    trap - EXIT
  fi

  # Leave no server behind that we caused to start (it would hold :9090).
  if (( ! was_running )) && prometheus_running; then
    log "the package started a prometheus server; stopping it"
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl stop prometheus || true
      "${sudo[@]}" systemctl disable prometheus >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/prometheus ]]; then
      "${sudo[@]}" /etc/init.d/prometheus stop || true
    fi
    prometheus_running && log "WARNING: a prometheus process is still running (check port 9090)"
  fi
}

ensure() {
  local p
  if p="$(find_promtool)" && [[ -n "$p" ]]; then
    echo "$p"; return 0
  fi
  install_promtool
  p="$(find_promtool)" && [[ -n "$p" ]] || die "prometheus installed but promtool is not on PATH"
  log "installed: $("$p" --version 2>&1 | head -n1)"
  echo "$p"
}

case "${1:-}" in
  ""|ensure) ensure >/dev/null ;;
  path)      ensure ;;
  *)         echo "usage: $0 [ensure|path]" >&2; exit 2 ;;
esac
