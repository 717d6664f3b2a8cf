"""`recover`: import blocks for the orphans Terraform can adopt, delete commands (and, when asked, deletion) for the rest.

Against tests/lifecycle/leaked_account.py's account (moto in-process): a killed network apply's
leftovers, with the VPC and its internet gateway in the network state.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from lifecycle import cli
from lifecycle.cli import EXIT_REFUSED, main
from lifecycle.locks import lock_key
from lifecycle.orphans import find_orphans, read_configs
from lifecycle.recovery import IMPORTS_FILE, pending_imports, retire_imports
from lifecycle.states import StateSummary
from stacks.layers import Layer, stack_id, state_key
from tests.lifecycle.fakes import STREAMS
from tests.lifecycle.leaked_account import REGION, address, clients_account, managed, spec, summaries, write_synth

NETWORK = stack_id(Layer.NETWORK, "dev")


def recover(tmp_path, *extra: str, environment: str = "dev") -> int:
    return main(["recover", environment, "network", "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"),
                 "--workdir", str(tmp_path / "work"), *extra])


def test_recover_writes_import_blocks_beside_the_synth_and_lists_the_anonymous_with_their_delete_commands_in_order(synthesis, leaked, tmp_path, capsys):
    out = write_synth(synthesis, tmp_path / "out")
    synthesized = (out / "stacks" / NETWORK / "cdk.tf.json").read_bytes()
    assert recover(tmp_path) == 0
    printed = capsys.readouterr().out
    ids = leaked.ids

    imports = json.loads((out / "stacks" / NETWORK / IMPORTS_FILE).read_text())
    assert imports["import"] == sorted([
        {"to": address(synthesis, Layer.NETWORK, "aws_s3_bucket", "flow-logs"), "id": ids["bucket"]},
        {"to": address(synthesis, Layer.NETWORK, "aws_kms_alias", "flow-logs"), "id": "alias/fraud-flow-logs-dev"},
        {"to": address(synthesis, Layer.NETWORK, "aws_kms_key", "flow-logs"), "id": ids["key"]},
    ], key=lambda block: block["to"])
    config = json.loads(synthesized)
    for block in imports["import"]:
        resource_type, name = block["to"].split(".")
        assert name in config["resource"][resource_type], "every import block names a resource the stack declares"
    assert (out / "stacks" / NETWORK / "cdk.tf.json").read_bytes() == synthesized, "the synthesized stack is left as synthesized"

    commands = [line.strip().removeprefix("$ ") for line in printed.splitlines() if line.strip().startswith("$ aws ")]
    expected = [
        f"aws ec2 delete-flow-logs --flow-log-ids {ids['flow_log']}",
        f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ids['endpoint']}",
        f"aws ec2 delete-nat-gateway --nat-gateway-id {ids['nat']}",
        f"aws ec2 wait nat-gateway-deleted --nat-gateway-ids {ids['nat']}",
        f"aws ec2 release-address --allocation-id {ids['allocation']}",
        f"aws ec2 delete-security-group --group-id {ids['app_group']}",
        f"aws ec2 delete-subnet --subnet-id {ids['application']}",
        f"aws ec2 delete-route-table --route-table-id {ids['table']}",
    ]
    assert all(command.endswith(f" --region {REGION}") for command in commands), commands
    positions = [next(index for index, command in enumerate(commands) if command.startswith(wanted)) for wanted in expected]
    assert positions == sorted(positions), "what holds on to another goes first"
    revoke = next(index for index, command in enumerate(commands) if command.startswith(f"aws ec2 revoke-security-group-ingress --group-id {ids['db_group']}"))
    assert revoke < commands.index(f"aws ec2 delete-security-group --group-id {ids['app_group']} --region {REGION}"), "the referencing rule goes before the group it references"
    disassociate = next(index for index, command in enumerate(commands) if command.startswith("aws ec2 disassociate-route-table --association-id"))
    assert disassociate < commands.index(f"aws ec2 delete-route-table --route-table-id {ids['table']} --region {REGION}")
    assert not any(ids["vpc"] in command and "delete-vpc " in command for command in commands), "the VPC is in the state"
    assert "or: scripts/lifecycle.sh recover dev network --target aws" in printed and "--delete-anonymous" in printed
    assert "next: scripts/lifecycle.sh deploy dev network --target aws" in printed
    # Nothing was deleted without --delete-anonymous.
    assert boto3.client("ec2", region_name=REGION).describe_nat_gateways(NatGatewayIds=[ids["nat"]])["NatGateways"][0]["State"] == "available"


def test_delete_anonymous_removes_every_anonymous_orphan_and_leaves_what_a_state_holds(synthesis, leaked, tmp_path, capsys):
    out = write_synth(synthesis, tmp_path / "out")
    assert recover(tmp_path, "--delete-anonymous") == 0
    printed = capsys.readouterr().out
    assert printed.count("      deleted ") == 9
    ec2, ids = boto3.client("ec2", region_name=REGION), leaked.ids
    assert ec2.describe_nat_gateways(NatGatewayIds=[ids["nat"]])["NatGateways"][0]["State"] == "deleted"
    assert not ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])["Subnets"]
    assert not ec2.describe_addresses(Filters=[{"Name": "allocation-id", "Values": [ids["allocation"]]}])["Addresses"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])["SecurityGroups"]
    assert [group["GroupName"] for group in groups] == ["default"]
    assert not ec2.describe_flow_logs(FlowLogIds=[ids["flow_log"]])["FlowLogs"]
    # What the network state holds stays; the adoptable orphans stay, for the next apply to import.
    assert ec2.describe_vpcs(VpcIds=[ids["vpc"]])["Vpcs"] and ec2.describe_internet_gateways(InternetGatewayIds=[ids["gateway"]])["InternetGateways"]
    left = find_orphans(clients_account(), read_configs(out, "dev"), summaries(leaked.states)).of(Layer.NETWORK)
    assert {resource.resource_type for resource in left} == {"aws_s3_bucket", "aws_kms_alias", "aws_kms_key"}
    assert all(resource.adoptable for resource in left)


def test_import_blocks_are_retired_once_the_state_holds_their_address(tmp_path):
    (tmp_path / IMPORTS_FILE).write_text(json.dumps({"import": [{"to": "aws_s3_bucket.logs", "id": "b"}, {"to": "aws_kms_alias.key", "id": "alias/k"}]}))
    state = StateSummary.parse({"resources": [managed("aws_s3_bucket", "logs", id="b"), {"mode": "managed", "type": "aws_kms_alias", "name": "key", "instances": []}]})
    assert retire_imports(tmp_path, state) == ["aws_s3_bucket.logs"]
    assert pending_imports(tmp_path) == {"aws_kms_alias.key": "alias/k"}, "an address without an instance is not adopted yet"
    assert retire_imports(tmp_path, StateSummary.parse({"resources": [managed("aws_kms_alias", "key", id="alias/k")]})) == ["aws_kms_alias.key"]
    assert not (tmp_path / IMPORTS_FILE).exists(), "the last block takes the file with it"
    assert retire_imports(tmp_path, None) == []


def test_recover_refuses_a_locked_layer_since_its_run_may_still_be_creating(synthesis, leaked, mock_state_bucket, tmp_path, capsys):
    write_synth(synthesis, tmp_path / "out")
    mock_state_bucket.client.put_object(Bucket=mock_state_bucket.name, Key=lock_key(state_key("dev", Layer.NETWORK)),
                                        Body=(STREAMS / "lock.tflock.json").read_bytes())
    assert recover(tmp_path, "--delete-anonymous") == EXIT_REFUSED
    assert "refusing to recover network-dev while its state is locked" in capsys.readouterr().err
    assert not (tmp_path / "out" / "stacks" / NETWORK / IMPORTS_FILE).exists()
    assert boto3.client("ec2", region_name=REGION).describe_nat_gateways(NatGatewayIds=[leaked.ids["nat"]])["NatGateways"][0]["State"] == "available"


@pytest.fixture
def prod_vpc(synthesis, mock_state_bucket, emulator_additions, tmp_path) -> str:
    boto3.client("route53").create_hosted_zone(Name="fraud.example.com", CallerReference="zone")
    write_synth(synthesis, tmp_path / "out", "prod")
    return boto3.client("ec2", region_name=REGION).create_vpc(
        CidrBlock="10.30.0.0/16", TagSpecifications=spec("vpc", "network", "fraud-vpc-prod", Environment="prod"))["Vpc"]["VpcId"]


def vpc_exists(vpc: str) -> bool:
    try:
        return bool(boto3.client("ec2", region_name=REGION).describe_vpcs(VpcIds=[vpc])["Vpcs"])
    except ClientError:
        return False


def test_in_prod_anonymous_orphans_are_deleted_only_with_its_name_given_or_typed(prod_vpc, tmp_path, monkeypatch, capsys):
    # Without a terminal and without --confirm: refused before anything is read.
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)
    assert recover(tmp_path, "--delete-anonymous", environment="prod") == EXIT_REFUSED
    assert ("refusing to delete the anonymous orphans of network-prod without a confirmation: prod asks for its name"
            in capsys.readouterr().err)
    assert recover(tmp_path, "--delete-anonymous", "--confirm", "staging", environment="prod") == EXIT_REFUSED
    assert "the confirmation names 'staging', not 'prod'" in capsys.readouterr().err
    assert vpc_exists(prod_vpc)

    # Listing is no deletion: no confirmation needed.
    assert recover(tmp_path, environment="prod") == 0
    assert f"$ aws ec2 delete-vpc --vpc-id {prod_vpc} --region {REGION}" in capsys.readouterr().out

    # On a terminal, asked once the list is shown; another answer refuses.
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    prompts: list[str] = []
    monkeypatch.setattr(cli, "_ask", lambda prompt: prompts.append(prompt) or "prd")
    assert recover(tmp_path, "--delete-anonymous", environment="prod") == EXIT_REFUSED
    printed = capsys.readouterr()
    assert f"$ aws ec2 delete-vpc --vpc-id {prod_vpc}" in printed.out and "About to delete these 1 orphans of network-prod on AWS" in printed.err
    assert 'See docs/lifecycle.md, "When a run dies"' in printed.err and prompts == ["Type the environment's name (prod) to go ahead: "]
    assert vpc_exists(prod_vpc)
    monkeypatch.setattr(cli, "_ask", lambda prompt: "prod")
    assert recover(tmp_path, "--delete-anonymous", environment="prod") == 0
    assert not vpc_exists(prod_vpc)


def test_in_prod_the_name_given_with_confirm_deletes_without_a_prompt(prod_vpc, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)
    assert recover(tmp_path, "--delete-anonymous", "--confirm", "prod", environment="prod") == 0
    assert "deleted aws_vpc." in capsys.readouterr().out
    assert not vpc_exists(prod_vpc)
