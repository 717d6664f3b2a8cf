"""A plan carries a quota only when its consumer has one, its own key, and closes the routes of others."""

from __future__ import annotations

import pytest

from components.edge.rest_api import FRAUD_API, TRANSACTIONS
from components.edge.usage_plans import ConsumerPlan, PlanLimits, PlanWithKey


@pytest.mark.parametrize("quota", [None, 1000])
def test_quota_only_when_set_and_one_key_attached(bare_stack, naming, quota):
    stack, synth = bare_stack
    PlanWithKey(
        stack,
        "plan",
        naming=naming,
        plan=ConsumerPlan(
            name="clients",
            description="test",
            limits=PlanLimits(rate_limit_per_second=5, burst_limit=10, quota_per_day=quota),
            routes=(TRANSACTIONS,),
        ),
        rest_api_id="api",
        stage_name="test",
        closed_routes=(FRAUD_API,),
    )
    resources = synth()["resource"]
    plan = next(iter(resources["aws_api_gateway_usage_plan"].values()))
    assert plan["name"] == "fraud-clients-test"
    assert plan["throttle_settings"] == {"rate_limit": 5, "burst_limit": 10}
    assert plan.get("quota_settings") == ({"limit": quota, "period": "DAY"} if quota else None)
    # The other consumers' route is closed to this plan's keys: no request of theirs passes it.
    assert plan["api_stages"] == [
        {"api_id": "api", "stage": "test", "throttle": [{"path": "/api/{proxy+}/ANY", "rate_limit": 0, "burst_limit": 0}]}
    ]
    (key_id,) = resources["aws_api_gateway_api_key"]
    assert resources["aws_api_gateway_api_key"][key_id]["name"] == "fraud-clients-key-test"
    (link,) = resources["aws_api_gateway_usage_plan_key"].values()
    assert link["key_id"] == f"${{aws_api_gateway_api_key.{key_id}.id}}"
