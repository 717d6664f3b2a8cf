"""Typed per-environment settings of the platform.

Everything that differs between dev, staging and prod is a field here; constructs and stacks
receive these objects as properties and never read the process environment themselves.
Validation runs before any construct is created, so a bad value stops synth with one line
that names the field and what to fix.
"""

from __future__ import annotations

import ipaddress
import re
import json
from dataclasses import asdict, dataclass, field
from enum import Enum


class ConfigError(ValueError):
    """A setting that cannot work; the message names the setting and what to fix."""


class NatStrategy(str, Enum):
    # One NAT gateway for the whole VPC: cheap, but one AZ outage cuts egress for all AZs.
    SINGLE = "single"
    # One NAT gateway per AZ: each AZ keeps its egress when another AZ fails.
    PER_AZ = "per_az"


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    nat_strategy: NatStrategy
    # Interface endpoints let private workloads call AWS APIs without NAT. Each costs an
    # hourly fee per AZ, so dev keeps only what the Lambdas and ECS tasks call on every request.
    interface_endpoint_services: tuple[str, ...]
    az_count: int = 3
    # Pinned zones (letters within the region): the subnets must not move when AWS adds a zone.
    availability_zone_letters: tuple[str, ...] = ("a", "b", "c")
    flow_log_transition_to_ia_days: int = 30
    flow_log_expiration_days: int = 365


@dataclass(frozen=True)
class AmountTierSettings:
    min_amount: float
    weight: float


@dataclass(frozen=True)
class VelocityWindowSettings:
    name: str
    seconds: int
    max_count: int
    max_amount: float
    weight: float


@dataclass(frozen=True)
class FirstSeenSettings:
    first_transaction: float = 0.10
    new_country: float = 0.25
    new_merchant: float = 0.05


@dataclass(frozen=True)
class AmountSpikeSettings:
    multiplier: float = 5
    min_history: int = 3
    weight: float = 0.30


@dataclass(frozen=True)
class HistorySettings:
    lookback_hours: int = 720
    max_items: int = 200


@dataclass(frozen=True)
class PatternSettings:
    burst_window_seconds: int = 120
    burst_min_transactions: int = 8
    user_suspicious_min: int = 3
    merchant_suspicious_min: int = 5
    spike_multiplier: float = 5
    spike_min_transactions: int = 4
    max_alerts_per_run: int = 100


@dataclass(frozen=True)
class ScoringSettings:
    """The scoring configuration the platform starts with, field for field the JSON document
    `fraud_scoring.ScoringConfig.from_mapping` reads (tests check both agree with its defaults).

    Infrastructure code may not import the service code, so the defaults live here as data; the
    data layer writes them to the scoring parameter and seeds the API configuration secret with them.
    """

    review_threshold: float = 0.50
    decline_threshold: float = 0.80
    amount_tiers: tuple[AmountTierSettings, ...] = (
        AmountTierSettings(1_000, 0.15),
        AmountTierSettings(5_000, 0.35),
        AmountTierSettings(10_000, 0.55),
        AmountTierSettings(50_000, 0.75),
    )
    velocity_windows: tuple[VelocityWindowSettings, ...] = (
        VelocityWindowSettings("1m", 60, 3, 3_000, 0.40),
        VelocityWindowSettings("1h", 3_600, 15, 20_000, 0.30),
    )
    high_risk_countries: tuple[str, ...] = ("CU", "IR", "KP", "MM", "SY")
    high_risk_country_weight: float = 0.35
    high_risk_merchant_categories: tuple[str, ...] = ("4829", "5967", "6051", "7995")
    high_risk_merchant_category_weight: float = 0.25
    first_seen: FirstSeenSettings = field(default_factory=FirstSeenSettings)
    amount_spike: AmountSpikeSettings = field(default_factory=AmountSpikeSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    patterns: PatternSettings = field(default_factory=PatternSettings)

    def to_document(self) -> dict:
        """The JSON-shaped mapping (lists for tuples) stored in the parameter and the secret."""
        return json.loads(json.dumps(asdict(self)))


@dataclass(frozen=True)
class DataSettings:
    aurora_min_capacity_acu: float = 0.5
    aurora_max_capacity_acu: float = 4.0
    aurora_reader_in_second_az: bool = False
    # Pinned, not "latest 16": a minor upgrade is a deliberate change reviewed in a plan. 16.4 is
    # an Aurora PostgreSQL version that supports Serverless v2 (>= 13.6 / 14.3 / 15.2 / 16.1).
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


@dataclass(frozen=True)
class ComputeSettings:
    # An image without a registry is a repository in the account's regional ECR; promotion
    # pins a tag or digest through FRAUD_API_IMAGE.
    fraud_api_image: str = "fraud-api:latest"
    fraud_api_min_tasks: int = 2
    fraud_api_max_tasks: int = 10
    fraud_api_cpu_target_percent: int = 70
    # ALB requests per task per minute the service is sized for.
    fraud_api_requests_per_target: int = 1000
    fraud_api_scale_out_cooldown_seconds: int = 60
    fraud_api_scale_in_cooldown_seconds: int = 300
    fraud_api_peak: PeakScaling | None = None
    # CodeDeploy's traffic shift: all at once, or a canary/linear config that rolls back on alarm
    # before most traffic sees a bad release.
    deployment_config_name: str = "CodeDeployDefault.ECSAllAtOnce"
    # How long the previous task set stays after a shift, ready for an instant rollback.
    blue_green_termination_wait_minutes: int = 5
    rollback_target_5xx_per_minute: int = 5
    rollback_unhealthy_minutes: int = 2
    # ALB access logs (PCI DSS 10.5.1: a year of audit history).
    access_log_expiration_days: int = 365
    lambda_reserved_concurrency: int = 2
    # Lambda and SNS delivery-status logs (the serverless brief fixes 30 days for Lambda logs).
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
    # WAF: one client IP over this many requests in any 5 minutes is blocked until it slows down.
    waf_requests_per_five_minutes_per_ip: int = 2000
    # WAF: AWS's list of IPs known for bots and reconnaissance.
    waf_ip_reputation_enabled: bool = True
    # WAF: AWS's anonymous-IP list (Tor, VPNs, proxies blocked; cloud hosting providers counted).
    waf_anonymous_ip_enabled: bool = True
    # Usage plan of the fraud-api's clients (brief 001): per API key, no quota.
    api_client_rate_limit_per_second: int = 1000
    api_client_burst_limit: int = 2000
    # Usage plan of the transaction-ingestion clients (brief 004): a daily quota per key, plus a
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
    # The briefs' objective, p99 under 200 ms, held at API Gateway (what clients see) and at the
    # ALB (fraud-api's own share).
    api_latency_p99_threshold_ms: int = 200
    # The brief's 80; an environment running more tasks (each with its own pool) sets its own.
    aurora_connections_threshold: int = 80
    # The serverless brief: more than 1 % of a function's invocations failing over 5 minutes.
    lambda_error_rate_threshold_percent: float = 1.0
    # Share of requests answered 5xx, at API Gateway and at the ALB's targets.
    http_5xx_rate_threshold_percent: float = 1.0
    # X-Ray sampling of the fraud paths at the gateway: the first `reservoir` requests each second
    # are traced, then `rate` of the rest (X-Ray's default rule keeps 1/s and 5 %).
    fraud_path_sampling_rate: float = 0.25
    fraud_path_sampling_reservoir_per_second: int = 5


@dataclass(frozen=True)
class StateSettings:
    """Where every stack of the environment keeps its Terraform state."""

    bucket: str
    region: str


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
    project: str = "fraud-detection"
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zones(self) -> tuple[str, ...]:
        return tuple(f"{self.region}{letter}" for letter in self.network.availability_zone_letters)

    @property
    def suffix(self) -> str:
        """The environment suffix every resource name carries (the briefs insist)."""
        return self.name


# Lowercase letters and digits only: the suffix lands in S3 bucket, load balancer and
# target group names, the strictest of which accept nothing else.
_SUFFIX = re.compile(r"^[a-z][a-z0-9]{1,9}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED_AZ_COUNT = 3


def validate(config: EnvironmentConfig) -> None:
    """Raise ConfigError naming the first setting of `config` that cannot work."""
    where = f"environment '{config.name}'"
    if not _SUFFIX.match(config.name):
        raise ConfigError(
            f"{where}: the name is the resource-name suffix and must be 2-10 lowercase letters "
            "or digits starting with a letter"
        )
    for label, region in (("region", config.region), ("state.region", config.state.region)):
        if not _REGION.match(region):
            raise ConfigError(f"{where}: {label} '{region}' is not an AWS region name like us-east-1")
    if not _BUCKET.match(config.state.bucket) or ".." in config.state.bucket:
        raise ConfigError(f"{where}: state.bucket '{config.state.bucket}' is not a valid S3 bucket name")
    if not config.cost_center.strip():
        raise ConfigError(f"{where}: cost_center must not be empty (it is a required tag)")
    _validate_network(where, config.network)
    _validate_data(where, config.data)
    _validate_compute(where, config.compute)
    _validate_edge(where, config.edge)
    _validate_observability(where, config.observability)


def validate_all(configs: list[EnvironmentConfig]) -> None:
    """Validate each environment, then what must hold across them."""
    for config in configs:
        validate(config)
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"environment names must be unique, got {names}")
    # Distinct CIDRs keep peering, Transit Gateway and shared tooling possible between them.
    for i, first in enumerate(configs):
        for second in configs[i + 1 :]:
            a = ipaddress.ip_network(first.network.vpc_cidr)
            b = ipaddress.ip_network(second.network.vpc_cidr)
            if a.overlaps(b):
                raise ConfigError(
                    f"environments '{first.name}' and '{second.name}': network.vpc_cidr {a} overlaps {b}"
                )
    domains = [c.edge.api_domain_name for c in configs]
    if len(set(domains)) != len(domains):
        raise ConfigError(f"edge.api_domain_name must differ per environment, got {domains}")


def _validate_network(where: str, network: NetworkSettings) -> None:
    try:
        cidr = ipaddress.ip_network(network.vpc_cidr)
    except ValueError:
        raise ConfigError(f"{where}: network.vpc_cidr '{network.vpc_cidr}' is not a CIDR block like 10.0.0.0/16") from None
    if cidr.version != 4 or not 16 <= cidr.prefixlen <= 20 or not cidr.is_private:
        raise ConfigError(
            f"{where}: network.vpc_cidr {cidr} must be a private IPv4 block between /16 and /20"
        )
    if network.az_count != REQUIRED_AZ_COUNT:
        raise ConfigError(f"{where}: network.az_count is {network.az_count}; the platform needs exactly 3 AZs")
    letters = network.availability_zone_letters
    if len(letters) != network.az_count or len(set(letters)) != len(letters) or not all(re.fullmatch(r"[a-f]", x) for x in letters):
        raise ConfigError(f"{where}: network.availability_zone_letters must be {network.az_count} distinct letters a-f, got {letters}")
    if network.flow_log_transition_to_ia_days < 30:
        raise ConfigError(f"{where}: network.flow_log_transition_to_ia_days must be at least 30 (S3's minimum for STANDARD_IA)")
    if network.flow_log_expiration_days <= network.flow_log_transition_to_ia_days:
        raise ConfigError(f"{where}: network.flow_log_expiration_days must be after the transition to IA")
    for service in network.interface_endpoint_services:
        if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)?$", service):
            raise ConfigError(f"{where}: network.interface_endpoint_services has an invalid service name '{service}'")


def _validate_data(where: str, data: DataSettings) -> None:
    if not 0.5 <= data.aurora_min_capacity_acu <= data.aurora_max_capacity_acu <= 256:
        raise ConfigError(
            f"{where}: Aurora capacity must satisfy 0.5 <= aurora_min_capacity_acu <= aurora_max_capacity_acu <= 256"
        )
    if (data.aurora_min_capacity_acu * 2) % 1 or (data.aurora_max_capacity_acu * 2) % 1:
        raise ConfigError(f"{where}: Aurora capacities are set in steps of 0.5 ACU")
    if not 1 <= data.backup_retention_days <= 35:
        raise ConfigError(f"{where}: data.backup_retention_days must be 1-35 (Aurora's limits)")
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", data.preferred_backup_window):
        raise ConfigError(f"{where}: data.preferred_backup_window must look like 03:00-04:00 (UTC)")
    if not 7 <= data.kms_deletion_window_days <= 30:
        raise ConfigError(f"{where}: data.kms_deletion_window_days must be 7-30 (KMS's limits)")
    if not 1 <= data.secret_rotation_days <= 365:
        raise ConfigError(f"{where}: data.secret_rotation_days must be 1-365")
    if data.transaction_ttl_days < 1:
        raise ConfigError(f"{where}: data.transaction_ttl_days must be positive")
    if not re.match(r"^\d+\.\d+$", data.aurora_engine_version):
        raise ConfigError(f"{where}: data.aurora_engine_version must pin a minor version like 16.4")
    for label, identifier in (("database_name", data.database_name), ("master_username", data.master_username)):
        if not re.match(r"^[a-z][a-z0-9_]{0,62}$", identifier) or identifier in ("postgres", "rdsadmin", "admin"):
            raise ConfigError(
                f"{where}: data.{label} '{identifier}' must be a lowercase PostgreSQL identifier and not a reserved name"
            )
    _validate_weekly_window(where, "data.preferred_maintenance_window", data.preferred_maintenance_window)
    if _weekly_overlaps_daily(data.preferred_maintenance_window, data.preferred_backup_window):
        raise ConfigError(
            f"{where}: data.preferred_maintenance_window overlaps data.preferred_backup_window; RDS refuses that"
        )
    if data.performance_insights_retention_days not in (7, 731) and not (
        data.performance_insights_retention_days % 31 == 0 and 31 <= data.performance_insights_retention_days <= 713
    ):
        raise ConfigError(f"{where}: data.performance_insights_retention_days must be 7, 731 or a multiple of 31")
    if data.slow_query_log_ms < -1:
        raise ConfigError(f"{where}: data.slow_query_log_ms must be -1 (off) or a duration in ms")
    _validate_log_retention(where, "data.log_retention_days", data.log_retention_days)
    if not 1 <= data.rotation_function_reserved_concurrency <= 5:
        raise ConfigError(f"{where}: data.rotation_function_reserved_concurrency must be 1-5")
    if not 0 < data.scoring.review_threshold < data.scoring.decline_threshold <= 1:
        raise ConfigError(f"{where}: data.scoring needs 0 < review_threshold < decline_threshold <= 1")


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekly_overlaps_daily(weekly: str, daily: str) -> bool:
    """Whether a `ddd:hh:mm-ddd:hh:mm` window overlaps a `hh:mm-hh:mm` window on any day."""

    def minutes(hours_minutes: str) -> int:
        hours, mins = hours_minutes.split(":")
        return int(hours) * 60 + int(mins)

    week = 7 * 1440
    start, end = (_WEEKDAYS.index(part[:3]) * 1440 + minutes(part[4:]) for part in weekly.split("-"))
    end += week if end <= start else 0
    daily_start, daily_end = (minutes(part) for part in daily.split("-"))
    daily_end += 1440 if daily_end <= daily_start else 0
    return any(
        day * 1440 + daily_start < end and start < day * 1440 + daily_end for day in range(-1, 8)
    )


def _validate_weekly_window(where: str, label: str, window: str) -> None:
    day = "(mon|tue|wed|thu|fri|sat|sun)"
    if not re.match(rf"^{day}:([01]\d|2[0-3]):[0-5]\d-{day}:([01]\d|2[0-3]):[0-5]\d$", window):
        raise ConfigError(f"{where}: {label} must look like sun:04:30-sun:05:30 (UTC)")


def _validate_compute(where: str, compute: ComputeSettings) -> None:
    if not compute.fraud_api_image.strip() or " " in compute.fraud_api_image:
        raise ConfigError(f"{where}: compute.fraud_api_image must be an image reference like fraud-api:1.4.2")
    if not 1 <= compute.fraud_api_min_tasks <= compute.fraud_api_max_tasks:
        raise ConfigError(f"{where}: compute needs 1 <= fraud_api_min_tasks <= fraud_api_max_tasks")
    if not 10 <= compute.fraud_api_cpu_target_percent <= 90:
        raise ConfigError(f"{where}: compute.fraud_api_cpu_target_percent must be 10-90")
    if compute.fraud_api_requests_per_target < 1:
        raise ConfigError(f"{where}: compute.fraud_api_requests_per_target must be positive")
    if not 0 <= compute.fraud_api_scale_out_cooldown_seconds <= compute.fraud_api_scale_in_cooldown_seconds:
        raise ConfigError(
            f"{where}: compute needs 0 <= fraud_api_scale_out_cooldown_seconds <= fraud_api_scale_in_cooldown_seconds "
            "(scale out fast, scale in slowly)"
        )
    peak = compute.fraud_api_peak
    if peak is not None:
        if not compute.fraud_api_min_tasks <= peak.min_tasks <= compute.fraud_api_max_tasks:
            raise ConfigError(f"{where}: compute.fraud_api_peak.min_tasks must be between fraud_api_min_tasks and fraud_api_max_tasks")
        for label, schedule in (("start_schedule", peak.start_schedule), ("end_schedule", peak.end_schedule)):
            if not _SCALING_SCHEDULE.match(schedule):
                raise ConfigError(f"{where}: compute.fraud_api_peak.{label} '{schedule}' must look like cron(0 7 ? * MON-FRI *)")
    if not _DEPLOYMENT_CONFIG.match(compute.deployment_config_name):
        raise ConfigError(
            f"{where}: compute.deployment_config_name '{compute.deployment_config_name}' is not a CodeDeploy ECS config "
            "like CodeDeployDefault.ECSAllAtOnce or CodeDeployDefault.ECSCanary10Percent5Minutes"
        )
    if not 0 <= compute.blue_green_termination_wait_minutes <= 2880:
        raise ConfigError(f"{where}: compute.blue_green_termination_wait_minutes must be 0-2880 (CodeDeploy's limits)")
    if compute.rollback_target_5xx_per_minute < 1 or compute.rollback_unhealthy_minutes < 1:
        raise ConfigError(f"{where}: compute.rollback_target_5xx_per_minute and rollback_unhealthy_minutes must be positive")
    if compute.access_log_expiration_days < 90:
        raise ConfigError(f"{where}: compute.access_log_expiration_days must be at least 90 (PCI DSS keeps 3 months at hand)")
    # The briefs ask for 1-5 so deployments never exhaust the account's concurrency pool.
    if not 1 <= compute.lambda_reserved_concurrency <= 5:
        raise ConfigError(f"{where}: compute.lambda_reserved_concurrency must be 1-5")
    _validate_log_retention(where, "compute.log_retention_days", compute.log_retention_days)
    _validate_log_retention(where, "compute.fraud_api_log_retention_days", compute.fraud_api_log_retention_days)
    if not 1 <= compute.time_bucket_shards <= 64:
        raise ConfigError(f"{where}: compute.time_bucket_shards must be 1-64")
    if not 5 <= compute.analysis_window_minutes <= 60:
        raise ConfigError(f"{where}: compute.analysis_window_minutes must be 5-60 (at least the 5-minute schedule)")


_SCALING_SCHEDULE = re.compile(r"^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\([0-9T:-]+\))$")
# AWS's predefined ECS configs, or a custom one of the account (any name outside CodeDeployDefault).
_DEPLOYMENT_CONFIG = re.compile(
    r"^(CodeDeployDefault\.ECS(AllAtOnce|Canary\d+Percent\d+Minutes|Linear\d+PercentEvery\d+Minutes)|(?!CodeDeployDefault\.)[A-Za-z0-9._-]+)$"
)


def _validate_edge(where: str, edge: EdgeSettings) -> None:
    labels = edge.api_domain_name.split(".")
    if len(labels) < 3 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ConfigError(
            f"{where}: edge.api_domain_name '{edge.api_domain_name}' must be a lowercase DNS name "
            "inside the environment's hosted zone (set edge.hosted_zone_name and edge.api_subdomain)"
        )
    for code in edge.blocked_country_codes:
        if not _COUNTRY.match(code):
            raise ConfigError(f"{where}: edge.blocked_country_codes has '{code}', not an ISO 3166 alpha-2 code")
    if not 100 <= edge.waf_requests_per_five_minutes_per_ip <= 2_000_000_000:
        raise ConfigError(f"{where}: edge.waf_requests_per_five_minutes_per_ip must be at least 100 (WAF's minimum)")
    if not 1 <= edge.api_client_rate_limit_per_second <= edge.api_client_burst_limit:
        raise ConfigError(f"{where}: edge needs 1 <= api_client_rate_limit_per_second <= api_client_burst_limit")
    if edge.ingestion_client_quota_per_day < 1:
        raise ConfigError(f"{where}: edge.ingestion_client_quota_per_day must be positive")
    if not 1 <= edge.ingestion_client_rate_limit_per_second <= edge.ingestion_client_burst_limit:
        raise ConfigError(f"{where}: edge needs 1 <= ingestion_client_rate_limit_per_second <= ingestion_client_burst_limit")
    if not max(edge.api_client_rate_limit_per_second, edge.ingestion_client_rate_limit_per_second) <= edge.stage_rate_limit_per_second <= 10_000:
        raise ConfigError(
            f"{where}: edge.stage_rate_limit_per_second must be at least every usage plan's rate and at most 10000 "
            "(API Gateway's regional account limit)"
        )
    if not max(edge.api_client_burst_limit, edge.ingestion_client_burst_limit) <= edge.stage_burst_limit <= 5_000:
        raise ConfigError(
            f"{where}: edge.stage_burst_limit must be at least every usage plan's burst and at most 5000 "
            "(API Gateway's regional account limit)"
        )
    if len(set(edge.blocked_country_codes)) != len(edge.blocked_country_codes):
        raise ConfigError(f"{where}: edge.blocked_country_codes lists a country twice")
    _validate_log_retention(where, "edge.audit_log_retention_days", edge.audit_log_retention_days)
    _validate_log_retention(where, "edge.execution_log_retention_days", edge.execution_log_retention_days)


def _validate_observability(where: str, observability: ObservabilitySettings) -> None:
    if not _EMAIL.match(observability.alarm_email):
        raise ConfigError(f"{where}: observability.alarm_email '{observability.alarm_email}' is not an e-mail address")
    if observability.api_latency_p99_threshold_ms <= 0:
        raise ConfigError(f"{where}: observability.api_latency_p99_threshold_ms must be positive")
    if observability.aurora_connections_threshold <= 0:
        raise ConfigError(f"{where}: observability.aurora_connections_threshold must be positive")
    for label, value in (
        ("lambda_error_rate_threshold_percent", observability.lambda_error_rate_threshold_percent),
        ("http_5xx_rate_threshold_percent", observability.http_5xx_rate_threshold_percent),
    ):
        if not 0 < value < 100:
            raise ConfigError(f"{where}: observability.{label} must be a percentage between 0 and 100")
    if not 0 <= observability.fraud_path_sampling_rate <= 1:
        raise ConfigError(f"{where}: observability.fraud_path_sampling_rate must be a fraction between 0 and 1")
    if observability.fraud_path_sampling_reservoir_per_second < 0:
        raise ConfigError(f"{where}: observability.fraud_path_sampling_reservoir_per_second must not be negative")


# The values CloudWatch Logs accepts for retention_in_days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _validate_log_retention(where: str, label: str, days: int) -> None:
    if days not in LOG_RETENTION_DAYS:
        raise ConfigError(f"{where}: {label} is {days}; CloudWatch Logs accepts only {LOG_RETENTION_DAYS}")
