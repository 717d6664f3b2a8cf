"""Usage plans, one per kind of consumer, each with its own API key.

The platform has two kinds of consumer of one API: fraud-api clients at 1000 requests/second per
key (docs/requirements.md R5.6) and transaction-ingestion clients at 1000 requests/day per key (R5.7).

Each kind may call only its own routes: ingestion keys `POST /transactions`, fraud-api client keys
`/api/*` (R5.16). A usage plan cannot forbid a method outright, but a per-method throttle of zero
lets no request of the plan's keys through it: API Gateway answers such a call 429 before anything
runs. Chosen over a Lambda authorizer (a function, and its latency, on the path of every request)
and over one API per consumer kind (two URLs for clients, two stages to log and watch); why, and
what a refused caller sees: docs/edge.md, "Usage plans and keys".
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.api_gateway_api_key import ApiGatewayApiKey
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanApiStagesThrottle,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_usage_plan_key import ApiGatewayUsagePlanKey
from constructs import Construct

from components.edge.rest_api import FRAUD_API, TRANSACTIONS, ApiRoute
from components.naming import ResourceNamer
from config.settings import EdgeSettings

# A per-method throttle that lets nothing through: the route is closed to the plan's keys.
CLOSED = 0


@dataclass(frozen=True)
class PlanLimits:
    rate_limit_per_second: int
    burst_limit: int
    # Requests per key per day; None: no quota, only the rate.
    quota_per_day: int | None = None


@dataclass(frozen=True)
class ConsumerPlan:
    """`name` names the plan and its key (`fraud-<name>-<env>`, `fraud-<name>-key-<env>`);
    `routes` are the API methods its keys may call."""

    name: str
    description: str
    limits: PlanLimits
    routes: tuple[ApiRoute, ...]


class PlanWithKey(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        plan: ConsumerPlan,
        rest_api_id: str,
        stage_name: str,
        closed_routes: tuple[ApiRoute, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        limits = plan.limits
        self.plan = plan
        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "plan",
            name=naming.name(plan.name),
            description=plan.description,
            api_stages=[
                ApiGatewayUsagePlanApiStages(
                    api_id=rest_api_id,
                    stage=stage_name,
                    throttle=[
                        ApiGatewayUsagePlanApiStagesThrottle(path=route.method_path, rate_limit=CLOSED, burst_limit=CLOSED)
                        for route in closed_routes
                    ]
                    or None,
                )
            ],
            throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                rate_limit=limits.rate_limit_per_second, burst_limit=limits.burst_limit
            ),
            quota_settings=(
                ApiGatewayUsagePlanQuotaSettings(limit=limits.quota_per_day, period="DAY")
                if limits.quota_per_day is not None
                else None
            ),
        )
        # API Gateway generates the value; it stays in state (encrypted in the state bucket) and
        # is read with `aws apigateway get-api-key --include-value`, never from an output.
        self.api_key = ApiGatewayApiKey(
            self,
            "key",
            name=naming.name(plan.name, "key"),
            description=f"First key of the {plan.name} usage plan",
            enabled=True,
        )
        ApiGatewayUsagePlanKey(
            self,
            "plan-key",
            key_id=self.api_key.id,
            key_type="API_KEY",
            usage_plan_id=self.usage_plan.id,
        )


class ConsumerPlans(Construct):
    """The platform's two kinds of consumer, each with its usage plan and first key (limits from
    the edge settings): fraud-api clients with a per-key rate and no quota on `/api/*`,
    transaction-ingestion clients with a daily quota and a modest rate on `POST /transactions`.
    Every route of the API belongs to exactly one kind; each plan closes the others' routes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        settings: EdgeSettings,
        rest_api_id: str,
        stage_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        plans = (
            ConsumerPlan(
                name="api-clients",
                description="fraud-api clients: per-key rate and burst, no daily quota",
                limits=PlanLimits(
                    rate_limit_per_second=settings.api_client_rate_limit_per_second,
                    burst_limit=settings.api_client_burst_limit,
                ),
                routes=(FRAUD_API,),
            ),
            ConsumerPlan(
                name="ingestion-clients",
                description="Transaction ingestion clients: daily quota per key and a modest rate",
                limits=PlanLimits(
                    rate_limit_per_second=settings.ingestion_client_rate_limit_per_second,
                    burst_limit=settings.ingestion_client_burst_limit,
                    quota_per_day=settings.ingestion_client_quota_per_day,
                ),
                routes=(TRANSACTIONS,),
            ),
        )
        every_route = tuple(route for plan in plans for route in plan.routes)
        self.api_clients, self.ingestion_clients = (
            PlanWithKey(
                self,
                plan.name,
                naming=naming,
                plan=plan,
                rest_api_id=rest_api_id,
                stage_name=stage_name,
                closed_routes=tuple(route for route in every_route if route not in plan.routes),
            )
            for plan in plans
        )

    @property
    def by_consumer(self) -> dict[str, PlanWithKey]:
        """Keyed as the `usage_plan_ids` and `api_key_ids` outputs are."""
        return {"api_clients": self.api_clients, "ingestion_clients": self.ingestion_clients}
