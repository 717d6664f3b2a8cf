"""The SNS topic every alarm of the environment notifies, encrypted with the data layer's
messaging key, with the on-call e-mail subscribed.

CloudWatch publishes as the `cloudwatch.amazonaws.com` service principal: the topic policy admits
it for this account's alarms only, and the messaging key's policy (data layer, statement
`CloudWatchAlarms`) lets it use the key under the same conditions.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from components.aws_context import AwsContext
from components.security.policy_statements import deny_insecure_transport

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
        self.policy_document = DataAwsIamPolicyDocument(
            self,
            "policy-document",
            statement=[
                # What AWS's default topic policy grants: this account's principals, as their IAM
                # policies allow (nobody outside the account).
                DataAwsIamPolicyDocumentStatement(
                    sid="AccountPrincipals",
                    effect="Allow",
                    actions=["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
                    resources=[self.topic.arn],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[context.account_root_arn])],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudWatchAlarmsOfThisEnvironment",
                    effect="Allow",
                    actions=["sns:Publish"],
                    resources=[self.topic.arn],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[CLOUDWATCH])],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[context.account_id]
                        ),
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnLike", variable="aws:SourceArn", values=[context.arn("cloudwatch", f"alarm:{alarm_name_pattern}")]
                        ),
                    ],
                ),
                deny_insecure_transport(actions=["sns:Publish"], resources=[self.topic.arn]),
            ],
        )
        SnsTopicPolicy(self, "policy", arn=self.topic.arn, policy=self.policy_document.json)
        # Pending until the recipient confirms; Terraform cannot confirm an e-mail address, and
        # deleting the topic removes the subscription, so teardown needs no confirmation.
        self.email_subscription = SnsTopicSubscription(self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email)
