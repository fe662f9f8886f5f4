# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts that source it
# Sourced by the deploy checks: pinned versions and where the tools live once installed.
# Go programs come from the Go module proxy (go install MODULE@VERSION); nothing from GitHub.
HELM_MODULE=helm.sh/helm/v3/cmd/helm
HELM_VERSION=v3.22.0
KUBECONFORM_MODULE=github.com/yannh/kubeconform/cmd/kubeconform
KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_MODULE=github.com/rhysd/actionlint/cmd/actionlint
ACTIONLINT_VERSION=v1.7.12
# Schemas for kubeconform, also Go modules: Kubernetes' OpenAPI v3 documents as embedded by
# kubectl-validate, and prometheus-operator's CRDs (ServiceMonitor, PrometheusRule).
K8S_SCHEMA_MODULE=sigs.k8s.io/kubectl-validate
K8S_SCHEMA_MODULE_VERSION=v0.0.4
K8S_VERSION=1.30
PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
PROMETHEUS_OPERATOR_VERSION=v0.85.0

VITALS_CACHE_DIR="${VITALS_CACHE_DIR:-/var/cache/vitals-ci}"
DEPLOY_TOOLS_DIR="${DEPLOY_TOOLS_DIR:-$VITALS_CACHE_DIR/deploy-tools}"
HELM="$DEPLOY_TOOLS_DIR/helm-$HELM_VERSION/helm"
KUBECONFORM="$DEPLOY_TOOLS_DIR/kubeconform-$KUBECONFORM_VERSION/kubeconform"
ACTIONLINT="$DEPLOY_TOOLS_DIR/actionlint-$ACTIONLINT_VERSION/actionlint"
KUBECONFORM_SCHEMAS="$DEPLOY_TOOLS_DIR/kubeconform-schemas-k8s$K8S_VERSION-po$PROMETHEUS_OPERATOR_VERSION"
# kubeconform's file layout; -strict selects no other folder since the path is complete
KUBECONFORM_SCHEMA_LOCATION="$KUBECONFORM_SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json"
COMPOSE_VENV="$DEPLOY_TOOLS_DIR/venv-podman-compose"
COMPOSE_VALIDATE="$DEPLOY_TOOLS_DIR/compose-validate/compose-validate"
