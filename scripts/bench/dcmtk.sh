#!/usr/bin/env bash
# dcmtk (Debian's package: dcm2pnm, dcmj2pnm, dcml2pnm and the dcmc* encoders), the reference of
# bench/multimodal.mjs. Idempotent; installs with apt-get when missing and running as root.
#
#   bash scripts/bench/dcmtk.sh        # prints the dcm2pnm version
set -euo pipefail
if ! command -v dcmj2pnm >/dev/null || ! command -v dcml2pnm >/dev/null || ! command -v dcmcjpls >/dev/null; then
  if (( EUID != 0 )) || ! command -v apt-get >/dev/null; then
    echo "install dcmtk (Debian/Ubuntu: apt-get install dcmtk)" >&2
    exit 1
  fi
  echo "[dcmtk] installing dcmtk with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dcmtk >&2
fi
dcm2pnm --version 2>&1 | head -1
