"""Where things are in a checkout: its root, and the untracked cache every tool keeps its files in."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Git ignores it: the venv-side tools, Terraform's CLI config and plugin cache, emulator runs, logs.
CACHE_ROOT = REPO_ROOT / ".cache"
