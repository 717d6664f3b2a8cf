#!/usr/bin/env bash
# Runs the test suite: the default (fast) tests and the end-to-end lifecycle against the emulator.
#   scripts/test.sh                 # both; the e2e starts first and runs alongside the default suite
#   scripts/test.sh <pytest args>   # the default suite narrowed by the arguments, without the e2e
set -uo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi

# Deploy, rebuild and tear down dev on the local emulator with real Terraform (docs/lifecycle.md).
# It spends most of its time waiting on the AWS provider's waiters, so the default suite runs
# meanwhile instead of after it; its output is shown when it ends.
e2e_dir=.cache/e2e
rm -rf "$e2e_dir" && mkdir -p "$e2e_dir"
.venv/bin/python -m pytest -m e2e -q -p no:cacheprovider --basetemp="$e2e_dir/tmp" tests/lifecycle/test_e2e.py >"$e2e_dir/output.txt" 2>&1 &
e2e=$!
stop_e2e() {
  kill "$e2e" 2>/dev/null || return 0
  # The emulator runs in its own session and outlives a killed pytest: stop it too.
  for run_dir in "$e2e_dir"/tmp/*/; do
    [ -f "$run_dir/emulator.json" ] && .venv/bin/python -m scripts.emulator stop --run-dir "$run_dir" >/dev/null
  done
}
trap stop_e2e EXIT

.venv/bin/python -m pytest
suite=$?

echo
echo "==> end to end (started with the default suite; output kept in $e2e_dir/output.txt)"
wait "$e2e"
e2e_status=$?
trap - EXIT
cat "$e2e_dir/output.txt"
[ "$suite" = 0 ] && [ "$e2e_status" = 0 ]
