"""Every synthesized stack is valid Terraform for AWS provider 5.100.0."""

from __future__ import annotations

import pytest

from stacks.layers import Layer, stack_id


@pytest.mark.background_scan
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize("layer", list(Layer), ids=lambda layer: layer.value)
def test_stack_passes_terraform_validate(synthesis, layer, environment):
    result = synthesis.validation(stack_id(layer, environment))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


@pytest.mark.background_scan
def test_bootstrap_stack_passes_terraform_validate(synthesis):
    result = synthesis.validation("bootstrap")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.background_scan
def test_validation_used_aws_provider_5_100_0(synthesis):
    lock = (synthesis.stack(Layer.NETWORK, "dev").directory / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert 'version     = "5.100.0"' in lock
