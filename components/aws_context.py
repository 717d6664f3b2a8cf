"""The account, partition and region a stack deploys into, read from AWS rather than spelled out."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct


class AwsContext(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.account_id: str = DataAwsCallerIdentity(self, "caller").account_id
        self.partition: str = DataAwsPartition(self, "partition").partition
        self.region: str = DataAwsRegion(self, "region").name

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this account, e.g. arn("logs", "log-group:/aws/lambda/*")."""
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account_id}:{resource}"
