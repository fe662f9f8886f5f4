#!/usr/bin/env bash
# Validates deploy/compose.yaml for each broker profile, three ways:
#   compose-validate (compose-go, the loader Docker Compose uses: schema, references, ports)
#   podman-compose config (pinned from PyPI in a venv: the tool the docs use on Debian)
#   promtool check config on the Prometheus config it mounts (with the alert rules)
# and checks the shape: two api replicas behind the proxy, one worker, migrations first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
# the Go toolchain of these machines lives in /usr/local/go; a non-login shell may lack it on PATH
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
cd "$here/../.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}" GOTOOLCHAIN=local

if [[ ! -x "$COMPOSE_VENV/bin/podman-compose" ]] || ! cmp -s "$here/compose-requirements.txt" "$COMPOSE_VENV/requirements.txt"; then
  rm -rf "$COMPOSE_VENV"
  python3 -m venv "$COMPOSE_VENV"
  "$COMPOSE_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$here/compose-requirements.txt"
  cp "$here/compose-requirements.txt" "$COMPOSE_VENV/requirements.txt"
fi
# rebuilt only when its sources change (by content: a fresh clone has new mtimes)
source_hash="$(cat "$here"/compose-validate/{go.mod,go.sum,main.go} | sha256sum | cut -c1-16)"
if [[ ! -x "$COMPOSE_VALIDATE" || "$(cat "$COMPOSE_VALIDATE.src" 2>/dev/null)" != "$source_hash" ]]; then
  mkdir -p "$(dirname "$COMPOSE_VALIDATE")"
  (cd "$here/compose-validate" && go build -trimpath -o "$COMPOSE_VALIDATE" .)
  echo "$source_hash" >"$COMPOSE_VALIDATE.src"
fi
promtool="$(bash scripts/services/prometheus.sh path)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

expect() { # expect FILE PATTERN WHAT
  grep -Eq "$2" "$1" || { cat "$1"; echo "compose: $3" >&2; exit 1; }
}

for profile in "" kafka rabbitmq; do
  args=(-f deploy/compose.yaml)
  [[ -n "$profile" ]] && args+=(-profile "$profile")
  "$COMPOSE_VALIDATE" "${args[@]}" | tee "$out/services.txt"
  expect "$out/services.txt" '^  api-1 .*after migrate completed_successfully' "api-1 must start after the migrations"
  expect "$out/services.txt" '^  api-2 .*after migrate completed_successfully' "api-2 must start after the migrations"
  expect "$out/services.txt" '^  proxy .*after api-1 healthy, api-2 healthy' "the proxy must wait for both api replicas"
  expect "$out/services.txt" '^  worker ' "a worker service"
  [[ -z "$profile" ]] || expect "$out/services.txt" "^  $profile " "profile $profile must add the $profile service"

  pc_args=(-f deploy/compose.yaml)
  [[ -n "$profile" ]] && pc_args+=(--profile "$profile")
  "$COMPOSE_VENV/bin/podman-compose" "${pc_args[@]}" config >"$out/podman-compose.yaml" 2>"$out/podman-compose.err" \
    || { cat "$out/podman-compose.err"; exit 1; }
  echo "  podman-compose $(awk -F== '/^podman-compose==/ { print $2 }' "$here/compose-requirements.txt") config: ok"
done
"$promtool" check config deploy/compose/prometheus/prometheus.yml
echo "compose: valid for the default, kafka and rabbitmq profiles"
