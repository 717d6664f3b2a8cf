"""The API configuration secret and the function that rotates it.

The value is `{"signing_key": ..., "scoring": {...}}` (services/secret_rotation/api_secret.py).
No signing key is ever written by Terraform: the secret is seeded with the non-secret scoring
thresholds only, and the rotation that Terraform starts as soon as rotation is configured
(`rotate_immediately`) adds a random key and makes that version AWSCURRENT. Every later rotation
replaces the key and carries the rest of the document over.
"""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.functions.python_function import FunctionPlacement, PythonFunction
from components.naming import ResourceNamer
from config.settings import DataSettings

SECRETS_MANAGER = "secretsmanager.amazonaws.com"
ROTATION_FUNCTION = "secret_rotation"
# The four rotation steps each make two or three Secrets Manager calls.
ROTATION_TIMEOUT_SECONDS = 30
ROTATION_MEMORY_MB = 256


class RotatedApiConfigSecret(Construct):
    """A CMK-encrypted secret, rotated every `settings.secret_rotation_days` by `services/secret_rotation`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        settings: DataSettings,
        storage_key_arn: str,
        logs_key_arn: str,
        placement: FunctionPlacement,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=naming.name("api-config"),
            description="fraud-api signing key and scoring thresholds; rotated by the secret-rotation function",
            kms_key_id=storage_key_arn,
            # 0 (dev, staging): the environment is destroyable and re-creatable under the same name
            # at once (docs/requirements.md R8.2). Prod keeps a deleted secret restorable for its
            # window, which re-creating prod within it must deal with (docs/lifecycle.md).
            recovery_window_in_days=settings.secret_recovery_window_days,
        )
        self.arn = self.secret.arn

        # Only the thresholds: nothing secret is in Terraform's plan, state or the synthesized JSON.
        seed = SecretsmanagerSecretVersion(
            self,
            "seed",
            secret_id=self.secret.id,
            secret_string=json.dumps({"scoring": settings.scoring.to_document()}, sort_keys=True),
            # Rotation moves AWSCURRENT to its own versions; the seed must never be written again.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]),
        )

        self.rotation_function = PythonFunction(
            self,
            "rotation-function",
            naming=naming,
            context=context,
            function=ROTATION_FUNCTION,
            description="Rotates the signing key of the fraud-api configuration secret",
            timeout_seconds=ROTATION_TIMEOUT_SECONDS,
            memory_mb=ROTATION_MEMORY_MB,
            reserved_concurrency=settings.rotation_function_reserved_concurrency,
            environment={"POWERTOOLS_LOG_LEVEL": "INFO"},
            environment_key_arn=storage_key_arn,
            logs_key_arn=logs_key_arn,
            log_retention_days=settings.log_retention_days,
            placement=placement,
            policy_statements=self._rotation_statements(context, storage_key_arn),
        )
        # Secrets Manager invokes the function synchronously and records a failed step itself;
        # there is no asynchronous event a dead-letter queue could keep.
        skip_check(
            self.rotation_function.function,
            "CKV_AWS_116",
            "Secrets Manager invokes rotation synchronously and retries failed steps itself; a DLQ would never receive anything",
        )

        permission = LambdaPermission(
            self,
            "invoke-permission",
            statement_id="SecretsManagerRotation",
            action="lambda:InvokeFunction",
            function_name=self.rotation_function.function.function_name,
            principal=SECRETS_MANAGER,
            source_arn=self.secret.arn,
            source_account=context.account_id,
        )
        self.rotation = SecretsmanagerSecretRotation(
            self,
            "rotation",
            secret_id=self.secret.id,
            rotation_lambda_arn=self.rotation_function.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=settings.secret_rotation_days),
            # The first rotation creates the signing key while this stack deploys, so the API
            # (deployed after this layer) always finds a usable AWSCURRENT.
            rotate_immediately=True,
            depends_on=[permission, seed],
        )

    def _rotation_statements(self, context: AwsContext, storage_key_arn: str) -> list[DataAwsIamPolicyDocumentStatement]:
        return [
            DataAwsIamPolicyDocumentStatement(
                sid="RotateThisSecret",
                actions=[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                resources=[self.secret.arn],
            ),
            # No secretsmanager:GetRandomPassword: the function draws the key from Python's
            # `secrets` module, so the action (which only works on "*") would be unused privilege.
            DataAwsIamPolicyDocumentStatement(
                sid="UseStorageKeyThroughSecretsManager",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[storage_key_arn],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals",
                        variable="kms:ViaService",
                        values=[f"secretsmanager.{context.region}.amazonaws.com"],
                    )
                ],
            ),
        ]
