#!/usr/bin/env bash
# Makes the Dockerfile's base image without a container registry (none is reachable here):
# `debootstrap --variant=minbase` from Debian's mirror → a cached tarball → `podman import`,
# tagged with the name the Dockerfile's FROM uses. Skips each step whose result already exists.
#   DEBIAN_MIRROR  optional mirror URL (default: debootstrap's own default mirror)
#   FORCE_BASE=1   rebuild the tarball and the image
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

tarball="$VITALS_CACHE_DIR/debootstrap-$DEBIAN_SUITE-minbase.tar"
# tini: PID 1 of the image; ca-certificates: outbound TLS (webhooks, brokers, DICOMweb).
include="ca-certificates,tini"

if [[ "${FORCE_BASE:-0}" == 1 ]]; then
  rm -f "$tarball"
  podman rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

if image_exists "$BASE_IMAGE"; then
  echo "base image $BASE_IMAGE: already there"
  exit 0
fi

if [[ ! -s "$tarball" ]]; then
  mkdir -p "$VITALS_CACHE_DIR"
  rootfs="$(mktemp -d "$VITALS_CACHE_DIR/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  echo "debootstrap $DEBIAN_SUITE (minbase, + $include) into $rootfs"
  run_debootstrap() {
    # shellcheck disable=SC2086  # the mirror is optional
    debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$rootfs" ${DEBIAN_MIRROR:-} \
      >"$VITALS_CACHE_DIR/debootstrap.log" 2>&1 || { tail -20 "$VITALS_CACHE_DIR/debootstrap.log"; return 1; }
  }
  timed debootstrap run_debootstrap
  # Point apt at the same mirror for updates and security fixes, so a build stage's
  # `apt-get install` gets patched packages.
  mirror="$(awk '$1 == "deb" { print $2; exit }' "$rootfs/etc/apt/sources.list")"
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $DEBIAN_SUITE main
deb $mirror $DEBIAN_SUITE-updates main
deb ${mirror%/debian}/debian-security $DEBIAN_SUITE-security main
SOURCES
  # Keep images small: no downloaded .debs, package lists or man pages.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/man/* "$rootfs"/var/log/*.log
  printf 'path-exclude /usr/share/man/*\npath-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n' >"$rootfs/etc/dpkg/dpkg.cfg.d/01-slim"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/01-no-recommends"
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  echo "cached $tarball ($(du -h "$tarball" | cut -f1))"
else
  echo "debootstrap tarball: cached at $tarball"
fi

timed "podman import" podman import --quiet --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE"
echo "base image $BASE_IMAGE: imported"
