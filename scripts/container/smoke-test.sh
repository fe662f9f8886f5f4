#!/usr/bin/env bash
# Smoke test of the built image (scripts/container/build-image.sh first), on loopback only:
#   1. start it with its state on a named volume; wait until `podman healthcheck run` passes
#   2. check PID 1 is tini, the service runs as the non-root user, no compiler or npm is inside
#   3. predict against the demo model (bootstrapped into the empty registry on first start)
#   4. SIGTERM (podman stop): Node must exit 0 well within the grace period; the prediction log is
#      set to flush only every 10 minutes, so the row exists only if the drain on SIGTERM wrote it
#   5. start a second container on the same volume: the prediction is there (state lives on the volume)
# Prints one line per check; exits non-zero at the first that fails.
#   VITALS_IMAGE  image to test (default localhost/vitals:dev)   GRACE  stop grace period, s (default 20)
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

grace="${GRACE:-20}"
run_id="vitals-smoke-$$"
volume="$run_id-data"
containers=()
work="$(mktemp -d)"
cleanup() {
  local c
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

pass() { printf '  ok   %s\n' "$*"; }
fail() {
  printf '  FAIL %s\n' "$*" >&2
  local c
  for c in "${containers[@]}"; do echo "--- logs of $c (last 30 lines)" >&2; podman logs --tail 30 "$c" >&2 2>&1 || true; done
  exit 1
}

image_exists "$VITALS_IMAGE" || fail "image $VITALS_IMAGE not found: run scripts/container/build-image.sh"
podman volume create "$volume" >/dev/null

# start NAME: runs the image published on a free loopback port; sets $base_url
start() {
  local name="$1"
  containers+=("$name")
  # The health timers need systemd, which is absent here; podman says so on stderr and carries on.
  podman run -d --name "$name" -e API_KEY="$api_key" \
    -p 127.0.0.1::8000 \
    -v "$volume:/var/lib/vitals" \
    -e PREDICTION_LOG_FLUSH_MS=600000 -e PREDICTION_LOG_BATCH_SIZE=1000000 \
    "$VITALS_IMAGE" >"$work/$name.id" 2>"$work/$name.err" \
    || { cat "$work/$name.err" >&2; fail "podman run $name"; }
  base_url="http://$(podman port "$name" 8000/tcp | head -1)"
}

# wait_healthy NAME: polls the image's own HEALTHCHECK
wait_healthy() {
  local name="$1" t0
  t0=$(date +%s)
  for _ in $(seq 1 120); do
    if podman healthcheck run "$name" >/dev/null 2>&1; then
      pass "$name healthy after $(($(date +%s) - t0)) s (podman healthcheck run; status $(podman inspect --format '{{.State.Health.Status}}' "$name"))"
      return 0
    fi
    [[ "$(podman inspect --format '{{.State.Running}}' "$name")" == true ]] || fail "$name exited before it was healthy"
    sleep 1
  done
  fail "$name not healthy after 120 s"
}

# stop_cleanly NAME: SIGTERM, then the exit must be 0 (not 137 = killed at the end of the grace period)
stop_cleanly() {
  local name="$1" t0 t1 code
  t0=$(date +%s%N)
  podman stop --time "$grace" "$name" >/dev/null 2>&1
  t1=$(date +%s%N)
  code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
  local ms=$(((t1 - t0) / 1000000))
  [[ "$code" == 0 ]] || fail "$name exit code $code after SIGTERM (137: it ignored SIGTERM and was killed after ${grace}s)"
  ((ms < grace * 1000)) || fail "$name took ${ms} ms to stop (grace ${grace}s)"
  podman logs "$name" >"$work/$name.log" 2>&1
  grep -q 'SIGTERM: draining' "$work/$name.log" || fail "$name did not log its SIGTERM drain"
  pass "$name stopped on SIGTERM in ${ms} ms with exit code 0 (grace ${grace} s)"
}

# the container listens on 0.0.0.0, so Vitals refuses to start without credentials: give it a key
api_key="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
auth=(-H "Authorization: Bearer $api_key")
echo "smoke test of $VITALS_IMAGE"
start "$run_id-1"
wait_healthy "$run_id-1"

pid1="$(podman exec "$run_id-1" cat /proc/1/comm)"
[[ "$pid1" == tini ]] || fail "PID 1 is $pid1, expected tini"
uid="$(podman exec "$run_id-1" id -u)"
[[ "$uid" != 0 ]] || fail "the service runs as root"
# shellcheck disable=SC2016  # expanded inside the container
tools="$(podman exec "$run_id-1" sh -c 'for t in npm gcc g++ make python3; do command -v $t; done; true')"
[[ -z "$tools" ]] || fail "build tools in the runtime image: $tools"
nofile="$(podman exec "$run_id-1" sh -c 'ulimit -n')"
[[ "$nofile" == 20000 ]] || fail "nofile ulimit $nofile, expected 20000 (containers.conf not used?)"
podman exec "$run_id-1" sh -c 'touch /app/x' 2>/dev/null && fail "/app is writable by the service user"
pass "PID 1 tini, uid $uid, no npm/compiler, /app read-only, nofile $nofile"

curl -sf "$base_url/health" >"$work/health.json" || fail "GET /health"
grep -q '"status":"healthy"' "$work/health.json" || fail "/health: $(cat "$work/health.json")"
code="$(curl -s -o "$work/predict.json" -w '%{http_code}' "${auth[@]}" -X POST "$base_url/api/v1/ml-models/predict" \
  -H 'content-type: application/json' -d @examples/predict-one.json)"
[[ "$code" == 200 ]] || fail "predict answered $code: $(cat "$work/predict.json")"
prediction_id="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).prediction_id' "$work/predict.json")"
model_version="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).model_version' "$work/predict.json")"
pass "predicted with breast-cancer $model_version: prediction $prediction_id"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base_url/api/v1/ml-models/predict" -H 'content-type: application/json' -d @examples/predict-one.json)"
[[ "$code" == 401 ]] || fail "an anonymous prediction answered $code, expected 401"
pass "anonymous requests are refused (401) on the open network"
code="$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base_url/api/v1/ml-models/predict" \
  -H 'content-type: application/json' -d @examples/predict-invalid.json)"
[[ "$code" == 422 ]] || fail "an invalid prediction request answered $code, expected 422"
pass "invalid input answered 422"

stop_cleanly "$run_id-1"

start "$run_id-2"
wait_healthy "$run_id-2"
code="$(curl -s -o "$work/row.json" -w '%{http_code}' "${auth[@]}" "$base_url/api/v1/predictions/$prediction_id")"
[[ "$code" == 200 ]] || fail "prediction $prediction_id not in the log after restart ($code): the SIGTERM drain lost it"
grep -q "$prediction_id" "$work/row.json" || fail "prediction row: $(cat "$work/row.json")"
pass "prediction $prediction_id read back from the volume by a new container"
stop_cleanly "$run_id-2"

echo "smoke test passed"
