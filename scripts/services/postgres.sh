#!/usr/bin/env bash
# Throwaway PostgreSQL server for integration tests (no Docker).
#
#   scripts/services/postgres.sh start    # init (first time) + start, prints DATABASE_URL=... last
#   scripts/services/postgres.sh stop     # fast shutdown
#   scripts/services/postgres.sh status   # exit 0 if running, 3 if not
#   scripts/services/postgres.sh url      # prints the connection URL only
#
# Environment:
#   VITALS_PG_PORT   TCP port (default 54329). The server listens on 127.0.0.1 only.
#
# Layout: data dir is <repo>/.services/postgres/data (gitignored via .services/),
# log in <repo>/.services/postgres/postgres.log, unix socket in
# <repo>/.services/postgres/run. If the unprivileged server user cannot reach the
# repo (a parent dir is not traversable), or the socket path would exceed the
# 107-byte unix socket limit, everything lives in /tmp/vitals-pg-$PORT instead.
#
# If the PostgreSQL server binaries are missing they are installed with apt-get
# (Debian/Ubuntu; needs root). PostgreSQL refuses to run as root, so when this
# script runs as root the cluster is owned by and run as an unprivileged system
# user: `postgres` if it exists, otherwise `vitalspg` (created with useradd).
#
# SECURITY: this cluster uses `trust` authentication (no passwords) for local
# socket and 127.0.0.1 connections. It is a disposable test cluster bound to
# loopback only; never reuse this setup for anything holding real data.
set -euo pipefail

PG_SUPERUSER=vitals
PG_DATABASE=vitals_test
PG_HOST=127.0.0.1
PORT="${VITALS_PG_PORT:-54329}"
START_TIMEOUT_S=30

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Keep libpq environment from redirecting our own client calls elsewhere.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE \
  PGSERVICEFILE PGOPTIONS PGDATA PGSSLMODE PGTARGETSESSIONATTRS 2>/dev/null || true

log() { printf '[postgres] %s\n' "$*" >&2; }
die() { printf '[postgres] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  echo "usage: $0 start|stop|status|url" >&2
  exit 2
}

[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) \
  || die "VITALS_PG_PORT must be a TCP port number, got '$PORT'"

URL="postgres://${PG_SUPERUSER}@${PG_HOST}:${PORT}/${PG_DATABASE}"

# ---------------------------------------------------------------- binaries ---

PG_BIN=""

# A usable bin dir has initdb, pg_ctl and postgres side by side.
is_pg_bindir() {
  # pg_dump/pg_restore: `vitals backup`/`restore` on PostgreSQL (postgresql pulls in postgresql-client)
  [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" && -x "$1/pg_dump" && -x "$1/pg_restore" ]]
}

find_pg_bin() {
  local p dir
  # 1. PATH first. Resolve symlinks (e.g. /usr/local/bin/initdb ->
  #    /usr/lib/postgresql/15/bin/initdb) so that pg_isready/psql/etc. come from
  #    the same installation. Debian's /usr/bin/{psql,pg_isready} are
  #    pg_wrapper scripts, and Debian does not put initdb/pg_ctl on PATH at all.
  if p="$(command -v initdb 2>/dev/null)" && [[ -n "$p" ]]; then
    dir="$(dirname "$(readlink -f "$p")")"
    if is_pg_bindir "$dir"; then PG_BIN="$dir"; return 0; fi
  fi
  # 2. Debian/Ubuntu layout, newest major version first.
  local d
  while IFS= read -r d; do
    [[ -n "$d" ]] || continue
    if is_pg_bindir "$d"; then PG_BIN="$d"; return 0; fi
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV)
  return 1
}

install_pg() {
  command -v apt-get >/dev/null 2>&1 \
    || die "PostgreSQL server binaries not found and apt-get is unavailable; install PostgreSQL (initdb, pg_ctl) manually"
  local sudo=()
  if (( EUID != 0 )); then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
      || die "PostgreSQL server binaries not found; run as root or: sudo apt-get install -y postgresql"
    sudo=(sudo -n)
  fi
  log "PostgreSQL server binaries not found; installing with apt-get (postgresql)..."
  # Non-interactive: CI has no stdin/tty. The package's postinst may create and
  # try to start the distro's own 'main' cluster on 5432; that is harmless here.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql \
    || die "apt-get install -y postgresql failed"
}

ensure_pg_bin() {
  [[ -n "$PG_BIN" ]] && return 0
  if ! find_pg_bin; then
    install_pg
    find_pg_bin || die "PostgreSQL installed, but initdb/pg_ctl/postgres not found on PATH or in /usr/lib/postgresql/*/bin"
  fi
  # Client tools: prefer the ones next to the server, else whatever is on PATH.
  local t
  for t in pg_isready psql; do
    if [[ -x "$PG_BIN/$t" ]]; then
      printf -v "BIN_${t}" '%s' "$PG_BIN/$t"
    elif command -v "$t" >/dev/null 2>&1; then
      printf -v "BIN_${t}" '%s' "$(command -v "$t")"
    else
      die "'$t' not found (looked in $PG_BIN and PATH)"
    fi
  done
}

# -------------------------------------------------------- run-as user / dirs ---

RUN_USER=""   # empty => run as the current (non-root) user

ensure_run_user() {
  (( EUID == 0 )) || return 0
  [[ -n "$RUN_USER" ]] && return 0
  if id -u postgres >/dev/null 2>&1; then
    RUN_USER=postgres
  else
    RUN_USER=vitalspg
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
      log "creating system user '$RUN_USER' to own the test cluster"
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$RUN_USER" \
        || die "useradd $RUN_USER failed"
    fi
  fi
}

# Run a command as the cluster owner (cwd / so an untraversable cwd such as
# /root does not upset initdb/postgres). fd 9 (our flock) is closed so the
# long-lived postmaster started by pg_ctl does not inherit and hold the lock.
as_pg() {
  if [[ -n "$RUN_USER" ]]; then
    (cd / && runuser -u "$RUN_USER" -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

# Can the cluster owner traverse into $1?
pg_can_reach() {
  if [[ -n "$RUN_USER" ]]; then
    runuser -u "$RUN_USER" -- test -x "$1" 2>/dev/null
  else
    test -x "$1"
  fi
}

BASE=""
socket_ok() { (( ${#1} + ${#PORT} + 10 <= 107 )); }   # "<dir>/.s.PGSQL.<port>"

choose_base() {
  local repo_base="$REPO_ROOT/.services/postgres"
  local tmp_base="/tmp/vitals-pg-$PORT"
  # An existing cluster wins (so status/stop find whatever start created).
  if [[ -f "$repo_base/data/PG_VERSION" ]]; then BASE="$repo_base"; return; fi
  if [[ -f "$tmp_base/data/PG_VERSION" ]]; then BASE="$tmp_base"; return; fi
  if ! socket_ok "$repo_base/run"; then
    log "repo path too long for a unix socket path; using $tmp_base"
    BASE="$tmp_base"; return
  fi
  if [[ -n "$RUN_USER" ]]; then
    # .services/ itself is created by us with 0755; the question is whether the
    # repo's parent directories (e.g. a 0700 /root) let $RUN_USER through.
    if ! pg_can_reach "$REPO_ROOT"; then
      log "user '$RUN_USER' cannot traverse to $REPO_ROOT; using $tmp_base"
      BASE="$tmp_base"; return
    fi
  fi
  BASE="$repo_base"
}

set_paths() {
  DATA="$BASE/data"
  SOCK_DIR="$BASE/run"
  LOG_FILE="$BASE/postgres.log"
}

# Paths only (no user creation / installs): for status/stop/url.
resolve_existing() {
  ensure_run_user
  choose_base
  set_paths
}

prepare_dirs() {
  if [[ "$BASE" == "$REPO_ROOT/.services/postgres" ]]; then
    mkdir -p "$REPO_ROOT/.services"
    chmod 0755 "$REPO_ROOT/.services"
  fi
  mkdir -p "$BASE" "$SOCK_DIR"
  if [[ -n "$RUN_USER" ]]; then
    chown "$RUN_USER:" "$BASE" "$SOCK_DIR"
    # A data dir left owned by someone else (e.g. copied as root) won't start.
    if [[ -e "$DATA" && "$(stat -c %U "$DATA")" != "$RUN_USER" ]]; then
      chown -R "$RUN_USER:" "$DATA"
    fi
    if [[ -e "$LOG_FILE" ]]; then chown "$RUN_USER:" "$LOG_FILE"; fi
  fi
  chmod 0755 "$BASE"
  chmod 0700 "$SOCK_DIR"
  [[ -n "$RUN_USER" ]] && ! pg_can_reach "$SOCK_DIR" \
    && die "user '$RUN_USER' cannot access $SOCK_DIR"
  return 0
}

# ---------------------------------------------------------------- cluster ---

# Quote a value for postgresql.conf ('...' with '' escaping).
conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

init_cluster() {
  log "initializing new cluster in $DATA"
  rm -rf "$DATA"   # only reached when there is no PG_VERSION: partial leftovers
  # --locale=C: minimal CI images often have no generated locales.
  as_pg "$PG_BIN/initdb" -D "$DATA" -U "$PG_SUPERUSER" --auth=trust \
    --encoding=UTF8 --locale=C --no-instructions >"$BASE/initdb.log" 2>&1 \
    || { tail -n 30 "$BASE/initdb.log" >&2; die "initdb failed (full log: $BASE/initdb.log)"; }
  # Throwaway test cluster: trust auth, local socket + IPv4 loopback only.
  as_pg tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# Generated by scripts/services/postgres.sh -- disposable TEST cluster.
# trust = no passwords; acceptable only because the server listens on
# 127.0.0.1 and a private unix socket directory.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
EOF
  printf "\n# Added by scripts/services/postgres.sh (rewritten on every start)\ninclude_if_exists = 'vitals-runtime.conf'\n" \
    | as_pg tee -a "$DATA/postgresql.conf" >/dev/null
}

write_runtime_conf() {
  {
    echo "# Generated by scripts/services/postgres.sh on every start; do not edit."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = $(conf_quote "$SOCK_DIR")"
    # Test-only durability trade-offs for speed.
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "max_connections = 100"
  } | as_pg tee "$DATA/vitals-runtime.conf" >/dev/null
}

check_version() {
  local data_ver bin_ver
  data_ver="$(cat "$DATA/PG_VERSION")"
  bin_ver="$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/')"
  [[ "$data_ver" == "$bin_ver" ]] || die \
    "cluster in $DATA is PostgreSQL $data_ver but binaries in $PG_BIN are $bin_ver; it is a throwaway test cluster: run '$0 stop; rm -rf $DATA' and start again"
}

# Port of the running postmaster (line 4 of postmaster.pid), empty if unknown.
running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true; }

is_running() {
  [[ -f "$DATA/postmaster.pid" ]] || return 1
  as_pg "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

is_ready() {
  "$BIN_pg_isready" -q -h "$PG_HOST" -p "$PORT" -U "$PG_SUPERUSER" -d postgres -t 2 >/dev/null 2>&1
}

fail_start() {
  log "$1"
  if [[ -f "$LOG_FILE" ]]; then
    log "last 40 lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 || true
  fi
  exit 1
}

# Status word on line 8 of postmaster.pid ("starting", "ready", "stopping"...).
pm_status() { sed -n 8p "$DATA/postmaster.pid" 2>/dev/null | tr -d ' ' || true; }

wait_ready() {
  local deadline=$(( SECONDS + START_TIMEOUT_S )) gone=0
  while (( SECONDS < deadline )); do
    # Require OUR postmaster to report ready (not merely something answering on
    # the port), then confirm with pg_isready over TCP.
    if [[ "$(pm_status)" == "ready" ]] && is_ready; then return 0; fi
    # Fail fast if the postmaster died (bad config, port in use, ...): it
    # removes postmaster.pid on exit.
    if [[ -f "$DATA/postmaster.pid" ]]; then
      gone=0
    elif (( ++gone >= 6 )); then
      fail_start "PostgreSQL exited during startup"
    fi
    sleep 0.5
  done
  fail_start "PostgreSQL did not become ready on $PG_HOST:$PORT within ${START_TIMEOUT_S}s"
}

ensure_database() {
  local psql=("$BIN_psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PORT" -U "$PG_SUPERUSER")
  local exists
  exists="$("${psql[@]}" -d postgres -tAc "select 1 from pg_database where datname = '$PG_DATABASE'")" \
    || die "could not query pg_database"
  if [[ "$exists" != "1" ]]; then
    log "creating database $PG_DATABASE"
    "${psql[@]}" -d postgres -c "create database \"$PG_DATABASE\"" >/dev/null \
      || die "could not create database $PG_DATABASE"
  fi
}

with_lock() {
  # Serialize concurrent start/stop calls on the same port.
  if command -v flock >/dev/null 2>&1; then
    local lock="/tmp/vitals-pg-$PORT.lock"
    exec 9>>"$lock"
    flock -w 120 9 || die "timed out waiting for lock $lock"
  fi
}

# --------------------------------------------------------------- commands ---

cmd_start() {
  with_lock
  ensure_pg_bin
  ensure_run_user
  choose_base
  set_paths
  prepare_dirs

  if [[ -f "$DATA/PG_VERSION" ]]; then
    check_version
    if is_running; then
      local rp; rp="$(running_port)"
      [[ -z "$rp" || "$rp" == "$PORT" ]] || die \
        "cluster in $DATA is already running on port $rp, not $PORT; run '$0 stop' first (with VITALS_PG_PORT=$rp)"
      log "already running (data: $DATA)"
      wait_ready
      ensure_database
      echo "DATABASE_URL=$URL"
      return 0
    fi
  fi

  # Something else (another cluster?) already on the port: refuse rather than
  # hand out a URL that points at a server we do not control.
  local rc=0
  "$BIN_pg_isready" -q -h "$PG_HOST" -p "$PORT" -t 2 >/dev/null 2>&1 || rc=$?
  (( rc == 2 || rc == 3 )) || die "port $PORT on $PG_HOST is already served by another PostgreSQL server; stop it or set VITALS_PG_PORT"

  [[ -f "$DATA/PG_VERSION" ]] || init_cluster

  write_runtime_conf
  log "starting PostgreSQL ($("$PG_BIN/postgres" --version)) on $PG_HOST:$PORT (data: $DATA)"
  as_pg "$PG_BIN/pg_ctl" start -D "$DATA" -l "$LOG_FILE" -W >/dev/null \
    || fail_start "pg_ctl start failed"
  wait_ready
  ensure_database
  log "ready"
  echo "DATABASE_URL=$URL"
}

cmd_stop() {
  with_lock
  if ! find_pg_bin; then log "PostgreSQL binaries not installed; nothing to stop"; return 0; fi
  resolve_existing
  if [[ ! -f "$DATA/PG_VERSION" ]] || ! is_running; then
    log "not running"
    return 0
  fi
  log "stopping (data: $DATA)"
  as_pg "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null \
    || die "pg_ctl stop failed; see $LOG_FILE"
  log "stopped"
}

cmd_status() {
  find_pg_bin || { log "not installed"; exit 3; }
  resolve_existing
  if [[ -f "$DATA/PG_VERSION" ]] && is_running; then
    log "running on port $(running_port) (data: $DATA)"
    exit 0
  fi
  log "not running"
  exit 3
}

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  url)    echo "$URL" ;;
  *)      usage ;;
esac
