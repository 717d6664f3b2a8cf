"""One construct in a bare stack: its own properties, without the rest of the layer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def bare_stack() -> tuple[Any, Callable[[], dict]]:
    from cdktf import Testing, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = TerraformStack(Testing.app(), "bare")
    AwsProvider(stack, "aws", region="us-east-1")
    # full_synth keeps each resource's `//` block, where checkov exceptions are recorded.
    return stack, lambda: json.loads((Path(Testing.full_synth(stack)) / "stacks" / "bare" / "cdk.tf.json").read_text())


@pytest.fixture
def naming():
    from components.naming import ResourceNamer

    return ResourceNamer(prefix="fraud", suffix="test", path_root="fraud-detection")
