"""What may pass through each VPC endpoint: this account's principals, making the calls the
platform makes, on this environment's resources.

An endpoint policy is the last check on a call leaving the private tiers; with no NAT (prod,
staging) it is the only way out, so it also keeps a stolen credential of another account, or a
call to another environment's or account's resource, from leaving through it. The network layer
is built before the resources exist, so the policies name them by the platform's naming rule
(`fraud-<role>-<env>`, `/fraud-detection/<env>/...`). Where AWS names the resource itself or it
belongs to the account rather than an environment, the policy says so:

- the RDS-managed master secret is `rds!cluster-<uuid>`: any such secret of this account;
- the ECR repositories (fraud-api, the ECR Public cache) are the account's, shared by every
  environment that promotes the same image;
- image layers come from AWS's own per-region ECR bucket, fetched with URLs ECR signs itself:
  its principal is not ours, so that one statement names no principal (docs/security.md, "Egress").

`tests/security/test_egress.py` checks every call the workloads' roles allow is admitted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement

from components.aws_context import AwsContext
from components.compute.public_images import CACHE_PULL_ACTIONS, IMAGE_PULL_ACTIONS
from components.naming import ResourceNamer
from components.security.policy_statements import principals

XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")


@dataclass(frozen=True)
class EnvironmentResources:
    """How the environment's resources are named, and the image repositories its tasks pull from.

    `cached_repository_arns` are ECR pull-through cache repositories (created on first pull)."""

    naming: ResourceNamer
    image_repository_arns: Sequence[str]
    cached_repository_arns: Sequence[str]

    @property
    def names(self) -> str:
        """Every name of this environment: `fraud-*-<env>`."""
        return f"{self.naming.prefix}-*-{self.naming.suffix}"

    @property
    def paths(self) -> str:
        """Every hierarchical name of this environment, without its leading slash: `fraud-detection/<env>/*`."""
        return self.naming.path("*").lstrip("/")


class EndpointPolicies:
    """The policy statements of each endpoint service, for one environment."""

    def __init__(self, context: AwsContext, resources: EnvironmentResources) -> None:
        self._context = context
        self._resources = resources

    def statements(self, service: str) -> list[DataAwsIamPolicyDocumentStatement]:
        builders = {
            "s3": self._s3,
            "dynamodb": self._dynamodb,
            "secretsmanager": self._secretsmanager,
            "ssm": self._ssm,
            "logs": self._logs,
            "sns": self._sns,
            "ecr.api": self._ecr,
            "ecr.dkr": self._ecr,
            "xray": self._xray,
        }
        if service not in builders:
            raise ValueError(f"no endpoint policy for '{service}': say in components/network/endpoint_policies.py what may pass through it")
        return builders[service]()

    def _account(self, sid: str, actions: Sequence[str], resources: Sequence[str]) -> DataAwsIamPolicyDocumentStatement:
        return DataAwsIamPolicyDocumentStatement(
            sid=sid,
            effect="Allow",
            actions=list(actions),
            resources=list(resources),
            principals=principals("AWS", self._context.account_root_arn),
        )

    def _s3(self) -> list[DataAwsIamPolicyDocumentStatement]:
        # ECR keeps image layers in this AWS-owned bucket and hands out URLs it signs itself.
        layers = f"arn:{self._context.partition}:s3:::prod-{self._context.region}-starport-layer-bucket/*"
        return [
            DataAwsIamPolicyDocumentStatement(
                sid="EcrImageLayers", effect="Allow", actions=["s3:GetObject"], resources=[layers], principals=principals("*", "*")
            )
        ]

    def _dynamodb(self) -> list[DataAwsIamPolicyDocumentStatement]:
        table = self._context.arn("dynamodb", f"table/{self._resources.names}")
        return [self._account("EnvironmentTables", ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"], [table, f"{table}/index/*"])]

    def _secretsmanager(self) -> list[DataAwsIamPolicyDocumentStatement]:
        actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]
        return [
            # Secrets Manager appends a dash and six random characters to a secret's name.
            self._account("EnvironmentSecrets", actions, [self._context.arn("secretsmanager", f"secret:{self._resources.names}-??????")]),
            self._account("RdsManagedSecrets", ["secretsmanager:GetSecretValue"], [self._context.arn("secretsmanager", "secret:rds!cluster-*")]),
        ]

    def _ssm(self) -> list[DataAwsIamPolicyDocumentStatement]:
        return [self._account("EnvironmentParameters", ["ssm:GetParameter"], [self._context.arn("ssm", f"parameter/{self._resources.paths}")])]

    def _logs(self) -> list[DataAwsIamPolicyDocumentStatement]:
        groups = [self._context.arn("logs", f"log-group:{prefix}/{self._resources.names}:*") for prefix in ("/ecs", "/aws/lambda")]
        return [self._account("EnvironmentLogStreams", ["logs:CreateLogStream", "logs:PutLogEvents"], groups)]

    def _sns(self) -> list[DataAwsIamPolicyDocumentStatement]:
        return [self._account("EnvironmentTopics", ["sns:Publish"], [self._context.arn("sns", self._resources.names)])]

    def _ecr(self) -> list[DataAwsIamPolicyDocumentStatement]:
        repositories = [*self._resources.image_repository_arns, *self._resources.cached_repository_arns]
        statements = [
            # The registry login has no resource (docs/security.md).
            self._account("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            self._account("PullImages", IMAGE_PULL_ACTIONS, repositories),
        ]
        if self._resources.cached_repository_arns:
            statements.append(self._account("PullThroughCache", CACHE_PULL_ACTIONS, self._resources.cached_repository_arns))
        return statements

    def _xray(self) -> list[DataAwsIamPolicyDocumentStatement]:
        # The X-Ray trace and sampling APIs have no resources (docs/security.md).
        return [self._account("Traces", XRAY_ACTIONS, ["*"])]
