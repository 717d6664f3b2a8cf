#!/usr/bin/env bash
# Runs the test suite: the default (fast) tests, then the end-to-end lifecycle against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
.venv/bin/python -m pytest "$@"
# Then deploy, rebuild and tear down dev on the local emulator with real Terraform
# (docs/lifecycle.md). Only for the whole suite: a run narrowed by arguments skips it.
if [ $# -eq 0 ]; then
  .venv/bin/python -m pytest -m e2e -q tests/lifecycle/test_e2e.py
fi
