#!/usr/bin/env bash
# A real PACS for the multimodal services tests: Orthanc (Debian package) with its DICOMweb plugin,
# on loopback ports that are not Orthanc's defaults, with its own storage under .services/orthanc.
#
#   bash scripts/services/orthanc.sh start    # install if missing (apt-get), start, wait until ready
#   bash scripts/services/orthanc.sh stop     # stop the server this script started
#   bash scripts/services/orthanc.sh status   # exit 0 when it answers
#   bash scripts/services/orthanc.sh url      # print the DICOMweb root (for DICOMWEB_URL)
#   bash scripts/services/orthanc.sh rest     # print the REST root (uploads, deletes)
#   bash scripts/services/orthanc.sh reset    # stop and delete its storage
#
# Environment: ORTHANC_HTTP_PORT (default 18042), ORTHANC_DICOM_PORT (default 14242).
# Remote access is off (Orthanc answers loopback clients only) and authentication is off.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.services/orthanc"
HTTP_PORT="${ORTHANC_HTTP_PORT:-18042}"
DICOM_PORT="${ORTHANC_DICOM_PORT:-14242}"
PIDFILE="$DIR/orthanc.pid"
LOG="$DIR/orthanc.log"
REST="http://127.0.0.1:$HTTP_PORT"

log() { printf '[orthanc] %s\n' "$*" >&2; }
die() { printf '[orthanc] ERROR: %s\n' "$*" >&2; exit 1; }

plugin_path() {
  local p
  for p in /usr/share/orthanc/plugins/libOrthancDicomWeb.so /usr/lib/orthanc/plugins/libOrthancDicomWeb.so; do
    [[ -f "$p" ]] && { echo "$p"; return 0; }
  done
  return 1
}

install() {
  if command -v Orthanc >/dev/null 2>&1 && plugin_path >/dev/null; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || die "Orthanc is missing and apt-get is unavailable; install orthanc and orthanc-dicomweb"
  local sudo=()
  if (( EUID != 0 )); then
    sudo -n true 2>/dev/null || die "Orthanc is missing; run as root or: sudo apt-get install -y orthanc orthanc-dicomweb"
    sudo=(sudo -n)
  fi
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e "$policy" ]]; then
    # Keep the package from starting its own server on the default ports.
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 0755 "$policy"
    added=1
  fi
  log "installing Debian packages orthanc and orthanc-dicomweb"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc orthanc-dicomweb >/dev/null \
    || die "apt-get install orthanc orthanc-dicomweb failed"
  (( added )) && "${sudo[@]}" rm -f "$policy"
  plugin_path >/dev/null || die "the DICOMweb plugin was not found after installing orthanc-dicomweb"
}

answers() { curl -fsS -m 2 "$REST/system" >/dev/null 2>&1; }

start() {
  if answers; then log "already running on $REST"; return 0; fi
  install
  mkdir -p "$DIR/db"
  cat > "$DIR/orthanc.json" <<EOF
{
  "Name": "VitalsTestPACS",
  "StorageDirectory": "$DIR/db",
  "IndexDirectory": "$DIR/db",
  "HttpPort": $HTTP_PORT,
  "DicomPort": $DICOM_PORT,
  "DicomServerEnabled": false,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "HttpThreadsCount": 8,
  "ConcurrentJobs": 1,
  "StableAge": 1,
  "Plugins": ["$(plugin_path)"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": false, "Host": "127.0.0.1:$HTTP_PORT", "Ssl": false }
}
EOF
  log "starting Orthanc on $REST (storage $DIR/db)"
  nohup Orthanc "$DIR/orthanc.json" >"$LOG" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 60); do
    if answers; then
      curl -fsS -m 2 "$REST/dicom-web/studies" >/dev/null || die "Orthanc answers but its DICOMweb plugin does not; see $LOG"
      log "ready"
      return 0
    fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -20 "$LOG" >&2; die "Orthanc exited; see $LOG"; }
    sleep 0.5
  done
  die "Orthanc did not answer on $REST within 30 s; see $LOG"
}

stop() {
  [[ -f "$PIDFILE" ]] || { log "not started by this script"; return 0; }
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  url) echo "$REST/dicom-web" ;;
  rest) echo "$REST" ;;
  reset) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|status|url|rest|reset" >&2; exit 2 ;;
esac
