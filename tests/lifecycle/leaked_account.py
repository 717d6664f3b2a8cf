"""An account as killed applies leave it (moto in-process): tests/lifecycle/test_orphans.py and test_recovery.py.

It holds what a killed `deploy dev network` and parts of the data and compute layers' applies would
leave, made the way the stacks make it (their names, their default tags); the layers' states (in
the mocked state bucket) hold only some of it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from lifecycle.resource_kinds import Account
from lifecycle.states import StateSummary
from stacks.layers import Layer, stack_id, state_key

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
TAGS = {"Environment": "dev", "Project": "fraud-detection", "CostCenter": "fraud-platform-dev", "ManagedBy": "cdktf"}


def tags(layer: str, name: str | None = None, **overrides: str) -> list[dict[str, str]]:
    values = {**TAGS, "Layer": layer, **({"Name": name} if name else {}), **overrides}
    return [{"Key": key, "Value": value} for key, value in values.items()]


def spec(resource_type: str, layer: str, name: str | None = None, **overrides: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tags(layer, name, **overrides)}]


@dataclass
class Leaked:
    """What the "killed" applies created, by what it is."""

    ids: dict[str, str] = field(default_factory=dict)
    states: dict[Layer, list[dict[str, Any]]] = field(default_factory=dict)


def write_synth(synthesis, outdir: Path, environment: str = "dev") -> Path:
    for layer in Layer:
        directory = outdir / "stacks" / stack_id(layer, environment)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(synthesis.stack(layer, environment).directory / "cdk.tf.json", directory / "cdk.tf.json")
    return outdir


def managed(resource_type: str, name: str, **attributes: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": resource_type, "name": name, "instances": [{"attributes": attributes}]}


def put_states(bucket, states: dict[Layer, list[dict[str, Any]]], environment: str = "dev") -> None:
    for layer, resources in states.items():
        document = {"version": 4, "serial": 3, "lineage": "l", "outputs": {}, "resources": resources}
        bucket.client.put_object(Bucket=bucket.name, Key=state_key(environment, layer), Body=json.dumps(document).encode())


def address(synthesis, layer: Layer, resource_type: str, name_contains: str) -> str:
    (name,) = [name for name in synthesis.stack(layer, "dev").resources(resource_type) if name_contains in name]
    return f"{resource_type}.{name}"


def make_leaked_account(mock_state_bucket) -> Leaked:
    """A killed network apply's VPC and what hangs off it, of which the state kept the VPC and its internet gateway
    (Terraform had persisted them); the data and compute layers' named leftovers; and what is not dev's."""
    ec2, s3, kms = boto3.client("ec2", region_name=REGION), boto3.client("s3", region_name=REGION), boto3.client("kms", region_name=REGION)
    found = Leaked()
    # The account's prerequisite (the lifecycle's `prerequisites` creates it in the emulator).
    boto3.client("route53").create_hosted_zone(Name="fraud.example.com", CallerReference="zone")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=spec("vpc", "network", "fraud-vpc-dev"))["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", "network", "fraud-igw-dev"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.192.0/21", TagSpecifications=spec("subnet", "network", "fraud-public-0-dev"))["Subnet"]["SubnetId"]
    application = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.0.0/18",
                                    TagSpecifications=spec("subnet", "network", "fraud-application-0-dev"))["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip", "network", "fraud-nat-0-dev"))["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation, TagSpecifications=spec("natgateway", "network", "fraud-nat-0-dev"))
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", "network", "fraud-application-0-dev"))["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=application)
    app_group = ec2.create_security_group(GroupName="fraud-application-dev", Description="fraud-api ECS tasks", VpcId=vpc,
                                          TagSpecifications=spec("security-group", "network", "fraud-application-dev"))["GroupId"]
    db_group = ec2.create_security_group(GroupName="fraud-database-dev", Description="Aurora", VpcId=vpc,
                                         TagSpecifications=spec("security-group", "network", "fraud-database-dev"))["GroupId"]
    # The database group admits the application group: the application group cannot go while this rule stands.
    ec2.authorize_security_group_ingress(GroupId=db_group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                                                           "UserIdGroupPairs": [{"GroupId": app_group}]}],
                                         TagSpecifications=spec("security-group-rule", "network"))
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=[table],
                                       TagSpecifications=spec("vpc-endpoint", "network", "fraud-endpoint-s3-dev"))["VpcEndpoint"]["VpcEndpointId"]
    bucket = f"fraud-flow-logs-dev-{ACCOUNT_ID}"
    s3.create_bucket(Bucket=bucket)
    flow_log = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                                    LogDestination=f"arn:aws:s3:::{bucket}", TagSpecifications=spec("vpc-flow-log", "network", "fraud-flow-log-dev"))["FlowLogIds"][0]
    key = kms.create_key(Description="Encrypts the VPC flow log archive", Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags("network")])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/fraud-flow-logs-dev", TargetKeyId=key)
    found.ids.update(vpc=vpc, gateway=gateway, public=public, application=application, allocation=allocation, nat=nat["NatGateway"]["NatGatewayId"],
                     table=table, app_group=app_group, db_group=db_group, endpoint=endpoint, bucket=bucket, flow_log=flow_log, key=key)

    # The data layer's apply got as far as the table and one parameter; the state kept the parameter.
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="fraud-transactions-dev", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}], KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
    )
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/fraud-detection/dev/database/name", Value="fraud", Type="String")
    # A secret of an earlier teardown, in its recovery window: not adoptable, not an orphan.
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="fraud-api-config-dev", SecretString="{}")
    secrets.delete_secret(SecretId="fraud-api-config-dev", RecoveryWindowInDays=7)

    # The compute layer's: a role and a queue (named), a task definition revision (anonymous).
    iam = boto3.client("iam", region_name=REGION)
    found.ids["role_arn"] = iam.create_role(RoleName="fraud-api-task-dev", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    found.ids["queue"] = boto3.client("sqs", region_name=REGION).create_queue(QueueName="fraud-alerts-dev")["QueueUrl"]
    found.ids["task_definition"] = boto3.client("ecs", region_name=REGION).register_task_definition(
        family="fraud-api-dev", containerDefinitions=[{"name": "fraud-api", "image": "fraud-api:latest", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]

    # Not dev's: staging's VPC, another project's, and the key a prod teardown kept on purpose.
    ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=spec("vpc", "network", "fraud-vpc-staging", Environment="staging"))
    ec2.create_vpc(CidrBlock="10.30.0.0/16", TagSpecifications=spec("vpc", "network", "other-vpc-dev", Project="another-project"))
    kms.create_key(Description="kept", Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags("data", KeptFor="final backups")])

    found.states = {
        Layer.NETWORK: [managed("aws_vpc", "vpc_6776A399", id=vpc, arn=f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/{vpc}"),
                        managed("aws_internet_gateway", "vpc_internet-gateway_CB431535", id=gateway)],
        Layer.DATA: [managed("aws_ssm_parameter", "parameters_database-name_11FFD87A", id="/fraud-detection/dev/database/name")],
    }
    put_states(mock_state_bucket, found.states)
    return found


def clients_account(environment: str = "dev") -> Account:
    class Clients:
        def client(self, service: str):
            return boto3.client(service, region_name=REGION)

    return Account(Clients(), ACCOUNT_ID, REGION, "aws", environment, "fraud-detection", cli_options=f" --region {REGION}")


def summaries(states: dict[Layer, list[dict[str, Any]]]) -> dict[Layer, StateSummary | None]:
    return {layer: StateSummary.parse({"resources": states[layer]}) if layer in states else None for layer in Layer}
