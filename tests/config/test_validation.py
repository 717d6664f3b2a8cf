"""Bad settings are refused before anything is built, with a message that names the fix."""

from __future__ import annotations

import dataclasses

import pytest

from config.environments import build_account, build_environments, select_environments
from config.settings import ConfigError, NatStrategy
from config.validation import validate, validate_account, validate_all


@pytest.fixture
def dev():
    return build_environments()["dev"]


def _with(config, section=None, **changes):
    if section is None:
        return dataclasses.replace(config, **changes)
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})


def test_shipped_environments_are_valid_and_differ_where_prod_needs_it():
    environments = build_environments()
    assert list(environments) == ["dev", "staging", "prod"]
    assert all(config.region == "us-east-1" for config in environments.values())
    # Prod has no route to the internet; staging rehearses that; dev keeps one NAT gateway for cost.
    assert environments["prod"].network.nat_strategy is NatStrategy.NONE
    assert environments["staging"].network.nat_strategy is NatStrategy.NONE
    assert environments["dev"].network.nat_strategy is NatStrategy.SINGLE
    assert environments["prod"].data.aurora_reader_in_second_az and not environments["dev"].data.aurora_reader_in_second_az
    assert environments["prod"].compute.fraud_api_min_tasks >= environments["dev"].compute.fraud_api_min_tasks
    # A prod teardown asks for the name and keeps what must be kept; dev and staging go in one command.
    prod = environments["prod"]
    assert prod.teardown.confirm_with_name and prod.data.final_backups_on_destroy and prod.data.secret_recovery_window_days == 30
    assert prod.network.flow_logs_to_account_archive and prod.compute.access_logs_to_account_archive
    for name in ("dev", "staging"):
        config = environments[name]
        assert not config.teardown.confirm_with_name and not config.data.final_backups_on_destroy
        assert config.data.secret_recovery_window_days == 0
        assert not config.network.flow_logs_to_account_archive and not config.compute.access_logs_to_account_archive


def test_the_account_archive_keeps_audit_logs_at_least_a_year():
    assert build_account().audit_log_retention_days >= 365
    with pytest.raises(ConfigError, match="account: audit_log_retention_days is 90; PCI DSS 10.5.1 keeps audit logs at least 365 days"):
        validate_account(dataclasses.replace(build_account(), audit_log_retention_days=90))


@pytest.mark.parametrize(
    "section, changes, message",
    [
        (None, {"name": "Dev_1"}, "lowercase letters or digits"),
        (None, {"region": "mars-1"}, "not an AWS region"),
        (None, {"cost_center": " "}, "cost_center"),
        ("network", {"vpc_cidr": "10.0.0.0/33"}, "not a CIDR block"),
        ("network", {"vpc_cidr": "8.8.0.0/16"}, "private IPv4"),
        ("network", {"az_count": 2}, "exactly 3 AZs"),
        ("network", {"availability_zone_ids": ("us-east-1a", "us-east-1b", "us-east-1c")}, "not zone names like us-east-1a"),
        ("network", {"availability_zone_ids": ("use1-az1", "use1-az1", "use1-az2")}, "3 distinct AZ IDs"),
        ("network", {"availability_zone_ids": ("euw1-az1", "euw1-az2", "euw1-az3")}, "are not zones of region us-east-1"),
        ("network", {"flow_log_expiration_days": 10}, "flow_log_expiration_days"),
        ("data", {"aurora_min_capacity_acu": 0.25}, "0.5 <= aurora_min_capacity_acu"),
        ("data", {"aurora_max_capacity_acu": 3.3}, "steps of 0.5"),
        ("data", {"backup_retention_days": 0}, "backup_retention_days"),
        ("data", {"preferred_backup_window": "3am"}, "preferred_backup_window"),
        ("compute", {"lambda_reserved_concurrency": 50}, "lambda_reserved_concurrency must be 1-5"),
        ("compute", {"fraud_api_min_tasks": 5, "fraud_api_max_tasks": 2}, "fraud_api_min_tasks"),
        ("compute", {"log_retention_days": 31}, "CloudWatch Logs accepts only"),
        ("compute", {"fraud_api_image": "fraud api"}, "image reference"),
        ("edge", {"hosted_zone_name": "Example..com"}, "edge.api_domain_name"),
        ("edge", {"blocked_country_codes": ("North Korea",)}, "ISO 3166"),
        ("network", {"nat_strategy": NatStrategy.NONE}, "add ecr.api, ecr.dkr, logs, secretsmanager, ssm, sns, xray"),
        ("edge", {"waf_keyless_requests_per_minute_per_ip": 5}, "WAF's limits"),
        ("edge", {"waf_keyed_limit_headroom": 1.0}, "waf_keyed_limit_headroom must be at least 1.5"),
        ("edge", {"waf_keyed_limit_headroom": 100_000.0}, "above WAF's maximum"),
        ("observability", {"alarm_email": "oncall"}, "e-mail"),
        ("observability", {"lambda_error_rate_threshold_percent": 0}, "percentage"),
    ],
)
def test_invalid_setting_is_refused_with_a_message_naming_it(dev, section, changes, message):
    with pytest.raises(ConfigError, match=message) as raised:
        validate(_with(dev, section, **changes))
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("environment '")


def test_an_image_outside_ecr_is_refused_where_the_tasks_have_no_route_to_the_internet():
    prod = build_environments()["prod"]
    validate(_with(prod, "compute", fraud_api_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-api:1.2"))
    with pytest.raises(ConfigError, match="compute.fraud_api_image 'ghcr.io/acme/fraud-api:1.2' is outside ECR"):
        validate(_with(prod, "compute", fraud_api_image="ghcr.io/acme/fraud-api:1.2"))


def test_overlapping_cidrs_between_environments_are_refused():
    environments = build_environments()
    clash = _with(environments["staging"], "network", vpc_cidr="10.10.128.0/17")
    with pytest.raises(ConfigError, match="'dev' and 'staging': network.vpc_cidr .* overlaps"):
        validate_all([environments["dev"], clash])


def test_selecting_environments():
    environments = build_environments()
    assert [c.name for c in select_environments(environments, None)] == ["dev", "staging", "prod"]
    assert [c.name for c in select_environments(environments, " prod,dev ")] == ["prod", "dev"]
    with pytest.raises(ConfigError, match="unknown environment\\(s\\) qa; choose from dev, staging, prod"):
        select_environments(environments, "dev,qa")
