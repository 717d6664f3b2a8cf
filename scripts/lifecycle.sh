#!/usr/bin/env bash
# Deploy, tear down and plan an environment stack by stack, on the local emulator or (--target aws) on AWS.
#   scripts/lifecycle.sh up dev          scripts/lifecycle.sh down dev --stop-emulator
#   scripts/lifecycle.sh --help          (every command; docs/lifecycle.md explains them)
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
exec .venv/bin/python -m lifecycle "$@"
