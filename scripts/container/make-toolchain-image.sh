#!/usr/bin/env bash
# Makes the image the Dockerfile copies Node from. Node 20 is not in Debian bookworm (it has 18) and
# nothing outside the package registries can be downloaded, so the build machine's own Node 20
# (binary, the headers node-gyp compiles better-sqlite3 against, npm) is packed into a tarball and
# imported. Its CA bundle comes along for the build stage's npm: egress here may be TLS-intercepted
# by a CA that only the host trusts. Skipped when the image already holds this Node and bundle.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

node_version="$(node -p 'process.versions.node')"
[[ "${node_version%%.*}" == 20 ]] || { echo "Node 20 needed on the build machine, found $node_version" >&2; exit 1; }
prefix="$(node -p 'require("node:path").resolve(process.execPath, "../..")')"
headers="$prefix/include/node"
npm_dir="$(npm root -g)/npm"
ca_bundle="${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -f "$headers/node_api.h" ]] || { echo "Node headers not found at $headers" >&2; exit 1; }
[[ -f "$npm_dir/bin/npm-cli.js" ]] || { echo "npm not found at $npm_dir" >&2; exit 1; }
[[ -f "$ca_bundle" ]] || { echo "CA bundle not found at $ca_bundle" >&2; exit 1; }

stamp="node-$node_version-npm-$(node -p "require('$npm_dir/package.json').version")-ca-$(sha256sum "$ca_bundle" | cut -c1-12)"
if image_exists "$TOOLCHAIN_IMAGE" \
  && [[ "$(podman image inspect --format '{{index .Config.Labels "vitals.toolchain"}}' "$TOOLCHAIN_IMAGE")" == "$stamp" ]]; then
  echo "toolchain image $TOOLCHAIN_IMAGE: already there ($stamp)"
  exit 0
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage" "$stage.tar"' EXIT
mkdir -p "$stage/usr/local/bin" "$stage/usr/local/include" "$stage/usr/local/lib/node_modules" "$stage/usr/local/share/vitals-build"
cp "$(node -p 'process.execPath')" "$stage/usr/local/bin/node"
cp -a "$headers" "$stage/usr/local/include/node"
cp -a "$npm_dir" "$stage/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
cp "$ca_bundle" "$stage/usr/local/share/vitals-build/ca-certificates.crt"
tar --numeric-owner --owner=0 --group=0 -C "$stage" -cf "$stage.tar" usr
timed "podman import" podman import --quiet --change "LABEL vitals.toolchain=$stamp" "$stage.tar" "$TOOLCHAIN_IMAGE"
rm -f "$stage.tar"
echo "toolchain image $TOOLCHAIN_IMAGE: imported ($stamp)"
