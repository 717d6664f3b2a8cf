"""Orphans against moto: what a killed run left in the account, in no layer's state, grouped by the layer that declares it.

The account is tests/lifecycle/leaked_account.py's (the `leaked` fixture); the stacks are the real dev synth.
"""

from __future__ import annotations

import re

from lifecycle.cli import EXIT_ORPHANS, main
from lifecycle.orphans import find_orphans, read_configs, scan_environment
from stacks.layers import Layer
from tests.lifecycle.leaked_account import REGION, address, clients_account, managed, put_states, summaries, write_synth

def test_orphans_are_what_the_account_holds_of_the_environment_and_no_state_does_grouped_by_their_layer(synthesis, leaked, tmp_path):
    configs = read_configs(write_synth(synthesis, tmp_path / "out"), "dev")
    orphans = find_orphans(clients_account(), configs, summaries(leaked.states))
    ids = leaked.ids

    by_layer = {layer: {(resource.resource_type, resource.identity) for resource in orphans.of(layer)} for layer in Layer}
    assert by_layer[Layer.NETWORK] == {
        ("aws_s3_bucket", ids["bucket"]), ("aws_kms_alias", "alias/fraud-flow-logs-dev"), ("aws_kms_key", ids["key"]),
        ("aws_subnet", ids["public"]), ("aws_subnet", ids["application"]), ("aws_nat_gateway", ids["nat"]), ("aws_eip", ids["allocation"]),
        ("aws_route_table", ids["table"]), ("aws_security_group", ids["app_group"]), ("aws_security_group", ids["db_group"]),
        ("aws_vpc_endpoint", ids["endpoint"]), ("aws_flow_log", ids["flow_log"]),
    }, "the VPC and internet gateway are in the state; a rule goes with its orphaned group"
    assert by_layer[Layer.DATA] == {("aws_dynamodb_table", "fraud-transactions-dev")}, "the parameter is in the state; the deleted secret is no orphan"
    assert by_layer[Layer.COMPUTE] == {("aws_iam_role", "fraud-api-task-dev"), ("aws_sqs_queue", ids["queue"]),
                                       ("aws_ecs_task_definition", ids["task_definition"])}
    assert not orphans.of(Layer.EDGE) and not orphans.of(Layer.OBSERVABILITY) and not orphans.of(None), "staging's, another project's, a kept key"

    # Deterministic identities are adopted at the declared address; the key through the orphaned alias that names it.
    adopt = {resource.address: resource.import_id for resource in orphans.resources if resource.adoptable}
    assert adopt == {
        address(synthesis, Layer.NETWORK, "aws_s3_bucket", "flow-logs"): ids["bucket"],
        address(synthesis, Layer.NETWORK, "aws_kms_alias", "flow-logs"): "alias/fraud-flow-logs-dev",
        address(synthesis, Layer.NETWORK, "aws_kms_key", "flow-logs"): ids["key"],
        address(synthesis, Layer.DATA, "aws_dynamodb_table", "transactions"): "fraud-transactions-dev",
        address(synthesis, Layer.COMPUTE, "aws_iam_role", "fraud-api_task-role"): "fraud-api-task-dev",
        address(synthesis, Layer.COMPUTE, "aws_sqs_queue", "alerts_queue"): ids["queue"],
    }
    # Anonymous ones are named by the declared resource with their Name tag, and each has its delete command.
    subnet = next(resource for resource in orphans.of(Layer.NETWORK) if resource.identity == ids["application"])
    assert subnet.address == address(synthesis, Layer.NETWORK, "aws_subnet", "application-0") and not subnet.adoptable
    assert [step.command for step in subnet.deletion] == [f"aws ec2 delete-subnet --subnet-id {ids['application']} --region {REGION}"]


def test_the_orphans_command_lists_them_per_layer_and_exits_6_and_exits_0_once_the_states_hold_everything(synthesis, leaked, mock_state_bucket, tmp_path, capsys):
    out = write_synth(synthesis, tmp_path / "out")
    arguments = ["orphans", "dev", "--target", "aws", "--skip-synth", "--outdir", str(out), "--workdir", str(tmp_path / "work")]
    assert main(arguments) == EXIT_ORPHANS
    printed, errors = capsys.readouterr()
    network = printed[printed.index("network-dev:"):printed.index("data-dev:")]
    assert "network-dev: 12 orphans, 3 to adopt, 9 to delete" in network
    assert re.search(rf"adopt  aws_s3_bucket\.flow-logs_bucket_\w+ +{leaked.ids['bucket']}", network)
    assert re.search(rf"delete aws_nat_gateway\.vpc_nat-0_\w+ +{leaked.ids['nat']} \(fraud-nat-0-dev\)", network)
    assert "recover: scripts/lifecycle.sh recover dev network --target aws" in network
    assert "data-dev: 1 orphan, 1 to adopt, 0 to delete" in printed and "edge-dev: none" in printed
    assert "orphans: 16 orphans of dev in no layer's state" in errors

    # What a successful apply would have recorded: then nothing is an orphan.
    live, _ = scan_environment(clients_account(), read_configs(out, "dev"), summaries(leaked.states))
    everything = {layer: list(resources) for layer, resources in leaked.states.items()}
    for resource in live:
        everything.setdefault(resource.layer, []).append(managed(resource.resource_type, f"r{len(everything[resource.layer])}",
                                                                 id=resource.identity, arn=next(iter(resource.also_known_as), None)))
    put_states(mock_state_bucket, everything)
    assert main(arguments) == 0
    assert "no orphans: everything of dev in the account is in its layers' states" in capsys.readouterr().out
