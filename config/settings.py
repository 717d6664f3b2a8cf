"""Typed per-environment settings of the platform.

Everything that differs between dev, staging and prod is a field here; constructs and stacks
receive these objects as properties and never read the process environment themselves. The
rules each field must satisfy live in `config/validation.py`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting that cannot work; the message names the setting and what to fix."""


class NatStrategy(str, Enum):
    # One NAT gateway for the whole VPC: cheap, but one AZ outage cuts egress for all AZs.
    SINGLE = "single"
    # One NAT gateway per AZ: each AZ keeps its egress when another AZ fails.
    PER_AZ = "per_az"
    # No NAT at all: the private tiers reach AWS only through VPC endpoints and have no route to
    # the internet; the environment must have every endpoint in PRIVATE_EGRESS_ENDPOINTS.
    NONE = "none"

    def gateway_count(self, az_count: int) -> int:
        """NAT gateways (each holding an Elastic IP) the strategy takes over `az_count` zones."""
        return {NatStrategy.PER_AZ: az_count, NatStrategy.SINGLE: 1, NatStrategy.NONE: 0}[self]


# The interface endpoints the application and Lambda tiers call AWS through when they have no NAT:
# ECR (`ecr.api` for the login and manifests, `ecr.dkr` for layers, which come from S3 through the
# gateway endpoint) for the fraud-api and X-Ray daemon images, `logs` for the containers' awslogs
# driver, `secretsmanager` for the task's secrets and the rotation function, `ssm` and `sns` for the
# pipeline functions, `xray` for the daemon (and the functions' traces). DynamoDB and S3 are
# gateway endpoints, always there. What AWS does for the functions outside the VPC (their logs,
# network interfaces, environment decryption, failure destinations) needs none
# (docs/architecture.md, "Egress").
PRIVATE_EGRESS_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sns", "xray")

# WAF counts a rate rule's requests over this trailing window (AWS allows 60, 120, 300 or 600 s).
# The shortest: a flood is blocked within about a minute, the block lifts a minute after it stops,
# and a limit reads as requests per minute. A plan's burst is small beside a minute at its rate.
WAF_RATE_WINDOW_SECONDS = 60
# WAF's own bounds on a rate-based rule's limit.
WAF_MIN_RATE_LIMIT = 10
WAF_MAX_RATE_LIMIT = 2_000_000_000


def waf_limit_above(rate_per_second: int, burst: int, headroom: float) -> int:
    """A WAF limit `headroom` times the most requests a token bucket of `rate_per_second` and
    `burst` (a usage plan's throttle) can let through in one WAF window, so WAF never blocks
    what the plan admits and API Gateway, not WAF, answers 429 when a client exceeds its plan."""
    return math.ceil(headroom * (burst + rate_per_second * WAF_RATE_WINDOW_SECONDS))


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    nat_strategy: NatStrategy
    # Interface endpoints let private workloads call AWS APIs without NAT. Each costs an
    # hourly fee per AZ, so dev keeps only what the Lambdas and ECS tasks call on every request.
    interface_endpoint_services: tuple[str, ...]
    az_count: int = 3
    # Pinned zones by AZ ID, the same physical zone in every account (a zone *name* like
    # us-east-1a maps to a different zone per account). use1-az3 is left out: Fargate does not run
    # there and it lacks several interface endpoint services (docs/aws-first-deploy.md).
    availability_zone_ids: tuple[str, ...] = ("use1-az1", "use1-az2", "use1-az4")
    flow_log_transition_to_ia_days: int = 30
    flow_log_expiration_days: int = 365
    # Deliver flow logs into the account's audit-log archive (bootstrap stack), which outlives the
    # environment, instead of a bucket of this network layer that its teardown empties.
    flow_logs_to_account_archive: bool = False

    @property
    def nat_gateway_count(self) -> int:
        return self.nat_strategy.gateway_count(self.az_count)


# The scoring core's defaults, read here as data: infrastructure never imports service code, and this
# file is the one place the defaults are written (docs/data.md, "SSM parameters").
SCORING_DEFAULTS_FILE = Path(__file__).resolve().parents[1] / "services" / "fraud_scoring" / "scoring.defaults.json"


def scoring_defaults() -> dict[str, Any]:
    """The default scoring document, every key `fraud_scoring.ScoringConfig.from_mapping` reads."""
    return json.loads(SCORING_DEFAULTS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ScoringSettings:
    """The scoring configuration an environment starts with: the service's defaults
    (SCORING_DEFAULTS_FILE) with `overrides` of whole top-level keys on top. The data layer writes it
    to the scoring parameter and seeds the API configuration secret with it; the service validates
    every value when it reads them, `config/validation.py` the keys and thresholds before synth."""

    # JSON-shaped, e.g. {"review_threshold": 0.4}.
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict:
        """The JSON-shaped mapping (lists for tuples) stored in the parameter and the secret."""
        return {**scoring_defaults(), **json.loads(json.dumps(dict(self.overrides)))}


@dataclass(frozen=True)
class DataSettings:
    aurora_min_capacity_acu: float = 0.5
    aurora_max_capacity_acu: float = 4.0
    aurora_reader_in_second_az: bool = False
    # Pinned, not "latest 16": the version a new cluster starts with. A running cluster is
    # upgraded deliberately (or by RDS at end of support), then this follows (docs/data.md). 16.4
    # is an Aurora PostgreSQL version that supports Serverless v2 (>= 13.6 / 14.3 / 15.2 / 16.1).
    aurora_engine_version: str = "16.4"
    database_name: str = "fraud"
    master_username: str = "fraud_admin"
    backup_retention_days: int = 7
    preferred_backup_window: str = "03:00-04:00"
    # After the backup window, so a maintenance restart never interrupts a backup.
    preferred_maintenance_window: str = "sun:04:30-sun:05:30"
    performance_insights_enabled: bool = True
    # Days of Performance Insights history; 7 is the free tier.
    performance_insights_retention_days: int = 7
    # Log statements slower than this (ms) into the postgresql log export; -1 turns it off.
    slow_query_log_ms: int = 500
    # The database log is an audit log: PCI DSS 10.5.1 keeps a year of history.
    log_retention_days: int = 365
    kms_deletion_window_days: int = 7
    secret_rotation_days: int = 30
    # Days Secrets Manager keeps a deleted API-config secret restorable; 0 deletes it at once, so
    # the environment can be re-created under the same names right away.
    secret_recovery_window_days: int = 0
    # Before the data layer is destroyed the lifecycle takes a final Aurora snapshot and a DynamoDB
    # backup, and keeps the storage key they are encrypted with (docs/lifecycle.md, "Tearing prod down").
    final_backups_on_destroy: bool = False
    transaction_ttl_days: int = 90
    # The rotation function runs four short steps per rotation, one at a time.
    rotation_function_reserved_concurrency: int = 1
    scoring: ScoringSettings = field(default_factory=ScoringSettings)


@dataclass(frozen=True)
class PeakScaling:
    """A daily window in which fraud-api keeps a higher floor of tasks (Application Auto Scaling
    schedule expressions, e.g. `cron(0 7 ? * MON-FRI *)`, evaluated in `timezone`)."""

    start_schedule: str
    end_schedule: str
    min_tasks: int
    timezone: str = "UTC"


def image_registry(reference: str) -> str | None:
    """The registry host of an image reference (`<host>/<path>`), or None for a bare repository
    name, which means this account's regional ECR."""
    first, _, rest = reference.partition("/")
    return first if rest and ("." in first or ":" in first or first == "localhost") else None


def is_ecr_registry(host: str | None) -> bool:
    """An ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`), or this account's (None)."""
    return host is None or ".dkr.ecr." in host


@dataclass(frozen=True)
class ComputeSettings:
    # An image without a registry is a repository in the account's regional ECR; promotion
    # pins a tag or digest through FRAUD_API_IMAGE.
    fraud_api_image: str = "fraud-api:latest"
    fraud_api_min_tasks: int = 2
    fraud_api_max_tasks: int = 10
    fraud_api_cpu_target_percent: int = 70
    # The request-count target: ALB requests per task per MINUTE (CloudWatch's period for the
    # policy's metric), REQUEST_TARGET_SHARE_OF_KNEE of a task's measured knee (config/capacity.py).
    fraud_api_requests_per_target: int = 15000
    fraud_api_scale_out_cooldown_seconds: int = 60
    fraud_api_scale_in_cooldown_seconds: int = 300
    fraud_api_peak: PeakScaling | None = None
    # Database connections each fraud-api task may hold (its DB_POOL_MAX_SIZE). Times the tasks
    # that can run at once, it must fit Aurora's connection limit (config/capacity.py).
    fraud_api_db_pool_max_size: int = 10
    # CodeDeploy's traffic shift: all at once, or a canary/linear config that rolls back on alarm
    # before most traffic sees a bad release.
    deployment_config_name: str = "CodeDeployDefault.ECSAllAtOnce"
    # How long the previous task set stays after a shift, ready for an instant rollback.
    blue_green_termination_wait_minutes: int = 5
    rollback_target_5xx_per_minute: int = 5
    rollback_unhealthy_minutes: int = 2
    # ALB access logs (PCI DSS 10.5.1: a year of audit history).
    access_log_expiration_days: int = 365
    # Deliver ALB access logs into the account's audit-log archive (bootstrap stack), which outlives
    # the environment, instead of a bucket of this compute layer that its teardown empties.
    access_logs_to_account_archive: bool = False
    lambda_reserved_concurrency: int = 2
    # Lambda and SNS delivery-status logs (30 days for Lambda logs: docs/requirements.md R6.9).
    log_retention_days: int = 30
    # fraud-api container logs, per environment.
    fraud_api_log_retention_days: int = 30
    # Write shards of the time-window index; the processor writes and the analyzer reads them.
    time_bucket_shards: int = 4
    # Twice the 5-minute schedule, so each run overlaps the previous one.
    analysis_window_minutes: int = 10


@dataclass(frozen=True)
class EdgeSettings:
    # The environment's public Route 53 zone; the API and load balancer names live under it.
    hosted_zone_name: str
    api_subdomain: str
    # WAF: requests from a country on this list are blocked (empty list: no geo rule).
    blocked_country_codes: tuple[str, ...] = ("KP", "IR", "SY", "CU")
    # WAF: requests without an API key (which API Gateway refuses anyway) from one IP in a minute
    # (WAF_RATE_WINDOW_SECONDS), beyond which that IP's keyless requests are blocked.
    waf_keyless_requests_per_minute_per_ip: int = 100
    # WAF: how far above what a usage plan admits in a window its per-key and per-IP limits for
    # keyed requests sit (waf_limit_above). WAF's counts are estimates; the margin keeps a client
    # within its plan clear of them.
    waf_keyed_limit_headroom: float = 2.0
    # WAF: AWS's list of IPs known for bots and reconnaissance.
    waf_ip_reputation_enabled: bool = True
    # WAF: AWS's anonymous-IP list (Tor, VPNs, proxies blocked; cloud hosting providers counted).
    waf_anonymous_ip_enabled: bool = True
    # Usage plan of the fraud-api's clients (docs/requirements.md R5.6): per API key, no quota.
    api_client_rate_limit_per_second: int = 1000
    api_client_burst_limit: int = 2000
    # Usage plan of the transaction-ingestion clients (R5.7): a daily quota per key, plus a
    # modest rate so one key cannot spend its day's quota in a second.
    ingestion_client_quota_per_day: int = 1000
    ingestion_client_rate_limit_per_second: int = 10
    ingestion_client_burst_limit: int = 20
    # The stage's default throttle over all clients together (method settings `*/*`); at least
    # the largest per-key limit, at most the account's regional default (10,000 rps, 5,000 burst).
    stage_rate_limit_per_second: int = 5000
    stage_burst_limit: int = 5000
    # API access logs and WAF logs are the audit trail of every request (PCI DSS 10.5.1: a year).
    audit_log_retention_days: int = 365
    # API Gateway execution logs (INFO, no bodies) are operational only.
    execution_log_retention_days: int = 30
    # A REGIONAL custom domain `api_domain_name` for the API (alias record in the hosted zone);
    # off, clients call the stage's execute-api URL.
    custom_domain_enabled: bool = False

    @property
    def api_domain_name(self) -> str:
        return f"{self.api_subdomain}.{self.hosted_zone_name}"


@dataclass(frozen=True)
class ObservabilitySettings:
    # Every alarm and OK notification of the environment goes here (an SNS e-mail subscription,
    # which the recipient must confirm once).
    alarm_email: str
    # The objective, p99 under 200 ms (docs/requirements.md R6.3), held at API Gateway (what clients see) and at the
    # ALB (fraud-api's own share).
    api_latency_p99_threshold_ms: int = 200
    # 80 by default (R6.5); an environment running more tasks (each with its own pool) sets its own.
    aurora_connections_threshold: int = 80
    # R6.6: more than 1 % of a function's invocations failing over 5 minutes.
    lambda_error_rate_threshold_percent: float = 1.0
    # Share of requests answered 5xx, at API Gateway and at the ALB's targets.
    http_5xx_rate_threshold_percent: float = 1.0
    # X-Ray sampling of the fraud paths at the gateway: the first `reservoir` requests each second
    # are traced, then `rate` of the rest (X-Ray's default rule keeps 1/s and 5 %).
    fraud_path_sampling_rate: float = 0.25
    fraud_path_sampling_reservoir_per_second: int = 5


@dataclass(frozen=True)
class TeardownSettings:
    """What destroying a layer of the environment asks first (docs/lifecycle.md, "Tearing prod down")."""

    # Destroying any layer needs the environment's name typed back: `--confirm <name>`, a prompt on
    # a terminal, or the teardown workflow's `confirm` input. Off, it runs in one command.
    confirm_with_name: bool = False


@dataclass(frozen=True)
class StateSettings:
    """Where every stack of the environment keeps its Terraform state."""

    bucket: str
    region: str

    @property
    def kms_key_alias(self) -> str:
        """The alias of the key that encrypts the state (made by the bootstrap stack, named by every backend).

        An alias, not a key ARN: a backend's settings cannot reference resources, so the key must
        be named by something known before it exists."""
        return f"alias/{self.bucket}-state"


@dataclass(frozen=True)
class AccountSettings:
    """What every environment in one AWS account shares, built once by the bootstrap stack (step 0).

    Its resources serve all environments at once, so they are tagged `Environment=shared` and
    charged to a cost center of their own.
    """

    region: str
    state: StateSettings
    project: str = "fraud-detection"
    cost_center: str = "fraud-platform-shared"
    # The ECR repository fraud-api is built into; `compute.fraud_api_image` names images in it.
    image_repository: str = "fraud-api"
    # Images kept: a build per merge to main, so a few months of rollback targets.
    images_kept: int = 200
    # The audit-log archive that environments deliver flow logs and ALB access logs into when their
    # settings say so (PCI DSS 10.5.1: at least a year; a margin for a late review).
    audit_log_retention_days: int = 400


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    region: str
    cost_center: str
    state: StateSettings
    network: NetworkSettings
    data: DataSettings
    compute: ComputeSettings
    edge: EdgeSettings
    observability: ObservabilitySettings
    teardown: TeardownSettings = field(default_factory=TeardownSettings)
    project: str = "fraud-detection"
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        """The environment suffix every resource name carries (docs/requirements.md R9.4)."""
        return self.name
