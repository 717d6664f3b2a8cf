"""A log group kept under a year carries the reason; one kept a year carries none."""

from __future__ import annotations

import pytest

from components.security.log_groups import AUDIT_RETENTION_DAYS, explain_short_retention


@pytest.mark.parametrize("days, skipped", [(30, True), (364, True), (AUDIT_RETENTION_DAYS, False), (731, False)])
def test_short_retention_is_recorded_with_its_reason(bare_stack, days, skipped):
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

    stack, synth = bare_stack
    group = CloudwatchLogGroup(stack, "group", name="/test/group-test", retention_in_days=days)
    explain_short_retention(group, days, "because a test says so")
    (body,) = synth()["resource"]["aws_cloudwatch_log_group"].values()
    skips = body.get("//", {}).get("checkov_skip", {})
    assert ("CKV_AWS_338" in skips) is skipped
    if skipped:
        assert f"{days} days: because a test says so" in skips["CKV_AWS_338"]
