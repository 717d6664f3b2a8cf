"""The capacity model: what an environment's settings promise, from the usage plans it sells down to
Aurora's connection limit, and whether the numbers agree (docs/capacity.md).

Computed from the typed settings of one environment, so it holds for every environment the same way;
`config/validation.py` refuses at synth a setting that breaks it, in one line naming the setting.
The inequalities:

1. fraud-api, one task lost: (max tasks - 1) x min(request target, measured knee) >= what the
   API-client usage plan sells (its rate per key x keys).
2. The request-count target asks of a task at most REQUEST_TARGET_SHARE_OF_KNEE of the knee.
3. Aurora connections: every client's most connections at once, plus RDS's own, stay below
   `max_connections`, and the connections alarm sits between fraud-api's steady maximum and it.
4. The transaction processor drains what the ingestion plan admits in its first second (its
   burst plus a second at its rate) within that second.
5. WAF's per-key limits sit above what each plan admits in WAF's window, so WAF never blocks a
   client within its plan (API Gateway's 429 answers first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from config.settings import WAF_RATE_WINDOW_SECONDS, ConfigError, EnvironmentConfig, waf_limit_above

# --- Measured: one fraud-api task ---------------------------------------------------------------
# Requests per second one fraud-api process serves with p99 <= 20 ms on ONE core (a Fargate task
# has 1 vCPU), from `benchmarks/bench_fraud_api.py` with the server pinned to a core of its own
# (docs/capacity.md, "Per-task capacity"). The shared machine gave few quiet steps: 600 and 700
# req/s held (p99 13 and 7 ms) with no other process on either core, and 500 req/s was lost once
# (p99 28 ms) with others at 7-10 % of a core. The lower end is used; re-measure on a quiet
# machine (or on Fargate) and put the lowest undisturbed knee here.
FRAUD_API_TASK_KNEE_PER_SECOND = 500
# The request-count target asks of each task at most this share of its knee. The rest is the
# margin for (a) a Fargate vCPU slower than the benchmark machine's core, (b) the load growing for
# the two to three minutes a scale-out takes (the policy's alarm needs its minutes of data, then
# a task starts) and (c) the ALB spreading requests unevenly over the tasks.
REQUEST_TARGET_SHARE_OF_KNEE = 0.5
# Target tracking compares RequestCount (Sum per 60 s period, the period CloudWatch gives the
# policy's metrics) / RunningTaskCount with the target: the target is requests per task per MINUTE
# (components/compute/autoscaling.py).
REQUEST_METRIC_PERIOD_SECONDS = 60
# CodeDeploy's blue/green runs the replacement task set beside the original until the original is
# terminated (`blue_green_termination_wait_minutes` after the shift): twice the tasks, twice the pools.
TASK_SETS_DURING_DEPLOYMENT = 2

# --- Assumed: one transaction-processor invocation ---------------------------------------------
# A planning figure, not a measurement: the warm p99 measured against the emulator is 22 ms
# (docs/performance.md), with no network; on AWS three DynamoDB round trips and, for review or
# decline, an SNS publish add tens of milliseconds. Replace it with the function's p99 `Duration`
# once prod has traffic.
PROCESSOR_INVOCATION_SECONDS = 0.1

# --- The edge ---------------------------------------------------------------------------------------
# Each usage plan has one API key (components/edge/usage_plans.py `PlanWithKey`); a test keeps this
# in step with the synthesized plans. Another key of a plan multiplies what the plan sells.
API_KEYS_PER_PLAN = 1

# --- Aurora PostgreSQL Serverless v2 --------------------------------------------------------------
# `max_connections` of an Aurora Serverless v2 instance is set from the memory of its MAXIMUM
# capacity (a static parameter, fixed when the instance starts; it does not shrink when the instance
# scales down), as AWS documents ("Performance and scaling for Aurora Serverless v2", maximum
# connections): the table of Aurora PostgreSQL defaults by maximum ACU, LEAST(DBInstanceClassMemory
# / 9531392, 5000) in between. A maximum between two rows counts as the lower row.
AURORA_POSTGRES_MAX_CONNECTIONS = ((1, 189), (4, 823), (8, 1669), (16, 3360), (32, 5000))
# ... and with a minimum capacity of 0 or 0.5 ACU, it is capped at this.
AURORA_HALF_ACU_MAX_CONNECTIONS_CAP = 2000
# Slots no application login can take: PostgreSQL's `superuser_reserved_connections` (3) and
# Aurora's `rds.rds_superuser_reserved_connections` (2).
RESERVED_SLOTS = 3 + 2
# RDS's own sessions (rdsadmin: health checks, monitoring, Performance Insights) and an operator's
# psql session or two, which take ordinary slots.
RDS_AND_OPERATOR_SESSIONS = 10
# The schema migration task (components/compute/schema_migration.py) logs in once as the schema owner
# (a pool of 1); two releases at once run two (the advisory lock serialises them, both logins are open).
MIGRATION_CONNECTIONS = 2


def aurora_max_connections(min_acu: float, max_acu: float) -> int:
    """The default `max_connections` of an Aurora PostgreSQL Serverless v2 instance with this
    capacity range (AURORA_POSTGRES_MAX_CONNECTIONS)."""
    if max_acu < AURORA_POSTGRES_MAX_CONNECTIONS[0][0]:
        raise ConfigError(f"Aurora Serverless v2's maximum capacity must be at least {AURORA_POSTGRES_MAX_CONNECTIONS[0][0]} ACU")
    documented = max(connections for acu, connections in AURORA_POSTGRES_MAX_CONNECTIONS if acu <= max_acu)
    return min(documented, AURORA_HALF_ACU_MAX_CONNECTIONS_CAP) if min_acu <= 0.5 else documented


@dataclass(frozen=True)
class AuroraClient:
    """Something that holds connections to the cluster's writer, at most `connections` at once."""

    name: str
    connections: int
    why: str


@dataclass(frozen=True)
class Capacity:
    """The model of one environment: every figure of docs/capacity.md's table."""

    environment: str
    # The edge: what each plan sells per key, and WAF's limits (requests per WAF window).
    api_client_rate_per_second: int
    api_client_burst: int
    ingestion_rate_per_second: int
    ingestion_burst: int
    ingestion_quota_per_day: int
    waf_per_key_api: int
    waf_per_key_transactions: int
    waf_keyed_per_ip: int
    stage_rate_per_second: int
    # fraud-api.
    min_tasks: int
    max_tasks: int
    peak_min_tasks: int | None
    requests_per_target_per_minute: int
    pool_per_task: int
    # Aurora.
    min_acu: float
    max_acu: float
    max_connections: int
    aurora_clients: tuple[AuroraClient, ...]
    connections_alarm_threshold: int
    # The transaction processor.
    processor_reserved_concurrency: int

    # --- derived ----------------------------------------------------------------------------------
    @property
    def api_client_sold_per_second(self) -> int:
        return self.api_client_rate_per_second * API_KEYS_PER_PLAN

    @property
    def target_per_second(self) -> float:
        return self.requests_per_target_per_minute / REQUEST_METRIC_PERIOD_SECONDS

    @property
    def target_ceiling_per_minute(self) -> int:
        """The highest request-count target inequality 2 allows."""
        return math.floor(REQUEST_TARGET_SHARE_OF_KNEE * FRAUD_API_TASK_KNEE_PER_SECOND * REQUEST_METRIC_PERIOD_SECONDS)

    @property
    def per_task_counted_per_second(self) -> float:
        """What one task is counted on serving: its target, never more than its knee."""
        return min(self.target_per_second, FRAUD_API_TASK_KNEE_PER_SECOND)

    @property
    def one_task_lost_per_second(self) -> float:
        return (self.max_tasks - 1) * self.per_task_counted_per_second

    @property
    def tasks_needed(self) -> int:
        """The fewest maximum tasks that pass inequality 1 at this target."""
        return math.ceil(self.api_client_sold_per_second / self.per_task_counted_per_second) + 1

    @property
    def fleet_ceiling_per_second(self) -> int:
        """Every task at its knee: beyond this, p99 passes 20 ms whatever the autoscaler does."""
        return self.max_tasks * FRAUD_API_TASK_KNEE_PER_SECOND

    @property
    def fraud_api_steady_connections(self) -> int:
        """fraud-api's pools at maximum tasks outside a deployment."""
        return self.pool_per_task * self.max_tasks

    @property
    def connections_needed(self) -> int:
        return RESERVED_SLOTS + sum(client.connections for client in self.aurora_clients)

    @property
    def ingestion_first_second(self) -> int:
        """What the ingestion plan admits in its first second: the burst, plus a second at its rate."""
        return (self.ingestion_burst + self.ingestion_rate_per_second) * API_KEYS_PER_PLAN

    @property
    def processor_per_second(self) -> float:
        return self.processor_reserved_concurrency / PROCESSOR_INVOCATION_SECONDS

    @property
    def processor_concurrency_needed(self) -> int:
        return math.ceil(self.ingestion_first_second * PROCESSOR_INVOCATION_SECONDS)

    @property
    def api_admitted_per_window(self) -> int:
        return self.api_client_burst + self.api_client_rate_per_second * WAF_RATE_WINDOW_SECONDS

    @property
    def ingestion_admitted_per_window(self) -> int:
        return self.ingestion_burst + self.ingestion_rate_per_second * WAF_RATE_WINDOW_SECONDS

    def problems(self) -> list[str]:
        """Each broken inequality, as one line naming the setting to change and how far."""
        found = []
        if self.requests_per_target_per_minute > self.target_ceiling_per_minute:
            found.append(
                f"compute.fraud_api_requests_per_target {self.requests_per_target_per_minute} (requests per task per minute) asks "
                f"more than {REQUEST_TARGET_SHARE_OF_KNEE:.0%} of a task's measured knee of {FRAUD_API_TASK_KNEE_PER_SECOND} req/s; "
                f"set it to at most {self.target_ceiling_per_minute} (docs/capacity.md)"
            )
        if self.one_task_lost_per_second < self.api_client_sold_per_second:
            found.append(
                f"compute.fraud_api_max_tasks {self.max_tasks}: with one task lost, {self.max_tasks - 1} tasks at the request target "
                f"({_number(self.per_task_counted_per_second)} req/s each, compute.fraud_api_requests_per_target "
                f"{self.requests_per_target_per_minute}/min) serve {_number(self.one_task_lost_per_second)} req/s, less than the "
                f"{self.api_client_sold_per_second} req/s edge.api_client_rate_limit_per_second sells; raise it to at least "
                f"{self.tasks_needed} (docs/capacity.md)"
            )
        if self.connections_needed >= self.max_connections:
            found.append(
                f"compute.fraud_api_db_pool_max_size {self.pool_per_task} x {TASK_SETS_DURING_DEPLOYMENT} task sets of {self.max_tasks} "
                f"tasks (compute.fraud_api_max_tasks) needs {self.connections_needed} Aurora connections with the other clients and "
                f"RDS's own, not below the {self.max_connections} max_connections of data.aurora_min_capacity_acu "
                f"{self.min_acu:g} / data.aurora_max_capacity_acu {self.max_acu:g}; lower the pool or the tasks, or raise the "
                "maximum capacity (docs/capacity.md)"
            )
        if not self.fraud_api_steady_connections <= self.connections_alarm_threshold < self.max_connections:
            found.append(
                f"observability.aurora_connections_threshold {self.connections_alarm_threshold} must be at least fraud-api's "
                f"{self.fraud_api_steady_connections} connections at maximum tasks (or the alarm fires at every peak) and below "
                f"Aurora's {self.max_connections} max_connections (docs/capacity.md)"
            )
        if self.processor_concurrency_needed > self.processor_reserved_concurrency:
            found.append(
                f"compute.lambda_reserved_concurrency {self.processor_reserved_concurrency} drains "
                f"{self.processor_per_second:g} transactions/s at {PROCESSOR_INVOCATION_SECONDS * 1000:g} ms each, less than the "
                f"{self.ingestion_first_second} the ingestion plan admits in its first second (edge.ingestion_client_burst_limit "
                f"{self.ingestion_burst} + edge.ingestion_client_rate_limit_per_second {self.ingestion_rate_per_second}); raise it "
                f"to at least {self.processor_concurrency_needed} (docs/capacity.md)"
            )
        for route, limit, admitted in (
            ("/api/*", self.waf_per_key_api, self.api_admitted_per_window),
            ("POST /transactions", self.waf_per_key_transactions, self.ingestion_admitted_per_window),
        ):
            if limit < admitted:
                found.append(
                    f"edge.waf_keyed_limit_headroom gives WAF a per-key limit of {limit} requests per {WAF_RATE_WINDOW_SECONDS} s on "
                    f"{route}, below the {admitted} its usage plan admits in that window; WAF would block clients within their plan"
                )
        return found


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


def capacity_of(config: EnvironmentConfig) -> Capacity:
    """The model of one environment, from its settings alone."""
    compute, data, edge = config.compute, config.data, config.edge
    api_limit = waf_limit_above(edge.api_client_rate_limit_per_second, edge.api_client_burst_limit, edge.waf_keyed_limit_headroom)
    ingestion_limit = waf_limit_above(
        edge.ingestion_client_rate_limit_per_second, edge.ingestion_client_burst_limit, edge.waf_keyed_limit_headroom
    )
    deployment_tasks = TASK_SETS_DURING_DEPLOYMENT * compute.fraud_api_max_tasks
    return Capacity(
        environment=config.name,
        api_client_rate_per_second=edge.api_client_rate_limit_per_second,
        api_client_burst=edge.api_client_burst_limit,
        ingestion_rate_per_second=edge.ingestion_client_rate_limit_per_second,
        ingestion_burst=edge.ingestion_client_burst_limit,
        ingestion_quota_per_day=edge.ingestion_client_quota_per_day,
        waf_per_key_api=api_limit,
        waf_per_key_transactions=ingestion_limit,
        waf_keyed_per_ip=api_limit + ingestion_limit,
        stage_rate_per_second=edge.stage_rate_limit_per_second,
        min_tasks=compute.fraud_api_min_tasks,
        max_tasks=compute.fraud_api_max_tasks,
        peak_min_tasks=compute.fraud_api_peak.min_tasks if compute.fraud_api_peak else None,
        requests_per_target_per_minute=compute.fraud_api_requests_per_target,
        pool_per_task=compute.fraud_api_db_pool_max_size,
        min_acu=data.aurora_min_capacity_acu,
        max_acu=data.aurora_max_capacity_acu,
        max_connections=aurora_max_connections(data.aurora_min_capacity_acu, data.aurora_max_capacity_acu),
        aurora_clients=(
            AuroraClient(
                "fraud-api tasks",
                compute.fraud_api_db_pool_max_size * deployment_tasks,
                f"pool x maximum tasks x {TASK_SETS_DURING_DEPLOYMENT} task sets while a blue/green deployment runs both",
            ),
            AuroraClient("schema migration task", MIGRATION_CONNECTIONS, "one owner login per run, two releases at once"),
            AuroraClient("RDS and operators", RDS_AND_OPERATOR_SESSIONS, "rdsadmin's sessions, an operator's psql"),
            # Listed so the table shows them: the database's security group admits the fraud-api
            # tasks' and the migration task's groups only, which no function wears
            # (tests/config/test_capacity.py).
            AuroraClient("pipeline Lambdas", 0, "DynamoDB only: no route to the database"),
            AuroraClient("secret-rotation Lambda", 0, "rotates the API-config secret; RDS rotates the master secret itself"),
        ),
        connections_alarm_threshold=config.observability.aurora_connections_threshold,
        processor_reserved_concurrency=compute.lambda_reserved_concurrency,
    )


def check_capacity(config: EnvironmentConfig) -> None:
    """Raise ConfigError with the first broken inequality of the environment's model."""
    problems = capacity_of(config).problems()
    if problems:
        raise ConfigError(f"environment '{config.name}': {problems[0]}")
