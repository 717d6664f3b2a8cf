"""The SNS topic every alarm of the environment notifies, encrypted with the data layer's
messaging key, with the on-call e-mail subscribed.

CloudWatch publishes as the `cloudwatch.amazonaws.com` service principal: the topic policy admits
it for this account's alarms only, and the messaging key's policy (data layer, statement
`CloudWatchAlarms`) lets it use the key under the same conditions.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from components.aws_context import AwsContext
from components.security.policy_statements import conditions, principals
from components.security.resource_policies import topic_policy

CLOUDWATCH = "cloudwatch.amazonaws.com"


class AlarmTopic(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        context: AwsContext,
        messaging_key_arn: str,
        # `arn:...:cloudwatch:<region>:<account>:alarm:<pattern>`: the alarms allowed to publish.
        alarm_name_pattern: str,
        email: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = SnsTopic(
            self,
            "topic",
            name=name,
            display_name="Fraud platform alarms",
            kms_master_key_id=messaging_key_arn,
            # SHA256 signatures on deliveries (the default SHA1 is deprecated).
            signature_version=2,
        )
        self.arn = self.topic.arn
        # CloudWatch may publish for this environment's alarms only; the account's own principals
        # keep AWS's default access (nobody outside the account).
        topic_policy(
            self,
            "policy",
            topic_arn=self.topic.arn,
            account_root_arn=context.account_root_arn,
            publishers=[
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudWatchAlarmsOfThisEnvironment",
                    effect="Allow",
                    actions=["sns:Publish"],
                    resources=[self.topic.arn],
                    principals=principals("Service", CLOUDWATCH),
                    condition=conditions(
                        ("StringEquals", "aws:SourceAccount", [context.account_id]),
                        ("ArnLike", "aws:SourceArn", [context.arn("cloudwatch", f"alarm:{alarm_name_pattern}")]),
                    ),
                ),
            ],
        )
        # Pending until the recipient confirms; Terraform cannot confirm an e-mail address, and
        # deleting the topic removes the subscription, so teardown needs no confirmation.
        self.email_subscription = SnsTopicSubscription(self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email)
