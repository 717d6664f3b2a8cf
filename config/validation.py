"""Validation of the typed settings: every rule a setting must satisfy before anything is built.

Runs before any construct is created (and before the cdktf bindings are even imported), so a bad
value stops synth with one line that names the field and what to fix.
"""

from __future__ import annotations

import ipaddress
import re

from config.capacity import AURORA_POSTGRES_MAX_CONNECTIONS, check_capacity
from config.settings import (
    AccountSettings,
    ComputeSettings,
    ConfigError,
    DataSettings,
    EdgeSettings,
    EnvironmentConfig,
    NatStrategy,
    NetworkSettings,
    ObservabilitySettings,
    PRIVATE_EGRESS_ENDPOINTS,
    SCORING_DEFAULTS_FILE,
    WAF_MAX_RATE_LIMIT,
    WAF_MIN_RATE_LIMIT,
    image_registry,
    is_ecr_registry,
    scoring_defaults,
    waf_limit_above,
)

# Lowercase letters and digits only: the suffix lands in S3 bucket, load balancer and
# target group names, the strictest of which accept nothing else.
_SUFFIX = re.compile(r"^[a-z][a-z0-9]{1,9}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An AZ ID: the region's short code, then -az and a number (use1-az1, euw1-az3, apse2-az1).
_AZ_ID = re.compile(r"^[a-z]{3,6}[0-9]-az[0-9]{1,2}$")
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
    _validate_state_bucket(where, config.state.bucket)
    if not config.cost_center.strip():
        raise ConfigError(f"{where}: cost_center must not be empty (it is a required tag)")
    _validate_network(where, config.network)
    _validate_zones_in_region(where, config.network, config.region)
    if config.network.nat_strategy is NatStrategy.NONE and not is_ecr_registry(image_registry(config.compute.fraud_api_image)):
        raise ConfigError(
            f"{where}: compute.fraud_api_image '{config.compute.fraud_api_image}' is outside ECR, but network.nat_strategy "
            "'none' gives the tasks no route to another registry; push the image to ECR"
        )
    _validate_data(where, config.data)
    _validate_compute(where, config.compute)
    _validate_edge(where, config.edge)
    _validate_observability(where, config.observability)
    # Last: the model relates settings the checks above have each found sound (config/capacity.py).
    check_capacity(config)


def validate_account(account: AccountSettings) -> None:
    """Raise ConfigError naming the first account-wide setting that cannot work."""
    if not _REGION.match(account.region) or not _REGION.match(account.state.region):
        raise ConfigError(f"account: region '{account.region}' is not an AWS region name like us-east-1")
    _validate_state_bucket("account", account.state.bucket)
    if not account.cost_center.strip():
        raise ConfigError("account: cost_center must not be empty (it is a required tag)")
    if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*", account.image_repository):
        raise ConfigError(f"account: image_repository '{account.image_repository}' is not an ECR repository name like fraud-api")
    if not 1 <= account.images_kept <= 10_000:
        raise ConfigError("account: images_kept must be 1-10000 (ECR lifecycle rules count images)")
    if account.audit_log_retention_days < 365:
        raise ConfigError(f"account: audit_log_retention_days is {account.audit_log_retention_days}; PCI DSS 10.5.1 keeps audit logs at least 365 days")


def _validate_state_bucket(where: str, bucket: str) -> None:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(f"{where}: state.bucket '{bucket}' is not a valid S3 bucket name")


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
    zone_ids = network.availability_zone_ids
    if (
        len(zone_ids) != network.az_count
        or len(set(zone_ids)) != len(zone_ids)
        or not all(_AZ_ID.match(zone_id) for zone_id in zone_ids)
        or len({zone_id.split("-az")[0] for zone_id in zone_ids}) != 1
    ):
        raise ConfigError(
            f"{where}: network.availability_zone_ids must be {network.az_count} distinct AZ IDs of one region "
            f"like use1-az1 (not zone names like us-east-1a), got {zone_ids}"
        )
    if network.flow_log_transition_to_ia_days < 30:
        raise ConfigError(f"{where}: network.flow_log_transition_to_ia_days must be at least 30 (S3's minimum for STANDARD_IA)")
    if network.flow_log_expiration_days <= network.flow_log_transition_to_ia_days:
        raise ConfigError(f"{where}: network.flow_log_expiration_days must be after the transition to IA")
    for service in network.interface_endpoint_services:
        if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)?$", service):
            raise ConfigError(f"{where}: network.interface_endpoint_services has an invalid service name '{service}'")
    missing = [service for service in PRIVATE_EGRESS_ENDPOINTS if service not in network.interface_endpoint_services]
    if network.nat_strategy is NatStrategy.NONE and missing:
        raise ConfigError(
            f"{where}: network.nat_strategy 'none' leaves the private tiers no way to AWS but endpoints; "
            f"add {', '.join(missing)} to network.interface_endpoint_services"
        )


def _validate_zones_in_region(where: str, network: NetworkSettings, region: str) -> None:
    # An AZ ID starts with the region's two-letter area and ends its short code with the region's
    # number (us-east-1: use1-az1; eu-west-1: euw1-az1; ap-southeast-2: apse2-az1).
    area, number = region.split("-")[0], region.split("-")[-1]
    foreign = [zone_id for zone_id in network.availability_zone_ids if not (zone_id.startswith(area) and zone_id.split("-az")[0].endswith(number))]
    if foreign:
        raise ConfigError(f"{where}: network.availability_zone_ids {foreign} are not zones of region {region}")


def _validate_data(where: str, data: DataSettings) -> None:
    if not 0.5 <= data.aurora_min_capacity_acu <= data.aurora_max_capacity_acu <= 256:
        raise ConfigError(
            f"{where}: Aurora capacity must satisfy 0.5 <= aurora_min_capacity_acu <= aurora_max_capacity_acu <= 256"
        )
    if (data.aurora_min_capacity_acu * 2) % 1 or (data.aurora_max_capacity_acu * 2) % 1:
        raise ConfigError(f"{where}: Aurora capacities are set in steps of 0.5 ACU")
    smallest_maximum = AURORA_POSTGRES_MAX_CONNECTIONS[0][0]
    if data.aurora_max_capacity_acu < smallest_maximum:
        raise ConfigError(f"{where}: data.aurora_max_capacity_acu must be at least {smallest_maximum} (Aurora Serverless v2's smallest maximum)")
    if not 1 <= data.backup_retention_days <= 35:
        raise ConfigError(f"{where}: data.backup_retention_days must be 1-35 (Aurora's limits)")
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", data.preferred_backup_window):
        raise ConfigError(f"{where}: data.preferred_backup_window must look like 03:00-04:00 (UTC)")
    if not 7 <= data.kms_deletion_window_days <= 30:
        raise ConfigError(f"{where}: data.kms_deletion_window_days must be 7-30 (KMS's limits)")
    if not 1 <= data.secret_rotation_days <= 365:
        raise ConfigError(f"{where}: data.secret_rotation_days must be 1-365")
    if data.secret_recovery_window_days != 0 and not 7 <= data.secret_recovery_window_days <= 30:
        raise ConfigError(f"{where}: data.secret_recovery_window_days must be 0 (delete at once) or 7-30 (Secrets Manager's limits)")
    if data.secret_recovery_window_days > data.kms_deletion_window_days:
        raise ConfigError(
            f"{where}: data.secret_recovery_window_days ({data.secret_recovery_window_days}) must not exceed "
            f"data.kms_deletion_window_days ({data.kms_deletion_window_days}): a secret restored after its key is gone cannot be read"
        )
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
    unknown = sorted(set(data.scoring.overrides) - set(scoring_defaults()))
    if unknown:
        raise ConfigError(f"{where}: data.scoring.overrides has unknown keys {unknown}; the keys are those of {SCORING_DEFAULTS_FILE.name}")
    scoring = data.scoring.to_document()
    thresholds = (scoring["review_threshold"], scoring["decline_threshold"])
    if not all(_is_number(threshold) for threshold in thresholds) or not 0 < thresholds[0] < thresholds[1] <= 1:
        raise ConfigError(f"{where}: data.scoring needs 0 < review_threshold < decline_threshold <= 1")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    # fraud-api refuses a DB_POOL_MAX_SIZE outside 1-100 (services/fraud_api/settings.py).
    if not 1 <= compute.fraud_api_db_pool_max_size <= 100:
        raise ConfigError(f"{where}: compute.fraud_api_db_pool_max_size must be 1-100 (what fraud-api accepts as DB_POOL_MAX_SIZE)")
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
    # 1-5 (docs/requirements.md R4.4) so deployments never exhaust the account's concurrency pool.
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
    if not WAF_MIN_RATE_LIMIT <= edge.waf_keyless_requests_per_minute_per_ip <= WAF_MAX_RATE_LIMIT:
        raise ConfigError(
            f"{where}: edge.waf_keyless_requests_per_minute_per_ip must be {WAF_MIN_RATE_LIMIT}-{WAF_MAX_RATE_LIMIT} (WAF's limits)"
        )
    if edge.waf_keyed_limit_headroom < 1.5:
        raise ConfigError(
            f"{where}: edge.waf_keyed_limit_headroom must be at least 1.5: WAF's counts are estimates, and a limit "
            "closer to what a usage plan admits could block a client within its plan"
        )
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
    keyed_per_ip = sum(
        waf_limit_above(rate, burst, edge.waf_keyed_limit_headroom)
        for rate, burst in (
            (edge.api_client_rate_limit_per_second, edge.api_client_burst_limit),
            (edge.ingestion_client_rate_limit_per_second, edge.ingestion_client_burst_limit),
        )
    )
    if keyed_per_ip > WAF_MAX_RATE_LIMIT:
        raise ConfigError(
            f"{where}: the usage plans' rates times edge.waf_keyed_limit_headroom give WAF limits of {keyed_per_ip} "
            f"requests per window, above WAF's maximum {WAF_MAX_RATE_LIMIT}; lower the plans' rates or the headroom"
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
