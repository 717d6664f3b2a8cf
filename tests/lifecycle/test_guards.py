"""The guards: no layer is destroyed under a deployed dependant, none deployed before its producers."""

from __future__ import annotations

import pytest

from lifecycle.states import GuardRefusal, StateSummary, check_deploy, check_teardown, state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import FakeStateReader, state_document


def test_a_state_counts_managed_instances_not_data_sources():
    summary = StateSummary.parse(state_document(resources=2, serial=7))
    assert (summary.managed_resources, summary.serial, summary.deployed) == (2, 7, True)
    assert StateSummary.parse(state_document(resources=0)).deployed is False


def test_state_keys_match_the_backend_of_the_stacks(synthesis):
    for layer in Layer:
        assert synthesis.stack(layer, "staging").config["terraform"]["backend"]["s3"]["key"] == state_key("staging", layer)


def test_destroying_a_layer_under_deployed_dependants_is_refused_naming_them():
    reader = FakeStateReader.with_layers("dev", network=40, data=12, compute=30, edge=0)
    with pytest.raises(GuardRefusal) as refusal:
        check_teardown(reader, "dev", Layer.NETWORK)
    message = str(refusal.value)
    assert "refusing to destroy network-dev" in message
    assert "data-dev (12 resources)" in message and "compute-dev (30 resources)" in message
    # An emptied state (edge) and a missing one (observability) are not deployed.
    assert "edge-dev" not in message and "observability-dev" not in message
    assert "destroy dev compute data" in message


def test_destroying_a_layer_whose_dependants_are_gone_is_allowed():
    reader = FakeStateReader.with_layers("dev", network=40, data=12, compute=0, edge=0)
    check_teardown(reader, "dev", Layer.COMPUTE)
    check_teardown(reader, "dev", Layer.OBSERVABILITY)


def test_dependants_destroyed_earlier_by_the_same_command_do_not_block():
    reader = FakeStateReader.with_layers("dev", compute=30, edge=5, observability=3)
    check_teardown(reader, "dev", Layer.COMPUTE, leaving=frozenset({Layer.EDGE, Layer.OBSERVABILITY}))
    with pytest.raises(GuardRefusal, match="observability-dev"):
        check_teardown(reader, "dev", Layer.COMPUTE, leaving=frozenset({Layer.EDGE}))


def test_the_guard_reads_only_its_own_environment():
    reader = FakeStateReader.with_layers("staging", data=12)
    check_teardown(reader, "dev", Layer.NETWORK)
    with pytest.raises(GuardRefusal):
        check_teardown(reader, "staging", Layer.NETWORK)


def test_deploying_before_the_producers_is_refused_naming_them():
    reader = FakeStateReader.with_layers("dev", network=40, data=0)
    with pytest.raises(GuardRefusal) as refusal:
        check_deploy(reader, "dev", Layer.COMPUTE)
    assert "compute-dev: it reads from data-dev, which is not deployed" in str(refusal.value)
    assert "--mock-upstream" in str(refusal.value)
    check_deploy(reader, "dev", Layer.COMPUTE, arriving=frozenset({Layer.DATA}))
    check_deploy(reader, "dev", Layer.NETWORK)
