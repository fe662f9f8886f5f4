#!/usr/bin/env bash
# Lints deploy/helm/vitals and validates its renderings offline:
#   helm lint --strict, for the default, all-features and minimal values
#   helm template … | kubeconform -strict -summary (schemas from install-tools.sh)
#   check-rendered-chart.mjs: the chart's promises (rollouts, probes, roles, secrets, rules)
# and first proves the validator can fail: a manifest with a misspelt field must be rejected.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
cd "$here/../.."
chart=deploy/helm/vitals
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# helm says so each time it follows files/vitals-alerts.yml → deploy/prometheus/vitals-alerts.yml
quiet_link() { grep -v 'found symbolic link in path' >&2 || true; }

kubeconform() { "$KUBECONFORM" -strict -summary -kubernetes-version "$K8S_VERSION.0" -schema-location "$KUBECONFORM_SCHEMA_LOCATION" "$@"; }

cat >"$out/broken.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: { name: broken }
spec:
  replica: 2
  selector: { matchLabels: { app: broken } }
  template:
    metadata: { labels: { app: broken } }
    spec: { containers: [ { name: c, image: i } ] }
YAML
if kubeconform "$out/broken.yaml" >"$out/broken.log" 2>&1; then
  cat "$out/broken.log"
  echo "kubeconform accepted a Deployment with 'spec.replica': the schemas are not strict" >&2
  exit 1
fi
grep -q "additional properties 'replica' not allowed" "$out/broken.log" || { cat "$out/broken.log"; exit 1; }
echo "kubeconform rejects an unknown field (self-test)"

declare -A values=(
  [default]="" [all-features]="$chart/ci/all-features-values.yaml" [minimal]="$chart/ci/minimal-values.yaml"
  [staging]="deploy/helm/environments/staging.yaml" [production]="deploy/helm/environments/production.yaml"
)
for name in default all-features minimal staging production; do
  args=(--namespace vitals --kube-version "$K8S_VERSION.0")
  [[ -n "${values[$name]}" ]] && args+=(--values "${values[$name]}")
  echo "--- $name values"
  "$HELM" lint --strict "$chart" "${args[@]}" 2> >(quiet_link) | grep -v '^$'
  "$HELM" template vitals "$chart" "${args[@]}" >"$out/$name.yaml" 2> >(quiet_link)
  count="$(grep -c '^kind: ' "$out/$name.yaml")"
  ((count > 0)) || { echo "helm template rendered nothing for $name" >&2; exit 1; }
  kubeconform "$out/$name.yaml"
done
echo "--- rendered objects"
node "$here/check-rendered-chart.mjs" --all-features "$out/all-features.yaml" --minimal "$out/minimal.yaml" --default "$out/default.yaml"
