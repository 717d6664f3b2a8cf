"""Where fraud-api's image comes from, and which repository the execution role may pull."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from components.compute.fraud_api_service import ContainerImage


@dataclass
class FakeContext:
    account_id: str = "111122223333"
    region: str = "eu-west-1"
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


@pytest.mark.parametrize(
    "reference, uri, repository_arn",
    [
        ("fraud-api:latest", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud-api:latest", "arn:aws:ecr:eu-west-1:111122223333:repository/fraud-api"),
        (
            "fraud-api@sha256:" + "a" * 64,
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud-api@sha256:" + "a" * 64,
            "arn:aws:ecr:eu-west-1:111122223333:repository/fraud-api",
        ),
        ("team/fraud-api:1.4.2", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/fraud-api:1.4.2", "arn:aws:ecr:eu-west-1:111122223333:repository/team/fraud-api"),
        # A registry in another account (a shared artefact account): pull from there.
        (
            "999988887777.dkr.ecr.us-east-1.amazonaws.com/fraud-api:1.4.2",
            "999988887777.dkr.ecr.us-east-1.amazonaws.com/fraud-api:1.4.2",
            "arn:aws:ecr:us-east-1:999988887777:repository/fraud-api",
        ),
        # Public registries need no ECR permissions.
        ("public.ecr.aws/acme/fraud-api:1", "public.ecr.aws/acme/fraud-api:1", None),
        ("localhost:5000/fraud-api:dev", "localhost:5000/fraud-api:dev", None),
    ],
)
def test_image_reference_resolves_to_uri_and_pull_permission(reference, uri, repository_arn):
    image = ContainerImage.resolve(reference, FakeContext())
    assert (image.uri, image.ecr_repository_arn) == (uri, repository_arn)


def test_each_task_opens_the_pool_its_settings_give(bare_stack, naming):
    """The task definition passes `compute.fraud_api_db_pool_max_size`, the figure the capacity model
    counts against Aurora's connection limit (config/capacity.py), not a constant of the construct."""
    import json

    from cdktf_cdktf_provider_aws.kms_key import KmsKey

    from components.aws_context import AwsContext
    from components.compute.fraud_api_service import FraudApiService, ServicePlacement
    from config.settings import ComputeSettings
    from tests.components.compute.test_schema_migration import SECRETS

    stack, synth = bare_stack
    FraudApiService(
        stack,
        "fraud-api",
        naming=naming,
        context=AwsContext(stack, "context"),
        settings=ComputeSettings(fraud_api_db_pool_max_size=7),
        secrets=SECRETS,
        placement=ServicePlacement(
            cluster_arn="arn:aws:ecs:eu-west-1:111122223333:cluster/fraud-test",
            cluster_name="fraud-test",
            subnet_ids=["subnet-a", "subnet-b"],
            security_group_id="sg-application",
            target_group_arn="arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/blue/1",
        ),
        container_port=8080,
        logs_key_arn=KmsKey(stack, "logs").arn,
        depends_on=[],
    )
    (task,) = synth()["resource"]["aws_ecs_task_definition"].values()
    (app,) = [container for container in json.loads(task["container_definitions"]) if container["name"] == "fraud-api"]
    assert {item["name"]: item["value"] for item in app["environment"]}["DB_POOL_MAX_SIZE"] == "7"
