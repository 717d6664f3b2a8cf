"""A Python Lambda function of the platform, with its own log group, role and least-privilege policy.

Every function of the platform is built the same way: code from `services/` packaged by
`services.lambda_packaging` (one deterministic zip per function per synth process), arm64 on
Python 3.11, active tracing, environment encrypted with the environment's storage key, inside the
VPC's application subnets, and logs in a CMK-encrypted log group that exists before the function
(so Lambda never creates an unencrypted, never-expiring one itself).
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
    LambdaFunctionEventInvokeConfigDestinationConfig,
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure,
)
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.naming import IAM_ROLE_NAME_LIMIT, LAMBDA_FUNCTION_NAME_LIMIT, ResourceNamer
from components.security.log_groups import encrypted_log_group
from components.security.service_role import TrustConditions, trust_policy
from services.lambda_packaging import LAMBDA_ARCHITECTURE, LAMBDA_FUNCTIONS, LAMBDA_RUNTIME, build_lambda_zip

LAMBDA_SERVICE = "lambda.amazonaws.com"


@dataclass(frozen=True)
class LambdaBundle:
    """A built deployment package and the base64 SHA-256 Lambda compares `source_code_hash` with."""

    path: Path
    sha256_base64: str


# One build per function per synth process: every environment's stack reuses the same zip.
_BUNDLES: dict[str, LambdaBundle] = {}
# Private to this process, so engineers synthesizing at the same time never write the same file;
# removed when the process exits, after app.synth() has copied each zip into its stack's assets.
_BUILD_DIR: tempfile.TemporaryDirectory | None = None


def lambda_bundle(function: str, *, out_dir: Path | None = None) -> LambdaBundle:
    """The deployment package of `function` (a key of LAMBDA_FUNCTIONS), built on first use."""
    global _BUILD_DIR
    if function not in _BUNDLES:
        if out_dir is None:
            if _BUILD_DIR is None:
                _BUILD_DIR = tempfile.TemporaryDirectory(prefix="fraud-lambda-zips-")
            out_dir = Path(_BUILD_DIR.name)
        path = build_lambda_zip(function, out_dir)
        digest = hashlib.sha256(path.read_bytes()).digest()
        _BUNDLES[function] = LambdaBundle(path=path, sha256_base64=base64.b64encode(digest).decode())
    return _BUNDLES[function]


@dataclass(frozen=True)
class FunctionPlacement:
    """Where a function's network interfaces go: the subnets it runs in and its security group."""

    subnet_ids: Sequence[str]
    security_group_id: str


class PythonFunction(Construct):
    """One function from `services/`: log group first, then role and policy, then the function.

    `policy_statements` are what the function's own code calls (tables, topics, secrets...); the
    construct adds only what every function needs to run: its log streams, X-Ray, the VPC network
    interfaces and decrypting its environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        function: str,
        description: str,
        timeout_seconds: int,
        memory_mb: int,
        reserved_concurrency: int,
        environment: dict[str, str],
        environment_key_arn: str,
        logs_key_arn: str,
        log_retention_days: int,
        placement: FunctionPlacement,
        policy_statements: list[DataAwsIamPolicyDocumentStatement],
        dead_letter_queue_arn: str | None = None,
        on_failure_destination_arn: str | None = None,
        bundle: LambdaBundle | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if function not in LAMBDA_FUNCTIONS:
            raise ValueError(f"unknown Lambda function {function!r}; known: {', '.join(sorted(LAMBDA_FUNCTIONS))}")
        bundle = bundle or lambda_bundle(function)
        self.function_name = naming.name(function, max_length=LAMBDA_FUNCTION_NAME_LIMIT)

        self.log_group = encrypted_log_group(
            self, "logs", name=f"/aws/lambda/{self.function_name}", retention_days=log_retention_days, logs_key_arn=logs_key_arn
        )

        # The role and its inline policy are the function's own children (a ServiceRole child would
        # move their Terraform addresses); `effect=None` keeps the trust document as synthesized
        # so far (Allow, the document's default, left implicit).
        trust = trust_policy(
            self,
            "trust",
            service_principal=LAMBDA_SERVICE,
            trust=TrustConditions(source_account=context.account_id),
            sid="LambdaInThisAccount",
            effect=None,
        )
        self.role = IamRole(
            self,
            "role",
            name=naming.name(function, "lambda", max_length=IAM_ROLE_NAME_LIMIT),
            description=f"Runs the {self.function_name} function",
            assume_role_policy=trust.json,
        )
        self.policy_document = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                *self._runtime_statements(
                    context=context,
                    log_group_arn=self.log_group.arn,
                    environment_key_arn=environment_key_arn,
                    placement=placement,
                ),
                *policy_statements,
            ],
        )
        role_policy = IamRolePolicy(
            self, "role-policy", name=naming.name(function, "runtime"), role=self.role.id, policy=self.policy_document.json
        )

        self.function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=description,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=[LAMBDA_ARCHITECTURE],
            handler=LAMBDA_FUNCTIONS[function],
            filename=TerraformAsset(self, "code", path=str(bundle.path), type=AssetType.FILE).path,
            source_code_hash=bundle.sha256_base64,
            timeout=timeout_seconds,
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            environment=LambdaFunctionEnvironment(variables=environment) if environment else None,
            kms_key_arn=environment_key_arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            vpc_config=LambdaFunctionVpcConfig(subnet_ids=list(placement.subnet_ids), security_group_ids=[placement.security_group_id]),
            dead_letter_config=(
                LambdaFunctionDeadLetterConfig(target_arn=dead_letter_queue_arn) if dead_letter_queue_arn else None
            ),
            # The log group must exist first (else Lambda creates an unencrypted one on the first
            # invocation), and the policy must be attached before Lambda checks that the role may
            # create the VPC network interfaces.
            depends_on=[self.log_group, role_policy],
        )
        skip_check(
            self.function,
            "CKV_AWS_272",
            "Terraform deploys the zip it builds from reviewed source, pinned by source_code_hash; AWS Signer code "
            "signing needs signing jobs over S3 objects, which this pipeline does not use",
        )
        self.arn = self.function.arn
        self.name = self.function.function_name
        self.invoke_arn = self.function.invoke_arn

        if on_failure_destination_arn:
            LambdaFunctionEventInvokeConfig(
                self,
                "async-invocations",
                function_name=self.function.function_name,
                destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                    on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(
                        destination=on_failure_destination_arn
                    )
                ),
            )

    @staticmethod
    def _runtime_statements(
        *,
        context: AwsContext,
        log_group_arn: str,
        environment_key_arn: str,
        placement: FunctionPlacement,
    ) -> list[DataAwsIamPolicyDocumentStatement]:
        def ec2(resource: str) -> str:
            return context.arn("ec2", resource)

        return [
            # The group exists already (no logs:CreateLogGroup): only its streams.
            DataAwsIamPolicyDocumentStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{log_group_arn}:log-stream:*"],
            ),
            # X-Ray's trace APIs have no resource-level permissions: "*" is the only valid resource.
            DataAwsIamPolicyDocumentStatement(
                sid="ActiveTracing",
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"],
            ),
            # EC2's Describe* calls have no resource-level permissions: "*" is the only valid resource.
            DataAwsIamPolicyDocumentStatement(
                sid="DescribeVpcNetworkInterfaces",
                actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                resources=["*"],
            ),
            # Instead of AWSLambdaVPCAccessExecutionRole (Resource "*" for everything): network
            # interfaces of this account and region, only in the function's subnets and groups.
            DataAwsIamPolicyDocumentStatement(
                sid="CreateVpcNetworkInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    ec2("network-interface/*"),
                    *(ec2(f"subnet/{subnet}") for subnet in placement.subnet_ids),
                    ec2(f"security-group/{placement.security_group_id}"),
                ],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="ManageVpcNetworkInterfaces",
                actions=["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
                resources=[ec2("network-interface/*")],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="DecryptEnvironment",
                actions=["kms:Decrypt"],
                resources=[environment_key_arn],
            ),
        ]
