"""Stateful resources keep their Terraform addresses: a changed address is a destroy and a create.

`stateful_addresses.json` records, per stack, the address of every resource that holds data
(keys, the database, the table, buckets, secrets, parameters, log groups, queues). A refactor
that moves one must say so with a `moved` block (`resource.move_from_id(...)`), which Terraform
applies as a rename; a new stateful resource is added to the record deliberately.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.synthesis import SynthesizedStack

RECORD = Path(__file__).with_name("stateful_addresses.json")
STATEFUL_TYPES = (
    "aws_cloudwatch_log_group",
    "aws_dynamodb_table",
    "aws_ecr_repository",
    "aws_kms_key",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_s3_bucket",
    "aws_secretsmanager_secret",
    "aws_sqs_queue",
    "aws_ssm_parameter",
)


def _stacks(synthesis) -> list[SynthesizedStack]:
    return [*synthesis.stacks(), synthesis.stack_by_name("bootstrap")]


def _stateful(stack: SynthesizedStack) -> set[str]:
    return {f"{kind}.{name}" for kind in STATEFUL_TYPES for name in stack.resources(kind)}


def _moved_from(stack: SynthesizedStack) -> dict[str, str]:
    return {move["from"]: move["to"] for move in stack.config.get("moved", [])}


def test_every_recorded_stateful_address_is_still_there_or_moved(synthesis):
    record = json.loads(RECORD.read_text())
    for stack in _stacks(synthesis):
        present, moved = _stateful(stack), _moved_from(stack)
        lost = [address for address in record[stack.name] if address not in present and moved.get(address) not in present]
        assert not lost, f"{stack.name}: these would be destroyed and created again; add moved blocks: {lost}"


def test_every_stateful_resource_is_recorded(synthesis):
    record = json.loads(RECORD.read_text())
    unrecorded = {stack.name: sorted(_stateful(stack) - set(record.get(stack.name, []))) for stack in _stacks(synthesis)}
    unrecorded = {name: addresses for name, addresses in unrecorded.items() if addresses}
    assert not unrecorded, f"new stateful resources: add them to {RECORD.name}: {json.dumps(unrecorded, indent=2)}"
