"""An EventBridge schedule invoking one Lambda function, and only that rule may invoke it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.queues import QueueSender, dead_letter_queue
from components.naming import ResourceNamer

EVENTS = "events.amazonaws.com"
# An event older than one schedule period is superseded by the next run (which re-reads the
# overlapping window), so retrying longer would only pile runs up.
MAX_EVENT_AGE_SECONDS = 300
MAX_RETRY_ATTEMPTS = 2


class LambdaSchedule(Construct):
    """Events EventBridge cannot hand to Lambda at all (throttled by reserved concurrency
    past the retry window, or a missing permission) land in the schedule's own dead-letter
    queue; failures inside the function go to the function's on-failure destination."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        name: str,
        description: str,
        schedule_expression: str,
        function_name: str,
        function_arn: str,
        context: AwsContext,
        messaging_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = CloudwatchEventRule(
            self, "rule", name=naming.name(name), description=description, schedule_expression=schedule_expression, state="ENABLED"
        )
        self.permission = LambdaPermission(
            self,
            "permission",
            statement_id="AllowScheduleRule",
            action="lambda:InvokeFunction",
            function_name=function_name,
            principal=EVENTS,
            source_arn=self.rule.arn,
            source_account=context.account_id,
        )
        self.dead_letter_queue = dead_letter_queue(
            self,
            "dead-letter-queue",
            name=naming.name(name, "dlq"),
            context=context,
            messaging_key_arn=messaging_key_arn,
            sender=QueueSender(sid="ScheduleRuleOnly", service_principal=EVENTS, source_arn=self.rule.arn),
        )
        self.target = CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            arn=function_arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=MAX_RETRY_ATTEMPTS
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
            depends_on=[self.permission],
        )
