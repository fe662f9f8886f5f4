#!/usr/bin/env bash
# actionlint over .github/workflows (with shellcheck on every `run:` block), and shellcheck over
# the deploy and container scripts. shellcheck is Debian's package, installed when missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
cd "$here/../.."
if ! command -v shellcheck >/dev/null; then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo -n"
  $SUDO apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
fi
echo "actionlint $ACTIONLINT_VERSION, $(shellcheck --version | awk '/^version/ { print "shellcheck " $2 }')"
# Self-test: a workflow with an undefined job dependency and an unquoted expansion must fail.
broken="$(mktemp -d)"
trap 'rm -rf "$broken"' EXIT
cat >"$broken/broken.yml" <<'YAML'
on: push
jobs:
  test:
    needs: [build]
    runs-on: ubuntu-24.04
    steps:
      - run: cd $HOME/x && echo ${{ github.event.head_commit.message }}
YAML
if "$ACTIONLINT" -shellcheck "$(command -v shellcheck)" "$broken/broken.yml" >"$broken/log" 2>&1; then
  echo "actionlint accepted a broken workflow" >&2
  exit 1
fi
if ! grep -q 'needs' "$broken/log" || ! grep -q 'shellcheck' "$broken/log"; then
  cat "$broken/log"
  exit 1
fi
echo "actionlint rejects a broken workflow (self-test)"
"$ACTIONLINT" -shellcheck "$(command -v shellcheck)"
echo "actionlint: $(find .github/workflows -name '*.yml' | wc -l) workflows clean"
shellcheck scripts/container/*.sh scripts/deploy/*.sh
echo "shellcheck: scripts/container and scripts/deploy clean"
