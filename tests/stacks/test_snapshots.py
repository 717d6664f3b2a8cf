"""A JSON snapshot per stack: reviewable diffs of what each change does to the synthesized Terraform.

Snapshots only show change; the property tests beside this file say what must hold.
Update them deliberately with `pytest tests/stacks/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.layers import Layer

# Lambda bundles are content-addressed; their hashes change with service code, not with infrastructure.
_ASSET_HASH = re.compile(r"(assets/[^/]+/)[0-9A-F]{32,}")
_CONTENT_HASH_KEYS = {"source_code_hash"}


def _normalize(value):
    if isinstance(value, dict):
        return {key: "<hash>" if key in _CONTENT_HASH_KEYS else _normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    if isinstance(value, str):
        return _ASSET_HASH.sub(r"\1<hash>", value)
    return value


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize("layer", list(Layer), ids=lambda layer: layer.value)
def test_stack_matches_snapshot(synthesis, snapshot_json, layer, environment):
    assert _normalize(synthesis.stack(layer, environment).config) == snapshot_json
