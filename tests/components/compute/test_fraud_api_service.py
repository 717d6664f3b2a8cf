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
