#!/usr/bin/env bash
# Runs the test suite: the default (fast) tests and the end-to-end lifecycle against the emulator.
#   scripts/test.sh                 # all; the two e2e tests start first and run alongside the default suite
#   scripts/test.sh <pytest args>   # the default suite narrowed by the arguments, without the e2e tests
set -uo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi

# The two end-to-end tests against the local emulator with real Terraform (docs/lifecycle.md), each
# on an emulator of its own: the whole lifecycle of dev (deploy, drift, promotion, rebuild,
# teardown), and the first steps of a new environment with a first deploy killed and recovered.
# They spend most of their time waiting on the AWS provider's waiters, so they run side by side,
# and the default suite meanwhile instead of after them; their output is shown when they end.
# The longer one sets the pace: the others run at a lower CPU priority so as not to slow it.
e2e_dir=.cache/e2e
rm -rf "$e2e_dir" && mkdir -p "$e2e_dir"
e2e() {  # <name> <test file> [nice level]; run in the background, it becomes the pytest process itself
  exec nice -n "${3:-0}" .venv/bin/python -m pytest -m e2e -q -p no:cacheprovider --basetemp="$e2e_dir/$1" "$2" >"$e2e_dir/$1.txt" 2>&1
}
e2e lifecycle tests/lifecycle/test_e2e.py &
lifecycle=$!
e2e first-deploy tests/lifecycle/test_e2e_first_deploy.py 10 &
first_deploy=$!
stop_e2e() {
  kill "$lifecycle" "$first_deploy" 2>/dev/null
  # An emulator runs in its own session and outlives a killed pytest: stop them too.
  for run_dir in "$e2e_dir"/*/*/; do
    [ -f "$run_dir/emulator.json" ] && .venv/bin/python -m scripts.emulator stop --run-dir "$run_dir" >/dev/null
  done
}
trap stop_e2e EXIT

nice -n 10 .venv/bin/python -m pytest
suite=$?

echo
echo "==> end to end (started with the default suite; output kept in $e2e_dir/<name>.txt)"
wait "$first_deploy"
first_deploy_status=$?
wait "$lifecycle"
lifecycle_status=$?
trap - EXIT
cat "$e2e_dir/first-deploy.txt" "$e2e_dir/lifecycle.txt"
[ "$suite" = 0 ] && [ "$first_deploy_status" = 0 ] && [ "$lifecycle_status" = 0 ]
