"""The schedule's rule is the only caller of the function and the only sender to its DLQ."""

from __future__ import annotations

from components.compute.schedule import LambdaSchedule


def test_rule_permission_and_dead_letter_queue_are_scoped_to_the_rule(bare_stack, naming):
    stack, synth = bare_stack
    LambdaSchedule(
        stack,
        "schedule",
        naming=naming,
        name="job",
        description="test",
        schedule_expression="rate(5 minutes)",
        function_name="fraud-job-test",
        function_arn="arn:aws:lambda:us-east-1:111122223333:function:fraud-job-test",
        account_id="111122223333",
        messaging_key_arn="arn:aws:kms:us-east-1:111122223333:key/k",
    )
    config = synth()
    resources = config["resource"]
    (rule_id,) = resources["aws_cloudwatch_event_rule"]
    rule_arn = f"${{aws_cloudwatch_event_rule.{rule_id}.arn}}"
    assert resources["aws_cloudwatch_event_rule"][rule_id]["schedule_expression"] == "rate(5 minutes)"
    (permission,) = resources["aws_lambda_permission"].values()
    assert (permission["principal"], permission["source_arn"], permission["function_name"]) == ("events.amazonaws.com", rule_arn, "fraud-job-test")
    assert permission["source_account"] == "111122223333"
    (queue,) = resources["aws_sqs_queue"].values()
    assert queue["name"] == "fraud-job-dlq-test" and queue["kms_master_key_id"].endswith("key/k")
    (document,) = config["data"]["aws_iam_policy_document"].values()
    allow = next(statement for statement in document["statement"] if statement["effect"] == "Allow")
    assert allow["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [rule_arn]}]
    (target,) = resources["aws_cloudwatch_event_target"].values()
    assert target["retry_policy"]["maximum_event_age_in_seconds"] <= 300
    assert len(target["depends_on"]) == 2
