#!/usr/bin/env bash
# Builds the Vitals image with podman, from nothing but Debian's and npm's registries:
#   1. podman, runc, debootstrap (Debian packages)    install-podman.sh
#   2. the base image (debootstrap → podman import)    make-base-image.sh
#   3. the Node 20 toolchain image (the host's Node)   make-toolchain-image.sh
#   4. podman build --pull=never --format docker
# Each step skips work already done; podman's layer cache makes an unchanged rebuild take seconds.
#   VITALS_IMAGE  the tag to build (default localhost/vitals:dev)
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

timed "install podman" bash "$CONTAINER_DIR/install-podman.sh"
timed "base image" bash "$CONTAINER_DIR/make-base-image.sh"
timed "toolchain image" bash "$CONTAINER_DIR/make-toolchain-image.sh"

revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
build() {
  podman build --pull=never --format docker \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg TOOLCHAIN_IMAGE="$TOOLCHAIN_IMAGE" \
    --label org.opencontainers.image.revision="$revision" \
    --tag "$VITALS_IMAGE" --file Dockerfile . >"${BUILD_LOG:-/tmp/vitals-image-build.log}" 2>&1 \
    || { tail -40 "${BUILD_LOG:-/tmp/vitals-image-build.log}"; return 1; }
}
timed "podman build" build
podman image inspect --format "{{.Id}}" "$VITALS_IMAGE" | cut -c1-12 | sed "s|^|built $VITALS_IMAGE |"
echo "size: $(podman image inspect --format '{{.Size}}' "$VITALS_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
