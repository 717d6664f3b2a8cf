"""The endpoints benchmark compares two configurations that differ only in how the provider finds the emulator."""

from __future__ import annotations

from benchmarks.bench_provider_endpoints import SERVICES, configuration
from config.targets import DeploymentTarget


def test_the_two_ways_differ_only_in_the_endpoints_block():
    target = DeploymentTarget(emulator_endpoint="http://127.0.0.1:4566")
    (with_block,) = configuration(target, with_endpoints_block=True)["provider"]["aws"]
    (without,) = configuration(target, with_endpoints_block=False)["provider"]["aws"]
    assert with_block.pop("endpoints") == [{service: "http://127.0.0.1:4566" for service in SERVICES}]
    assert with_block == without == {"region": "us-east-1", **target.provider_settings()}
    # The plan reads the caller identity, so the provider must reach the emulator either way.
    assert "aws_caller_identity" in configuration(target, with_endpoints_block=False)["data"]
