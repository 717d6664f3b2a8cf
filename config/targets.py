"""Where the stacks deploy: real AWS, or the local AWS emulator (moto's server).

Every emulator-only setting (the emulator's endpoint, fake credentials, skipped account checks,
path-style S3, the resource types the emulator cannot serve) is declared here and nowhere else, so a
real-AWS synth can never carry one of them. Applying the gaps to a synthesized stack is the
lifecycle's job (`lifecycle/emulator_adaptation.py`); `tests/config/test_targets.py` and
`tests/lifecycle/test_emulator_adaptation.py` synthesize for both targets and check exactly that.

This module must stay importable without the cdktf bindings: app.py reads the target before it
pays for loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# moto accepts any credentials; these exist only so the SDKs have something to sign with.
EMULATOR_ACCESS_KEY = "test"
EMULATOR_SECRET_KEY = "test"
# Terraform's AWS provider and its S3 backend take them alike, and must not check them with AWS.
EMULATOR_CREDENTIALS: dict[str, Any] = {
    "access_key": EMULATOR_ACCESS_KEY,
    "secret_key": EMULATOR_SECRET_KEY,
    "skip_credentials_validation": True,
}


@dataclass(frozen=True)
class EmulatorGap:
    """A resource type the emulator cannot create or destroy, and why.

    In an emulator synth every resource of the type gets `count = 0`: it stays declared (so
    `depends_on` and validation still see it) but is not created. A real-AWS synth is never
    touched. docs/lifecycle.md lists each gap with the rest of the coverage table.
    """

    resource_type: str
    reason: str
    # Left out only where the resource does not set this argument (None: always).
    only_without: str | None = None

    def applies_to(self, body: dict[str, Any]) -> bool:
        return self.only_without is None or self.only_without not in body


@dataclass(frozen=True)
class BucketPolicyStatementGap:
    """A kind of S3 bucket-policy statement the emulator cannot evaluate, and why.

    In an emulator synth such statements are dropped from the policy documents that S3 bucket
    policies use; a bucket policy left with no statement at all is left out (`count = 0`).
    """

    effect: str
    condition_variable: str
    reason: str


# The one list of what the emulator leaves out. Keep it short: every entry is something the
# end-to-end test does not exercise. Empty today: what moto 5.2.5 lacked for the stacks' resources
# (CodeDeploy delete/update, Application Auto Scaling tags, X-Ray sampling rules and groups, the SQS
# redrive-allow policy, cancelling managed rotation, ECR pull-through cache rules, detaching a usage
# plan's stage that has per-method throttles) is added to the emulator by scripts/moto_additions.py.
EMULATOR_GAPS: tuple[EmulatorGap, ...] = ()
EMULATOR_BUCKET_POLICY_GAPS: tuple[BucketPolicyStatementGap, ...] = (
    BucketPolicyStatementGap(
        "Deny",
        "aws:SecureTransport",
        "moto checks a bucket policy's Deny statements on object reads and writes without the "
        "request's context, so every condition counts as met: the TLS-only Deny would refuse "
        "every object operation, Terraform's own state and lock files included",
    ),
)

@dataclass(frozen=True)
class DeploymentTarget:
    """Real AWS when `emulator_endpoint` is None, else the emulator listening there."""

    emulator_endpoint: str | None = None

    @property
    def is_emulator(self) -> bool:
        return self.emulator_endpoint is not None

    @property
    def name(self) -> str:
        return "emulator" if self.is_emulator else "aws"

    def provider_settings(self) -> dict[str, Any]:
        """Extra AwsProvider arguments for this target.

        No `endpoints` block: the provider reaches the emulator through `AWS_ENDPOINT_URL`
        (`client_environment`, which the lifecycle gives every Terraform process), one URL for
        every service, so no service the stacks call can slip through to AWS. The block would
        cost ~4 s of CPU per Terraform command, spent validating the provider's configuration at
        each of its three or four starts (measured in docs/performance.md). Without that
        variable the provider signs with the fake keys below, which no AWS account accepts.
        """
        if not self.is_emulator:
            return {}
        return {
            **EMULATOR_CREDENTIALS,
            "skip_metadata_api_check": "true",
            # moto's STS answers GetCallerIdentity with its fixed account, which ARNs need.
            "skip_requesting_account_id": False,
            "s3_use_path_style": True,
        }

    def backend_settings(self) -> dict[str, Any]:
        """Extra S3Backend arguments for this target (remote-state reads reuse them)."""
        if not self.is_emulator:
            return {}
        return {
            **EMULATOR_CREDENTIALS,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "use_path_style": True,
            "endpoints": {"s3": self.emulator_endpoint, "sts": self.emulator_endpoint, "iam": self.emulator_endpoint},
        }

    def client_environment(self) -> dict[str, str]:
        """Process environment for AWS SDK clients (boto3, the AWS CLI, Terraform's AWS provider) talking to this target.

        Empty for AWS: the usual credential chain (an OIDC role in CI, a profile locally) applies.
        """
        if not self.is_emulator:
            return {}
        return {
            "AWS_ACCESS_KEY_ID": EMULATOR_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET_KEY,
            "AWS_ENDPOINT_URL": str(self.emulator_endpoint),
        }
