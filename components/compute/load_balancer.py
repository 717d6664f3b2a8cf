"""The internal ALB in front of fraud-api: TLS 1.2+/1.3 on 443, a blue/green test listener on
8443, two IP target groups CodeDeploy swaps between, path routing and access logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction, LbListenerDefaultActionFixedResponse
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.naming import LOAD_BALANCER_NAME_LIMIT, S3_BUCKET_NAME_LIMIT, ResourceNamer
from components.storage.audit_log_archive import ArchiveDestination
from components.storage.log_delivery import load_balancer_log_delivery_statements
from components.storage.secure_bucket import LifecycleSettings, SecureBucket

# TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only (PCI DSS: strong cryptography).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTPS_PORT = 443
TEST_LISTENER_PORT = 8443
# Only these reach the service; everything else is answered by the ALB with 404. `/health`
# is routed too, so the edge NLB can health-check the whole path through this ALB.
ROUTED_PATHS = ("/api/*", "/health")
HEALTH_CHECK_PATH = "/health"
ACCESS_LOG_PREFIX = "alb"


@dataclass(frozen=True)
class BlueGreenPair:
    """One value per blue/green target group; CodeDeploy swaps which one serves production."""

    blue: str
    green: str

    def by_colour(self) -> dict[str, str]:
        return {"blue": self.blue, "green": self.green}


@dataclass(frozen=True)
class LoadBalancerPlacement:
    vpc_id: str
    subnet_ids: Sequence[str]
    security_group_id: str


class InternalLoadBalancer(Construct):
    """No listener here forwards on its default action, so CodeDeploy's swap only ever touches
    the two forwarding rules (whose actions Terraform ignores after creation)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        placement: LoadBalancerPlacement,
        certificate_arn: str,
        target_port: int,
        access_log_lifecycle: LifecycleSettings,
        deregistration_delay_seconds: int,
        access_log_archive: ArchiveDestination | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Without `access_log_archive` the logs go to a bucket of this layer, emptied by its
        # teardown; with it, to the account's audit-log archive (bootstrap), which outlives it.
        self.access_logs: SecureBucket | None = None
        if access_log_archive is None:
            self.access_logs = self._access_log_bucket(naming, context, access_log_lifecycle)
            access_logs = LbAccessLogs(bucket=self.access_logs.name, prefix=ACCESS_LOG_PREFIX, enabled=True)
            # ELB writes a test object when access logs are enabled; the policy must exist first.
            after = [self.access_logs.policy]
        else:
            # The archive and its policy exist before any environment (bootstrap, step 0).
            access_logs = LbAccessLogs(bucket=access_log_archive.bucket, prefix=access_log_archive.prefix, enabled=True)
            after = None

        self.load_balancer = Lb(
            self,
            "load-balancer",
            name=naming.name("api", max_length=LOAD_BALANCER_NAME_LIMIT),
            load_balancer_type="application",
            # Internal: the only way in is API Gateway's VPC link through the edge NLB.
            internal=True,
            subnets=list(placement.subnet_ids),
            security_groups=[placement.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_http2=True,
            idle_timeout=60,
            # Every environment must be destroyable without manual steps (docs/requirements.md R8.2).
            enable_deletion_protection=False,
            access_logs=access_logs,
            depends_on=after,
        )
        skip_check(
            self.load_balancer,
            "CKV_AWS_150",
            "deletion protection is off: every environment must be destroyable without manual steps (R8.2)",
        )

        self.target_groups = {
            colour: self._target_group(naming, colour, placement.vpc_id, target_port, deregistration_delay_seconds)
            for colour in ("blue", "green")
        }
        self.blue = self.target_groups["blue"]
        self.green = self.target_groups["green"]
        self.target_group_arn_suffixes = BlueGreenPair(blue=self.blue.arn_suffix, green=self.green.arn_suffix)

        self.https_listener = self._listener("https", HTTPS_PORT, certificate_arn)
        self.test_listener = self._listener("test", TEST_LISTENER_PORT, certificate_arn)
        self.routing_rules = [self._route_to_blue(name, listener) for name, listener in (("https", self.https_listener), ("test", self.test_listener))]

    def _target_group(self, naming: ResourceNamer, colour: str, vpc_id: str, port: int, deregistration_delay: int) -> LbTargetGroup:
        group = LbTargetGroup(
            self,
            f"target-group-{colour}",
            name=naming.name("api", colour, max_length=LOAD_BALANCER_NAME_LIMIT),
            port=port,
            protocol="HTTP",
            protocol_version="HTTP1",
            target_type="ip",
            vpc_id=vpc_id,
            # Below the service's 20 s SIGTERM drain, so the ALB stops sending first.
            deregistration_delay=str(deregistration_delay),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=HEALTH_CHECK_PATH,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )
        skip_check(
            group,
            "CKV_AWS_378",
            "TLS terminates at the internal ALB; ALB-to-task traffic stays in private subnets between two "
            "security groups that admit only each other on 8080 (PCI DSS 4.2.1 covers open, public networks)",
        )
        return group

    def _listener(self, name: str, port: int, certificate_arn: str) -> LbListener:
        return LbListener(
            self,
            f"listener-{name}",
            load_balancer_arn=self.load_balancer.arn,
            port=port,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_action=[
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=LbListenerDefaultActionFixedResponse(
                        content_type="application/json", status_code="404", message_body='{"message":"not found"}'
                    ),
                )
            ],
        )

    def _route_to_blue(self, name: str, listener: LbListener) -> LbListenerRule:
        # Both listeners start on blue. CodeDeploy rewrites these forward actions on every
        # deployment (test listener to the replacement first, then production), so Terraform
        # must not put them back.
        return LbListenerRule(
            self,
            f"route-{name}",
            listener_arn=listener.arn,
            priority=100,
            condition=[LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=list(ROUTED_PATHS)))],
            action=[LbListenerRuleAction(type="forward", target_group_arn=self.blue.arn)],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["action"]),
        )

    def _access_log_bucket(self, naming: ResourceNamer, context: AwsContext, lifecycle: LifecycleSettings) -> SecureBucket:
        elb_account = DataAwsElbServiceAccount(self, "elb-account")
        bucket = SecureBucket(
            self,
            "access-logs",
            # Account id keeps the globally unique bucket name from clashing with other accounts.
            bucket_name=f"{naming.name('alb-logs', max_length=S3_BUCKET_NAME_LIMIT - 13)}-{context.account_id}",
            kms_key_arn=None,
            lifecycle=lifecycle,
            extra_policy_statements=lambda bucket_arn: load_balancer_log_delivery_statements(
                context, bucket_arn, prefix=ACCESS_LOG_PREFIX, elb_account_arn=elb_account.arn
            ),
        )
        skip_check(
            bucket.bucket,
            "CKV_AWS_145",
            "ALB access logs can only be delivered to SSE-S3 (AES256) buckets; ELB cannot use a KMS key",
        )
        skip_check(
            bucket.bucket,
            "CKV_AWS_18",
            "this bucket is itself an access-log archive; logging it into another log bucket adds no audit value",
        )
        return bucket
