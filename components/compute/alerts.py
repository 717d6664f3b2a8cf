"""Fraud alerts: an encrypted SNS topic with delivery-status logging, fanned out to an encrypted
SQS queue for downstream processing, with a dead-letter queue behind both hops."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.queues import QueueSender, dead_letter_queue, encrypted_queue, queue_arn
from components.naming import IAM_ROLE_NAME_LIMIT, ResourceNamer
from components.security.log_groups import encrypted_log_group
from components.security.policy_statements import allow
from components.security.resource_policies import topic_policy
from components.security.service_role import ServiceRole

ALERT_RETENTION_SECONDS = 4 * 24 * 3600
# Receives before a message that keeps failing its consumer moves to the dead-letter queue.
MAX_RECEIVES = 5
ALERT_VISIBILITY_TIMEOUT_SECONDS = 60
# Protocols whose deliveries SNS logs (SQS, Lambda and HTTP: docs/requirements.md R4.6); every failure is logged,
# successes are sampled.
LOGGED_PROTOCOLS = ("sqs", "lambda", "http")
SUCCESS_SAMPLE_PERCENT = 100
SNS = "sns.amazonaws.com"


class AlertsFanout(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        messaging_key_arn: str,
        logs_key_arn: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        topic_name = naming.name("alerts")
        # SNS writes delivery status to these names; creating them here gives them our key,
        # retention and lifecycle instead of ones SNS would create unencrypted and forever.
        delivery_prefix = f"sns/{context.region}/{context.account_id}/{topic_name}"
        self.delivery_log_groups = [
            encrypted_log_group(
                self,
                f"delivery-{outcome}",
                name=name,
                retention_days=log_retention_days,
                logs_key_arn=logs_key_arn,
                why_shorter_than_a_year="delivery status of alerts, useful while debugging a delivery",
            )
            for outcome, name in (("success", delivery_prefix), ("failure", f"{delivery_prefix}/Failure"))
        ]
        # SNS does not document aws:SourceAccount/SourceArn for assuming its feedback role.
        self.delivery_logging_role = ServiceRole(
            self,
            "delivery-logging-role",
            name=naming.name("alerts-delivery-logs", max_length=IAM_ROLE_NAME_LIMIT),
            description="SNS writes delivery status of the alerts topic to its two log groups",
            service_principal=SNS,
            trust=None,
            statements=[
                allow(
                    "WriteDeliveryStatus",
                    # SNS calls CreateLogGroup before writing; the groups exist, so it is a no-op.
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    [arn for group in self.delivery_log_groups for arn in (group.arn, f"{group.arn}:log-stream:*")],
                )
            ],
        )
        role_arn = self.delivery_logging_role.arn
        feedback = {}
        for protocol in LOGGED_PROTOCOLS:
            feedback[f"{protocol}_success_feedback_role_arn"] = role_arn
            feedback[f"{protocol}_failure_feedback_role_arn"] = role_arn
            feedback[f"{protocol}_success_feedback_sample_rate"] = SUCCESS_SAMPLE_PERCENT
        self.topic = SnsTopic(
            self,
            "topic",
            name=topic_name,
            display_name="Fraud alerts",
            kms_master_key_id=messaging_key_arn,
            # SHA256 signatures on HTTP/S deliveries (the default SHA1 is deprecated).
            signature_version=2,
            tracing_config="Active",
            **feedback,
            depends_on=self.delivery_log_groups,
        )
        # AWS's default access for this account's principals, as their IAM policies allow (the
        # Lambda roles get sns:Publish on this topic only).
        topic_policy(self, "topic-policy", topic_arn=self.topic.arn, account_root_arn=context.account_root_arn)

        # The topic is the only sender to both queues: to the alerts queue for every alert, to
        # the dead-letter queue for an alert SNS could not deliver (for example a key problem).
        topic_only = QueueSender(sid="AlertsTopicOnly", service_principal=SNS, source_arn=self.topic.arn)
        queue_name = naming.name("alerts")
        self.dead_letter_queue = dead_letter_queue(
            self, "dead-letter-queue", name=naming.name("alerts-dlq"), context=context, messaging_key_arn=messaging_key_arn, sender=topic_only,
            # Only the alerts queue may move its failed messages here. Compact, as SQS gives it back:
            # the provider compares this attribute as text, so spaces would plan a change forever.
            redrive_allow_policy=json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn(context, queue_name)]}, separators=(",", ":")
            ),
        )
        self.queue = encrypted_queue(
            self,
            "queue",
            name=queue_name,
            context=context,
            messaging_key_arn=messaging_key_arn,
            retention_seconds=ALERT_RETENTION_SECONDS,
            sender=topic_only,
            visibility_timeout_seconds=ALERT_VISIBILITY_TIMEOUT_SECONDS,
            redrive_policy=json.dumps({"deadLetterTargetArn": self.dead_letter_queue.arn, "maxReceiveCount": MAX_RECEIVES}),
        )
        self.subscription = SnsTopicSubscription(
            self,
            "subscription",
            topic_arn=self.topic.arn,
            protocol="sqs",
            endpoint=self.queue.arn,
            # Consumers read the alert JSON itself, not an SNS envelope around it.
            raw_message_delivery=True,
            redrive_policy=json.dumps({"deadLetterTargetArn": self.dead_letter_queue.arn}),
        )
