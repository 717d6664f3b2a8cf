"""The three environments of the platform, in one place.

Prod differs from dev and staging only where production needs it: a reader in a second AZ, longer
backups and more tasks, and a teardown that asks for its name and keeps what must be kept (final
backups, audit logs in the account's archive, secrets' recovery window). Prod and staging reach
AWS only through VPC endpoints, with no route to the internet; dev keeps one NAT gateway instead,
for cost (docs/architecture.md, "Egress"). Promotion moves the same code through all three; what
changes is this data.
"""

from __future__ import annotations

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
    PeakScaling,
    PRIVATE_EGRESS_ENDPOINTS,
    StateSettings,
    TeardownSettings,
)
from config.validation import validate_account, validate_all

DEFAULT_REGION = "us-east-1"
# The organisation's public Route 53 zone. Each environment's API lives in it under its own
# name; replace it with your zone (or set FRAUD_HOSTED_ZONE, which app.py reads).
DEFAULT_HOSTED_ZONE = "fraud.example.com"
# Without an account id (tests, the emulator, a synth that deploys nowhere) the state bucket gets
# this generic name. S3 bucket names are global and this one is surely taken, so a deploy to AWS
# refuses it: the lifecycle derives the account's own name (`state_bucket_for_account`) from the
# account id it reads from STS (docs/aws-first-deploy.md).
DEFAULT_STATE_BUCKET = "fraud-detection-tfstate"
# Nobody reads this mailbox (example.com is reserved, RFC 2606): a deploy to AWS refuses it.
DEFAULT_ALARM_EMAIL = "fraud-platform-oncall@example.com"



def state_bucket_for_account(account_id: str, region: str) -> str:
    """The state bucket's name in one account and region: unique by default, since bucket names are global."""
    return f"{DEFAULT_STATE_BUCKET}-{account_id}-{region}"


def build_account(*, state_bucket: str = DEFAULT_STATE_BUCKET, region: str = DEFAULT_REGION) -> AccountSettings:
    """What the environments of the account share (the bootstrap stack's settings)."""
    account = AccountSettings(region=region, state=StateSettings(bucket=state_bucket, region=region))
    validate_account(account)
    return account


def build_environments(
    *,
    hosted_zone_name: str = DEFAULT_HOSTED_ZONE,
    state_bucket: str = DEFAULT_STATE_BUCKET,
    region: str = DEFAULT_REGION,
    alarm_email: str = DEFAULT_ALARM_EMAIL,
) -> dict[str, EnvironmentConfig]:
    """Every environment, keyed by name. Arguments are the organisation-wide settings."""
    state = build_account(state_bucket=state_bucket, region=region).state

    def edge(subdomain: str, **settings) -> EdgeSettings:
        return EdgeSettings(hosted_zone_name=hosted_zone_name, api_subdomain=subdomain, **settings)

    def private_egress_network(vpc_cidr: str, *, flow_logs_to_account_archive: bool = False) -> NetworkSettings:
        """No NAT: the private tiers reach AWS only through the endpoints they call (docs/architecture.md, "Egress")."""
        return NetworkSettings(
            vpc_cidr=vpc_cidr,
            nat_strategy=NatStrategy.NONE,
            interface_endpoint_services=PRIVATE_EGRESS_ENDPOINTS,
            flow_logs_to_account_archive=flow_logs_to_account_archive,
        )

    environments = [
        EnvironmentConfig(
            name="dev",
            region=region,
            cost_center="fraud-platform-dev",
            state=state,
            # Dev leaves through one NAT gateway and pays for no interface endpoint: $33 a month
            # against $153 for the seven endpoints prod needs (docs/architecture.md, "Egress").
            network=NetworkSettings(
                vpc_cidr="10.10.0.0/16",
                nat_strategy=NatStrategy.SINGLE,
                interface_endpoint_services=(),
            ),
            data=DataSettings(backup_retention_days=1),
            # Dev: fastest feedback (all-at-once shift, old tasks gone after a minute). It sells the
            # same plans as prod, so its maximum tasks and concurrency carry them (docs/capacity.md).
            compute=ComputeSettings(
                fraud_api_min_tasks=2,
                fraud_api_max_tasks=5,
                lambda_reserved_concurrency=3,
                blue_green_termination_wait_minutes=1,
            ),
            edge=edge("api-dev"),
            # Dev traffic is tests and demos: trace every fraud-path request.
            observability=ObservabilitySettings(alarm_email=alarm_email, fraud_path_sampling_rate=1.0),
        ),
        EnvironmentConfig(
            name="staging",
            region=region,
            cost_center="fraud-platform-staging",
            state=state,
            # Staging rehearses prod's egress too: an endpoint prod lacks fails here first, for
            # about $11 a month more than NAT plus five endpoints (docs/architecture.md).
            network=private_egress_network("10.20.0.0/16"),
            data=DataSettings(backup_retention_days=7),
            # Staging rehearses prod's canary so a bad release is caught by the same alarms.
            compute=ComputeSettings(
                fraud_api_min_tasks=2,
                fraud_api_max_tasks=6,
                lambda_reserved_concurrency=3,
                deployment_config_name="CodeDeployDefault.ECSCanary10Percent5Minutes",
                fraud_api_log_retention_days=90,
            ),
            edge=edge("api-staging"),
            observability=ObservabilitySettings(alarm_email=alarm_email),
        ),
        EnvironmentConfig(
            name="prod",
            region=region,
            cost_center="fraud-platform-prod",
            state=state,
            network=private_egress_network("10.30.0.0/16", flow_logs_to_account_archive=True),
            data=DataSettings(
                aurora_reader_in_second_az=True,
                backup_retention_days=30,
                kms_deletion_window_days=30,
                secret_recovery_window_days=30,
                final_backups_on_destroy=True,
            ),
            compute=ComputeSettings(
                fraud_api_min_tasks=3,
                fraud_api_max_tasks=12,
                lambda_reserved_concurrency=5,
                # Card traffic peaks in the working day; be at size before it starts.
                fraud_api_peak=PeakScaling(
                    start_schedule="cron(30 6 ? * MON-FRI *)",
                    end_schedule="cron(0 20 ? * MON-FRI *)",
                    min_tasks=6,
                ),
                deployment_config_name="CodeDeployDefault.ECSCanary10Percent5Minutes",
                blue_green_termination_wait_minutes=30,
                fraud_api_log_retention_days=365,
                access_logs_to_account_archive=True,
            ),
            # Clients of prod call the API by its own name; dev and staging use the execute-api URL.
            edge=edge("api", custom_domain_enabled=True, execution_log_retention_days=90),
            observability=ObservabilitySettings(
                alarm_email=alarm_email,
                aurora_connections_threshold=200,
                # Production volume: a tenth of the fraud paths still gives thousands of traces an hour.
                fraud_path_sampling_rate=0.1,
            ),
            # Destroying any layer of prod needs its name typed back (docs/lifecycle.md).
            teardown=TeardownSettings(confirm_with_name=True),
        ),
    ]
    validate_all(environments)
    return {environment.name: environment for environment in environments}


def select_environments(
    environments: dict[str, EnvironmentConfig], requested: str | None
) -> list[EnvironmentConfig]:
    """The environments named in a comma-separated list, or all when the list is empty."""
    if not requested or not requested.strip():
        return list(environments.values())
    names = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in names if name not in environments]
    if unknown:
        raise ConfigError(
            f"unknown environment(s) {', '.join(unknown)}; choose from {', '.join(environments)}"
        )
    return [environments[name] for name in dict.fromkeys(names)]
