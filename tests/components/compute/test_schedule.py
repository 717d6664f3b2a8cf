"""The schedule's rule is the only caller of the function and the only sender to its DLQ."""

from __future__ import annotations

from components.aws_context import AwsContext
from components.compute.schedule import LambdaSchedule


def test_rule_permission_and_dead_letter_queue_are_scoped_to_the_rule(bare_stack, naming):
    stack, synth = bare_stack
    context = AwsContext(stack, "context")
    LambdaSchedule(
        stack,
        "schedule",
        naming=naming,
        name="job",
        description="test",
        schedule_expression="rate(5 minutes)",
        function_name="fraud-job-test",
        function_arn="arn:aws:lambda:us-east-1:111122223333:function:fraud-job-test",
        context=context,
        messaging_key_arn="arn:aws:kms:us-east-1:111122223333:key/k",
    )
    config = synth()
    resources = config["resource"]
    (rule_id,) = resources["aws_cloudwatch_event_rule"]
    rule_arn = f"${{aws_cloudwatch_event_rule.{rule_id}.arn}}"
    assert resources["aws_cloudwatch_event_rule"][rule_id]["schedule_expression"] == "rate(5 minutes)"
    (permission,) = resources["aws_lambda_permission"].values()
    assert (permission["principal"], permission["source_arn"], permission["function_name"]) == ("events.amazonaws.com", rule_arn, "fraud-job-test")
    assert permission["source_account"] == "${data.aws_caller_identity.context_caller_CB9F32B7.account_id}"
    (queue_id, queue), = resources["aws_sqs_queue"].items()
    assert queue["name"] == "fraud-job-dlq-test" and queue["kms_master_key_id"].endswith("key/k")
    (document_id, document), = config["data"]["aws_iam_policy_document"].items()
    assert queue["policy"] == f"${{data.aws_iam_policy_document.{document_id}.json}}"
    allow = next(statement for statement in document["statement"] if statement["effect"] == "Allow")
    assert allow["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [rule_arn]}]
    (target,) = resources["aws_cloudwatch_event_target"].values()
    assert target["retry_policy"]["maximum_event_age_in_seconds"] <= 300
    assert target["dead_letter_config"]["arn"] == f"${{aws_sqs_queue.{queue_id}.arn}}"
    # The rule may invoke the function before it fires; the queue carries its policy from creation.
    (permission_id,) = resources["aws_lambda_permission"]
    assert target["depends_on"] == [f"aws_lambda_permission.{permission_id}"]
