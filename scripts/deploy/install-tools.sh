#!/usr/bin/env bash
# Installs the deploy checks' tools, pinned, from the Go module proxy, and writes kubeconform's
# schemas from Go modules (no GitHub download): see tools.sh. Skips whatever is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
# the Go toolchain of these machines lives in /usr/local/go; a non-login shell may lack it on PATH
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "go is needed (the Go toolchain of this machine)" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:--buildvcs=false}" GOTOOLCHAIN=local

install_tool() { # install_tool MODULE VERSION BINARY_PATH
  local module="$1" version="$2" bin="$3" start
  if [[ -x "$bin" ]]; then
    echo "$(basename "$bin") $version: already installed"
    return 0
  fi
  start=$(date +%s)
  mkdir -p "$(dirname "$bin")"
  GOBIN="$(dirname "$bin")" go install -trimpath -ldflags='-s -w' "$module@$version"
  echo "$(basename "$bin") $version: installed in $(($(date +%s) - start)) s"
}

install_tool "$KUBECONFORM_MODULE" "$KUBECONFORM_VERSION" "$KUBECONFORM"
install_tool "$ACTIONLINT_MODULE" "$ACTIONLINT_VERSION" "$ACTIONLINT"
install_tool "$HELM_MODULE" "$HELM_VERSION" "$HELM"

if [[ -f "$KUBECONFORM_SCHEMAS/.complete" ]]; then
  echo "kubeconform schemas (Kubernetes $K8S_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION): already there"
  exit 0
fi
module_dir() { # module_dir MODULE VERSION → the unpacked module in GOMODCACHE
  (cd / && go mod download -json "$1@$2" | node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8")); if (m.Error) { console.error(m.Error); process.exit(1) } console.log(m.Dir)')
}
k8s_dir="$(module_dir "$K8S_SCHEMA_MODULE" "$K8S_SCHEMA_MODULE_VERSION")/pkg/openapiclient/builtins/$K8S_VERSION"
crd_dir="$(module_dir "$PROMETHEUS_OPERATOR_MODULE" "$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
[[ -d "$k8s_dir" ]] || { echo "no OpenAPI documents for Kubernetes $K8S_VERSION in $k8s_dir" >&2; exit 1; }
rm -rf "$KUBECONFORM_SCHEMAS"
node "$here/kubeconform-schemas.mjs" --out "$KUBECONFORM_SCHEMAS" --openapi "$k8s_dir" \
  --crd "$crd_dir/monitoring.coreos.com_servicemonitors.yaml" \
  --crd "$crd_dir/monitoring.coreos.com_prometheusrules.yaml" \
  --crd "$crd_dir/monitoring.coreos.com_podmonitors.yaml"
touch "$KUBECONFORM_SCHEMAS/.complete"
