#!/usr/bin/env bash
# Installs podman (with runc), debootstrap and their helpers from Debian's packages; skips what is there.
set -euo pipefail
pkgs=(podman runc conmon netavark aardvark-dns slirp4netns uidmap iptables debootstrap)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "podman $(podman --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}'), debootstrap: already installed"
  exit 0
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "installing: ${missing[*]}"
# A stale package list makes installs fail with 404s; refresh once, quietly.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
podman --version
