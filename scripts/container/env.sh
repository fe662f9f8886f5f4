# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts that source it
# Sourced by the container scripts: one place for names, paths and the podman config.
CONTAINER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CONTAINER_DIR/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$CONTAINER_DIR/containers.conf}"
# The debootstrap tarball is cached here so a re-run (or another clone on this machine) skips it.
VITALS_CACHE_DIR="${VITALS_CACHE_DIR:-/var/cache/vitals-ci}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
# The Dockerfile's FROM names (ARG defaults there); no registry is involved.
BASE_IMAGE="${BASE_IMAGE:-localhost/vitals-base:$DEBIAN_SUITE}"
TOOLCHAIN_IMAGE="${TOOLCHAIN_IMAGE:-localhost/vitals-toolchain:node20}"
VITALS_IMAGE="${VITALS_IMAGE:-localhost/vitals:dev}"

timed() { # timed LABEL CMD...: runs CMD and prints how long it took
  local label="$1" start end rc=0
  shift
  start=$(date +%s)
  "$@" || rc=$?
  end=$(date +%s)
  printf '    [%s: %ss]\n' "$label" "$((end - start))"
  return "$rc"
}

image_exists() { podman image exists "$1"; }
